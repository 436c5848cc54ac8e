/* vm start: the emulator in the background, then wait until the guest is
 * ready: the monitor answers, a suspended state is woken, ssh logs in. */
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "config/words.h"
#include "emulator/bridge.h"
#include "emulator/console.h"
#include "emulator/machine.h"
#include "emulator/qemu.h"
#include "emulator/savedstate.h"
#include "guest/guest.h"
#include "log.h"
#include "sys/clock.h"
#include "sys/progress.h"
#include "sys/spawn.h"
#include "xalloc.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <unistd.h>

#define MONITOR_TIMEOUT_MS 60000
#define SSH_ATTEMPT_MS 2000
#define BANNER_POLL_MS 100
#define LOGIN_TIMEOUT_MS 30000
#define STDERR_LINES 3
#define CONSOLE_TAIL_LINES 5

static const char start_usage[] =
    "Usage: vm start [-n|--nat] [-c|--bridge] [-s|--ssh-attempts N] [-l|--loadvm NAME]\n"
    "                [-e|--encapsulate]\n"
    "\n"
    "Starts the emulator in the background and waits until the guest answers ssh.\n"
    "  -n, --nat              QEMU user networking, ssh forwarded to 127.0.0.1:22<ID>\n"
    "  -c, --bridge           let vm-netd create VM_NET_BRIDGE if the policy allows\n"
    "  -s, --ssh-attempts N   ssh tries, 2 s apart at most (default VM_SSH_ATTEMPTS)\n"
    "  -l, --loadvm NAME      start from the saved state NAME (a suspended one is woken)\n"
    "  -e, --encapsulate      run the emulator inside screen (for a curses display)\n"
    "  -v, --verbose          print each step and the full command line\n"
    "  -h, --help             show this help\n";

struct start {
	struct machine m;
	struct qemu_launch launch;
	struct netclient_tap tap; /* bridged: until the emulator has its copy */
	bool encapsulate;
	int attempts;
	pid_t child;  /* the emulator (or screen around it) */
	int child_fd; /* pidfd of child: readable once it has ended */
	struct progress *spinner;
};

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void catch_interrupts(void)
{
	struct sigaction sa = {.sa_handler = on_interrupt};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static bool child_ended(struct start *s)
{
	struct pollfd pfd = {s->child_fd, POLLIN, 0};
	return poll(&pfd, 1, 0) > 0;
}

/* Sleeps until timeout_ms pass or the emulator ends, whichever comes first;
 * an extra fd (e.g. inotify) may end the wait too. */
static void wait_for_change(struct start *s, int extra_fd, int timeout_ms)
{
	struct pollfd pfds[2] = {{s->child_fd, POLLIN, 0}, {extra_fd, POLLIN, 0}};
	poll(pfds, extra_fd >= 0 ? 2 : 1, timeout_ms);
	if (s->spinner)
		progress_tick(s->spinner);
}

static int emulator_died(struct start *s, struct error *err)
{
	int status = 0;
	waitpid(s->child, &status, 0);
	char *tail = machine_stderr_tail(&s->m, STDERR_LINES);
	if (WIFSIGNALED(status))
		error_set(err, "the emulator died (signal %d, %s)%s%s", WTERMSIG(status),
			  strsignal(WTERMSIG(status)),
			  tail[0] ? ": " : "; it wrote nothing to stderr", tail);
	else
		error_set(err, "the emulator exited at start (status %d)%s%s", WEXITSTATUS(status),
			  tail[0] ? ": " : "; it wrote nothing to stderr", tail);
	free(tail);
	return -1;
}

static int build_command(struct start *s, struct strv *cmdline, struct error *err)
{
	struct strv qemu = STRV_INIT;
	if (qemu_build_command(&s->launch, &qemu, err) < 0) {
		strv_free(&qemu);
		return -1;
	}
	if (qemu_uses_curses(strv_argv(&qemu))) {
		if (!s->encapsulate) {
			strv_free(&qemu);
			return error_set(err, "a curses display needs a terminal of its own: use "
					      "--encapsulate (runs it inside screen), or set "
					      "VM_QEMU_DISPLAY to another display");
		}
		if (s->launch.network == QEMU_NET_BRIDGE) {
			strv_free(&qemu);
			/* screen closes every fd above 2 in its child: the tap
			 * would never reach the emulator. */
			return error_set(err,
					 "--encapsulate cannot hand vm-netd's tap to the "
					 "emulator (screen closes it): use --nat with a curses "
					 "display, or another VM_QEMU_DISPLAY");
		}
		if (s->m.rt.sockets_via_fd) {
			strv_free(&qemu);
			return error_set(err,
					 "--encapsulate cannot reach the emulator's sockets: the "
					 "path of %s is too long for a unix socket, and screen "
					 "closes the fd they go through; use another display",
					 s->m.rt.dir);
		}
		strv_add(cmdline, "screen");
		strv_add(cmdline, "-D");
		strv_add(cmdline, "-m");
		strv_add(cmdline, "-S");
		strv_addf(cmdline, "vm-%s", machine_name(&s->m));
	}
	for (size_t i = 0; i < qemu.n; i++)
		strv_add(cmdline, qemu.v[i]);
	strv_free(&qemu);
	return 0;
}

static int launch_emulator(struct start *s, struct error *err)
{
	struct strv cmdline = STRV_INIT;
	if (bridge_attach(&s->m, &s->launch, &s->tap, err) < 0 ||
	    build_command(s, &cmdline, err) < 0 || cli_claim_machine(&s->m, &s->launch, err) < 0) {
		bridge_release(&s->tap);
		strv_free(&cmdline);
		return -1;
	}
	char *shown = words_join_quoted(strv_argv(&cmdline));
	log_progress("starting %s", shown);
	free(shown);
	int keep[2 + NETD_MAX_QUEUES];
	size_t n_keep = runtime_emulator_fds(&s->m.rt, keep);
	for (size_t i = 0; i < s->tap.nfds; i++)
		keep[n_keep++] = s->tap.fds[i];
	struct spawn_background_options opts = {.output = s->m.rt.stderr_log,
						.new_session = true,
						.keep_fds = keep,
						.n_keep_fds = n_keep};
	int rc = spawn_background(strv_argv(&cmdline), &opts, &s->child, err);
	bridge_release(&s->tap); /* the emulator holds the tap now */
	if (rc == 0)
		runtime_hand_over(&s->m.rt, s->child);
	if (rc < 0)
		error_prefix(err, "cannot start the emulator (install it, or set VM_QEMU)");
	strv_free(&cmdline);
	runtime_unlock(&s->m.rt); /* the emulator holds the lock from now on */
	if (rc < 0)
		return -1;
	s->child_fd = spawn_pidfd(s->child);
	if (s->child_fd < 0)
		return error_errno(err, "cannot watch the emulator");
	return 0;
}

/* Waits for the QMP socket to appear (inotify on the runtime directory)
 * and for the monitor's greeting. */
static int wait_monitor(struct start *s, struct qmp *q, struct error *err)
{
	int watch = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (watch >= 0)
		inotify_add_watch(watch, s->m.rt.dir, IN_CREATE | IN_MOVED_TO);
	long long deadline = clock_now_ms() + MONITOR_TIMEOUT_MS;
	int rc = -1;
	for (;;) {
		if (interrupted) {
			error_set(err, "interrupted");
			break;
		}
		if (child_ended(s)) {
			emulator_died(s, err);
			break;
		}
		if (access(s->m.rt.qmp_socket, F_OK) == 0 &&
		    qmp_connect(q, s->m.rt.qmp_socket, MONITOR_TIMEOUT_MS, err) == 0) {
			rc = 0;
			break;
		}
		if (child_ended(s)) {
			emulator_died(s, err);
			break;
		}
		if (clock_now_ms() > deadline) {
			error_prefix(err, "the monitor never came up within %d s",
				     MONITOR_TIMEOUT_MS / 1000);
			break;
		}
		char drain[4096];
		while (watch >= 0 && read(watch, drain, sizeof(drain)) > 0)
			;
		wait_for_change(s, watch, 100);
	}
	if (watch >= 0)
		close(watch);
	if (rc == 0)
		log_progress("the monitor answers");
	return rc;
}

/* A loaded state may need waking: see savedstate.h. A guest QEMU reports
 * as suspended is woken; one saved in QEMU 7.2's suspended run state (it
 * loads as "running", hung in its sleep path) is reset into its resume
 * path. A state saved while the guest ran is never touched. */
static int wake_loaded_state(struct start *s, struct qmp *q, struct error *err)
{
	char *status;
	if (qmp_query_status(q, &status, err) < 0)
		return -1;
	log_progress("state %s loaded, the guest is %s", s->launch.loadvm, status);
	char *disk = qemu_disk_image(&s->m.cfg, s->launch.base_only);
	enum savedstate_kind kind = savedstate_lookup(disk, s->launch.loadvm);
	int rc = 0;
	if (!strcmp(status, "suspended")) {
		log_progress("waking the suspended guest");
		rc = qmp_execute(q, "system_wakeup", NULL, NULL, err);
	} else if (kind == SAVEDSTATE_WAKING) {
		log_progress("the state was saved as the guest woke up: it resumes by itself");
	} else if (kind == SAVEDSTATE_SUSPENDED && !strcmp(status, "running")) {
		log_progress("the state was saved while the guest was suspended: resetting it "
			     "into its resume path");
		rc = qmp_execute(q, "system_reset", NULL, NULL, err);
	}
	free(disk);
	free(status);
	return rc;
}

/* One attempt: up to SSH_ATTEMPT_MS for an SSH banner, then a real login.
 * A connection the guest has accepted is given the rest of the attempt to
 * send its banner: closing it early would leave sshd a half-open client
 * (dropbear refuses a host more than a few of those). Refused connections
 * are retried every BANNER_POLL_MS. */
static bool ssh_attempt(struct start *s, const struct guest *g, struct error *err)
{
	long long end = clock_now_ms() + SSH_ATTEMPT_MS;
	for (;;) {
		if (interrupted || child_ended(s))
			return false;
		long long poll_start = clock_now_ms();
		long long left = end - poll_start;
		if (guest_ssh_banner(g, left > BANNER_POLL_MS ? (int)left : BANNER_POLL_MS))
			return guest_login(g, LOGIN_TIMEOUT_MS, err) == 0;
		long long now = clock_now_ms();
		if (now >= end) {
			error_set(err, "no SSH banner");
			return false;
		}
		long long pause = BANNER_POLL_MS - (now - poll_start);
		if (pause > 0)
			wait_for_change(s, -1, (int)pause);
	}
}

/* The guest never answered: what its console showed last is often why
 * (a kernel panic, a file system check, a login prompt on a dead network),
 * and vm console is the way in. */
static void ssh_never_answered(struct start *s, const char *address, const struct error *last,
			       struct error *err)
{
	char *log = console_log_read(&s->m.rt);
	char *tail = log ? spawn_last_lines(log, CONSOLE_TAIL_LINES) : NULL;
	if (tail && *tail)
		error_set(err,
			  "the guest did not answer ssh at %s after %d attempts (last: %s); the "
			  "emulator is still running. Last lines of the console: %s. 'vm console' "
			  "to look, 'vm kill' to stop it",
			  address, s->attempts, last->msg, tail);
	else
		error_set(err,
			  "the guest did not answer ssh at %s after %d attempts (last: %s); the "
			  "emulator is still running: 'vm console' or 'vm ssh' to look, 'vm kill' "
			  "to stop it",
			  address, s->attempts, last->msg);
	free(tail);
	free(log);
}

/* A guest asleep cannot answer: a state saved with a suspend request the
 * guest had yet to carry out (see suspend_request.h) sends it back to
 * sleep just after it is loaded. vm start wants it running: it is woken. */
static void wake_if_asleep(struct start *s)
{
	struct qmp q = {0};
	struct error why;
	char *status = NULL;
	if (qmp_connect(&q, s->m.rt.qmp_socket, MONITOR_TIMEOUT_MS, &why) == 0 &&
	    qmp_query_status(&q, &status, &why) == 0 && !strcmp(status, "suspended")) {
		log_warn("the guest went to sleep while vm waited for it to answer: waking it");
		if (qmp_execute(&q, "system_wakeup", NULL, NULL, &why) < 0)
			log_warn("cannot wake the guest (%s): 'vm cmd system_wakeup' tries again",
				 why.msg);
	}
	free(status);
	qmp_close(&q);
}

static int wait_ssh(struct start *s, struct error *err)
{
	struct guest g;
	if (guest_open(&g, &s->m.cfg, &s->m.rt, err) < 0)
		return -1;
	char *address = guest_address(&g);
	log_progress("waiting for ssh at %s (%d attempts)", address, s->attempts);
	int rc = -1;
	bool reported = false;
	struct error last = {"no attempt made"};
	for (int i = 1; i <= s->attempts; i++) {
		if (ssh_attempt(s, &g, &last)) {
			log_progress("the guest answers ssh (attempt %d)", i);
			rc = 0;
			break;
		}
		if (interrupted) {
			reported = error_set(err, "interrupted");
			break;
		}
		if (child_ended(s)) {
			reported = emulator_died(s, err);
			break;
		}
		log_debug("ssh attempt %d of %d: %s", i, s->attempts, last.msg);
		wake_if_asleep(s);
	}
	if (rc < 0 && !reported)
		ssh_never_answered(s, address, &last, err);
	free(address);
	guest_close(&g);
	return rc;
}

static int start_machine(struct start *s, struct error *err)
{
	if (launch_emulator(s, err) < 0)
		return -1;
	s->spinner = progress_spinner("starting the machine");
	struct qmp q;
	if (wait_monitor(s, &q, err) < 0)
		return -1;
	int rc = s->launch.loadvm ? wake_loaded_state(s, &q, err) : 0;
	qmp_close(&q);
	if (rc < 0)
		return error_prefix(err,
				    "cannot resume the loaded state %s (the emulator is still "
				    "running: 'vm kill' stops it)",
				    s->launch.loadvm);
	return wait_ssh(s, err);
}

static int parse_attempts(const char *text, int *attempts)
{
	char *end;
	long n = strtol(text, &end, 10);
	if (!*text || *end || n < 1 || n > 100000)
		return -1;
	*attempts = (int)n;
	return 0;
}

int cmd_start(int argc, char **argv)
{
	static const struct option longopts[] = {{"ssh-attempts", required_argument, NULL, 's'},
						 {"loadvm", required_argument, NULL, 'l'},
						 {"encapsulate", no_argument, NULL, 'e'},
						 {0}};
	struct start s = {
	    .launch = {.network = QEMU_NET_BRIDGE, .background = true, .report = &cli_report},
	    .tap = {.nfds = 0},
	    .child_fd = -1};
	struct cli_options o = {.command = "start",
				.usage = start_usage,
				.shortopts = "s:l:e",
				.longopts = longopts,
				.no_arguments = true,
				.network = &s.launch};
	const char *attempts = NULL;
	int c;
	while ((c = cli_next_option(&o, argc, argv)) >= 0) {
		if (c == 's')
			attempts = optarg;
		else if (c == 'l')
			s.launch.loadvm = optarg;
		else if (c == 'e')
			s.encapsulate = true;
	}
	if (c == CLI_EXIT)
		return o.status;
	if (cli_open_machine(&s.m, RUNTIME_MAKE) < 0)
		return 1;
	s.launch.cfg = &s.m.cfg;
	s.launch.rt = &s.m.rt;
	s.attempts = (int)config_int(&s.m.cfg, "VM_SSH_ATTEMPTS");
	if (attempts && parse_attempts(attempts, &s.attempts) < 0) {
		log_error("the number of ssh attempts must be a positive number, not '%s'",
			  attempts);
		machine_close(&s.m);
		return 1;
	}
	catch_interrupts();
	struct error err;
	int rc = start_machine(&s, &err);
	progress_finish(s.spinner);
	if (rc < 0 && interrupted && s.child > 0) {
		bool forced;
		struct error ignored;
		machine_quit(&s.m, NULL, 5000, &forced, &ignored);
		log_error("interrupted; the emulator was stopped");
	} else if (rc < 0) {
		log_error("%s", err.msg);
	} else {
		log_progress("%s is ready", machine_name(&s.m));
	}
	if (s.child_fd >= 0)
		close(s.child_fd);
	machine_close(&s.m);
	return rc < 0 ? 1 : 0;
}
