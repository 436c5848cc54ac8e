/* The command line as a user meets it: the command table, help, unknown
 * commands and options, vm sh, and scripts run through vm. */
#include "vmtest.h"
#include "xalloc.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const commands[] = {"init",	  "run",    "start",   "stop",	 "kill",
				       "cmd",	  "status", "archive", "export", "sh",
				       "console", "ssh",    "list",    "net",	 "boot"};

static struct vt_result vm(const char *cwd, const char *const *args)
{
	return vt_vm(cwd, vt_lib(NULL), NULL, args);
}

/* Tests that run vm on machine 33 at once: a home (and runtime directory)
 * each. */
TestSuite(cli, .init = vt_private_home);

Test(cli, no_command_lists_the_commands_and_fails)
{
	struct vt_result r = vm("/", (const char *[]){NULL});
	cr_assert_eq(r.status, 1);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		char *row = xasprintf("\n  %s ", commands[i]);
		cr_assert(strstr(r.err, row), "usage lacks %s: %s", commands[i], r.err);
		free(row);
	}
	vt_result_free(&r);
}

Test(cli, help_lists_the_commands_and_succeeds)
{
	struct vt_result r = vm("/", (const char *[]){"--help", NULL});
	cr_assert_eq(r.status, 0);
	cr_assert(strstr(r.out, "  start     start the machine in the background"), "%s", r.out);
	vt_result_free(&r);
}

Test(cli, unknown_command_names_the_known_ones)
{
	struct vt_result r = vm("/", (const char *[]){"strat", NULL});
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(
	    r.err, "vm: unknown command 'strat'; the commands are: init, run, start, "
		   "stop, kill, cmd, status, archive, export, sh, console, ssh, list, net, boot "
		   "(or "
		   "give a script's path)\n");
	vt_result_free(&r);
}

/* Options come after the command: one before it is told as such, with the
 * line that works. */
Test(cli, an_option_before_the_command_says_to_put_it_after)
{
	struct vt_result r = vm("/", (const char *[]){"-v", "status", NULL});
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(r.err, "vm: '-v' is an option: put it after the command (vm status -v); "
				"the commands are: init, run, start, stop, kill, cmd, status, "
				"archive, export, sh, console, ssh, list, net, boot\n");
	vt_result_free(&r);
	r = vm("/", (const char *[]){"--verbose", NULL});
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.err, "vm: '--verbose' is an option: put it after the command (vm "
				"COMMAND --verbose); the commands are: init, "),
		  "%s", r.err);
	vt_result_free(&r);
}

Test(cli, every_command_has_help)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		struct vt_result r = vm("/", (const char *[]){commands[i], "--help", NULL});
		cr_assert_eq(r.status, 0, "%s --help: %s", commands[i], r.err);
		char *usage = xasprintf("Usage: vm %s", commands[i]);
		cr_assert(strstr(r.out, usage), "%s --help printed: %s", commands[i], r.out);
		free(usage);
		vt_result_free(&r);
		r = vm("/", (const char *[]){commands[i], "-h", NULL});
		cr_assert_eq(r.status, 0);
		vt_result_free(&r);
	}
}

Test(cli, unknown_options_and_missing_values_are_reported)
{
	struct vt_result r = vm("/", (const char *[]){"stop", "--frobnicate", NULL});
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(r.err, "vm: stop: unknown option '--frobnicate'; see 'vm stop --help'\n");
	vt_result_free(&r);
	r = vm("/", (const char *[]){"stop", "-x", NULL});
	cr_assert_str_eq(r.err, "vm: stop: unknown option -x; see 'vm stop --help'\n");
	vt_result_free(&r);
	r = vm("/", (const char *[]){"archive", "--compress", NULL});
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(r.err,
			 "vm: archive: option --compress needs a value; see 'vm archive --help'\n");
	vt_result_free(&r);
}

static char *machine(void)
{
	char *dir = vt_tmpdir();
	free(vt_write(dir, ".vmrc", vt_guide_vmrc));
	return dir;
}

/* sh and ssh pass their arguments to another program (a shell, the guest):
 * vm's options come before them. Every other command reads its options
 * anywhere on the line, as the original did ('vm cmd info status -v'). */
static bool options_lead(const char *command)
{
	return !strcmp(command, "sh") || !strcmp(command, "ssh");
}

Test(cli, every_command_reads_options_by_the_same_rule)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const char *name = commands[i];
		char *usage = xasprintf("Usage: vm %s", name);
		/* After an argument. */
		struct vt_result r = vm("/", (const char *[]){name, "word", "-h", NULL});
		if (options_lead(name)) {
			cr_assert_not(strstr(r.out, usage), "%s word -h printed the usage", name);
		} else {
			cr_assert_eq(r.status, 0, "%s word -h: %s", name, r.err);
			cr_assert(strstr(r.out, usage), "%s word -h printed: %s", name, r.out);
		}
		vt_result_free(&r);
		r = vm("/", (const char *[]){name, "word", "--help", NULL});
		cr_assert_eq(strstr(r.out, usage) != NULL, !options_lead(name), "%s word --help",
			     name);
		vt_result_free(&r);
		/* "--" ends them, for every command. */
		r = vm("/", (const char *[]){name, "--", "-h", NULL});
		cr_assert_neq(r.status, 0, "%s -- -h", name);
		cr_assert_not(strstr(r.out, usage), "%s -- -h printed the usage", name);
		vt_result_free(&r);
		/* An unknown option after an argument is one, and is named. */
		if (!options_lead(name)) {
			r = vm("/", (const char *[]){name, "word", "--frobnicate", NULL});
			cr_assert_eq(r.status, 1, "%s word --frobnicate", name);
			char *said = xasprintf("vm: %s: unknown option '--frobnicate'", name);
			cr_assert(strstr(r.err, said), "%s: %s", name, r.err);
			free(said);
			vt_result_free(&r);
		}
		free(usage);
	}
}

Test(cli, verbose_anywhere_is_vms_not_the_monitors)
{
	/* Not running: the message shows the monitor command was not sent with
	 * -v in it, and -v was taken (the machine directory is named). */
	char *dir = machine();
	struct vt_result r = vm(dir, (const char *[]){"cmd", "info", "status", "-v", NULL});
	cr_assert_eq(r.status, 1);
	cr_assert_not(strstr(r.err, "unknown option"), "%s", r.err);
	cr_assert(strstr(r.err, "guix is not running"), "%s", r.err);
	vt_result_free(&r);
	/* -j anywhere too; and the monitor command's own dashes after --. */
	r = vm(dir, (const char *[]){"cmd", "query-status", "-j", NULL});
	cr_assert_not(strstr(r.err, "unknown option"), "%s", r.err);
	vt_result_free(&r);
	r = vm(dir, (const char *[]){"cmd", "savevm", "-x", NULL});
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(r.err, "vm: cmd: unknown option -x; options for the monitor command go "
				"after --, e.g. 'vm cmd -- -x'\n");
	vt_result_free(&r);
	r = vm(dir, (const char *[]){"cmd", "--", "savevm", "-x", NULL});
	cr_assert(strstr(r.err, "guix is not running"), "%s", r.err);
	vt_result_free(&r);
	r = vm(dir, (const char *[]){"list", "-j", NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_eq(r.out[0], '[', "%s", r.out);
	vt_result_free(&r);
}

/* POSIXLY_CORRECT set in a user's shell must not end the options at the
 * first argument, nor reorder the arguments. */
Test(cli, options_anywhere_under_posixly_correct)
{
	const char *env[] = {"POSIXLY_CORRECT=1", NULL};
	struct vt_result r =
	    vt_vm("/", vt_lib(NULL), env, (const char *[]){"stop", "word", "-h", NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "Usage: vm stop"), "%s", r.out);
	vt_result_free(&r);
	r = vt_vm("/", vt_lib(NULL), env, (const char *[]){"status", "one", "-v", "two", NULL});
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(r.err, "vm: status: unexpected argument 'one'; see 'vm status --help'\n");
	vt_result_free(&r);
	r = vt_vm("/", vt_lib(NULL), env,
		  (const char *[]){"status", "-v", "--", "-x", "one", NULL});
	cr_assert_str_eq(r.err, "vm: status: unexpected argument '-x'; see 'vm status --help'\n");
	vt_result_free(&r);
	char *dir = machine();
	r = vt_vm(dir, vt_lib(NULL), env, (const char *[]){"cmd", "info", "status", "-v", NULL});
	cr_assert_not(strstr(r.err, "unknown option"), "%s", r.err);
	cr_assert(strstr(r.err, "guix is not running"), "%s", r.err);
	vt_result_free(&r);
}

Test(cli, run_and_start_share_nat_and_bridge)
{
	char *dir = machine();
	const char *cmds[] = {"run", "start"};
	for (size_t i = 0; i < 2; i++) {
		struct vt_result r = vm(dir, (const char *[]){cmds[i], "--bridge", "-n", NULL});
		cr_assert_eq(r.status, 1);
		char *said = xasprintf("vm: %s: --nat and --bridge cannot be used together; see "
				       "'vm %s --help'\n",
				       cmds[i], cmds[i]);
		cr_assert_str_eq(r.err, said);
		free(said);
		vt_result_free(&r);
	}
	struct vt_result r = vm(dir, (const char *[]){"run", "-S", NULL});
	cr_assert_str_eq(r.err, "vm: run: unknown option -S; options for the emulator go after "
				"--, e.g. 'vm run -- -S'\n");
	vt_result_free(&r);
}

Test(cli, status_takes_the_originals_long_spelling_of_s)
{
	char *dir = machine();
	const char *spellings[] = {"--no-ssh-fail", "--no-ssh-check", "-s"};
	for (size_t i = 0; i < 3; i++) {
		struct vt_result r = vm(dir, (const char *[]){"status", spellings[i], NULL});
		cr_assert_eq(r.status, 1, "not running");
		cr_assert_not(strstr(r.err, "unknown option"), "%s: %s", spellings[i], r.err);
		cr_assert(strstr(r.out, "not checked"), "%s: %s", spellings[i], r.out);
		vt_result_free(&r);
	}
}

Test(cli, kill_of_a_machine_that_does_not_run_fails)
{
	char *dir = machine();
	struct vt_result r = vm(dir, (const char *[]){"kill", NULL});
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(r.out, "");
	cr_assert_str_eq(r.err, "vm: kill: virtual machine guix is not running\n");
	vt_result_free(&r);
}

/* A machine whose disk (the backing file, made with the real qemu-img)
 * holds the saved states named, and whose emulator is true(1). */
static char *machine_with_states(const char *const *states)
{
	char *dir = vt_tmpdir();
	char *vmrc = xasprintf("%sVM_QEMU=true\nVM_QEMU_ACCEL=tcg\n", vt_guide_vmrc);
	free(vt_write(dir, ".vmrc", vmrc));
	free(vmrc);
	const char *env[] = {"PATH=/usr/bin:/bin", NULL};
	struct vt_result r = vt_exec(dir, env,
				     (const char *[]){"qemu-img", "create", "-q", "-f", "qcow2",
						      "guix-backing.qcow2", "1M", NULL});
	cr_assert_eq(r.status, 0, "qemu-img create: %s", r.err);
	vt_result_free(&r);
	for (size_t i = 0; states[i]; i++) {
		r = vt_exec(dir, env,
			    (const char *[]){"qemu-img", "snapshot", "-c", states[i],
					     "guix-backing.qcow2", NULL});
		cr_assert_eq(r.status, 0, "qemu-img snapshot -c %s: %s", states[i], r.err);
		vt_result_free(&r);
	}
	return dir;
}

/* QEMU itself would refuse the state only once started, naming none. */
Test(cli, loadvm_of_a_state_the_disk_lacks_names_those_it_holds)
{
	char *dir = machine_with_states((const char *[]){"today", "nightly", NULL});
	const char *const launchers[] = {"run", "start"};
	for (size_t i = 0; i < 2; i++) {
		struct vt_result r =
		    vm(dir, (const char *[]){launchers[i], "--nat", "-l", "x", NULL});
		char *expected =
		    xasprintf("vm: %s: no saved state 'x' in %s/guix-backing.qcow2: its "
			      "saved states are today, nightly; name one of them, or "
			      "leave out -l\n",
			      launchers[i], dir);
		cr_assert_eq(r.status, 1, "vm %s -l x: %s", launchers[i], r.err);
		cr_assert_str_eq(r.err, expected);
		free(expected);
		vt_result_free(&r);
	}
	/* A state it holds goes to the emulator (true: exits 0). */
	struct vt_result r = vm(dir, (const char *[]){"run", "--nat", "-l", "nightly", NULL});
	cr_assert_eq(r.status, 0, "vm run -l nightly: %s", r.err);
	vt_result_free(&r);
}

Test(cli, loadvm_on_a_disk_without_saved_states_says_so)
{
	char *dir = machine_with_states((const char *[]){NULL});
	struct vt_result r = vm(dir, (const char *[]){"start", "--nat", "--loadvm", "x", NULL});
	char *expected = xasprintf("vm: start: no saved state 'x' in %s/guix-backing.qcow2: it has "
				   "none ('vm stop -s NAME' saves one); leave out -l\n",
				   dir);
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(r.err, expected);
	free(expected);
	vt_result_free(&r);
}

/* A fake program that records what of the environment it got, and makes
 * its last argument a file (for qemu-img create); as qemu-img info (init
 * checks the seed) it describes a whole qcow2 image. */
static void fake_program(const char *bin, const char *name, const char *seen)
{
	char *text = xasprintf("#!/bin/sh\ncase \"${0##*/} $1\" in 'qemu-img info') echo "
			       "'{\"format\": \"qcow2\", \"virtual-size\": 1048576}'; exit 0;; "
			       "esac\n{ echo \"== ${0##*/}\"; env | grep -E "
			       "'^(QEMU_AUDIO_DRV|DISPLAY|MY_LOCAL|FROM_ENV)=' | sort; } >>%s\n"
			       "for last; do :; done; case \"$last\" in *.qcow2*) : >\"$last\";; "
			       "esac\n",
			       seen);
	cr_assert_eq(chmod(vt_write(bin, name, text), 0755), 0);
	free(text);
}

/* The emulator, qemu-img and ssh get what a sourced .vmrc gave them in the
 * original: what it exports, and its assignments to the environment's
 * variables (PATH=... there chooses the emulator). */
Test(cli, vmrc_exports_reach_the_emulator_qemu_img_and_ssh)
{
	char *dir = vt_tmpdir(), *bin = vt_tmpdir();
	char *seen = xasprintf("%s/seen", dir);
	const char *programs[] = {"fake-qemu", "qemu-img", "ssh"};
	for (size_t i = 0; i < 3; i++)
		fake_program(bin, programs[i], seen);
	char *vmrc = xasprintf("%sexport QEMU_AUDIO_DRV=none\nexport DISPLAY\nDISPLAY=:0\n"
			       "MY_LOCAL=x\nFROM_ENV=changed\nPATH=%s:$PATH\nVM_QEMU=fake-qemu\n"
			       "VM_QEMU_ACCEL=tcg\n",
			       vt_guide_vmrc, bin);
	free(vt_write(dir, ".vmrc", vmrc));
	free(vt_write(dir, "guix-seed.qcow2", "seed"));
	char *runtime = xasprintf("XDG_RUNTIME_DIR=%s", vt_tmpdir());
	const char *env[] = {runtime, "FROM_ENV=original", NULL};
	const char *const runs[][3] = {
	    {"init", NULL}, {"run", "--nat", NULL}, {"ssh", "true", NULL}};
	for (size_t i = 0; i < 3; i++) {
		struct vt_result r = vt_vm(dir, vt_lib(NULL), env, runs[i]);
		cr_assert_eq(r.status, 0, "vm %s: %s", runs[i][0], r.err);
		vt_result_free(&r);
	}
	char *got = vt_read(seen);
	const char *each = "DISPLAY=:0\nFROM_ENV=changed\nQEMU_AUDIO_DRV=none\n";
	char *expected = xasprintf("== qemu-img\n%s== fake-qemu\n%s== ssh\n%s", each, each, each);
	cr_assert_str_eq(got, expected);
	free(got), free(expected), free(vmrc), free(seen);
}

/* The compressors too: archive --create -z gzip runs the gzip PATH in .vmrc
 * chooses, with the variables .vmrc exports. */
Test(cli, vmrc_exports_reach_the_compressor)
{
	char *dir = vt_tmpdir(), *bin = vt_tmpdir();
	char *seen = xasprintf("%s/seen", bin);
	char *fake = xasprintf("#!/bin/sh\nenv | grep -E '^(QEMU_AUDIO_DRV|MY_LOCAL)=' >>%s\n"
			       "exec /bin/gzip \"$@\"\n",
			       seen);
	cr_assert_eq(chmod(vt_write(bin, "gzip", fake), 0755), 0);
	char *vmrc = xasprintf("%sexport QEMU_AUDIO_DRV=none\nMY_LOCAL=x\nPATH=%s:$PATH\n",
			       vt_guide_vmrc, bin);
	free(vt_write(dir, ".vmrc", vmrc));
	char *runtime = xasprintf("XDG_RUNTIME_DIR=%s", vt_tmpdir());
	const char *env[] = {runtime, NULL};
	struct vt_result r = vt_exec(dir, (const char *[]){"PATH=/usr/bin:/bin", NULL},
				     (const char *[]){"qemu-img", "create", "-q", "-f", "qcow2",
						      "guix-seed.qcow2", "1M", NULL});
	cr_assert_eq(r.status, 0, "qemu-img: %s", r.err);
	vt_result_free(&r);
	const char *const runs[][5] = {{"init", NULL}, {"archive", "--create", "-z", "gzip", NULL}};
	for (size_t i = 0; i < 2; i++) {
		r = vt_vm(dir, vt_lib(NULL), env, runs[i]);
		cr_assert_eq(r.status, 0, "vm %s: %s", runs[i][0], r.err);
		vt_result_free(&r);
	}
	char *got = vt_read(seen);
	cr_assert_not_null(got, "the gzip of .vmrc's PATH did not run");
	cr_assert_str_eq(got, "QEMU_AUDIO_DRV=none\n");
	free(got), free(fake), free(vmrc), free(seen), free(runtime);
}

Test(cli, sh_runs_the_shell_in_the_machine_directory)
{
	char *dir = machine();
	char *sub = xasprintf("%s/sub", dir);
	cr_assert_eq(mkdir(sub, 0700), 0);
	char *env_home = xasprintf("VM_HOME=%s", dir);
	const char *env[] = {env_home, "SHELL=/bin/bash", NULL};
	struct vt_result r =
	    vt_vm(sub, vt_lib(NULL), env,
		  (const char *[]){"sh", "-c", "pwd; echo $VM_CALLING_DIR; vm_echo hi", NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	char *expected_start = xasprintf("%s\n%s\n[", dir, sub);
	cr_assert(strncmp(r.out, expected_start, strlen(expected_start)) == 0, "%s", r.out);
	cr_assert(strstr(r.out, "] hi\n"), "%s", r.out);
	vt_result_free(&r);
}

Test(cli, sh_exports_every_variable_including_users_own)
{
	char *dir = vt_tmpdir();
	char *vmrc = xasprintf("%sMY_BACKUP_HOST=nas\n", vt_guide_vmrc);
	free(vt_write(dir, ".vmrc", vmrc));
	struct vt_result r =
	    vm(dir, (const char *[]){"sh", "-c",
				     "env | grep -E '^(MY_BACKUP_HOST|VM_MACHINE_MEM|VM_FMT)=' | "
				     "sort",
				     NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "MY_BACKUP_HOST=nas\nVM_FMT=qcow2\nVM_MACHINE_MEM=1024\n");
	vt_result_free(&r);
}

Test(cli, sh_without_arguments_is_interactive)
{
	char *dir = machine();
	/* bash reading commands from a pipe still gets the greeting and functions. */
	const char *env[] = {"SHELL=/bin/sh", NULL};
	struct vt_result r = vt_vm(dir, vt_lib(NULL), env, (const char *[]){"sh", NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strncmp(r.out, "Entering interactive mode; type 'exit' to quit.\n", 48) == 0,
		  "%s", r.out);
	vt_result_free(&r);
}

Test(cli, sh_exit_status_is_the_shells)
{
	char *dir = machine();
	struct vt_result r = vm(dir, (const char *[]){"sh", "-c", "exit 3", NULL});
	cr_assert_eq(r.status, 3);
	vt_result_free(&r);
}

static char *script(const char *dir, const char *first_line, const char *body)
{
	char *text = xasprintf("%s\n%s", first_line, body);
	char *path = vt_write(dir, "myscript", text);
	cr_assert_eq(chmod(path, 0755), 0);
	free(text);
	return path;
}

static const char script_body[] = "echo \"params=$VM_PARAMS\"\n"
				  "echo \"args=$#:$1:$2\"\n"
				  "echo \"calling=$VM_CALLING_DIR\"\n"
				  "echo \"pwd=$PWD\"\n"
				  "echo \"name=$VM_MACHINE_NAME\"\n"
				  "type vm_die >/dev/null && echo functions\n";

static void assert_script_output(struct vt_result r, const char *home, const char *calling)
{
	cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
	char *expected = xasprintf("params=one two words\nargs=2:one:two words\ncalling=%s\n"
				   "pwd=%s\nname=guix\nfunctions\n",
				   calling, home);
	cr_assert_str_eq(r.out, expected);
	free(expected);
	vt_result_free(&r);
}

static char *build_dir_path_env(void)
{
	char *dir = xstrdup(getenv("VM_TEST_BIN"));
	*strrchr(dir, '/') = '\0';
	char *env = xasprintf("PATH=%s:/usr/bin:/bin", dir);
	free(dir);
	return env;
}

Test(cli, script_started_through_its_env_shebang)
{
	char *home = machine(), *calling = vt_tmpdir();
	script(calling, "#!/usr/bin/env vm", script_body);
	char *env_home = xasprintf("VM_HOME=%s", home);
	char *lib_env = xasprintf("VM_LIB=%s", getenv("VM_TEST_LIB"));
	/* The kernel runs env, env finds vm in PATH, vm gets "./myscript ARGS". */
	const char *env[] = {build_dir_path_env(), lib_env, env_home, NULL};
	assert_script_output(
	    vt_exec(calling, env, (const char *[]){"./myscript", "one", "two words", NULL}), home,
	    calling);
}

Test(cli, script_started_through_an_absolute_shebang)
{
	char *home = machine(), *calling = vt_tmpdir();
	char *first = xasprintf("#!%s", getenv("VM_TEST_BIN"));
	script(calling, first, script_body);
	char *env_home = xasprintf("VM_HOME=%s", home);
	char *lib_env = xasprintf("VM_LIB=%s", getenv("VM_TEST_LIB"));
	const char *env[] = {env_home, lib_env, "PATH=/usr/bin:/bin", NULL};
	assert_script_output(
	    vt_exec(calling, env, (const char *[]){"./myscript", "one", "two words", NULL}), home,
	    calling);
}

Test(cli, script_run_as_vm_argument)
{
	char *home = machine();
	script(home, "# no shebang needed", script_body);
	assert_script_output(vm(home, (const char *[]){"./myscript", "one", "two words", NULL}),
			     home, home);
	assert_script_output(vm(home, (const char *[]){"myscript", "one", "two words", NULL}), home,
			     home);
}

Test(cli, script_that_fails_exits_with_its_status)
{
	char *home = machine();
	script(home, "#!/usr/bin/env vm", "vm_die \"no backup host\"\necho not reached\n");
	struct vt_result r = vm(home, (const char *[]){"./myscript", NULL});
	cr_assert_eq(r.status, 1);
	cr_assert_str_eq(r.out, "");
	cr_assert_str_eq(r.err, "vm: no backup host\n");
	vt_result_free(&r);
}

/* What the command line builder warns of reaches the user as the command's
 * own warning (the builder hands it up; vm run tells it). */
Test(cli, run_warns_of_ports_open_to_the_network)
{
	char *dir = vt_tmpdir();
	char *vmrc = xasprintf("%sVM_QEMU=true\nVM_QEMU_ACCEL=tcg\nVM_MONITOR=tcp\n"
			       "VM_NET_FORWARD=8080:80\nVM_NET_FORWARD_ADDR=0.0.0.0\n",
			       vt_guide_vmrc);
	free(vt_write(dir, ".vmrc", vmrc));
	free(vt_write(dir, "guix-backing.qcow2", ""));
	struct vt_result r = vm(dir, (const char *[]){"run", "--nat", NULL});
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.err,
			 "vm: run: warning: VM_NET_FORWARD_ADDR=0.0.0.0: the forwarded ports "
			 "of the guest can be reached from the network, not only from this "
			 "host\nvm: run: warning: VM_MONITOR=tcp: anyone who can reach "
			 "127.0.0.1:7733 controls this emulator\n");
	vt_result_free(&r);
	free(vmrc);
}
