/* The one way vm runs other programs (qemu-img, ssh, compressors, ...). */
#pragma once

#include "error.h"

#include <stdbool.h>
#include <sys/types.h>

/* Who the child runs as, when not as vm itself (vm boot, run by root, starts
 * each machine as its owner). */
struct spawn_identity {
	const char *user; /* for the supplementary groups (initgroups) */
	uid_t uid;
	gid_t gid;
};

struct spawn_options {
	char **envp;	     /* NULL: vm's own environment */
	const char *dir;     /* NULL: the current directory */
	const char *input;   /* fed to stdin; NULL: /dev/null */
	bool capture_stdout; /* else inherited */
	bool capture_stderr; /* else inherited */
	int stdout_fd;	     /* > 2: the child's stdout goes to this fd (a file) */
	int timeout_ms;	     /* 0: none; the child is killed (SIGKILL) when it runs over */
	int term_grace_ms;   /* on time-out: SIGTERM first, SIGKILL this much later (0: at once) */
	/* NULL: as vm itself. Else the child takes the user's groups, gid and
	 * uid, in that order, before it changes directory or execs. */
	const struct spawn_identity *identity;
	int pass_fd3; /* > 0: this fd becomes the child's fd 3 (e.g. vm-netd's socket) */
	int stdin_fd; /* > 0: the child's stdin (a file; input must be NULL) */
	/* Called about every 200 ms while the child runs (e.g. for a progress
	 * bar); NULL for none. */
	void (*tick)(void *ctx);
	void *tick_ctx;
};

struct spawn_result {
	int status; /* exit status, or 128 + signal */
	bool timed_out;
	char *out; /* captured stdout ("" when not captured) */
	char *err; /* captured stderr ("" when not captured) */
};

/* Runs argv (argv[0] looked up in PATH) to completion: until it exits (what
 * it left in its pipes is still read; a background child it leaves behind
 * holding them does not keep spawn_run waiting). Fails only when the
 * program cannot be run at all (not found: "PROGRAM: not found; install ..."
 * is left to the caller); a non-zero exit is reported in result->status. */
int spawn_run(char *const argv[], const struct spawn_options *opts, struct spawn_result *result,
	      struct error *err);
void spawn_result_free(struct spawn_result *result);
struct spawn_background_options {
	char **envp;	     /* NULL: vm's own environment */
	const char *output;  /* file for stdout and stderr (truncated, 0600); NULL: inherited */
	bool new_session;    /* setsid(): the child outlives vm and its terminal */
	const int *keep_fds; /* fds the child inherits even if marked close-on-exec */
	size_t n_keep_fds;
};

/* Starts argv without waiting for it (stdin from /dev/null). Fails when the
 * program cannot be run at all; *pid is the child's. */
int spawn_background(char *const argv[], const struct spawn_background_options *opts, pid_t *pid,
		     struct error *err);
struct spawn_start_options {
	char **envp;  /* NULL: vm's own environment */
	int pass_fd3; /* >= 0: this fd becomes the child's fd 3 (e.g. vm-netd's socket) */
};

/* Starts argv (argv[0] looked up in PATH) with stdin from /dev/null and
 * stdout and stderr inherited, and returns at once: the caller takes what
 * it needs from the child (vm-netd's reply), then reaps it with
 * spawn_reap. The child borrows vm's memory until it execs (vfork),
 * so no page tables are copied: this is the spawner for a short helper
 * started per request. Unlike spawn_run's, the child does not die with vm
 * (for a setuid or file-capability helper it would not anyway: the kernel
 * clears PR_SET_PDEATHSIG when exec changes the credentials). Fails only
 * when the program cannot be run at all ("cannot run PROGRAM: reason"). */
int spawn_start(char *const argv[], const struct spawn_start_options *opts, pid_t *pid,
		struct error *err);
/* Waits up to timeout_ms for the child spawn_start started to end (then
 * kills it: SIGKILL) and reaps it: its exit status, or 128 + the signal
 * that ended it. */
int spawn_reap(pid_t pid, int timeout_ms);
/* For a signal handler (async-signal-safe): kills the child spawn_run is
 * waiting for and reaps it, so that it writes nothing after the handler
 * has cleaned up. Every spawn_run child also dies with vm (SIGKILL). */
void spawn_stop_child(void);
/* A pidfd for the process pid (readable once it has ended, never confused
 * with a later process of the same pid); -1 with errno when there is none
 * (gone: ESRCH; kernels before 5.3: ENOSYS). */
int spawn_pidfd(pid_t pid);
/* Waits up to timeout_ms for the process pid (any, not only a child) to
 * end; true when it has. Uses a pidfd, so a reused pid is never mistaken. */
bool spawn_wait_exit(pid_t pid, int timeout_ms);

/* The last max_lines non-empty lines of what a child wrote (its stderr says
 * what went wrong in its last line), each trimmed, joined with "; ": the
 * one way a child's words enter a message. "" when it wrote nothing. */
char *spawn_last_lines(const char *text, size_t max_lines);

/* The path of the running program (vm itself, to run it again); NULL with
 * err set when the system cannot tell. The caller frees it. */
char *spawn_self_path(struct error *err);

/* True when PROGRAM can be found in PATH (or is an executable path). */
bool spawn_program_exists(const char *program);
