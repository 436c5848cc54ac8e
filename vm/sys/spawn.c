#include "sys/spawn.h"

#include "strbuf.h"
#include "sys/clock.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* Where the last max_lines non-blank lines of text begin. */
static const char *last_lines_start(const char *text, size_t max_lines)
{
	const char *p = text + strlen(text);
	size_t found = 0;
	bool blank = true; /* the line being scanned has no text yet */
	for (; p > text; p--) {
		if (p[-1] == '\n') {
			if (!blank && ++found == max_lines)
				return p;
			blank = true;
		} else if (!isspace((unsigned char)p[-1]))
			blank = false;
	}
	return text;
}

char *spawn_last_lines(const char *text, size_t max_lines)
{
	struct strbuf sb = STRBUF_INIT;
	for (const char *p = last_lines_start(text, max_lines); *p;) {
		size_t n = strcspn(p, "\n");
		const char *b = p, *e = p + n;
		while (b < e && isspace((unsigned char)*b))
			b++;
		while (e > b && isspace((unsigned char)e[-1]))
			e--;
		if (e > b) {
			if (sb.len)
				strbuf_adds(&sb, "; ");
			strbuf_add(&sb, b, (size_t)(e - b));
		}
		p += n + (p[n] == '\n');
	}
	return strbuf_take(&sb);
}

char *spawn_self_path(struct error *err)
{
	char buf[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	if (len < 0) {
		error_errno(err, "cannot find the vm program (/proc/self/exe)");
		return NULL;
	}
	return xstrndup(buf, (size_t)len);
}

bool spawn_program_exists(const char *program)
{
	if (strchr(program, '/'))
		return access(program, X_OK) == 0;
	const char *path = getenv("PATH");
	char *copy = xstrdup(path ? path : "/usr/local/bin:/usr/bin:/bin");
	bool found = false;
	for (char *save, *dir = strtok_r(copy, ":", &save); dir && !found;
	     dir = strtok_r(NULL, ":", &save)) {
		char *full = xasprintf("%s/%s", dir, program);
		found = access(full, X_OK) == 0;
		free(full);
	}
	free(copy);
	return found;
}

/* Groups, then gid, then uid: each step needs the privilege the next one
 * gives up. Checks that root cannot be regained. */
/* In a child: tells the parent through the report pipe why it could not
 * exec (the errno), and ends. */
static _Noreturn void report_and_exit(int report_fd)
{
	int code = errno;
	ssize_t ignored = write(report_fd, &code, sizeof(code));
	(void)ignored;
	_exit(127);
}

/* In a child: becomes argv, or reports why not. */
static _Noreturn void exec_or_report(char *const argv[], char **envp, int report_fd)
{
	execvpe(argv[0], argv, envp ? envp : environ);
	report_and_exit(report_fd);
}

static int become(const struct spawn_identity *id)
{
	if (initgroups(id->user, id->gid) < 0 || setgid(id->gid) < 0 || setuid(id->uid) < 0)
		return -1;
	if (getuid() != id->uid || geteuid() != id->uid || getgid() != id->gid ||
	    getegid() != id->gid || (id->uid != 0 && setuid(0) == 0)) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

/* Reaps the child pid, however many signals interrupt the wait (safe in a
 * signal handler); its wait status. */
static int reap(pid_t pid)
{
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

/* The child spawn_run waits for (0: none), for spawn_stop_child. */
static volatile pid_t running_child;

void spawn_stop_child(void)
{
	pid_t pid = running_child;
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	reap(pid);
	running_child = 0;
}

/* In the child: it must not outlive vm (a qemu-img orphaned by a killed vm
 * would go on writing a temporary file vm has removed, or hold a lock). Set
 * after the identity change, which clears it. */
static int die_with_parent(pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		return -1;
	if (getppid() != parent) /* it died before the setting took */
		_exit(127);
	return 0;
}

/* In the child: take the identity, wire up stdin/stdout/stderr and exec;
 * never returns. The error pipe tells the parent why exec failed. */
static void child_exec(char *const argv[], const struct spawn_options *opts, pid_t parent,
		       int in_fd, int out_fd, int err_fd, int report_fd)
{
	/* fd 3 is about to be taken: move the error pipe out of the way. */
	if (opts->pass_fd3 > 0 && report_fd == 3)
		report_fd = fcntl(report_fd, F_DUPFD_CLOEXEC, 4);
	if (opts->identity && become(opts->identity) < 0)
		goto fail;
	if (die_with_parent(parent) < 0)
		goto fail;
	if (opts->dir && chdir(opts->dir) < 0)
		goto fail;
	if (dup2(in_fd, STDIN_FILENO) < 0 || (out_fd >= 0 && dup2(out_fd, STDOUT_FILENO) < 0) ||
	    (err_fd >= 0 && dup2(err_fd, STDERR_FILENO) < 0))
		goto fail;
	if (opts->pass_fd3 > 0 &&
	    (opts->pass_fd3 == 3 ? fcntl(3, F_SETFD, 0) : dup2(opts->pass_fd3, 3)) < 0)
		goto fail;
	signal(SIGPIPE, SIG_DFL);
	exec_or_report(argv, opts->envp, report_fd);
fail:
	report_and_exit(report_fd);
}

static void read_available(int fd, struct strbuf *sink)
{
	if (fd < 0)
		return;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	char buf[4096];
	ssize_t r;
	while ((r = read(fd, buf, sizeof(buf))) > 0 || (r < 0 && errno == EINTR))
		if (r > 0)
			strbuf_add(sink, buf, (size_t)r);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Feeds input and collects output until the child has exited (pidfd
 * readable; without a pidfd: until it closed its ends), or the deadline
 * passes. Returns false on time-out. */
#define TICK_MS 200

static bool pump(int pidfd, int in_w, int out_r, int err_r, const struct spawn_options *opts,
		 struct strbuf *out, struct strbuf *errs, long long deadline)
{
	const char *input = opts->input;
	bool timed_out = false;
	size_t input_left = input ? strlen(input) : 0;
	if (in_w >= 0 && !input_left) {
		close(in_w);
		in_w = -1;
	}
	while (pidfd >= 0 || in_w >= 0 || out_r >= 0 || err_r >= 0) {
		struct pollfd fds[4] = {
		    {in_w, POLLOUT, 0}, {out_r, POLLIN, 0}, {err_r, POLLIN, 0}, {pidfd, POLLIN, 0}};
		int wait = -1;
		if (deadline) {
			long long left = deadline - clock_now_ms();
			if (left <= 0) {
				timed_out = true;
				break;
			}
			wait = (int)left;
		}
		bool ticking = opts->tick && (wait < 0 || wait > TICK_MS);
		int n = poll(fds, 4, ticking ? TICK_MS : wait);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 && ticking) {
			opts->tick(opts->tick_ctx);
			continue;
		}
		if (n == 0) {
			timed_out = true;
			break;
		}
		if (fds[3].revents) {
			/* Exited: what it wrote is in the pipes; anything it left
			 * running in the background may hold them open forever. */
			read_available(out_r, out);
			read_available(err_r, errs);
			close_fd(&in_w);
			close_fd(&out_r);
			close_fd(&err_r);
			break;
		}
		if (in_w >= 0 && fds[0].revents) {
			ssize_t w = write(in_w, input, input_left);
			if (w > 0) {
				input += w;
				input_left -= (size_t)w;
			}
			if (w <= 0 || !input_left) {
				close(in_w);
				in_w = -1;
			}
		}
		int *readers[2] = {&out_r, &err_r};
		struct strbuf *sinks[2] = {out, errs};
		for (int i = 0; i < 2; i++) {
			if (*readers[i] < 0 || !fds[i + 1].revents)
				continue;
			char buf[4096];
			ssize_t r = read(*readers[i], buf, sizeof(buf));
			if (r > 0)
				strbuf_add(sinks[i], buf, (size_t)r);
			else if (r == 0 || errno != EINTR) {
				close(*readers[i]);
				*readers[i] = -1;
			}
		}
	}
	close_fd(&in_w);
	close_fd(&out_r);
	close_fd(&err_r);
	return !timed_out;
}

/* Ends a child that ran over its time: SIGTERM and a grace period when
 * asked for (so that it can clean up), then SIGKILL. */
static void stop_child(pid_t pid, int pidfd, int grace_ms)
{
	if (grace_ms > 0 && pidfd >= 0) {
		kill(pid, SIGTERM);
		struct pollfd pfd = {pidfd, POLLIN, 0};
		long long deadline = clock_now_ms() + grace_ms;
		int left;
		while ((left = (int)(deadline - clock_now_ms())) > 0 && poll(&pfd, 1, left) <= 0)
			;
		if (pfd.revents)
			return;
	}
	kill(pid, SIGKILL);
}

/* The child's ends and ours; -1 where not used. */
struct spawn_pipes {
	int in[2], out[2], err[2], report[2];
	int devnull;
};

static void spawn_pipes_close(struct spawn_pipes *p)
{
	int *fds[] = {&p->in[0],  &p->in[1],	 &p->out[0],	&p->out[1], &p->err[0],
		      &p->err[1], &p->report[0], &p->report[1], &p->devnull};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		close_fd(fds[i]);
}

/* Opens what the child needs; on failure nothing is left open. */
static int spawn_pipes_open(struct spawn_pipes *p, const struct spawn_options *opts)
{
	*p = (struct spawn_pipes){{-1, -1}, {-1, -1}, {-1, -1}, {-1, -1}, -1};
	if ((opts->input ? pipe2(p->in, O_CLOEXEC)
			 : (p->devnull = open("/dev/null", O_RDONLY | O_CLOEXEC))) < 0 ||
	    (opts->capture_stdout && pipe2(p->out, O_CLOEXEC) < 0) ||
	    (opts->capture_stderr && pipe2(p->err, O_CLOEXEC) < 0) ||
	    pipe2(p->report, O_CLOEXEC) < 0) {
		int saved = errno;
		spawn_pipes_close(p);
		errno = saved;
		return -1;
	}
	return 0;
}

int spawn_run(char *const argv[], const struct spawn_options *opts, struct spawn_result *result,
	      struct error *err)
{
	static const struct spawn_options none = {0};
	if (!opts)
		opts = &none;
	*result = (struct spawn_result){0};
	struct spawn_pipes p;
	if (spawn_pipes_open(&p, opts) < 0)
		return error_errno(err, "cannot run %s", argv[0]);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		error_errno(err, "cannot run %s", argv[0]);
		spawn_pipes_close(&p);
		return -1;
	}
	if (pid == 0)
		child_exec(argv, opts, parent,
			   opts->input		? p.in[0]
			   : opts->stdin_fd > 0 ? opts->stdin_fd
						: p.devnull,
			   opts->stdout_fd > 2 ? opts->stdout_fd : p.out[1], p.err[1], p.report[1]);
	running_child = pid;
	int *childs_ends[] = {&p.in[0], &p.out[1], &p.err[1], &p.report[1], &p.devnull};
	for (size_t i = 0; i < sizeof(childs_ends) / sizeof(childs_ends[0]); i++)
		close_fd(childs_ends[i]);
	struct strbuf so = STRBUF_INIT, se = STRBUF_INIT;
	long long deadline = opts->timeout_ms ? clock_now_ms() + opts->timeout_ms : 0;
	int pidfd = spawn_pidfd(pid); /* -1 on old kernels: EOF only */
	void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);
	bool finished = pump(pidfd, p.in[1], p.out[0], p.err[0], opts, &so, &se, deadline);
	p.in[1] = p.out[0] = p.err[0] = -1; /* pump closed them */
	signal(SIGPIPE, old_pipe);
	if (!finished) {
		stop_child(pid, pidfd, opts->term_grace_ms);
		result->timed_out = true;
	}
	if (pidfd >= 0)
		close(pidfd);
	int status = reap(pid);
	running_child = 0;
	int exec_errno = 0;
	bool exec_failed = read(p.report[0], &exec_errno, sizeof(exec_errno)) == sizeof(exec_errno);
	close_fd(&p.report[0]);
	result->out = strbuf_take(&so);
	result->err = strbuf_take(&se);
	if (exec_failed) {
		spawn_result_free(result);
		errno = exec_errno;
		return error_errno(err, "cannot run %s", argv[0]);
	}
	result->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	return 0;
}

void spawn_result_free(struct spawn_result *result)
{
	free(result->out);
	free(result->err);
	result->out = result->err = NULL;
}

/* In the child of spawn_background: never returns. */
static void background_exec(char *const argv[], const struct spawn_background_options *opts,
			    int report_fd)
{
	if (opts->new_session)
		setsid();
	int in = open("/dev/null", O_RDONLY);
	if (in < 0 || dup2(in, STDIN_FILENO) < 0)
		goto fail;
	if (opts->output) {
		int out = open(opts->output, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600);
		if (out < 0 || dup2(out, STDOUT_FILENO) < 0 || dup2(out, STDERR_FILENO) < 0)
			goto fail;
	}
	for (size_t i = 0; i < opts->n_keep_fds; i++) {
		int flags = fcntl(opts->keep_fds[i], F_GETFD);
		if (flags < 0 || fcntl(opts->keep_fds[i], F_SETFD, flags & ~FD_CLOEXEC) < 0)
			goto fail;
	}
	signal(SIGPIPE, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	exec_or_report(argv, opts->envp, report_fd);
fail:
	report_and_exit(report_fd);
}

int spawn_background(char *const argv[], const struct spawn_background_options *opts, pid_t *pid,
		     struct error *err)
{
	int report[2];
	if (pipe2(report, O_CLOEXEC) < 0)
		return error_errno(err, "cannot run %s", argv[0]);
	pid_t child = fork();
	if (child < 0) {
		close(report[0]);
		close(report[1]);
		return error_errno(err, "cannot run %s", argv[0]);
	}
	if (child == 0)
		background_exec(argv, opts, report[1]);
	close(report[1]);
	int exec_errno = 0;
	ssize_t n;
	while ((n = read(report[0], &exec_errno, sizeof(exec_errno))) < 0 && errno == EINTR)
		;
	close(report[0]);
	if (n == sizeof(exec_errno)) {
		reap(child);
		errno = exec_errno;
		return error_errno(err, "cannot run %s", argv[0]);
	}
	*pid = child;
	return 0;
}

/* The child of spawn_start runs on vm's memory until it execs: where vm
 * catches a signal, the default is put back first, so that no handler of
 * vm's can run there (exec would reset them anyway). Only the standard
 * signals: vm catches no real-time one. */
static void default_caught_signals(void)
{
	struct sigaction dfl = {.sa_handler = SIG_DFL}, now;
	for (int sig = 1; sig < 32; sig++)
		if (sigaction(sig, NULL, &now) == 0 && now.sa_handler != SIG_DFL &&
		    now.sa_handler != SIG_IGN)
			sigaction(sig, &dfl, NULL);
}

/* In spawn_start's child, with every signal blocked: async-signal-safe calls
 * only, and it never returns. Why it could not exec goes to *exec_errno,
 * which vm reads once the child has gone. */
static _Noreturn void start_exec(char *const argv[], const struct spawn_start_options *opts,
				 const sigset_t *mask, volatile int *exec_errno)
{
	default_caught_signals();
	signal(SIGPIPE, SIG_DFL); /* vm ignores it; the child starts with the default */
	/* fd 3 first, in case it is 0; on itself, only close-on-exec goes. */
	int fd3 = opts->pass_fd3;
	if (fd3 >= 0 && (fd3 == 3 ? fcntl(3, F_SETFD, 0) : dup2(fd3, 3)) < 0)
		goto fail;
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null < 0 || dup2(null, STDIN_FILENO) < 0)
		goto fail;
	sigprocmask(SIG_SETMASK, mask, NULL);
	execvpe(argv[0], argv, opts->envp ? opts->envp : environ);
fail:
	*exec_errno = errno;
	_exit(127);
}

int spawn_start(char *const argv[], const struct spawn_start_options *opts, pid_t *pid,
		struct error *err)
{
	/* vfork, not posix_spawn: glibc's child asks after each of the 64
	 * signals, a tenth of a millisecond per request here. */
	volatile int exec_errno = 0;
	sigset_t all, mask;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &mask);
	pid_t child = vfork();
	if (child == 0)
		start_exec(argv, opts, &mask, &exec_errno);
	int vfork_errno = errno;
	sigprocmask(SIG_SETMASK, &mask, NULL);
	if (child < 0 || exec_errno) {
		if (child > 0)
			reap(child);
		errno = child < 0 ? vfork_errno : exec_errno;
		return error_errno(err, "cannot run %s", argv[0]);
	}
	*pid = child;
	running_child = child;
	return 0;
}

int spawn_pidfd(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* Waits up to timeout_ms for the process pid to end, without reaping it.
 * True when it has ended; -1 with ENOSYS when the kernel has no pidfds. */
static int wait_end(pid_t pid, int timeout_ms)
{
	int fd = spawn_pidfd(pid);
	if (fd < 0)
		return errno == ESRCH ? 1 : -1;
	long long deadline = clock_now_ms() + timeout_ms;
	int ended = 0;
	for (;;) {
		long long left = deadline - clock_now_ms();
		struct pollfd pfd = {fd, POLLIN, 0};
		int r = poll(&pfd, 1, left > 0 ? (int)left : 0);
		if (r > 0) {
			ended = 1;
			break;
		}
		if ((r < 0 && errno != EINTR) || left <= 0)
			break;
	}
	close(fd);
	return ended;
}

bool spawn_wait_exit(pid_t pid, int timeout_ms)
{
	if (wait_end(pid, timeout_ms) <= 0)
		return false;
	waitpid(pid, NULL, WNOHANG); /* reaps it when it is our own child */
	return true;
}

int spawn_reap(pid_t pid, int timeout_ms)
{
	/* Without pidfds (kernels before 5.3), no time limit. */
	if (wait_end(pid, timeout_ms) == 0)
		kill(pid, SIGKILL);
	int status = reap(pid);
	if (running_child == pid)
		running_child = 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
