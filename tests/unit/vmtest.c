#include "vmtest.h"

#include "config/config.h"
#include "strv.h"
#include "sys/spawn.h"
#include "xalloc.h"

#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

const char vt_guide_vmrc[] = "VM_MACHINE_NAME=guix\n"
			     "VM_MACHINE_ID=33\n"
			     "VM_MACHINE_OWNER=daniel\n"
			     "VM_MACHINE_USER=guido\n"
			     "VM_MACHINE_MEM=1024\n";

/* The run's directory, made by the runner before the tests start; the tests,
 * in processes of their own, find it in the environment. */
static char run_dir[] = "/tmp/vmtest.XXXXXX";
#define RUN_DIR_VARIABLE "VMTEST_RUN_DIR"

ReportHook(PRE_ALL)(struct criterion_test_set *tests)
{
	(void)tests;
	if (!mkdtemp(run_dir)) {
		perror("vmtest: cannot make a directory in /tmp");
		exit(1);
	}
	setenv(RUN_DIR_VARIABLE, run_dir, 1);
}

static int make_removable(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type == FTW_D || type == FTW_DNR)
		chmod(path, (st->st_mode & 07777) | S_IRWXU); /* a test may have locked us out */
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st, (void)type, (void)ftw;
	if (remove(path) < 0)
		fprintf(stderr, "vmtest: cannot remove %s: %s\n", path, strerror(errno));
	return 0;
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
	(void)stats;
	if (getenv("VMTEST_KEEP")) {
		fprintf(stderr, "vmtest: the tests' files are kept in %s\n", run_dir);
		return;
	}
	nftw(run_dir, make_removable, 16, FTW_PHYS);
	nftw(run_dir, remove_entry, 16, FTW_PHYS | FTW_DEPTH);
}

char *vt_tmpdir(void)
{
	const char *parent = getenv(RUN_DIR_VARIABLE);
	cr_assert_not_null(parent, "%s is not set: run the tests through Criterion's runner",
			   RUN_DIR_VARIABLE);
	char *dir = xasprintf("%s/XXXXXX", parent);
	cr_assert_not_null(mkdtemp(dir), "mkdtemp %s", dir);
	return dir;
}

void vt_private_home(void)
{
	struct passwd *pw = getpwuid(geteuid());
	cr_assert_not_null(pw, "uid %u has no password entry", (unsigned)geteuid());
	char options[64];
	snprintf(options, sizeof(options), "mode=0700,uid=%u,gid=%u", (unsigned)geteuid(),
		 (unsigned)getegid());
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", pw->pw_dir, "tmpfs", 0, options) < 0)
		cr_skip_test("cannot give the test a private home %s: %s (run it through "
			     "private-home.sh)",
			     pw->pw_dir, strerror(errno));
}

char *vt_write(const char *dir, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "cannot write %s", path);
	fputs(text, f);
	fclose(f);
	return path;
}

char *vt_read(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *text = xcalloc(1, 1 << 20);
	size_t n = fread(text, 1, (1 << 20) - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

bool vt_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static const char *source_lib(void)
{
	const char *lib = getenv("VM_TEST_LIB");
	cr_assert_not_null(lib, "VM_TEST_LIB must name the source tree's vm/data/lib");
	return lib;
}

char *vt_lib(const char *global_vmrc)
{
	if (!global_vmrc)
		return xstrdup(source_lib());
	char *dir = vt_tmpdir();
	free(vt_write(dir, "vmrc", global_vmrc));
	const char *files[] = {"vm-functions.sh", "functions.sh", "functions-net.sh", "vm-shrc"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *from = xasprintf("%s/%s", source_lib(), files[i]);
		char *to = xasprintf("%s/%s", dir, files[i]);
		cr_assert_eq(symlink(from, to), 0);
		free(from), free(to);
	}
	return dir;
}

struct vt_result vt_exec(const char *cwd, const char *const *env, const char *const *argv)
{
	struct spawn_options opts = {.envp = (char **)env,
				     .dir = cwd,
				     .capture_stdout = true,
				     .capture_stderr = true,
				     .timeout_ms = 60000};
	struct spawn_result res;
	struct error err;
	cr_assert_eq(spawn_run((char *const *)argv, &opts, &res, &err), 0, "%s", err.msg);
	return (struct vt_result){res.status, res.out, res.err};
}

struct vt_result vt_vm(const char *cwd, const char *lib, const char *const *env,
		       const char *const *args)
{
	const char *bin = getenv("VM_TEST_BIN");
	cr_assert_not_null(bin, "VM_TEST_BIN must name the vm program");
	struct strv argv = STRV_INIT, envp = STRV_INIT;
	strv_add(&argv, bin);
	for (; args && *args; args++)
		strv_add(&argv, *args);
	char *bindir = xstrdup(bin);
	*strrchr(bindir, '/') = '\0';
	strv_addf(&envp, "PATH=%s:/usr/local/bin:/usr/bin:/bin", bindir);
	strv_addf(&envp, "HOME=%s", getenv("HOME") ? getenv("HOME") : "/root");
	strv_add(&envp, "LANG=C");
	if (lib)
		strv_addf(&envp, "VM_LIB=%s", lib);
	for (; env && *env; env++)
		strv_add(&envp, *env);
	struct vt_result r = vt_exec(cwd, (const char *const *)strv_argv(&envp),
				     (const char *const *)strv_argv(&argv));
	strv_free(&argv);
	strv_free(&envp);
	free(bindir);
	return r;
}

void vt_result_free(struct vt_result *r)
{
	free(r->out);
	free(r->err);
}

void vt_test_machine(struct config *cfg)
{
	char *dir = vt_tmpdir();
	cr_assert_eq(chdir(dir), 0);
	free(vt_write(dir, "tg-backing.qcow2", ""));
	*cfg = (struct config){.vars = VARS_INIT, .home = dir};
	const char *vars[][2] = {
	    {"VM_QEMU", "qemu-system-x86_64"},
	    {"VM_MACHINE_NAME", "tg"},
	    {"VM_MACHINE_ID", "42"},
	    {"VM_MACHINE_MEM", "256"},
	    {"VM_FMT", "qcow2"},
	    {"VM_QEMU_ACCEL", "tcg"},
	    {"VM_DISK_IF", "virtio"},
	    {"VM_NET_MODEL", "virtio-net-pci"},
	    {"VM_NET_MAC", "DE:AD:BE:EF:42:11"},
	    {"VM_SNAPSHOT_BASE_FILENAME", "tg-base.qcow2"},
	    {"VM_SNAPSHOT_BACKING_FILENAME", "tg-backing.qcow2"},
	};
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		vars_set(&cfg->vars, vars[i][0], vars[i][1]);
}
