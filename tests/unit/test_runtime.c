/* The runtime directory another local user must not be able to prepare or
 * swap: created 0700, and refused when it is a symlink, someone else's, or
 * open to others. Running is decided by the lock. */
#include "emulator/runtime.h"
#include "vmtest.h"
#include "xalloc.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *runtime_base;

static void setup(void)
{
	runtime_base = vt_tmpdir();
	setenv("XDG_RUNTIME_DIR", runtime_base, 1);
}

TestSuite(runtime, .init = setup);

static mode_t mode_of(const char *path)
{
	struct stat st;
	cr_assert_eq(lstat(path, &st), 0, "%s", path);
	return st.st_mode & 07777;
}

Test(runtime, creates_private_directories_under_xdg_runtime_dir)
{
	struct runtime rt;
	struct error err;
	umask(0);
	cr_assert_eq(runtime_open(&rt, "42", &err), 0, "%s", err.msg);
	char *vm_dir = xasprintf("%s/vm", runtime_base),
	     *id_dir = xasprintf("%s/vm/42", runtime_base);
	cr_assert_str_eq(rt.dir, id_dir);
	cr_assert_eq(mode_of(vm_dir), 0700);
	cr_assert_eq(mode_of(id_dir), 0700);
	char *socket = xasprintf("%s/qmp.sock", id_dir);
	cr_assert_str_eq(rt.qmp_socket, socket);
	runtime_close(&rt);
}

Test(runtime, falls_back_to_tmp_without_xdg_runtime_dir)
{
	unsetenv("XDG_RUNTIME_DIR");
	struct runtime rt;
	struct error err;
	cr_assert_eq(runtime_open(&rt, "43", &err), 0, "%s", err.msg);
	char *expected = xasprintf("/tmp/vm-%u/43", (unsigned)geteuid());
	cr_assert_str_eq(rt.dir, expected);
	cr_assert_eq(mode_of(expected), 0700);
	runtime_close(&rt);
}

static void assert_refused(const char *id, const char *reason)
{
	struct runtime rt;
	struct error err;
	cr_assert_eq(runtime_open(&rt, id, &err), -1, "accepted %s", id);
	cr_assert(strstr(err.msg, reason), "'%s' lacks '%s'", err.msg, reason);
	runtime_close(&rt);
}

Test(runtime, refuses_a_symlink_planted_in_its_place)
{
	char *base = xasprintf("%s/vm", runtime_base);
	cr_assert_eq(mkdir(base, 0700), 0);
	char *target = vt_tmpdir();
	char *link = xasprintf("%s/44", base);
	cr_assert_eq(symlink(target, link), 0);
	assert_refused("44", "is not a directory (a symlink or file there could be another "
			     "user's trap)");
}

Test(runtime, refuses_a_directory_open_to_others)
{
	char *base = xasprintf("%s/vm", runtime_base);
	cr_assert_eq(mkdir(base, 0700), 0);
	char *dir = xasprintf("%s/45", base);
	cr_assert_eq(mkdir(dir, 0700), 0);
	cr_assert_eq(chmod(dir, 0755), 0);
	assert_refused("45", "is open to other users (mode 755)");
	cr_assert_eq(chmod(dir, 0700), 0);
	cr_assert_eq(chmod(base, 0770), 0);
	assert_refused("45", "is open to other users (mode 770)");
}

Test(runtime, refuses_a_directory_another_user_made)
{
	if (geteuid() != 0)
		cr_skip_test("needs root to give a directory to another user");
	char *base = xasprintf("%s/vm", runtime_base);
	cr_assert_eq(mkdir(base, 0700), 0);
	char *dir = xasprintf("%s/46", base);
	cr_assert_eq(mkdir(dir, 0700), 0);
	cr_assert_eq(chown(dir, 65534, 65534), 0);
	assert_refused("46", "belongs to uid 65534, not to you");
}

Test(runtime, the_lock_decides_whether_the_machine_runs)
{
	struct runtime holder, observer;
	struct error err;
	cr_assert_eq(runtime_open(&holder, "47", &err), 0, "%s", err.msg);
	cr_assert_eq(runtime_open(&observer, "47", &err), 0, "%s", err.msg);
	cr_assert_not(runtime_is_running(&observer, NULL));
	cr_assert_eq(runtime_lock(&holder, &err), 0, "%s", err.msg);
	FILE *pid_file = fopen(holder.pid_file, "w");
	fprintf(pid_file, "%d\n", (int)getpid());
	fclose(pid_file);
	pid_t pid;
	cr_assert(runtime_is_running(&observer, &pid));
	cr_assert_eq(pid, getpid());
	cr_assert_eq(runtime_lock(&observer, &err), -1);
	cr_assert(strstr(err.msg, "already running"), "%s", err.msg);
	runtime_unlock(&holder);
	cr_assert_not(runtime_is_running(&observer, NULL));
	runtime_close(&holder);
	runtime_close(&observer);
}
