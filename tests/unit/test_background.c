/* Starting a program in the background (as vm start does with the
 * emulator) and waiting for any process to end, and the record of states
 * saved while the guest was suspended. */
#include "emulator/savedstate.h"
#include "sys/spawn.h"
#include "vmtest.h"
#include "xalloc.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

Test(background, output_goes_to_the_file_and_the_pid_can_be_waited_for)
{
	char *dir = vt_tmpdir();
	char *log = xasprintf("%s/out", dir);
	const char *argv[] = {"sh", "-c", "echo to-out; echo to-err >&2; exit 3", NULL};
	struct spawn_background_options opts = {.output = log, .new_session = true};
	pid_t pid;
	struct error err;
	cr_assert_eq(spawn_background((char *const *)argv, &opts, &pid, &err), 0, "%s", err.msg);
	cr_assert(spawn_wait_exit(pid, 10000));
	char *text = vt_read(log);
	cr_assert_str_eq(text, "to-out\nto-err\n");
	free(text);
}

Test(background, a_missing_program_is_reported_at_once)
{
	const char *argv[] = {"no-such-emulator", NULL};
	struct spawn_background_options opts = {0};
	pid_t pid;
	struct error err;
	cr_assert_eq(spawn_background((char *const *)argv, &opts, &pid, &err), -1);
	cr_assert_str_eq(err.msg, "cannot run no-such-emulator: No such file or directory");
}

Test(background, kept_fds_are_inherited_and_others_are_not)
{
	int keep = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int other = open("/dev/null", O_RDONLY | O_CLOEXEC);
	char *dir = vt_tmpdir();
	char *log = xasprintf("%s/out", dir);
	char *script = xasprintf("test -e /proc/self/fd/%d && echo kept; test -e /proc/self/fd/%d "
				 "|| echo closed",
				 keep, other);
	const char *argv[] = {"sh", "-c", script, NULL};
	struct spawn_background_options opts = {.output = log, .keep_fds = &keep, .n_keep_fds = 1};
	pid_t pid;
	struct error err;
	cr_assert_eq(spawn_background((char *const *)argv, &opts, &pid, &err), 0, "%s", err.msg);
	cr_assert(spawn_wait_exit(pid, 10000));
	char *text = vt_read(log);
	cr_assert_str_eq(text, "kept\nclosed\n");
	free(text);
}

Test(background, waiting_times_out_for_a_process_that_runs_on)
{
	const char *argv[] = {"sleep", "30", NULL};
	struct spawn_background_options opts = {0};
	pid_t pid;
	struct error err;
	cr_assert_eq(spawn_background((char *const *)argv, &opts, &pid, &err), 0, "%s", err.msg);
	cr_assert_not(spawn_wait_exit(pid, 200));
	kill(pid, SIGKILL);
	cr_assert(spawn_wait_exit(pid, 10000));
}

Test(savedstate, records_how_each_state_was_saved)
{
	char *dir = vt_tmpdir();
	char *image = xasprintf("%s/tg-backing.qcow2", dir);
	struct error err;
	cr_assert_eq(savedstate_lookup(image, "s1"), SAVEDSTATE_RUNNING);
	cr_assert_eq(savedstate_record(image, "s1", SAVEDSTATE_WAKING, &err), 0, "%s", err.msg);
	cr_assert_eq(savedstate_record(image, "s2", SAVEDSTATE_RUNNING, &err), 0, "%s", err.msg);
	cr_assert_eq(savedstate_record(image, "s3", SAVEDSTATE_SUSPENDED, &err), 0, "%s", err.msg);
	cr_assert_eq(savedstate_lookup(image, "s1"), SAVEDSTATE_WAKING);
	cr_assert_eq(savedstate_lookup(image, "s2"), SAVEDSTATE_RUNNING);
	cr_assert_eq(savedstate_lookup(image, "s3"), SAVEDSTATE_SUSPENDED);
	cr_assert_eq(savedstate_lookup(image, "s"), SAVEDSTATE_RUNNING, "a prefix is not a name");
	char *record = savedstate_path(image);
	char *text = vt_read(record);
	cr_assert_str_eq(text, "s1 waking\ns3 suspended\n");
	free(text);
	/* Saved again while running: the record goes. */
	cr_assert_eq(savedstate_record(image, "s1", SAVEDSTATE_RUNNING, &err), 0, "%s", err.msg);
	cr_assert_eq(savedstate_lookup(image, "s1"), SAVEDSTATE_RUNNING);
	cr_assert_eq(savedstate_lookup(image, "s3"), SAVEDSTATE_SUSPENDED);
	cr_assert_eq(savedstate_record(image, "s3", SAVEDSTATE_RUNNING, &err), 0, "%s", err.msg);
	cr_assert_not(vt_exists(record), "an empty record is removed");
}
