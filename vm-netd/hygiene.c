/* Step 1: trust nothing the caller set up: fds, environment, umask. */
#include "netd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

/* A caller that closed 0-2 would otherwise get our files (the policy, the
 * audit log) written through printf or read through stdin. */
static void open_standard_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		int null = open("/dev/null", O_RDWR | O_NOCTTY);
		if (null < 0)
			_exit(1);
		if (null != fd) /* 3 was free too: keep the numbering exact */
			_exit(1);
	}
}

/* Kernels before 5.9 have no close_range: the fds /proc lists, whatever
 * their numbers (a caller may raise its limit and leave one at 70000). */
static bool close_listed_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	if (!dir)
		return false;
	int own = dirfd(dir);
	for (struct dirent *entry; (entry = readdir(dir));) {
		char *end;
		long fd = strtol(entry->d_name, &end, 10);
		if (end != entry->d_name && *end == '\0' && fd > NETD_REQUEST_FD && fd != own)
			close((int)fd);
	}
	closedir(dir);
	return true;
}

bool close_fds_above_request(void)
{
	return close_range(NETD_REQUEST_FD + 1, ~0U, 0) == 0 || close_listed_fds();
}

/* fd 3 must be a connected AF_UNIX SOCK_SEQPACKET socket: anything else is
 * not vm talking to us. */
static const char *request_socket_problem(void)
{
	struct stat st;
	int domain = 0, type = 0;
	socklen_t len = sizeof(int), type_len = sizeof(int);
	struct sockaddr_storage peer;
	socklen_t peer_len = sizeof(peer);
	if (fstat(NETD_REQUEST_FD, &st) < 0)
		return "fd 3 is not open";
	if (!S_ISSOCK(st.st_mode))
		return "fd 3 is not a socket";
	if (getsockopt(NETD_REQUEST_FD, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 ||
	    domain != AF_UNIX)
		return "fd 3 is not an AF_UNIX socket";
	if (getsockopt(NETD_REQUEST_FD, SOL_SOCKET, SO_TYPE, &type, &type_len) < 0 ||
	    type != SOCK_SEQPACKET)
		return "fd 3 is not a SOCK_SEQPACKET socket";
	if (getpeername(NETD_REQUEST_FD, (struct sockaddr *)&peer, &peer_len) < 0)
		return "fd 3 is not connected";
	return NULL;
}

/* As high as we may: unlimited with CAP_SYS_RESOURCE, else the soft limit
 * up to the caller's hard one. */
static void raise_limit(int resource)
{
	struct rlimit unlimited = {RLIM_INFINITY, RLIM_INFINITY}, have;
	if (setrlimit(resource, &unlimited) < 0 && getrlimit(resource, &have) == 0) {
		have.rlim_cur = have.rlim_max;
		setrlimit(resource, &have);
	}
}

/* Every fd at sandbox.h's numbers, and those the name service, the
 * policy's includes and libcap-ng hold for a moment: no real user's limit
 * is below. */
#define NETD_FILES_NEEDED 32
_Static_assert(NETD_FILES_NEEDED > SANDBOX_FD_TUN_QUEUES + SANDBOX_TUN_QUEUES,
	       "room for every fd at a fixed number");

/* Up to 64 fds; without CAP_SYS_RESOURCE, no more than the caller's hard
 * limit, which check_file_limit then weighs. */
static void raise_file_limit(void)
{
	struct rlimit fds = {64, 64}, have;
	if (getrlimit(RLIMIT_NOFILE, &have) == 0 && have.rlim_cur < fds.rlim_cur &&
	    setrlimit(RLIMIT_NOFILE, &fds) < 0) {
		have.rlim_cur = have.rlim_max;
		setrlimit(RLIMIT_NOFILE, &have);
	}
}

/* Limits, timers and signal dispositions survive exec: the caller must not
 * be able to cut the audit write short (RLIMIT_FSIZE, SIGXFSZ), leave us no
 * memory or stack for the steps before the record (RLIMIT_AS, RLIMIT_DATA,
 * RLIMIT_STACK), starve us of fds, or kill us half-way with a timer it
 * armed. */
static void reset_inherited_limits(void)
{
	struct rlimit none = {0, 0};
	raise_limit(RLIMIT_FSIZE);
	raise_limit(RLIMIT_AS);
	raise_limit(RLIMIT_DATA);
	raise_limit(RLIMIT_STACK);
	raise_file_limit();
	setrlimit(RLIMIT_CORE, &none);
	struct itimerval off = {{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &off, NULL);
	setitimer(ITIMER_VIRTUAL, &off, NULL);
	setitimer(ITIMER_PROF, &off, NULL);
	signal(SIGXFSZ, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, SIG_DFL);
}

/* In a user namespace of the caller's the setuid bit means nothing and
 * the caller is root over everything but the network we act on: vm-netd
 * runs only in the initial one, whose uid map is the identity. */
static bool in_initial_user_namespace(void)
{
	char map[128];
	int fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, map, sizeof(map) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return false;
	map[n] = '\0';
	unsigned long inside, outside, count;
	int used = 0;
	return sscanf(map, " %lu %lu %lu %n", &inside, &outside, &count, &used) == 3 &&
	       map[used] == '\0' && inside == 0 && outside == 0 && count == 4294967295UL;
}

/* A limit hygiene could not raise far enough fails the request; its record
 * goes through the syslog socket, whose number any limit the loader
 * survives leaves free. */
static void check_file_limit(struct netd_state *s)
{
	struct rlimit have;
	if (getrlimit(RLIMIT_NOFILE, &have) == 0 && have.rlim_cur < NETD_FILES_NEEDED)
		netd_decide(s, NETD_FAILED, EMFILE,
			    "too few files: your limit (ulimit -n %llu) leaves vm-netd fewer than "
			    "%d open files; raise it",
			    (unsigned long long)have.rlim_cur, NETD_FILES_NEEDED);
}

void hygiene(struct netd_state *s)
{
	reset_inherited_limits();
	if (!memory_room())
		decide_out_of_memory(s);
	check_file_limit(s);
	open_standard_fds();
	bool closed = close_fds_above_request();
	const char *problem = request_socket_problem();
	if (problem)
		netd_decide(s, NETD_BAD_REQUEST, 0, "%s", problem);
	else
		s->sock = NETD_REQUEST_FD;
	if (!closed)
		netd_decide(s, NETD_FAILED, ENOSYS,
			    "cannot close the fds vm-netd inherited: the kernel has no close_range "
			    "and /proc is not mounted; mount /proc");
	if (!in_initial_user_namespace())
		netd_decide(s, NETD_NOT_PRIVILEGED, EPERM,
			    "vm-netd runs only in the initial user namespace; run vm outside "
			    "'unshare --user' and containers");
	clearenv();
	umask(077);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}
