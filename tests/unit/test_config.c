/* Configuration as a user meets it: precedence, VM_HOME, mandatory and
 * validated variables, derived names. Driven through the real vm program. */
#include "config/config.h"
#include "config/variables.h"
#include "config/vmrc.h"
#include "vmtest.h"
#include "xalloc.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char minimal_global[] = "VM_CONFIG=.vmrc\nVM_FMT=qcow2\nVM_SAVE_DELAY=5\n";

/* Runs `vm sh -c SCRIPT` in cwd. */
static struct vt_result sh(const char *cwd, const char *lib, const char *const *env,
			   const char *script)
{
	const char *args[] = {"sh", "-c", script, NULL};
	return vt_vm(cwd, lib, env, args);
}

static void assert_prints(struct vt_result r, const char *expected)
{
	cr_assert_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_assert_str_eq(r.out, expected);
	vt_result_free(&r);
}

static void assert_fails_with(struct vt_result r, const char *expected_err)
{
	cr_assert_eq(r.status, 1, "exit %d, stdout: %s", r.status, r.out);
	cr_assert_str_eq(r.err, expected_err);
	vt_result_free(&r);
}

Test(config, the_guides_example_gives_the_backing_file_name)
{
	char *dir = vt_tmpdir();
	free(vt_write(dir, ".vmrc", vt_guide_vmrc));
	assert_prints(sh(dir, vt_lib(NULL), NULL, "echo $VM_SNAPSHOT_BACKING_FILENAME"),
		      "guix-backing.qcow2\n");
	assert_prints(sh(dir, vt_lib(NULL), NULL,
			 "echo $VM_SNAPSHOT_SEED_FILENAME $VM_SNAPSHOT_BASE_FILENAME "
			 "$VM_MACHINE_USER $VM_NET_GUEST $VM_NET_PORT $VM_NET_MAC $VM_FMT"),
		      "guix-seed.qcow2 guix-base.qcow2 guido guix 7733 DE:AD:BE:EF:33:11 qcow2\n");
}

Test(config, derived_defaults_follow_the_machine)
{
	char *dir = vt_tmpdir();
	free(vt_write(dir, ".vmrc",
		      "VM_MACHINE_NAME=alp\nVM_MACHINE_ID=07\nVM_MACHINE_OWNER=me\n"
		      "VM_SNAPSHOT_BACKINGNAME=overlay\nVM_FMT=raw\n"
		      "VM_SNAPSHOT_BASE_FILENAME=ignored\n"));
	assert_prints(sh(dir, vt_lib(NULL), NULL,
			 "echo $VM_MACHINE_USER $VM_SNAPSHOT_BACKING_FILENAME "
			 "$VM_SNAPSHOT_BASE_FILENAME $VM_IMAGE_FILENAME $VM_NET_PORT"),
		      "me alp-overlay.raw alp-base.raw alp.raw 7707\n");
}

/* One case per pair of sources: the higher one wins. */
struct precedence_case {
	const char *env;    /* VM_NET_BRIDGE from the environment, or NULL */
	const char *global; /* ... from the global vmrc */
	const char *vmrc;   /* ... from .vmrc */
	const char *expected;
};

static void check_precedence(const struct precedence_case *c)
{
	char *dir = vt_tmpdir();
	char *global = xasprintf("%s%s%s%s", minimal_global, c->global ? "VM_NET_BRIDGE=" : "",
				 c->global ? c->global : "", c->global ? "\n" : "");
	char *vmrc = xasprintf("%s%s%s%s", vt_guide_vmrc, c->vmrc ? "VM_NET_BRIDGE=" : "",
			       c->vmrc ? c->vmrc : "", c->vmrc ? "\n" : "");
	free(vt_write(dir, ".vmrc", vmrc));
	char *env_var = c->env ? xasprintf("VM_NET_BRIDGE=%s", c->env) : NULL;
	const char *env[] = {env_var, NULL};
	char *expected = xasprintf("%s\n", c->expected);
	assert_prints(sh(dir, vt_lib(global), env, "echo $VM_NET_BRIDGE"), expected);
	free(global), free(vmrc), free(env_var), free(expected);
}

Test(config, precedence_default_below_environment)
{
	check_precedence(&(struct precedence_case){"fromenv", NULL, NULL, "fromenv"});
}

Test(config, precedence_default_below_global_vmrc)
{
	check_precedence(&(struct precedence_case){NULL, "fromglobal", NULL, "fromglobal"});
}

Test(config, precedence_default_below_vmrc)
{
	check_precedence(&(struct precedence_case){NULL, NULL, "fromvmrc", "fromvmrc"});
}

Test(config, precedence_environment_below_global_vmrc)
{
	check_precedence(&(struct precedence_case){"fromenv", "fromglobal", NULL, "fromglobal"});
}

Test(config, precedence_environment_below_vmrc)
{
	check_precedence(&(struct precedence_case){"fromenv", NULL, "fromvmrc", "fromvmrc"});
}

Test(config, precedence_global_vmrc_below_vmrc)
{
	check_precedence(&(struct precedence_case){NULL, "fromglobal", "fromvmrc", "fromvmrc"});
}

Test(config, precedence_builtin_default_alone)
{
	check_precedence(&(struct precedence_case){NULL, NULL, NULL, "br0"});
}

Test(config, installed_global_vmrc_keeps_environment_values)
{
	char *dir = vt_tmpdir();
	free(vt_write(dir, ".vmrc", vt_guide_vmrc));
	const char *env[] = {"VM_QEMU=/opt/qemu/bin/qemu-system-x86_64", NULL};
	assert_prints(sh(dir, vt_lib(NULL), env, "echo $VM_QEMU"),
		      "/opt/qemu/bin/qemu-system-x86_64\n");
}

Test(config, empty_value_counts_as_missing)
{
	char *dir = vt_tmpdir();
	char *vmrc = xasprintf("%sVM_MACHINE_OWNER=\n", vt_guide_vmrc);
	free(vt_write(dir, ".vmrc", vmrc));
	assert_fails_with(sh(dir, vt_lib(NULL), NULL, "true"),
			  "vm: sh: .vmrc: mandatory variable VM_MACHINE_OWNER not set\n"
			  "vm: sh: exiting after 1 error\n");
}

Test(config, each_missing_mandatory_variable_is_named)
{
	const char *names[] = {"VM_CONFIG",	  "VM_FMT",	   "VM_SAVE_DELAY",
			       "VM_MACHINE_NAME", "VM_MACHINE_ID", "VM_MACHINE_OWNER"};
	const char *values[] = {".vmrc", "qcow2", "5", "guix", "33", "daniel"};
	for (size_t missing = 0; missing < 6; missing++) {
		char *dir = vt_tmpdir();
		char global[256] = "", vmrc[256] = "";
		for (size_t i = 0; i < 6; i++) {
			if (i == missing)
				continue;
			char *target = i < 3 ? global : vmrc;
			snprintf(target + strlen(target), 256 - strlen(target), "%s=%s\n", names[i],
				 values[i]);
		}
		free(vt_write(dir, ".vmrc", vmrc));
		char *expected = xasprintf("vm: sh: .vmrc: mandatory variable %s not set\n"
					   "vm: sh: exiting after 1 error\n",
					   names[missing]);
		assert_fails_with(sh(dir, vt_lib(global), NULL, "echo ran"), expected);
		free(expected);
	}
}

Test(config, all_missing_mandatory_variables_give_six_errors)
{
	char *dir = vt_tmpdir();
	free(vt_write(dir, ".vmrc", "# nothing yet\n"));
	assert_fails_with(sh(dir, vt_lib("# empty global vmrc\n"), NULL, "echo ran"),
			  "vm: sh: .vmrc: mandatory variable VM_CONFIG not set\n"
			  "vm: sh: .vmrc: mandatory variable VM_FMT not set\n"
			  "vm: sh: .vmrc: mandatory variable VM_SAVE_DELAY not set\n"
			  "vm: sh: .vmrc: mandatory variable VM_MACHINE_NAME not set\n"
			  "vm: sh: .vmrc: mandatory variable VM_MACHINE_ID not set\n"
			  "vm: sh: .vmrc: mandatory variable VM_MACHINE_OWNER not set\n"
			  "vm: sh: exiting after 6 errors\n");
}

static struct vt_result with_id(const char *id_line)
{
	char *dir = vt_tmpdir();
	char *vmrc = xasprintf("VM_MACHINE_NAME=guix\nVM_MACHINE_OWNER=d\n%s\n", id_line);
	free(vt_write(dir, ".vmrc", vmrc));
	free(vmrc);
	return sh(dir, vt_lib(NULL), NULL, "echo $VM_MACHINE_ID");
}

Test(config, machine_id_must_be_two_digits)
{
	const char *bad[][2] = {{"VM_MACHINE_ID=1", "1"},
				{"VM_MACHINE_ID=100", "100"},
				{"VM_MACHINE_ID=ab", "ab"},
				{"VM_MACHINE_ID=\" 33\"", " 33"}};
	for (size_t i = 0; i < 4; i++) {
		char *expected =
		    xasprintf("vm: sh: .vmrc:3: VM_MACHINE_ID must be 2 digits, 00 to 99, "
			      "not '%s'\nvm: sh: exiting after 1 error\n",
			      bad[i][1]);
		assert_fails_with(with_id(bad[i][0]), expected);
		free(expected);
	}
	assert_prints(with_id("VM_MACHINE_ID=07"), "07\n");
	assert_prints(with_id("VM_MACHINE_ID=99"), "99\n");
}

Test(config, memory_and_name_are_validated)
{
	char *dir = vt_tmpdir();
	free(vt_write(dir, ".vmrc",
		      "VM_MACHINE_NAME='my vm'\nVM_MACHINE_ID=12\nVM_MACHINE_OWNER=d\n"
		      "VM_MACHINE_MEM=-5\n"));
	assert_fails_with(sh(dir, vt_lib(NULL), NULL, "true"),
			  "vm: sh: .vmrc:1: VM_MACHINE_NAME must be usable in file names (no '/', "
			  "no white space, not . or ..), not 'my vm'\n"
			  "vm: sh: .vmrc:4: VM_MACHINE_MEM must be a whole number from 1 to "
			  "16777216, not '-5'\n"
			  "vm: sh: exiting after 2 errors\n");
	free(vt_write(dir, ".vmrc",
		      "VM_MACHINE_NAME=a/b\nVM_MACHINE_ID=12\nVM_MACHINE_OWNER=d\n"
		      "VM_MACHINE_MEM=0\n"));
	struct vt_result r = sh(dir, vt_lib(NULL), NULL, "true");
	cr_assert_eq(r.status, 1);
	cr_assert(
	    strstr(r.err, "VM_MACHINE_MEM must be a whole number from 1 to 16777216, not '0'"));
	cr_assert(strstr(r.err, "VM_MACHINE_NAME must be usable in file names"));
	vt_result_free(&r);
	free(vt_write(dir, ".vmrc", "VM_MACHINE_NAME=a:b\nVM_MACHINE_ID=12\nVM_MACHINE_OWNER=d\n"));
	assert_fails_with(
	    sh(dir, vt_lib(NULL), NULL, "true"),
	    "vm: sh: .vmrc:1: VM_MACHINE_NAME 'a:b' cannot hold ':': QEMU and qemu-img "
	    "would read its image names as protocol:file\n"
	    "vm: sh: exiting after 1 error\n");
}

Test(config, a_refused_vmrc_line_is_reported_with_file_and_line)
{
	char *dir = vt_tmpdir();
	char *vmrc = xasprintf("%sVM_QEMU_EXTRA=`id`\n", vt_guide_vmrc);
	free(vt_write(dir, ".vmrc", vmrc));
	assert_fails_with(
	    sh(dir, vt_lib(NULL), NULL, "echo ran"),
	    "vm: sh: .vmrc:6: backtick command substitution is refused: .vmrc is read, "
	    "never run\n");
}

/* VM_HOME: set or unset, crossed with a .vmrc in the current directory. */
Test(config, home_unset_and_no_vmrc_here)
{
	char *dir = vt_tmpdir();
	char *expected =
	    xasprintf("vm: sh: no .vmrc in %s: cd to a machine directory, set VM_HOME, "
		      "or create .vmrc (see vmrc(5))\n",
		      dir);
	assert_fails_with(sh(dir, vt_lib(NULL), NULL, "echo ran"), expected);
}

Test(config, home_unset_and_vmrc_here)
{
	char *dir = vt_tmpdir();
	free(vt_write(dir, ".vmrc", vt_guide_vmrc));
	char *expected = xasprintf("%s %s %s\n", dir, dir, dir);
	assert_prints(sh(dir, vt_lib(NULL), NULL, "echo $VM_HOME $PWD $VM_CALLING_DIR"), expected);
}

Test(config, home_set_and_no_vmrc_here)
{
	char *home = vt_tmpdir(), *here = vt_tmpdir();
	free(vt_write(home, ".vmrc", vt_guide_vmrc));
	char *env_home = xasprintf("VM_HOME=%s", home);
	const char *env[] = {env_home, NULL};
	char *expected = xasprintf("%s %s %s\n", home, home, here);
	assert_prints(sh(here, vt_lib(NULL), env, "echo $VM_HOME $PWD $VM_CALLING_DIR"), expected);
}

/* The original read .vmrc after changing into the machine directory, and
 * boot-time starts set VM_HOME: $PWD there is the machine directory. */
Test(config, pwd_in_vmrc_is_the_machine_directory)
{
	char *home = vt_tmpdir(), *here = vt_tmpdir();
	char *vmrc = xasprintf("%sMY_LOG=$PWD/vm.log\n", vt_guide_vmrc);
	free(vt_write(home, ".vmrc", vmrc));
	char *env_home = xasprintf("VM_HOME=%s", home), *env_pwd = xasprintf("PWD=%s", here);
	const char *env[] = {env_home, env_pwd, NULL};
	char *expected = xasprintf("%s/vm.log %s\n", home, home);
	assert_prints(sh(here, vt_lib(NULL), env, "echo $MY_LOG $PWD"), expected);
}

Test(config, home_set_and_another_vmrc_here)
{
	char *home = vt_tmpdir(), *here = vt_tmpdir();
	free(vt_write(home, ".vmrc", vt_guide_vmrc));
	free(vt_write(here, ".vmrc", "VM_MACHINE_NAME=other\n"));
	char *env_home = xasprintf("VM_HOME=%s", home);
	const char *env[] = {env_home, NULL};
	char *expected =
	    xasprintf("vm: sh: VM_HOME is %s, but the current directory %s has its own "
		      ".vmrc; cd elsewhere, unset VM_HOME, or set "
		      "VM_HOME_OVERRIDES_CWD=yes to use VM_HOME anyway\n",
		      home, here);
	assert_fails_with(sh(here, vt_lib(NULL), env, "echo ran"), expected);
}

Test(config, home_overrides_cwd_when_asked)
{
	char *home = vt_tmpdir(), *here = vt_tmpdir();
	free(vt_write(home, ".vmrc", vt_guide_vmrc));
	free(vt_write(here, ".vmrc", "VM_MACHINE_NAME=other\n"));
	char *env_home = xasprintf("VM_HOME=%s", home);
	const char *env[] = {env_home, "VM_HOME_OVERRIDES_CWD=yes", NULL};
	char *expected = xasprintf("%s guix\n", home);
	assert_prints(sh(here, vt_lib(NULL), env, "echo $PWD $VM_MACHINE_NAME"), expected);
}

Test(config, home_equal_to_cwd_is_no_conflict)
{
	char *home = vt_tmpdir();
	free(vt_write(home, ".vmrc", vt_guide_vmrc));
	char *env_home = xasprintf("VM_HOME=%s/", home);
	const char *env[] = {env_home, NULL};
	char *expected = xasprintf("%s\n", home);
	assert_prints(sh(home, vt_lib(NULL), env, "echo $VM_HOME"), expected);
}

Test(config, home_trailing_slashes_are_stripped)
{
	char *home = vt_tmpdir(), *here = vt_tmpdir();
	free(vt_write(home, ".vmrc", vt_guide_vmrc));
	char *env_home = xasprintf("VM_HOME=%s//", home);
	const char *env[] = {env_home, NULL};
	char *expected = xasprintf("%s\n", home);
	assert_prints(sh(here, vt_lib(NULL), env, "echo $VM_HOME"), expected);
}

Test(config, home_that_does_not_exist)
{
	char *here = vt_tmpdir();
	const char *env[] = {"VM_HOME=/nonexistent/machine", NULL};
	assert_fails_with(
	    sh(here, vt_lib(NULL), env, "echo ran"),
	    "vm: sh: cannot change into VM_HOME /nonexistent/machine: No such file or "
	    "directory\n");
}

Test(config, home_that_cannot_be_entered)
{
	char *here = vt_tmpdir();
	char *file = vt_write(here, "not-a-dir", "x");
	char *env_home = xasprintf("VM_HOME=%s", file);
	const char *env[] = {env_home, NULL};
	char *expected =
	    xasprintf("vm: sh: cannot change into VM_HOME %s: Not a directory\n", file);
	assert_fails_with(sh(here, vt_lib(NULL), env, "echo ran"), expected);
}

Test(config, home_without_vmrc)
{
	char *home = vt_tmpdir(), *here = vt_tmpdir();
	char *env_home = xasprintf("VM_HOME=%s", home);
	const char *env[] = {env_home, NULL};
	char *expected =
	    xasprintf("vm: sh: no .vmrc in %s: cd to a machine directory, set VM_HOME, "
		      "or create .vmrc (see vmrc(5))\n",
		      home);
	assert_fails_with(sh(here, vt_lib(NULL), env, "echo ran"), expected);
}

Test(config, relative_home_is_made_absolute)
{
	char *here = vt_tmpdir();
	char *home = xasprintf("%s/guix", here);
	cr_assert_eq(mkdir(home, 0700), 0);
	free(vt_write(home, ".vmrc", vt_guide_vmrc));
	const char *env[] = {"VM_HOME=guix/", NULL};
	char *expected = xasprintf("%s\n", home);
	assert_prints(sh(here, vt_lib(NULL), env, "echo $VM_HOME"), expected);
}

Test(config, config_file_name_comes_from_vm_config)
{
	char *dir = vt_tmpdir();
	free(vt_write(dir, "machine.conf", vt_guide_vmrc));
	const char *global = "VM_CONFIG=machine.conf\nVM_FMT=img\nVM_SAVE_DELAY=5\n";
	assert_prints(sh(dir, vt_lib(global), NULL, "echo $VM_SNAPSHOT_BASE_FILENAME"),
		      "guix-base.img\n");
}

Test(config, missing_global_vmrc_says_what_to_do)
{
	char *dir = vt_tmpdir();
	free(vt_write(dir, ".vmrc", vt_guide_vmrc));
	char *expected =
	    xasprintf("vm: sh: global configuration /nonexistent/vmrc (reinstall vm, or "
		      "set VM_LIB to the directory holding vmrc): No such file or "
		      "directory\n");
	assert_fails_with(sh(dir, "/nonexistent", NULL, "echo ran"), expected);
}

/* The installed global vmrc sets exactly the built-in defaults. */
Test(config, installed_global_vmrc_matches_builtin_defaults)
{
	char *path = xasprintf("%s/vmrc", getenv("VM_TEST_LIB"));
	struct vars vars = VARS_INIT;
	struct error err;
	cr_assert_eq(vmrc_load(path, &vars, &err), 0, "%s", err.msg);
	for (size_t i = 0; i < variables_count; i++) {
		if (!variables[i].fallback)
			continue;
		const char *value = vars_get(&vars, variables[i].name);
		cr_assert_not_null(value,
				   "%s has a built-in default but the global vmrc does "
				   "not set it",
				   variables[i].name);
		cr_assert_str_eq(value, variables[i].fallback, "%s", variables[i].name);
	}
	cr_assert_str_eq(vars_get(&vars, "VM_CONFIG"), ".vmrc");
	cr_assert_str_eq(vars_get(&vars, "VM_FMT"), "qcow2");
	cr_assert_str_eq(vars_get(&vars, "VM_SAVE_DELAY"), "5");
	vars_free(&vars);
}

Test(config, variables_txt_lists_every_variable)
{
	char *path = xasprintf("%s/variables.txt", getenv("VM_TEST_LIB"));
	char *text = vt_read(path);
	cr_assert_not_null(text, "%s", path);
	for (size_t i = 0; i < variables_count; i++) {
		char *line = xasprintf("\n%s\n", variables[i].name);
		cr_assert(strstr(text, line), "variables.txt lacks %s", variables[i].name);
		free(line);
	}
}

/* A directory the user may not enter. Root enters anything, so as root the
 * test runs vm as nobody; other users get a 0000 directory of their own. */
Test(config, home_without_permission_to_enter)
{
	char *here = vt_tmpdir();
	cr_assert_eq(chmod(here, 0755), 0);
	char *home = xasprintf("%s/locked", here);
	cr_assert_eq(mkdir(home, 0700), 0);
	free(vt_write(home, ".vmrc", vt_guide_vmrc));
	cr_assert_eq(chmod(home, 0), 0);
	char *env_home = xasprintf("VM_HOME=%s", home);
	char *lib = xasprintf("VM_LIB=%s", getenv("VM_TEST_LIB"));
	const char *env[] = {env_home, lib, "PATH=/usr/bin:/bin", NULL};
	const char *bin = getenv("VM_TEST_BIN");
	struct vt_result r;
	if (geteuid() == 0)
		r = vt_exec("/", env,
			    (const char *[]){"setpriv", "--reuid=nobody", "--regid=nogroup",
					     "--clear-groups", bin, "sh", "-c", "echo ran", NULL});
	else
		r = vt_exec("/", env, (const char *[]){bin, "sh", "-c", "echo ran", NULL});
	char *expected =
	    xasprintf("vm: sh: cannot change into VM_HOME %s: Permission denied\n", home);
	cr_assert_eq(r.status, 1, "%s%s", r.out, r.err);
	cr_assert_str_eq(r.err, expected);
	vt_result_free(&r);
}

/* The variable table checks every value it types, says where the value was
 * set and what is allowed. */
static struct vt_result with_line(const char *line, const char *const *env)
{
	char *dir = vt_tmpdir();
	char *vmrc = xasprintf("%s%s\n", vt_guide_vmrc, line);
	free(vt_write(dir, ".vmrc", vmrc));
	free(vmrc);
	return sh(dir, vt_lib(NULL), env, "echo ran");
}

Test(config, typed_values_are_checked_with_file_line_and_what_is_allowed)
{
	static const char *const environment[] = {"VM_DISK_IF=usb", NULL};
	const struct {
		const char *line;
		const char *const *env;
		const char *message;
	} cases[] = {
	    {"VM_GUEST_AGENT=true", NULL, ".vmrc:6: VM_GUEST_AGENT must be yes or no, not 'true'"},
	    {"VM_MONITOR=tpc", NULL, ".vmrc:6: VM_MONITOR must be unix or tcp, not 'tpc'"},
	    {"VM_QEMU_ACCEL=hax", NULL,
	     ".vmrc:6: VM_QEMU_ACCEL must be auto, kvm or tcg, not 'hax'"},
	    {"VM_SSH_ATTEMPTS=0", NULL,
	     ".vmrc:6: VM_SSH_ATTEMPTS must be a whole number from 1 to 100000, not '0'"},
	    {"VM_NET_MODEL='e1000,romfile=x'", NULL,
	     ".vmrc:6: VM_NET_MODEL must be one word of letters, digits, '.', '_' and '-', not "
	     "'e1000,romfile=x'"},
	    {"VM_SSH_OPTS=\"-o 'A=b\"", NULL,
	     ".vmrc:6: VM_SSH_OPTS: a quote is not closed in '-o 'A=b'"},
	    {"VM_NET_QUEUES=0", NULL,
	     ".vmrc:6: VM_NET_QUEUES must be a whole number from 1 to 8, not '0'"},
	    {"VM_NET_QUEUES=9", NULL,
	     ".vmrc:6: VM_NET_QUEUES must be a whole number from 1 to 8, not '9'"},
	    {"VM_NET_QUEUES=-1", NULL,
	     ".vmrc:6: VM_NET_QUEUES must be a whole number from 1 to 8, not '-1'"},
	    {"", environment,
	     "the environment: VM_DISK_IF must be ide, virtio, scsi, sd, mtd, floppy, pflash or "
	     "none, not 'usb'"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *expected =
		    xasprintf("vm: sh: %s\nvm: sh: exiting after 1 error\n", cases[i].message);
		assert_fails_with(with_line(cases[i].line, cases[i].env), expected);
		free(expected);
	}
	assert_prints(with_line("VM_GUEST_AGENT=yes VM_MONITOR=tcp VM_DISK_IF=virtio", NULL),
		      "ran\n");
	assert_prints(with_line("VM_NET_QUEUES=1", NULL), "ran\n");
	assert_prints(with_line("VM_NET_QUEUES=8", NULL), "ran\n");
}

/* As in the original, VM_USE_SNAPSHOTS is "no" or anything else for yes. */
Test(config, use_snapshots_is_anything_but_no)
{
	struct config cfg = {.vars = VARS_INIT};
	vars_set(&cfg.vars, "VM_USE_SNAPSHOTS", "false");
	cr_assert(config_bool(&cfg, "VM_USE_SNAPSHOTS"));
	vars_set(&cfg.vars, "VM_USE_SNAPSHOTS", "no");
	cr_assert_not(config_bool(&cfg, "VM_USE_SNAPSHOTS"));
	vars_unset(&cfg.vars, "VM_USE_SNAPSHOTS");
	cr_assert(config_bool(&cfg, "VM_USE_SNAPSHOTS"));
	assert_prints(with_line("VM_USE_SNAPSHOTS=false", NULL), "ran\n");
	vars_free(&cfg.vars);
}

/* Every row's default is a value its own check allows, and variables.txt
 * tells what each typed variable allows. */
Test(config, the_table_allows_its_defaults_and_variables_txt_says_what_is_allowed)
{
	char *path = xasprintf("%s/variables.txt", getenv("VM_TEST_LIB"));
	char *text = vt_read(path);
	cr_assert_not_null(text, "%s", path);
	for (size_t i = 0; i < variables_count; i++) {
		const struct variable *v = &variables[i];
		struct error err;
		if (v->fallback)
			cr_assert_eq(variable_check(v, v->fallback, &err), 0, "%s", err.msg);
		char *allowed = variable_allowed(v);
		if (!allowed)
			continue;
		char *entry = strstr(text, xasprintf("\n%s\n", v->name));
		cr_assert_not_null(entry, "variables.txt lacks %s", v->name);
		char *next = strstr(entry + 1, "\nVM_");
		char *want = xasprintf("\tallowed: %s\n", allowed);
		char *found = strstr(entry, want);
		cr_assert(found && (!next || found < next), "variables.txt: %s lacks '%s'", v->name,
			  want);
		free(want);
		free(allowed);
	}
}

static void assert_near(const char *name, const char *expected)
{
	const struct variable *v = variable_near(name);
	if (!expected)
		cr_assert_null(v, "%s: near %s", name, v ? v->name : "");
	else
		cr_assert(v && !strcmp(v->name, expected), "%s: near %s, not %s", name,
			  v ? v->name : "none", expected);
}

Test(config, a_misspelt_vm_name_is_near_the_one_it_misses)
{
	assert_near("VM_MACHINE_MEN", "VM_MACHINE_MEM");  /* a letter changed */
	assert_near("VM_MACHNE_MEM", "VM_MACHINE_MEM");	  /* one left out */
	assert_near("VM_MACHINE_MEMM", "VM_MACHINE_MEM"); /* one added */
	assert_near("VM_MACHIEN_MEM", "VM_MACHINE_MEM");  /* two swapped */
	assert_near("VM_SSH_ATEMTPS", "VM_SSH_ATTEMPTS"); /* two edits */
	assert_near("VM_Machine_Mem", "VM_MACHINE_MEM");  /* case aside */
	assert_near("VM_QEMU_EXTRAS", "VM_QEMU_EXTRA");
	assert_near("VM_NET_BRIGDE", "VM_NET_BRIDGE");
	assert_near("VM_LOGS", "VM_LOG"); /* short: one edit */
	assert_near("VM_FMTT", "VM_FMT");
}

Test(config, known_and_unrelated_names_are_near_none)
{
	for (size_t i = 0; i < variables_count; i++)
		assert_near(variables[i].name, NULL);
	/* Users' own: far from every name, or short and two edits away
	 * (VM_FOO from VM_FMT, VM_DIR from VM_BIN). */
	const char *const own[] = {"VM_BACKUP_HOST",
				   "VM_FOO",
				   "VM_DIR",
				   "VM_DISK_SIZE",
				   "VM_MACHINE_CPUS",
				   "VM_SSH_KEY",
				   "VM_NET_IP",
				   "VM_MACHINE_MEMORY",
				   "VM_",
				   "VM_X"};
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		assert_near(own[i], NULL);
	/* Not VM_ names at all. */
	assert_near("MACHINE_MEM", NULL);
	assert_near("XVM_MACHINE_MEM", NULL);
	assert_near("vm_machine_mem", NULL);
	char longer[200];
	memset(longer, 'A', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	memcpy(longer, "VM_", 3);
	assert_near(longer, NULL);
}

/* Told on stderr, once, with where: what stdout carries stays clean, and a
 * vm that a vm script runs (its variables in the environment) is silent. */
Test(config, a_misspelt_vm_name_in_vmrc_is_warned_of_once_with_file_and_line)
{
	char *dir = vt_tmpdir();
	char *vmrc = xasprintf("%sVM_MACHINE_MEN=512\nVM_BACKUP_HOST=nas\n", vt_guide_vmrc);
	free(vt_write(dir, ".vmrc", vmrc));
	const char *warning = "warning: .vmrc:6: VM_MACHINE_MEN is not a vm variable; did you "
			      "mean VM_MACHINE_MEM?\n";
	struct vt_result r =
	    sh(dir, vt_lib(NULL), NULL, "echo $VM_MACHINE_MEM; \"$VM_BIN\" sh -c true");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "1024\n");
	char *expected = xasprintf("vm: sh: %s", warning);
	cr_assert_str_eq(r.err, expected);
	free(expected);
	vt_result_free(&r);
	/* A load that fails may fail of the typo: the warning comes with it. */
	free(
	    vt_write(dir, ".vmrc", "VM_MACHINE_NAMR=guix\nVM_MACHINE_ID=33\nVM_MACHINE_OWNER=d\n"));
	assert_fails_with(sh(dir, vt_lib(NULL), NULL, "true"),
			  "vm: sh: .vmrc: mandatory variable VM_MACHINE_NAME not set\n"
			  "vm: sh: .vmrc:1: VM_MACHINE_NAMR is not a vm variable; did you mean "
			  "VM_MACHINE_NAME?\n"
			  "vm: sh: exiting after 1 error\n");
	free(vmrc);
}
