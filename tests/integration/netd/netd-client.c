/* The root tests' client: speaks to vm-netd as an unprivileged user would,
 * through vm's own netclient code, or raw, to send what vm never would.
 *
 *   netd-client tap BRIDGE ID [-c] [-n COUNT] [-q QUEUES] [--hold]
 *                   [--persist-owner UID] [--carrier-off]
 *                   [--mac MAC]     what a holder of the tap fd may do with it:
 *                                   make it persistent and give it to UID, make
 *                                   it persistent and turn its carrier off (as
 *                                   if no one held it), set its MAC (each
 *                                   before --hold, or close)
 *   netd-client query
 *   netd-client raw KIND [HEXNAME|N] KIND: valid name truncated oversized version
 *                                     type double none flags fdpass v1
 *                                     queues N (the queues field as N, any
 *                                     32-bit value) queues-trailing N
 *                                     queues-fds N (N fds ride along)
 *                                     (raw and fd3 start the helper with this
 *                                     program's environment, as it is)
 *   netd-client fd3 KIND             KIND: notsock stream closed close012
 *   netd-client status BRIDGE ID [QUEUES]
 *                                     /proc/<helper>/status during the request
 *   netd-client plant FILE [--no-close-range] BRIDGE ID
 *                                     starts the helper with FILE open at fd 5
 *                                     and at fd HIGH (70000, or below the hard
 *                                     RLIMIT_NOFILE), not close-on-exec, says
 *                                     "helper PID planted 5 HIGH", and asks
 *                                     once stdin closes; with --no-close-range
 *                                     the helper gets ENOSYS from close_range,
 *                                     as on kernels before 5.9
 *   netd-client prlimit BRIDGE ID    lowers the helper's RLIMIT_FSIZE to 0 once
 *                                     it runs as the caller, then asks
 *   netd-client stopcont BRIDGE ID   asks, then stops and continues the helper
 *   netd-client swap BRIDGE ID [QUEUES]
 *                                     queues a query (a tap of 1 queue), then,
 *                                     once the helper has dropped, swaps it
 *                                     for a tap request (of QUEUES queues)
 *   netd-client stall BRIDGE ID      asks, keeping a copy of the helper's end
 *                                     and filling it so that the reply cannot
 *                                     go; holds until stdin closes
 *   netd-client hold-enslaved BRIDGE ID
 *                                     asks for a tap on BRIDGE, to be created,
 *                                     and steps the helper until the tap
 *                                     vm<ID>t0 is enslaved: says "held after
 *                                     enslave" with the helper stopped there
 *                                     (its record not written yet, unless it
 *                                     was just then), or "missed" when it
 *                                     ended first; continues it once stdin
 *                                     closes
 *   netd-client under-filter ERRNO COMMAND...
 *                                     runs COMMAND under a seccomp filter that
 *                                     refuses seccomp() and PR_SET_SECCOMP with
 *                                     ERRNO (a container's); as root, without
 *                                     no_new_privs
 *   netd-client syslog-sink SOCKET FILE
 *   netd-client syslog-send SOCKET MESSAGE
 *
 *   vm-netd-v1 (this program under that name, as VM_NETD): answers as
 *                                     vm-netd of protocol version 1 did
 *
 * Every answer is printed as "result: STATUS [TAP] message"; with the
 * tap's fds, "fd: NAME" (the first) and "fds: N NAME... mq=on|off". */
#include "fdpass.h"
#include "net/netclient.h"
#include "protocol.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if_tun.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* What TUNGETIFF says of each fd: the tap's name, and whether all are
 * queues of a multi-queue tap. */
static void print_queues(const int *fds, size_t nfds)
{
	bool multi_queue = nfds > 0;
	printf("fds: %zu", nfds);
	for (size_t i = 0; i < nfds; i++) {
		struct ifreq ifr;
		memset(&ifr, 0, sizeof(ifr));
		if (ioctl(fds[i], TUNGETIFF, &ifr) < 0)
			snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "not-a-tap");
		multi_queue = multi_queue && (ifr.ifr_flags & IFF_MULTI_QUEUE);
		printf(" %s", ifr.ifr_name);
	}
	printf(" mq=%s\n", multi_queue ? "on" : "off");
}

static void print_reply(const struct netd_reply *reply, const int *fds, size_t nfds)
{
	printf("result: %s %s %s\n", netd_status_name(reply->status),
	       reply->tap[0] ? reply->tap : "-", reply->message);
	if (nfds) {
		struct ifreq ifr;
		memset(&ifr, 0, sizeof(ifr));
		if (ioctl(fds[0], TUNGETIFF, &ifr) == 0)
			printf("fd: %s\n", ifr.ifr_name);
		print_queues(fds, nfds);
	}
	fflush(stdout);
}

static void wait_for_eof(void)
{
	printf("holding\n");
	fflush(stdout);
	char buf[64];
	while (read(0, buf, sizeof(buf)) > 0)
		;
}

/* What vm never does with a tap, and the kernel lets its holder do. */
static void abuse_tap(int fd, long persist_owner, bool carrier_off, const char *mac)
{
	if (carrier_off) {
		unsigned off = 0;
		int ok = ioctl(fd, TUNSETPERSIST, 1L) == 0 && ioctl(fd, TUNSETCARRIER, &off) == 0;
		printf("abused: persistent, carrier off: %s\n", ok ? "done" : strerror(errno));
	}
	if (persist_owner >= 0) {
		int ok = ioctl(fd, TUNSETPERSIST, 1L) == 0 &&
			 ioctl(fd, TUNSETOWNER, (unsigned long)persist_owner) == 0;
		printf("abused: persistent, owner %ld: %s\n", persist_owner,
		       ok ? "done" : strerror(errno));
	}
	if (mac) {
		struct ifreq ifr;
		memset(&ifr, 0, sizeof(ifr));
		unsigned char *b = (unsigned char *)ifr.ifr_hwaddr.sa_data;
		ifr.ifr_hwaddr.sa_family = 1; /* ARPHRD_ETHER */
		sscanf(mac, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &b[0], &b[1], &b[2], &b[3], &b[4],
		       &b[5]);
		printf("abused: mac %s: %s\n", mac,
		       ioctl(fd, SIOCSIFHWADDR, &ifr) == 0 ? "done" : strerror(errno));
	}
}

static int cmd_tap(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	const char *bridge = argv[1];
	unsigned id = (unsigned)atoi(argv[2]);
	bool create = false, hold = false, carrier_off = false;
	int count = 1;
	unsigned queues = 1;
	long persist_owner = -1;
	const char *mac = NULL;
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "-c"))
			create = true;
		else if (!strcmp(argv[i], "--hold"))
			hold = true;
		else if (!strcmp(argv[i], "-n") && i + 1 < argc)
			count = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-q") && i + 1 < argc)
			queues = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--persist-owner") && i + 1 < argc)
			persist_owner = atol(argv[++i]);
		else if (!strcmp(argv[i], "--carrier-off"))
			carrier_off = true;
		else if (!strcmp(argv[i], "--mac") && i + 1 < argc)
			mac = argv[++i];
	}
	for (int i = 0; i < count; i++) {
		struct netclient_tap tap;
		struct error err;
		if (netclient_open_tap(bridge, id, create, queues, &tap, &err) < 0) {
			printf("denied: %s\n", err.msg);
		} else {
			struct ifreq ifr;
			memset(&ifr, 0, sizeof(ifr));
			ioctl(tap.fds[0], TUNGETIFF, &ifr);
			printf("granted %s fd-name=%s\n", tap.name, ifr.ifr_name);
			if (queues > 1)
				print_queues(tap.fds, tap.nfds);
			abuse_tap(tap.fds[0], persist_owner, carrier_off, mac);
			if (persist_owner >= 0 && !hold)
				netclient_close_tap(&tap); /* and leave it persistent behind */
		}
		fflush(stdout);
	}
	if (hold)
		wait_for_eof();
	return 0;
}

static int cmd_query(void)
{
	struct netd_reply reply;
	struct error err;
	if (netclient_query(&reply, &err) < 0) {
		printf("denied: %s\n", err.msg);
		return 0;
	}
	for (uint32_t i = 0; i < reply.ngrants; i++)
		printf("grant %s %u %u %u\n", reply.grants[i].bridge, reply.grants[i].quota,
		       reply.grants[i].used, reply.grants[i].flags);
	return 0;
}

/* Starts the helper with sock as fd 3 (or whatever setup_fd3 makes of it). */
static pid_t start_helper(int sock, bool close_std)
{
	const char *helper = netclient_helper_path();
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	if (sock != 3) {
		if (sock >= 0)
			dup2(sock, 3);
		else
			close(3);
	} else {
		fcntl(3, F_SETFD, 0);
	}
	if (close_std) {
		close(0);
		close(1);
		close(2);
	}
	execl(helper, helper, (char *)NULL);
	_exit(127);
}

static int finish(pid_t pid, int sock)
{
	int status;
	waitpid(pid, &status, 0);
	struct netd_reply reply;
	char raw[sizeof(reply) + 1];
	int fds[FDPASS_MAX_FDS], msg_flags;
	size_t nfds = 0;
	ssize_t n = sock >= 0
			? fdpass_recv(sock, raw, sizeof(raw), fds, &nfds, MSG_DONTWAIT, &msg_flags)
			: -1;
	printf("exit: %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	if (n < 0) {
		printf("result: no-reply\n");
		return 0;
	}
	struct error err;
	if (netd_reply_decode(raw, (size_t)n, &reply, &err) < 0)
		printf("result: bad-reply %s\n", err.msg);
	else
		print_reply(&reply, fds, nfds);
	return 0;
}

static int exchange_raw(const void *buf, size_t len, const int *pass_fds, size_t npass)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return 1;
	if ((len || npass) && fdpass_send(sv[0], buf, len, pass_fds, npass, 0) < 0)
		perror("sendmsg");
	pid_t pid = start_helper(sv[1], false);
	close(sv[1]);
	return finish(pid, sv[0]);
}

static size_t hex_decode(const char *hex, char *out, size_t size)
{
	size_t n = 0;
	for (; hex[0] && hex[1] && n < size; hex += 2) {
		char byte[3] = {hex[0], hex[1], 0};
		out[n++] = (char)strtoul(byte, NULL, 16);
	}
	return n;
}

static int cmd_raw(int argc, char **argv)
{
	struct netd_request req;
	struct error err;
	unsigned char buf[256];
	const char *kind = argv[1];
	netd_request_init(&req, NETD_OP_TAP, 42, "br0", 0, 1, &err);
	memset(buf, 0, sizeof(buf));
	memcpy(buf, &req, sizeof(req));
	size_t len = sizeof(req);
	size_t off = offsetof(struct netd_request, bridge);
	if (!strcmp(kind, "name") && argc > 2) {
		/* The name's bytes in the bridge field, a NUL after them: a name of
		 * 16 bytes or more makes the message longer than a request. */
		memset(buf + off, 0, sizeof(buf) - off);
		size_t n = hex_decode(argv[2], (char *)buf + off, sizeof(buf) - off - 1);
		len = off + n + 1 > sizeof(req) ? off + n + 1 : sizeof(req);
		if (n == NETD_NAME_SIZE)
			len = sizeof(req); /* exactly full: no room for the NUL */
		if (n < NETD_NAME_SIZE)	   /* the name leaves the queues field alone */
			((struct netd_request *)buf)->queues = 1;
	} else if (!strcmp(kind, "truncated")) {
		len = sizeof(req) - 4;
	} else if (!strcmp(kind, "oversized")) {
		len = sizeof(req) + 64;
	} else if (!strcmp(kind, "version")) {
		((struct netd_request *)buf)->version = NETD_VERSION + 1;
	} else if (!strcmp(kind, "type")) {
		((struct netd_request *)buf)->op = 77;
	} else if (!strcmp(kind, "flags")) {
		((struct netd_request *)buf)->flags = 0x80;
	} else if (!strcmp(kind, "double")) {
		memcpy(buf + sizeof(req), &req, sizeof(req));
		len = 2 * sizeof(req);
	} else if (!strcmp(kind, "valid")) {
		/* as it is: a request for br0, machine 42 */
	} else if (!strcmp(kind, "none")) {
		len = 0;
	} else if (!strcmp(kind, "fdpass")) {
		int fd = open("/dev/null", O_RDONLY);
		return exchange_raw(buf, len, &fd, 1);
	} else if (!strcmp(kind, "v1")) {
		/* What vm of protocol version 1 sent: no queues field. */
		((struct netd_request *)buf)->version = 1;
		len = offsetof(struct netd_request, queues);
	} else if (!strncmp(kind, "queues", 6) && argc > 2) {
		/* Any 32-bit value: "-1" is 0xffffffff. */
		unsigned queues = (unsigned)strtoll(argv[2], NULL, 0);
		((struct netd_request *)buf)->queues = queues;
		if (!strcmp(kind, "queues-trailing")) {
			memset(buf + len, 'x', 16);
			len += 16;
		} else if (!strcmp(kind, "queues-fds")) {
			int fds[FDPASS_MAX_FDS];
			size_t n = queues < FDPASS_MAX_FDS ? queues : FDPASS_MAX_FDS;
			for (size_t i = 0; i < n; i++)
				fds[i] = open("/dev/null", O_RDONLY);
			return exchange_raw(buf, len, fds, n);
		} else if (strcmp(kind, "queues")) {
			return 2;
		}
	} else {
		return 2;
	}
	return exchange_raw(buf, len, NULL, 0);
}

/* vm-netd as protocol version 1 answered any request of version 2 (36
 * bytes, larger than its 32): refused, in its own version. The reply's
 * layout was the same. */
static int old_helper(void)
{
	unsigned char buf[64];
	if (recv(3, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC) < 0)
		return 1;
	struct netd_reply reply;
	netd_reply_init(&reply, NETD_OP_TAP);
	reply.version = 1;
	reply.status = NETD_BAD_REQUEST;
	reply.error = EMSGSIZE;
	netd_field_set(reply.message, sizeof(reply.message), "request larger than 32 bytes");
	return send(3, &reply, sizeof(reply), MSG_NOSIGNAL) == sizeof(reply) ? 1 : 2;
}

static int cmd_fd3(const char *kind)
{
	struct netd_request req;
	struct error err;
	int sv[2] = {-1, -1};
	netd_request_init(&req, NETD_OP_TAP, 42, "br0", 0, 1, &err);
	if (!strcmp(kind, "notsock")) {
		sv[1] = open("/dev/null", O_RDWR | O_CLOEXEC);
	} else if (!strcmp(kind, "stream")) {
		socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
		send(sv[0], &req, sizeof(req), 0);
	} else if (!strcmp(kind, "close012")) {
		socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv);
		send(sv[0], &req, sizeof(req), 0);
		pid_t pid = start_helper(sv[1], true);
		close(sv[1]);
		return finish(pid, sv[0]);
	} else if (strcmp(kind, "closed")) {
		return 2;
	}
	pid_t pid = start_helper(sv[1], false);
	if (sv[1] >= 0)
		close(sv[1]);
	return finish(pid, sv[0]);
}

/* The helper's /proc status as text ("" and false when there is none). */
static bool read_status(pid_t pid, char *text, size_t size)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, text, size - 1) : -1;
	if (fd >= 0)
		close(fd);
	text[n > 0 ? n : 0] = '\0';
	return n > 0;
}

/* Waits until the helper sits in its sandbox (running as the caller); the
 * text of its /proc status is left in text. */
static bool wait_for_sandbox(pid_t pid, char *text, size_t size)
{
	for (int tries = 0; tries < 4000; tries++) {
		if (read_status(pid, text, size) && strstr(text, "Seccomp:\t2"))
			return true;
		usleep(1000);
	}
	return false;
}

static int request_socket(int argc, char **argv, unsigned flags, int sv[2],
			  struct netd_request *req)
{
	struct error err;
	if (argc < 3 || netd_request_init(req, NETD_OP_TAP, (unsigned)atoi(argv[2]), argv[1], flags,
					  argc > 3 ? (unsigned)atoi(argv[3]) : 1, &err) < 0)
		return -1;
	return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv);
}

/* Starts the helper with the request held back, and waits for its sandbox. */
static pid_t start_sandboxed(int argc, char **argv, int sv[2], struct netd_request *req, char *text,
			     size_t size)
{
	if (request_socket(argc, argv, 0, sv, req) < 0)
		return -1;
	pid_t pid = start_helper(sv[1], false);
	close(sv[1]);
	if (!wait_for_sandbox(pid, text, size))
		printf("status: the helper never reached its sandbox\n");
	return pid;
}

static int cmd_prlimit(int argc, char **argv)
{
	struct netd_request req;
	int sv[2];
	char text[4096];
	pid_t pid = start_sandboxed(argc, argv, sv, &req, text, sizeof(text));
	if (pid < 0)
		return 2;
	struct rlimit zero = {0, 0};
	printf("prlimit: %s\n",
	       prlimit(pid, RLIMIT_FSIZE, &zero, NULL) == 0 ? "done" : strerror(errno));
	send(sv[0], &req, sizeof(req), 0);
	return finish(pid, sv[0]);
}

static int cmd_stopcont(int argc, char **argv)
{
	struct netd_request req;
	int sv[2];
	if (request_socket(argc, argv, 0, sv, &req) < 0)
		return 2;
	send(sv[0], &req, sizeof(req), 0);
	pid_t pid = start_helper(sv[1], false);
	close(sv[1]);
	usleep(100000);
	kill(pid, SIGSTOP);
	usleep(100000);
	kill(pid, SIGCONT);
	return finish(pid, sv[0]);
}

/* The helper's reply goes into sv[0], whose queue this fills through a kept
 * copy of the helper's own end. */
static int cmd_stall(int argc, char **argv)
{
	struct netd_request req;
	int sv[2];
	if (request_socket(argc, argv, 0, sv, &req) < 0)
		return 2;
	char junk[512] = {0};
	while (send(sv[1], junk, sizeof(junk), MSG_DONTWAIT) > 0)
		;
	send(sv[0], &req, sizeof(req), 0);
	pid_t pid = start_helper(sv[1], false);
	printf("stalling %d\n", (int)pid);
	fflush(stdout);
	wait_for_eof();
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return 0;
}

/* The helper's uid line from /proc, "Uid:\t<real>\t<effective>..."; false
 * once it has ended. */
static bool helper_uids(pid_t pid, char *line, size_t size)
{
	char text[4096];
	if (!read_status(pid, text, sizeof(text)))
		return false;
	char *uid = strstr(text, "Uid:");
	if (!uid || strstr(text, "State:\tZ"))
		return false;
	snprintf(line, size, "%.*s", (int)strcspn(uid, "\n"), uid);
	return true;
}

/* Runs the helper in short steps, stopping it after each, until there()
 * says it is where the caller wants it: true with the helper stopped
 * there; false when it ended first (reaped). Stepping, not watching, so
 * that the window is caught on one CPU too: the caller may stop its own
 * helper (it is its real uid). */
static bool step_helper(pid_t pid, bool (*there)(pid_t pid, void *arg), void *arg)
{
	for (;;) {
		int status;
		kill(pid, SIGSTOP);
		if (waitpid(pid, &status, WUNTRACED) != pid || !WIFSTOPPED(status))
			return false;
		if (there(pid, arg))
			return true;
		kill(pid, SIGCONT);
		usleep(20);
	}
}

struct drop_watch {
	char caller[128]; /* the Uid line once dropped to the caller */
	bool was_root, gone;
};

/* Run as root (exec done) and then dropped to the caller's uids; or gone. */
static bool dropped(pid_t pid, void *arg)
{
	struct drop_watch *w = arg;
	char line[128];
	if (!helper_uids(pid, line, sizeof(line)))
		return w->gone = true;
	unsigned real, effective;
	if (sscanf(line, "Uid: %u %u", &real, &effective) == 2 && effective == 0)
		w->was_root = true;
	else if (w->was_root && !strcmp(line, w->caller))
		return true;
	return false;
}

/* Stopped once the helper has dropped: by then it has peeked at its
 * request, and is on its way to reading it. False when it ended first. */
static bool stop_after_drop(pid_t pid)
{
	struct drop_watch w = {.was_root = false, .gone = false};
	unsigned uid = (unsigned)getuid();
	snprintf(w.caller, sizeof(w.caller), "Uid:\t%u\t%u\t%u\t%u", uid, uid, uid, uid);
	return step_helper(pid, dropped, &w) && !w.gone;
}

/* Queues a query (with QUEUES, a tap request of 1 queue), and keeps a copy
 * of the helper's own end: once the helper has dropped (its peek saw the
 * first request), takes that request back out of its queue and sends a tap
 * request for BRIDGE ID (of QUEUES queues) in its place. The helper may have
 * read the first by then: up to 200 tries, until one is in time. */
static int cmd_swap(int argc, char **argv)
{
	struct netd_request first, tap;
	struct error err;
	unsigned queues = argc > 3 ? (unsigned)atoi(argv[3]) : 0;
	unsigned machine = argc > 2 ? (unsigned)atoi(argv[2]) : 0;
	if (argc < 3 ||
	    netd_request_init(&first, queues ? NETD_OP_TAP : NETD_OP_QUERY, queues ? machine : 0,
			      argv[1], 0, 1, &err) < 0 ||
	    netd_request_init(&tap, NETD_OP_TAP, machine, argv[1], 0, queues ? queues : 1, &err) <
		0)
		return 2;
	for (int tries = 1; tries <= 200; tries++) {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
			return 2;
		send(sv[0], &first, sizeof(first), 0);
		pid_t pid = start_helper(sv[1], false);
		struct netd_request taken;
		bool stopped = stop_after_drop(pid);
		bool won =
		    stopped && recv(sv[1], &taken, sizeof(taken), MSG_DONTWAIT) == sizeof(taken);
		close(sv[1]);
		if (won)
			send(sv[0], &tap, sizeof(tap), 0);
		if (stopped)
			kill(pid, SIGCONT);
		if (won) {
			printf("swapped on try %d\n", tries);
			int rc = finish(pid, sv[0]);
			close(sv[0]);
			return rc;
		}
		if (stopped)
			waitpid(pid, NULL, 0);
		close(sv[0]);
	}
	printf("swapped on no try\n");
	return 0;
}

/* Whether the tap has a master, as the namespace's sysfs says. */
static bool enslaved(const char *tap)
{
	char path[64], target[64];
	snprintf(path, sizeof(path), "/sys/class/net/%s/master", tap);
	return readlink(path, target, sizeof(target)) > 0;
}

/* Its tap is enslaved, so the helper is between act and reply. */
static bool tap_enslaved(pid_t pid, void *tap)
{
	(void)pid;
	return enslaved(tap);
}

/* Stopped once its tap is enslaved and its reply not sent. */
static bool stop_after_enslave(pid_t pid, int sock, const char *tap)
{
	char peek;
	return step_helper(pid, tap_enslaved, (void *)tap) &&
	       recv(sock, &peek, 1, MSG_PEEK | MSG_DONTWAIT) < 0;
}

static int cmd_hold_enslaved(int argc, char **argv)
{
	struct netd_request req;
	int sv[2];
	char tap[IFNAMSIZ];
	if (request_socket(argc, argv, NETD_FLAG_CREATE_BRIDGE, sv, &req) < 0)
		return 2;
	snprintf(tap, sizeof(tap), "vm%02dt0", atoi(argv[2]));
	send(sv[0], &req, sizeof(req), 0);
	pid_t pid = start_helper(sv[1], false);
	close(sv[1]);
	if (!stop_after_enslave(pid, sv[0], tap)) {
		printf("missed\n"); /* ended (reaped); its tap goes with sv[0] */
		return 0;
	}
	printf("held after enslave\n");
	fflush(stdout);
	wait_for_eof();
	kill(pid, SIGCONT);
	return finish(pid, sv[0]);
}

/* Holds the request back until the helper sits in its sandbox waiting for
 * it, then shows the helper's credentials as the kernel sees them. */
static int cmd_status(int argc, char **argv)
{
	struct netd_request req;
	int sv[2];
	char text[4096];
	pid_t pid = start_sandboxed(argc, argv, sv, &req, text, sizeof(text));
	if (pid < 0)
		return 2;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		if (!strncmp(line, "Uid:", 4) || !strncmp(line, "Gid:", 4) ||
		    !strncmp(line, "Groups:", 7) || !strncmp(line, "Cap", 3) ||
		    !strncmp(line, "NoNewPrivs:", 11) || !strncmp(line, "Seccomp:", 8))
			printf("status %s\n", line);
	send(sv[0], &req, sizeof(req), 0);
	return finish(pid, sv[0]);
}

static int install_filter(struct sock_filter *code, unsigned short len)
{
	struct sock_fprog prog = {len, code};
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0 ? -1 : 0;
}

/* close_range fails with ENOSYS from here on, in the helper too: the kernel
 * keeps the filter across exec. Installing it takes no_new_privs, so the
 * kernel then ignores the helper's setuid bit; the helper's first step,
 * which must close what it inherits, runs all the same. */
static int refuse_close_range(void)
{
	struct sock_filter code[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_close_range, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		       install_filter(code, sizeof(code) / sizeof(code[0])) < 0
		   ? -1
		   : 0;
}

/* Runs COMMAND under a filter that refuses seccomp() and
 * prctl(PR_SET_SECCOMP) with ERRNO, as a container's may. Root installs it
 * without no_new_privs (CAP_SYS_ADMIN allows that), so the helper's setuid
 * bit still counts below it. */
static int cmd_under_filter(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	unsigned error = (unsigned)atoi(argv[1]) & SECCOMP_RET_DATA;
	struct sock_filter code[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_seccomp, 3, 0),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_prctl, 0, 3),
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PR_SET_SECCOMP, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | error),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	if (install_filter(code, sizeof(code) / sizeof(code[0])) < 0) {
		perror("netd-client: under-filter");
		return 2;
	}
	execvp(argv[2], argv + 2);
	perror(argv[2]);
	return 127;
}

/* FILE at fd 5 and as high as the hard RLIMIT_NOFILE lets (up to 70000,
 * above 65535, where a loop over fd numbers might stop), both left open
 * across exec for the helper to close; the high one's number in *high. */
static int plant_fds(const char *file, int *high)
{
	struct rlimit limit;
	int fd = open(file, O_RDONLY);
	if (fd < 0 || getrlimit(RLIMIT_NOFILE, &limit) < 0)
		return -1;
	limit.rlim_cur = limit.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &limit) < 0)
		return -1;
	*high = limit.rlim_cur > 70000 ? 70000 : (int)limit.rlim_cur - 1;
	if (dup2(fd, 5) < 0 || dup2(fd, *high) < 0)
		return -1;
	close(fd);
	return 0;
}

static int cmd_plant(int argc, char **argv)
{
	bool no_close_range = argc > 2 && !strcmp(argv[2], "--no-close-range");
	struct netd_request req;
	int sv[2], high;
	if (argc < 2 || plant_fds(argv[1], &high) < 0 ||
	    (no_close_range && refuse_close_range() < 0) ||
	    request_socket(argc - 1 - no_close_range, argv + 1 + no_close_range, 0, sv, &req) < 0)
		return 2;
	pid_t pid = start_helper(sv[1], false);
	close(sv[1]);
	close(5);
	close(high);
	printf("helper %d planted 5 %d\n", (int)pid, high);
	fflush(stdout);
	wait_for_eof();
	send(sv[0], &req, sizeof(req), 0);
	return finish(pid, sv[0]);
}

static int cmd_syslog_sink(const char *socket_path, const char *file)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", socket_path);
	unlink(socket_path);
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		perror(socket_path);
		return 1;
	}
	chmod(socket_path, 0666);
	int out = open(file, O_WRONLY | O_APPEND | O_CREAT, 0644);
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		char buf[4096];
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n <= 0)
			continue;
		buf[n++] = '\n';
		if (write(out, buf, (size_t)n) < 0)
			return 1;
	}
}

/* A syslog daemon that is behind: bound at SOCKET, its queue filled to
 * what the kernel allows, it reads nothing for MS milliseconds (-1: ever),
 * then keeps every message but its own fillers in FILE, until killed. */
static int cmd_syslog_busy(const char *socket_path, const char *file, int ms)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", socket_path);
	unlink(socket_path);
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0), filler = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (fd < 0 || filler < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		perror(socket_path);
		return 1;
	}
	chmod(socket_path, 0666);
	int queued = 0;
	while (sendto(filler, "filler", 6, MSG_DONTWAIT, (struct sockaddr *)&addr, sizeof(addr)) ==
	       6)
		queued++;
	printf("full after %d\n", queued);
	fflush(stdout);
	if (ms < 0)
		for (;;)
			pause();
	usleep((useconds_t)ms * 1000);
	int out = open(file, O_WRONLY | O_APPEND | O_CREAT, 0644);
	for (;;) {
		char buf[4096];
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n <= 0 || (n == 6 && !memcmp(buf, "filler", 6)))
			continue;
		buf[n++] = '\n';
		if (write(out, buf, (size_t)n) < 0)
			return 1;
	}
}

static int cmd_syslog_send(const char *socket_path, const char *message)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", socket_path);
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	return sendto(fd, message, strlen(message), 0, (struct sockaddr *)&addr, sizeof(addr)) < 0;
}

int main(int argc, char **argv)
{
	const char *slash = strrchr(argv[0], '/');
	if (!strcmp(slash ? slash + 1 : argv[0], "vm-netd-v1"))
		return old_helper();
	if (argc < 2)
		return 2;
	const char *mode = argv[1];
	if (!strcmp(mode, "tap"))
		return cmd_tap(argc - 1, argv + 1);
	if (!strcmp(mode, "query"))
		return cmd_query();
	if (!strcmp(mode, "raw") && argc > 2)
		return cmd_raw(argc - 1, argv + 1);
	if (!strcmp(mode, "fd3") && argc > 2)
		return cmd_fd3(argv[2]);
	if (!strcmp(mode, "status"))
		return cmd_status(argc - 1, argv + 1);
	if (!strcmp(mode, "plant"))
		return cmd_plant(argc - 1, argv + 1);
	if (!strcmp(mode, "prlimit"))
		return cmd_prlimit(argc - 1, argv + 1);
	if (!strcmp(mode, "stopcont"))
		return cmd_stopcont(argc - 1, argv + 1);
	if (!strcmp(mode, "swap"))
		return cmd_swap(argc - 1, argv + 1);
	if (!strcmp(mode, "under-filter"))
		return cmd_under_filter(argc - 1, argv + 1);
	if (!strcmp(mode, "hold-enslaved"))
		return cmd_hold_enslaved(argc - 1, argv + 1);
	if (!strcmp(mode, "stall"))
		return cmd_stall(argc - 1, argv + 1);
	if (!strcmp(mode, "syslog-busy") && argc > 4)
		return cmd_syslog_busy(argv[2], argv[3], atoi(argv[4]));
	if (!strcmp(mode, "syslog-send") && argc > 3)
		return cmd_syslog_send(argv[2], argv[3]);
	if (!strcmp(mode, "syslog-sink") && argc > 3)
		return cmd_syslog_sink(argv[2], argv[3]);
	return 2;
}
