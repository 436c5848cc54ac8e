/* Times "request to fd": how long until a caller holds a tap on the bridge.
 *
 *   netd-bench netd BRIDGE N      vm's client, vm-netd ($VM_NETD)
 *   netd-bench qbh HELPER BRIDGE N  QEMU's qemu-bridge-helper, as later QEMU
 *                                 releases start it (the child closes the
 *                                 other fds with close_range)
 *   netd-bench qbh-7.2 HELPER BRIDGE N  the same, as QEMU 7.2 (Debian 12's)
 *                                 starts it: the child closes every fd number
 *                                 below the soft RLIMIT_NOFILE, one by one
 *                                 (seen with strace)
 *   netd-bench ip USER BRIDGE N   ip tuntap add + ip link set master/up (as root),
 *                                 then open the tap
 *   netd-bench floor FLOOR N      netd-floor, started as vm starts vm-netd:
 *                                 the setuid exec and the loader alone, until
 *                                 its main
 *   netd-bench turns HELPER FLOOR BRIDGE N  netd, qbh, qbh-7.2 and floor in
 *                                 turns, in the same run
 *
 * Every mode runs with the soft RLIMIT_NOFILE of a Debian 12 login session,
 * 1024 (systemd's DefaultLimitNOFILE): only QEMU 7.2's way depends on it.
 *
 * For each, two moments of every request: "fd", when the caller holds the
 * tap's fd (for floor, when its main runs), and "end", when the helper has
 * also ended and been reaped. QEMU waits for the end before it goes on; vm
 * goes on at the fd and reaps the helper later. Prints their medians and
 * the fd's spread, in microseconds. */
#include "net/netclient.h"
#include "sys/spawn.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int compare(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Two moments of one request: when the caller holds the tap's fd, and
 * when the helper has ended and been reaped. */
struct moments {
	double fd, end;
};

/* As vm takes it: the fd as soon as the reply is there; the helper, still
 * ending, is reaped later (vm does it once the emulator runs). */
static int via_netd(const char *bridge, double start, struct moments *t)
{
	struct netclient_tap tap;
	struct error err;
	if (netclient_open_tap(bridge, 50, false, 1, &tap, &err) < 0) {
		fprintf(stderr, "netd-bench: %s\n", err.msg);
		return -1;
	}
	t->fd = now_us() - start;
	netclient_reap_helper(&tap);
	t->end = now_us() - start;
	return tap.fds[0];
}

static int receive_fd(int sock)
{
	char byte;
	struct iovec iov = {&byte, 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = control.buf,
			     .msg_controllen = sizeof(control.buf)};
	int fd = -1;
	if (recvmsg(sock, &msg, 0) < 0)
		return -1;
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (c && c->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/* The floor: vm's way of starting vm-netd, and a program linked as vm-netd
 * whose main says so at once on fd 3 (the "fd" moment), then ends. */
static int via_floor(const char *floor, double start, struct moments *t)
{
	char *argv[] = {(char *)floor, NULL}, *envp[] = {NULL};
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	struct spawn_start_options opts = {.envp = envp, .pass_fd3 = sv[1]};
	struct error err;
	pid_t pid;
	int rc = spawn_start(argv, &opts, &pid, &err);
	close(sv[1]);
	if (rc < 0) {
		fprintf(stderr, "netd-bench: %s\n", err.msg);
		close(sv[0]);
		return -1;
	}
	char byte;
	ssize_t n = read(sv[0], &byte, 1);
	t->fd = now_us() - start;
	int status = spawn_reap(pid, 60000);
	t->end = now_us() - start;
	close(sv[0]);
	return n == 1 && status == 0 ? 0 : -1;
}

/* What QEMU's child closes before it execs the helper: every fd but 0-2
 * and its end of the socket. QEMU 7.2 closes each number below the soft
 * RLIMIT_NOFILE in turn; later releases do it with close_range. */
static void close_as_qemu(int keep, bool one_by_one)
{
	long open_max = sysconf(_SC_OPEN_MAX);
	if (one_by_one) {
		for (int fd = 3; fd < open_max; fd++)
			if (fd != keep)
				close(fd);
		return;
	}
	if (keep > 3)
		close_range(3, (unsigned)keep - 1, 0);
	close_range((unsigned)keep + 1, ~0U, 0);
}

/* As QEMU's net/tap.c runs it: a stream socketpair, fork, the other fds
 * closed, --fd=N, the fd back, then QEMU waits for the helper's exit before
 * it goes on. */
static int via_bridge_helper(const char *helper, const char *bridge, bool qemu_7_2, double start,
			     struct moments *t)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		char fd_arg[32], br_arg[64];
		close_as_qemu(sv[1], qemu_7_2);
		snprintf(fd_arg, sizeof(fd_arg), "--fd=%d", sv[1]);
		snprintf(br_arg, sizeof(br_arg), "--br=%s", bridge);
		execl(helper, helper, "--use-vnet", fd_arg, br_arg, (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	int fd = receive_fd(sv[0]);
	t->fd = now_us() - start;
	int status;
	waitpid(pid, &status, 0);
	t->end = now_us() - start;
	close(sv[0]);
	return fd;
}

static int run(char *const argv[])
{
	pid_t pid = fork();
	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	int status;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* The sudo way: ip makes a persistent tap for the user, then it is opened. */
static int via_ip(const char *user, const char *bridge)
{
	char *add[] = {"ip",  "tuntap", "add",	      "dev",	  "benchtap0", "mode",
		       "tap", "user",	(char *)user, "vnet_hdr", NULL};
	char *set[] = {"ip", "link", "set", "benchtap0", "master", (char *)bridge, "up", NULL};
	if (run(add) < 0 || run(set) < 0)
		return -1;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "benchtap0");
	ifr.ifr_flags = (short)(IFF_TAP | IFF_NO_PI | IFF_VNET_HDR);
	if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0)
		return -1;
	return fd;
}

static void undo_ip(void)
{
	char *del[] = {"ip", "link", "del", "benchtap0", NULL};
	run(del);
}

/* One tap the way mode says, held and given back; its moments in *t. */
static int take_tap(const char *mode, char **args, struct moments *t)
{
	double start = now_us();
	if (!strcmp(mode, "floor"))
		return via_floor(args[0], start, t);
	int fd = !strcmp(mode, "netd")	    ? via_netd(args[0], start, t)
		 : !strcmp(mode, "qbh")	    ? via_bridge_helper(args[0], args[1], false, start, t)
		 : !strcmp(mode, "qbh-7.2") ? via_bridge_helper(args[0], args[1], true, start, t)
					    : via_ip(args[0], args[1]);
	if (!strcmp(mode, "ip"))
		t->fd = t->end = now_us() - start;
	if (fd < 0) {
		fprintf(stderr, "netd-bench: %s: no tap\n", mode);
		return -1;
	}
	close(fd);
	if (!strcmp(mode, "ip"))
		undo_ip();
	return 0;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(double), compare);
	return v[n / 2];
}

/* The medians of both moments, and the spread of the first. */
static void report(const char *mode, struct moments *t, int n)
{
	double *fd = calloc((size_t)n, sizeof(double)), *end = calloc((size_t)n, sizeof(double));
	for (int i = 0; i < n; i++) {
		fd[i] = t[i].fd;
		end[i] = t[i].end;
	}
	double fd_median = median(fd, n), end_median = median(end, n);
	printf("%s fd_median_us=%.0f end_median_us=%.0f fd_min_us=%.0f fd_max_us=%.0f n=%d\n", mode,
	       fd_median, end_median, fd[0], fd[n - 1], n);
	free(fd);
	free(end);
}

/* A Debian 12 login session's soft limit, under the hard one. */
static void session_fd_limit(void)
{
	struct rlimit limit;
	if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
		limit.rlim_cur = limit.rlim_max < 1024 ? limit.rlim_max : 1024;
		setrlimit(RLIMIT_NOFILE, &limit);
	}
}

int main(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	session_fd_limit();
	const char *mode = argv[1];
	int n = atoi(argv[argc - 1]);
	if (!strcmp(mode, "turns")) {
		/* In turns, each first in its share of the rounds: a load that
		 * comes and goes on a shared machine weighs on all alike. */
		static const char *const modes[] = {"netd", "qbh", "qbh-7.2", "floor"};
		enum { MODES = sizeof(modes) / sizeof(modes[0]) };
		if (argc != 6)
			return 2;
		struct moments *t[MODES];
		char *netd_args[] = {argv[4]}, *qbh_args[] = {argv[2], argv[4]};
		char *floor_args[] = {argv[3]};
		char **args[MODES] = {netd_args, qbh_args, qbh_args, floor_args};
		for (int m = 0; m < MODES; m++)
			t[m] = calloc((size_t)n, sizeof(*t[m]));
		for (int i = 0; i < n; i++)
			for (int k = 0; k < MODES; k++) {
				int m = (i + k) % MODES;
				if (take_tap(modes[m], args[m], &t[m][i]) < 0)
					return 1;
			}
		for (int m = 0; m < MODES; m++)
			report(modes[m], t[m], n);
		return 0;
	}
	struct moments *t = calloc((size_t)n, sizeof(*t));
	for (int i = 0; i < n; i++)
		if (take_tap(mode, argv + 2, &t[i]) < 0)
			return 1;
	report(mode, t, n);
	return 0;
}
