/* The spawner's options vm boot relies on: running as another user, SIGTERM
 * before SIGKILL on time-out, a time-out without captured output, and not
 * waiting for background processes that hold the child's pipes. */
#include "sys/spawn.h"
#include "vmtest.h"

#include <criterion/criterion.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

Test(spawn_options, a_background_child_holding_the_pipe_does_not_hold_us)
{
	/* The grandchild keeps stdout open for 20 s; the child exits at once. */
	char *argv[] = {"sh", "-c", "sleep 20 2>/dev/null & echo $!; echo done", NULL};
	struct spawn_options opts = {.capture_stdout = true, .timeout_ms = 15000};
	struct spawn_result r;
	struct error err;
	cr_assert_eq(spawn_run(argv, &opts, &r, &err), 0, "%s", err.msg);
	cr_assert_not(r.timed_out, "waited for the background sleep");
	long sleeper = strtol(r.out, NULL, 10);
	cr_assert_gt(sleeper, 1);
	kill((pid_t)sleeper, SIGKILL);
	cr_assert(strstr(r.out, "\ndone\n"), "%s", r.out);
	cr_assert_eq(r.status, 0);
	spawn_result_free(&r);
}

Test(spawn_options, output_written_just_before_exit_is_kept)
{
	char *argv[] = {"sh", "-c",
			"i=0; while [ $i -lt 2000 ]; do echo line $i; i=$((i+1)); done; "
			"echo oops >&2; exit 4",
			NULL};
	struct spawn_options opts = {.capture_stdout = true, .capture_stderr = true};
	struct spawn_result r;
	struct error err;
	cr_assert_eq(spawn_run(argv, &opts, &r, &err), 0, "%s", err.msg);
	cr_assert_eq(r.status, 4);
	cr_assert(strstr(r.out, "line 1999\n"), "lost the end of the output");
	cr_assert_str_eq(r.err, "oops\n");
	spawn_result_free(&r);
}

Test(spawn_options, the_time_out_holds_without_capture)
{
	char *argv[] = {"sleep", "30", NULL};
	struct spawn_options opts = {.timeout_ms = 200};
	struct spawn_result r;
	struct error err;
	cr_assert_eq(spawn_run(argv, &opts, &r, &err), 0, "%s", err.msg);
	cr_assert(r.timed_out);
	cr_assert_eq(r.status, 128 + 9);
	spawn_result_free(&r);
}

Test(spawn_options, sigterm_first_lets_the_child_clean_up)
{
	char *path = vt_write(vt_tmpdir(), "cleaned", "");
	char *script;
	cr_assert_geq(asprintf(&script,
			       "trap 'echo cleaned > %s; exit 3' TERM; echo ready; "
			       "while :; do sleep 0.05; done",
			       path),
		      0);
	char *argv[] = {"sh", "-c", script, NULL};
	struct spawn_options opts = {
	    .capture_stdout = true, .timeout_ms = 300, .term_grace_ms = 20000};
	struct spawn_result r;
	struct error err;
	cr_assert_eq(spawn_run(argv, &opts, &r, &err), 0, "%s", err.msg);
	cr_assert(r.timed_out);
	cr_assert_eq(r.status, 3, "the child did not exit through its TERM trap");
	FILE *f = fopen(path, "r");
	char line[32] = "";
	cr_assert(f && fgets(line, sizeof(line), f));
	fclose(f);
	cr_assert_str_eq(line, "cleaned\n");
	free(path);
	free(script);
	spawn_result_free(&r);
}

/* The user nobody, to run as; the test is skipped where that cannot be. */
static struct passwd *nobody(void)
{
	if (geteuid() != 0)
		cr_skip_test("switching users needs root");
	struct passwd *pw = getpwnam("nobody");
	if (!pw)
		cr_skip_test("no user 'nobody'");
	return pw;
}

Test(spawn_options, runs_as_another_user)
{
	struct passwd *pw = nobody();
	struct spawn_identity who = {"nobody", pw->pw_uid, pw->pw_gid};
	char *argv[] = {"sh", "-c", "id -u; id -g; id -G; pwd", NULL};
	struct spawn_options opts = {.capture_stdout = true, .identity = &who, .dir = "/"};
	struct spawn_result r;
	struct error err;
	cr_assert_eq(spawn_run(argv, &opts, &r, &err), 0, "%s", err.msg);
	char *want;
	cr_assert_geq(asprintf(&want, "%u\n%u\n%u\n/\n", (unsigned)pw->pw_uid, (unsigned)pw->pw_gid,
			       (unsigned)pw->pw_gid),
		      0);
	cr_assert_str_eq(r.out, want, "root's groups leaked, or the wrong user");
	free(want);
	spawn_result_free(&r);
}

Test(spawn_options, changes_directory_only_as_the_user)
{
	struct passwd *pw = nobody();
	/* /root is 0700: root could enter it, nobody cannot. */
	struct spawn_identity who = {"nobody", pw->pw_uid, pw->pw_gid};
	char *argv[] = {"true", NULL};
	struct spawn_options opts = {.identity = &who, .dir = "/root"};
	struct spawn_result r;
	struct error err;
	cr_assert_eq(spawn_run(argv, &opts, &r, &err), -1, "entered /root as nobody");
	cr_assert(strstr(err.msg, "Permission denied"), "%s", err.msg);
}
