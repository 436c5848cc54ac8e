/* The shell library scripts and shells get: the original's helpers, with
 * the meaning its functions.sh and functions-net.sh gave them, each used by
 * a script as a script written for the original would use it; VM_LIB as
 * such scripts load it; vm sh reading commands from a file. */
#include "vmtest.h"
#include "xalloc.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char *machine(void)
{
	char *dir = vt_tmpdir();
	char *vmrc = xasprintf("%sVM_DATEFMT=%%Y\n", vt_guide_vmrc);
	free(vt_write(dir, ".vmrc", vmrc));
	free(vmrc);
	return dir;
}

/* Runs the script text as `vm ./script ARGS` in dir. */
static struct vt_result script(const char *dir, const char *lib, const char *text, const char *arg)
{
	char *path = vt_write(dir, "script", text);
	cr_assert_eq(chmod(path, 0755), 0);
	free(path);
	return vt_vm(dir, lib, NULL, (const char *[]){"./script", arg, NULL});
}

static char *this_year(void)
{
	char year[8];
	time_t now = time(NULL);
	strftime(year, sizeof(year), "%Y", localtime(&now));
	return xstrdup(year);
}

Test(scripts, the_originals_helpers_mean_what_they_meant)
{
	char *dir = machine();
	const char *text =
	    "#!/usr/local/bin/vm\n"
	    "echo \"stamp=$(vm_get_timestamp)\"\n"
	    "vm_check_var VM_MACHINE_NAME && echo var-ok\n"
	    "vm_check_prog sh\n"
	    "vm_die_if_error && echo no-errors-yet\n"
	    "vm_squeal first problem\n"
	    "vm_check_prog no-such-program-here\n"
	    "echo \"errors=$VM_ERRCNT\"\n"
	    "vm_check_running && echo running || echo \"not running (QPID='$QPID')\"\n"
	    "echo \"status='$(vm_get_status)'\"\n"
	    "vm_progress working; vm_progress_stop; echo progress-quiet-off-a-terminal\n"
	    "if [ \"$(id -u)\" = 0 ]; then (vm_check_root && echo root-ok); else\n"
	    "  (vm_check_root; echo not-reached) 2>&1; fi\n"
	    "vm_die_if_error\n"
	    "echo not-reached\n";
	struct vt_result r = script(dir, vt_lib(NULL), text, NULL);
	char *year = this_year();
	bool root = getuid() == 0;
	char *expected =
	    xasprintf("stamp=%s\nvar-ok\nno-errors-yet\nerrors=2\n"
		      "not running (QPID='')\nstatus=''\n"
		      "progress-quiet-off-a-terminal\n%s",
		      year, root ? "root-ok\n" : "vm: this command needs root privileges\n");
	cr_assert_eq(r.status, 1, "%s", r.err);
	cr_assert_str_eq(r.out, expected);
	cr_assert_str_eq(r.err, "vm: first problem\n"
				"vm: program 'no-such-program-here' not found (install it, or fix "
				"PATH)\n"
				"vm: exiting after 2 errors\n");
	vt_result_free(&r);
	free(year), free(expected);
}

Test(scripts, check_var_dies_naming_the_config_file)
{
	char *dir = machine();
	struct vt_result r =
	    script(dir, vt_lib(NULL), "vm_check_var MY_BACKUP_HOST\necho not-reached\n", NULL);
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(r.out, "");
	cr_assert_str_eq(r.err, "vm: .vmrc: mandatory variable MY_BACKUP_HOST not set\n");
	vt_result_free(&r);
}

/* Scripts for the original load its libraries themselves. */
Test(scripts, vm_lib_holds_functions_and_functions_net)
{
	char *dir = machine();
	const char *text = ". $VM_LIB/functions.sh\n"
			   ". $VM_LIB/functions-net.sh\n"
			   "for f in vm_get_ip vm_get_full_name vm_ping vm_get_status vm_check_ssh "
			   "vm_get_control_method vm_ssh vm_sudo vm_sync; do\n"
			   "  type $f >/dev/null || echo \"missing $f\"; done\n"
			   "echo \"ip=$(vm_get_ip)\"\n"
			   "vm_echo loaded\n";
	struct vt_result r = script(dir, vt_lib(NULL), text, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "ip=127.0.0.1\n") || strstr(r.out, "ip=::1\n"), "%s", r.out);
	char *year = this_year();
	char *loaded = xasprintf("[%s] loaded\n", year);
	cr_assert(strstr(r.out, loaded), "%s", r.out);
	cr_assert_not(strstr(r.out, "missing"), "%s", r.out);
	vt_result_free(&r);
	free(year), free(loaded);
}

/* A vm run from a script reads the same global vmrc as the one that ran it,
 * also when VM_LIB was given relative to the calling directory. */
Test(scripts, a_nested_vm_reads_the_same_global_vmrc)
{
	char *dir = machine(), *calling = vt_tmpdir();
	char *lib = vt_lib("VM_CONFIG=.vmrc\nVM_FMT=img\nVM_SAVE_DELAY=5\nMY_GLOBAL=from-lib\n");
	char *relative = xasprintf("../%s", strrchr(lib, '/') + 1); /* both are in /tmp */
	char *path = vt_write(calling, "script",
			      "echo \"$VM_LIB $(dirname \"$VM_FUNCTIONS\")\"\n"
			      "vm sh -c 'echo MY_GLOBAL=$MY_GLOBAL $VM_SNAPSHOT_BASE_FILENAME'\n");
	cr_assert_eq(chmod(path, 0755), 0);
	char *home = xasprintf("VM_HOME=%s", dir);
	struct vt_result r = vt_vm(calling, relative, (const char *[]){home, NULL},
				   (const char *[]){"./script", NULL});
	char *expected = xasprintf("%s %s\nMY_GLOBAL=from-lib guix-base.img\n", lib, lib);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, expected), "%s", r.out);
	vt_result_free(&r);
	free(expected), free(home), free(path), free(relative);
}

/* The guide suggests setting VM_LIB in /etc/environment for the original:
 * one left pointing there must not silently give scripts no functions. */
Test(scripts, a_vm_lib_of_the_original_is_refused_saying_what_to_change)
{
	char *old = vt_tmpdir();
	char *lib = xasprintf("%s/lib", old);
	cr_assert_eq(mkdir(lib, 0755), 0);
	free(vt_write(old, "variables.txt", "VM_CONFIG ...\n"));
	free(vt_write(lib, "vmrc", "VM_CONFIG=.vmrc\nVM_FMT=qcow2\nVM_SAVE_DELAY=5\n"));
	free(vt_write(lib, "functions.sh", "VM_ERRCNT=0\n"));
	free(vt_write(lib, "functions-net.sh", "vm_check_prog ssh\n"));
	char *dir = machine();
	struct vt_result r = script(dir, lib, "vm_die stops here\necho not-reached\n", NULL);
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(r.out, "");
	char *expected = xasprintf("vm: ./script: VM_LIB is %s, which holds no shell library of vm "
				   "(vm-functions.sh): perhaps the original vm's lib; unset VM_LIB "
				   "(look in /etc/environment and your shell's start-up files) or "
				   "set it to ",
				   lib);
	cr_assert(strncmp(r.err, expected, strlen(expected)) == 0, "%s", r.err);
	vt_result_free(&r);
	free(expected);
}

/* vm sh < FILE: the file's commands, run as a script: no prompt, no job
 * control noise, no ~/.bashrc, no history expansion. */
Test(scripts, sh_reads_commands_from_a_file_not_interactively)
{
	char *dir = machine(), *home = vt_tmpdir();
	free(vt_write(home, ".bashrc", "echo BASHRC-LOADED\n"));
	char *commands = vt_write(dir, "commands",
				  "echo \"ok!done\"\nvm_echo from-file\n"
				  "case $- in *i*) echo interactive;; esac\n");
	char *lib = xasprintf("VM_LIB=%s", getenv("VM_TEST_LIB"));
	char *home_env = xasprintf("HOME=%s", home);
	char *bin = xstrdup(getenv("VM_TEST_BIN"));
	const char *shells[] = {"/bin/bash", "/bin/sh"};
	for (size_t i = 0; i < 2; i++) {
		char *shell = xasprintf("SHELL=%s", shells[i]);
		char *line = xasprintf("exec <%s; exec %s sh", commands, bin);
		const char *env[] = {"PATH=/usr/bin:/bin", lib, home_env, shell, NULL};
		struct vt_result r =
		    vt_exec(dir, env, (const char *[]){"/bin/sh", "-c", line, NULL});
		cr_assert_eq(r.status, 0, "%s: %s", shells[i], r.err);
		char *year = this_year();
		char *expected = xasprintf("Entering interactive mode; type 'exit' to quit.\n"
					   "ok!done\n[%s] from-file\n",
					   year);
		cr_assert_str_eq(r.out, expected, "%s", shells[i]);
		cr_assert_str_eq(r.err, "", "%s", shells[i]);
		vt_result_free(&r);
		free(shell), free(line), free(year), free(expected);
	}
}
