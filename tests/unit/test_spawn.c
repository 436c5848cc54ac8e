/* The one process spawner: output capture, input, exit status, time-out. */
#include "sys/spawn.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static struct spawn_result run(const char *const *argv, struct spawn_options opts)
{
	struct spawn_result r;
	struct error err;
	cr_assert_eq(spawn_run((char *const *)argv, &opts, &r, &err), 0, "%s", err.msg);
	return r;
}

Test(spawn, captures_stdout_and_stderr_separately)
{
	struct spawn_result r =
	    run((const char *[]){"sh", "-c", "echo out; echo err >&2; exit 4", NULL},
		(struct spawn_options){.capture_stdout = true, .capture_stderr = true});
	cr_assert_eq(r.status, 4);
	cr_assert_str_eq(r.out, "out\n");
	cr_assert_str_eq(r.err, "err\n");
	spawn_result_free(&r);
}

Test(spawn, feeds_input)
{
	struct spawn_result r =
	    run((const char *[]){"tr", "a-z", "A-Z", NULL},
		(struct spawn_options){.input = "hello", .capture_stdout = true});
	cr_assert_eq(r.status, 0);
	cr_assert_str_eq(r.out, "HELLO");
	spawn_result_free(&r);
}

Test(spawn, kills_a_child_that_runs_over_its_time)
{
	struct spawn_result r =
	    run((const char *[]){"sleep", "30", NULL},
		(struct spawn_options){.timeout_ms = 200, .capture_stdout = true});
	cr_assert(r.timed_out);
	cr_assert_eq(r.status, 128 + 9);
	spawn_result_free(&r);
}

Test(spawn, a_missing_program_is_an_error_with_its_name)
{
	struct spawn_result r;
	struct error err;
	const char *argv[] = {"no-such-program-here", NULL};
	cr_assert_eq(spawn_run((char *const *)argv, NULL, &r, &err), -1);
	cr_assert_str_eq(err.msg, "cannot run no-such-program-here: No such file or directory");
	cr_assert_not(spawn_program_exists("no-such-program-here"));
	cr_assert(spawn_program_exists("sh"));
}

Test(spawn, runs_in_the_given_directory_with_the_given_environment)
{
	char *envp[] = {"GREETING=hi", "PATH=/usr/bin:/bin", NULL};
	struct spawn_result r =
	    run((const char *[]){"sh", "-c", "echo $GREETING $PWD", NULL},
		(struct spawn_options){.envp = envp, .dir = "/tmp", .capture_stdout = true});
	cr_assert_str_eq(r.out, "hi /tmp\n");
	spawn_result_free(&r);
}

static void assert_last_lines(const char *text, size_t n, const char *want)
{
	char *got = spawn_last_lines(text, n);
	cr_assert_str_eq(got, want, "last %zu lines of \"%s\"", n, text);
	free(got);
}

Test(spawn, last_lines_keep_what_a_child_said_last_on_one_line)
{
	assert_last_lines("", 1, "");
	assert_last_lines("\n \n", 1, "");
	assert_last_lines("warning\nerror: no space\n\n", 1, "error: no space");
	assert_last_lines("one\r\n  two  \n\nthree\n", 2, "two; three");
	assert_last_lines("one\n\ntwo\nthree", SIZE_MAX, "one; two; three");
	assert_last_lines("only", 5, "only");
}

/* How many fds this process has open. */
static int open_fds(void)
{
	int n = 0;
	for (int fd = 0; fd < 1024; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

/* Lets this process open only `free` more fds: the lowest free ones. */
static void limit_fds(struct rlimit saved, int free)
{
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &saved), 0);
	int fds[16], last = -1;
	for (int i = 0; i < free; i++)
		last = fds[i] = open("/dev/null", O_RDONLY);
	for (int i = 0; i < free; i++)
		close(fds[i]);
	struct rlimit lim = saved;
	lim.rlim_cur = (rlim_t)last + 1;
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &lim), 0);
}

Test(spawn, a_pipe_that_cannot_be_made_leaves_no_fd_open)
{
	const char *argv[] = {"true", NULL};
	struct spawn_options opts = {.capture_stdout = true, .capture_stderr = true};
	/* /dev/null, the stdout pipe, the stderr pipe, the report pipe: at
	 * each count short of all seven fds, one of them fails. */
	struct rlimit saved;
	getrlimit(RLIMIT_NOFILE, &saved);
	for (int free = 1; free < 7; free++) {
		limit_fds(saved, free);
		int before = open_fds();
		struct spawn_result r;
		struct error err;
		cr_assert_eq(spawn_run((char *const *)argv, &opts, &r, &err), -1);
		cr_assert_eq(open_fds(), before, "with %d fds free: %d left open", free,
			     open_fds() - before);
	}
	setrlimit(RLIMIT_NOFILE, &saved);
}

/* spawn_start: the child gets fd 3 and /dev/null as stdin, and exactly the
 * environment given; spawn_reap gives its status. */
Test(spawn, start_passes_fd3_and_the_environment_then_reaps)
{
	int p[2];
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	char *envp[] = {"GREETING=hi", NULL};
	const char *argv[] = {"/bin/sh", "-c",
			      "test -z \"$(/bin/cat)\" && echo \"$GREETING ${HOME:-nohome}\" >&3; "
			      "exit 5",
			      NULL};
	struct spawn_start_options opts = {.envp = envp, .pass_fd3 = p[1]};
	pid_t pid;
	struct error err;
	cr_assert_eq(spawn_start((char *const *)argv, &opts, &pid, &err), 0, "%s", err.msg);
	close(p[1]);
	char buf[64] = "";
	cr_assert_gt(read(p[0], buf, sizeof(buf) - 1), 0);
	cr_assert_str_eq(buf, "hi nohome\n");
	close(p[0]);
	cr_assert_eq(spawn_reap(pid, 10000), 5);
	cr_assert_eq(waitpid(-1, NULL, WNOHANG), -1, "a child was left unreaped");
}

/* The child has vm's signal mask (not the "all blocked" of the moment it
 * is made), the default for SIGPIPE that vm ignores, and vm's mask is as it
 * was after. SigBlk and SigIgn are hex masks, bit N-1 for signal N. */
Test(spawn, start_gives_the_child_the_callers_mask_and_default_sigpipe)
{
	sigset_t usr2, before, after;
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	sigprocmask(SIG_BLOCK, &usr2, &before);
	void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);
	int p[2];
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	/* Not through sh: dash clears the mask it was given. */
	const char *argv[] = {"sed", "-n", "s/^\\(SigBlk\\|SigIgn\\):[[:space:]]*//w /dev/fd/3",
			      "/proc/self/status", NULL};
	struct spawn_start_options opts = {.pass_fd3 = p[1]};
	pid_t pid;
	struct error err;
	cr_assert_eq(spawn_start((char *const *)argv, &opts, &pid, &err), 0, "%s", err.msg);
	sigprocmask(SIG_SETMASK, NULL, &after);
	close(p[1]);
	char buf[128] = "";
	cr_assert_gt(read(p[0], buf, sizeof(buf) - 1), 0);
	close(p[0]);
	cr_assert_eq(spawn_reap(pid, 10000), 0);
	unsigned long long blocked = 0, ignored = 0;
	cr_assert_eq(sscanf(buf, "%llx %llx", &blocked, &ignored), 2, "%s", buf);
	cr_assert_eq(blocked, 1ULL << (SIGUSR2 - 1), "the child's mask: %s", buf);
	cr_assert_eq(ignored & (1ULL << (SIGPIPE - 1)), 0, "SIGPIPE ignored in the child: %s", buf);
	cr_assert(sigismember(&after, SIGUSR2) && !sigismember(&after, SIGINT),
		  "vm's own mask changed");
	signal(SIGPIPE, old_pipe);
	sigprocmask(SIG_SETMASK, &before, NULL);
}

Test(spawn, reap_kills_a_child_that_does_not_end_in_time)
{
	const char *argv[] = {"sleep", "30", NULL};
	struct spawn_start_options opts = {.pass_fd3 = -1};
	pid_t pid;
	struct error err;
	cr_assert_eq(spawn_start((char *const *)argv, &opts, &pid, &err), 0, "%s", err.msg);
	cr_assert_eq(spawn_reap(pid, 100), 128 + SIGKILL);
}

Test(spawn, start_of_a_missing_program_is_an_error_with_its_name)
{
	const char *argv[] = {"no-such-program-here", NULL};
	struct spawn_start_options opts = {.pass_fd3 = -1};
	pid_t pid;
	struct error err;
	cr_assert_eq(spawn_start((char *const *)argv, &opts, &pid, &err), -1);
	cr_assert_str_eq(err.msg, "cannot run no-such-program-here: No such file or directory");
}
