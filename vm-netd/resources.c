/* Everything the sandboxed steps will need, opened while still privileged
 * and put at sandbox.h's fd numbers: /dev/net/tun is 0600 root on hosts
 * without udev rules, the audit log is root's, and the sandbox allows no
 * open() or socket(). */
#include "netd.h"

#include "netlink.h"
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

_Static_assert(SANDBOX_TUN_QUEUES == NETD_MAX_QUEUES - 1,
	       "a queue fd for each queue but the first");

bool is_setuid_root(const struct stat *st)
{
	return st->st_uid == 0 && (st->st_mode & S_ISUID);
}

bool exe_has_file_capabilities(void)
{
	return getxattr("/proc/self/exe", "security.capability", NULL, 0) >= 0;
}

/* Why a helper without CAP_NET_ADMIN lacks it, when its own executable
 * shows it: the kernel's /proc/self/exe, never a path from the caller (a
 * caller can only have run a copy it could run anyway, and unprivileged as
 * we are here, what we find only words the answer). False when it does not. */
static bool install_problem(struct netd_state *s)
{
	static char path[4096]; /* static: see netlink.c's new_message */
	ssize_t len = readlink("/proc/self/exe", path, sizeof(path) - 1);
	int fd = open("/proc/self/exe", O_PATH | O_CLOEXEC);
	struct statvfs vfs;
	struct stat st;
	bool known = len > 0 && fd >= 0 && fstatvfs(fd, &vfs) == 0 && fstat(fd, &st) == 0;
	if (fd >= 0)
		close(fd);
	if (!known)
		return false;
	path[len] = '\0';
	if (vfs.f_flag & ST_NOSUID)
		netd_decide(s, NETD_NOT_PRIVILEGED, EPERM,
			    "vm-netd (%.100s) is on a file system mounted nosuid, which ignores "
			    "setuid and file capabilities: install vm with a --prefix on another "
			    "(e.g. /usr/local), or remount it without nosuid",
			    path);
	else if (!is_setuid_root(&st) && !exe_has_file_capabilities())
		netd_decide(s, NETD_NOT_PRIVILEGED, EPERM,
			    "vm-netd (%.100s) is not setuid root (owner uid %u, mode %04o) and has "
			    "no file capabilities: run 'meson install' as root, which makes it "
			    "root's and 4755",
			    path, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
	else
		return false;
	return true;
}

/* The kernel ignores the setuid bit of a program started with no_new_privs,
 * from a nosuid mount or traced by a user, and grants no capability the
 * bounding set lacks: say which, since nothing else would explain the
 * failure. */
static void check_privilege(struct netd_state *s)
{
	if (has_net_admin())
		return;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1)
		netd_decide(s, NETD_NOT_PRIVILEGED, EPERM,
			    "vm-netd was started with no_new_privs set (by a container, a "
			    "service with NoNewPrivileges=yes, or setpriv --no-new-privs), so "
			    "the kernel ignored its setuid bit; run vm outside that sandbox");
	if (s->decided || install_problem(s))
		return;
	if (prctl(PR_CAPBSET_READ, CAP_NET_ADMIN, 0, 0, 0) == 0)
		netd_decide(s, NETD_NOT_PRIVILEGED, EPERM,
			    "vm-netd cannot have CAP_NET_ADMIN here: the capability bounding set "
			    "lacks it (a container or service that drops it); run vm outside it, "
			    "or give it CAP_NET_ADMIN");
	else if (is_traced())
		netd_decide(s, NETD_NOT_PRIVILEGED, EPERM,
			    "vm-netd is being traced (strace -f, gdb), and the kernel ignores the "
			    "setuid bit and file capabilities of a program a user traces: trace vm "
			    "without -f, or as root");
	else
		netd_decide(s, NETD_NOT_PRIVILEGED, EPERM,
			    "vm-netd lacks CAP_NET_ADMIN: it must be installed setuid root or "
			    "with the file capabilities cap_net_admin,cap_setpcap+ep");
}

/* The user's words for a /dev/net/tun that would not open. */
static void tun_failed(struct netd_state *s, int error)
{
	if (error == ENOENT || error == ENODEV || error == ENXIO)
		netd_decide(
		    s, NETD_FAILED, error,
		    "cannot open /dev/net/tun (%s): the tun driver is not loaded, or a "
		    "container lacks the device: ask your admin to run 'modprobe tun', or to "
		    "pass /dev/net/tun into the container",
		    strerror(error));
	else if (error == EACCES && geteuid() != 0)
		netd_decide(
		    s, NETD_FAILED, error,
		    "/dev/net/tun is not open to uid %u, and vm-netd (with file "
		    "capabilities, not setuid root) opens it as you: ask your admin to make "
		    "it 0666 (udev's usual), or to install vm-netd setuid root",
		    (unsigned)getuid());
	else
		netd_decide(s, NETD_FAILED, error, "cannot open /dev/net/tun: %s", strerror(error));
}

/* fd at number to (closing fd), or -1. */
static int move_fd(int fd, int to)
{
	if (fd < 0 || fd == to)
		return fd;
	int moved = dup3(fd, to, O_CLOEXEC);
	close(fd);
	return moved;
}

static bool is_root_file(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == 0 && st.st_gid == 0 &&
	       !(st.st_mode & (S_IWGRP | S_IWOTH));
}

/* Root's own regular file, never a link, a FIFO or a device: a user must
 * not aim our writes or make the open hang. One we create is root:root,
 * not root and the caller's group. */
static int open_log(const char *path)
{
	int flags = O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	int fd = open(path, flags);
	if (fd < 0 && errno == ENOENT) {
		fd = open(path, flags | O_CREAT | O_EXCL, 0640);
		/* Not the caller's group, and 0640 whatever our umask. */
		if (fd >= 0 && (fchown(fd, 0, 0) < 0 || fchmod(fd, 0640) < 0)) {
			close(fd);
			return -1;
		}
	}
	if (fd >= 0 && !is_root_file(fd)) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

/* The same file again, without O_APPEND, to blank a record a full disk cut
 * short (pwrite on an O_APPEND fd appends). */
static int open_log_repair(const char *path, int log_fd)
{
	struct stat a, b;
	int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd >= 0 && (fstat(fd, &a) < 0 || fstat(log_fd, &b) < 0 || a.st_dev != b.st_dev ||
			a.st_ino != b.st_ino)) {
		close(fd);
		errno = EAGAIN;
		return -1;
	}
	return fd;
}

/* hygiene() raised RLIMIT_FSIZE where the system lets it (CAP_SYS_RESOURCE
 * in the bounding set); where it could not, a limit the caller set at exec
 * must not cut a record short (and after the drop the caller cannot change
 * it: see caps.c). */
static bool room_for_a_record(int fd)
{
	struct rlimit limit;
	struct stat st;
	if (getrlimit(RLIMIT_FSIZE, &limit) < 0 || fstat(fd, &st) < 0)
		return false;
	return limit.rlim_cur == RLIM_INFINITY ||
	       (unsigned long long)st.st_size + 65536 <= (unsigned long long)limit.rlim_cur;
}

int syslog_connect(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(addr.sun_path))
		return -1;
	strcpy(addr.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		close(fd);
		fd = -1;
	}
	/* The bound on a send that waits (audit.c): a daemon that never reads,
	 * or a user who floods /dev/log, delays a request by this at most. */
	struct timeval bound = {.tv_usec = NETD_SYSLOG_WAIT_MS * 1000};
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &bound, sizeof(bound));
	return fd;
}

static void open_audit_log(struct netd_state *s)
{
	struct error err;
	const char *log = s->policy.log;
	if (policy_check_parents(log, 0, &err) < 0) {
		netd_decide(s, NETD_FAILED, EPERM, "audit log: %s", err.msg);
		return;
	}
	s->log_fd = move_fd(open_log(log), SANDBOX_FD_LOG);
	if (s->log_fd < 0 && errno == EACCES && geteuid() != 0) {
		/* File capabilities: we write as the caller (SECURITY.md). */
		netd_decide(
		    s, NETD_FAILED, errno,
		    "cannot open the audit log %s as uid %u: vm-netd has file capabilities, "
		    "not root's rights: ask your admin to remove the 'log' line from the "
		    "policy (records then go to syslog), or to install vm-netd setuid root",
		    log, (unsigned)getuid());
		return;
	}
	if (s->log_fd < 0) {
		netd_decide(s, NETD_FAILED, errno, "cannot open the audit log %s: %s", log,
			    strerror(errno));
		return;
	}
	s->log_repair_fd = move_fd(open_log_repair(log, s->log_fd), SANDBOX_FD_LOG_REPAIR);
	if (s->log_repair_fd < 0)
		netd_decide(s, NETD_FAILED, errno, "cannot open the audit log %s: %s", log,
			    strerror(errno));
	else if (!room_for_a_record(s->log_fd))
		netd_decide(s, NETD_FAILED, EFBIG,
			    "the caller's file size limit (ulimit -f) leaves no room for the audit "
			    "record in %s",
			    log);
}

/* What the request will ask for, to open only what it needs: vm queues its
 * request before it starts the helper, so a peek (no decoding: the request
 * is decoded only in the sandbox, and this is the same message) usually
 * finds it. A well-formed message of this version gives its op and, for a
 * tap, its queues; any other, a tap of 1 queue (it will be refused); none
 * yet, a tap of all NETD_MAX_QUEUES, so a caller that sends late still gets
 * what it asks for. */
static void peek_request(const struct netd_state *s, unsigned *op, unsigned *queues)
{
	struct netd_request req;
	*op = NETD_OP_TAP;
	*queues = 1;
	if (s->sock < 0)
		return;
	ssize_t n = recv(s->sock, &req, sizeof(req), MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0) {
		*queues = NETD_MAX_QUEUES;
		return;
	}
	if (n != (ssize_t)sizeof(req) || req.magic != NETD_MAGIC || req.version != NETD_VERSION)
		return;
	if (req.op == NETD_OP_QUERY)
		*op = NETD_OP_QUERY;
	else if (req.op == NETD_OP_TAP && req.queues >= 1 && req.queues <= NETD_MAX_QUEUES)
		*queues = req.queues;
}

/* The fds for a multi-queue tap's other queues, at their fixed numbers. One
 * that cannot open fails only a request for that many queues. */
static void open_queues(struct netd_state *s, unsigned queues)
{
	for (unsigned i = 0; i + 1 < queues; i++) {
		s->queue_fds[i] = move_fd(open("/dev/net/tun", O_RDWR | O_CLOEXEC),
					  SANDBOX_FD_TUN_QUEUES + (int)i);
		if (s->queue_fds[i] < 0) {
			s->queue_open_error = errno;
			return;
		}
	}
}

void open_resources(struct netd_state *s, const struct netd_paths *paths)
{
	struct error err;
	/* Whatever the name service left open goes: the numbers are ours. */
	close_fds_above_request();
	check_privilege(s);
	/* In the order of the numbers: each lands at or below its own. */
	s->syslog_fd = move_fd(syslog_connect(paths->syslog), SANDBOX_FD_SYSLOG);
	s->nl = netlink_open(SANDBOX_FD_NETLINK, &err);
	if (!s->nl)
		netd_decide(s, NETD_FAILED, errno, "%s", err.msg);
	/* A query needs no tun: a host without the driver still lists its
	 * grants. */
	unsigned op, queues;
	peek_request(s, &op, &queues);
	if (!s->decided && op == NETD_OP_TAP) {
		s->tun_fd = move_fd(open("/dev/net/tun", O_RDWR | O_CLOEXEC), SANDBOX_FD_TUN);
		if (s->tun_fd < 0)
			tun_failed(s, errno);
	}
	if (s->policy.log)
		open_audit_log(s);
	if (!s->decided && op == NETD_OP_TAP)
		open_queues(s, queues);
	struct timeval timeout = {.tv_sec = NETD_REQUEST_TIMEOUT_S};
	if (s->sock >= 0)
		setsockopt(s->sock, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
}
