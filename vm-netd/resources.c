/* Everything the sandboxed steps will need, opened while still privileged:
 * /dev/net/tun is 0600 root on hosts without udev rules, the lock and the
 * audit log are root's, and the sandbox allows no open() or socket(). */
#include "netd.h"

#include "netlink.h"

#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* The kernel ignores the setuid bit of a program started with no_new_privs:
 * say so, since nothing else would explain the failure. */
static void check_privilege(struct netd_state *s)
{
	capng_get_caps_process();
	if (capng_have_capability(CAPNG_EFFECTIVE, CAP_NET_ADMIN))
		return;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1)
		netd_decide(s, NETD_NOT_PRIVILEGED, EPERM,
			    "vm-netd was started with no_new_privs set (by a container, a "
			    "service with NoNewPrivileges=yes, or setpriv --no-new-privs), so "
			    "the kernel ignored its setuid bit; run vm outside that sandbox");
	else
		netd_decide(s, NETD_NOT_PRIVILEGED, EPERM,
			    "vm-netd lacks CAP_NET_ADMIN: it must be installed setuid root or "
			    "with the file capabilities cap_net_admin,cap_setpcap+ep");
}

/* Root's own regular file, never a link: a user must not aim our writes. */
static int open_root_file(const char *path, int flags, mode_t mode)
{
	int fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, mode);
	struct stat st;
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH))) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

/* hygiene() raised RLIMIT_FSIZE where the system lets it (CAP_SYS_RESOURCE
 * in the bounding set); where it could not, a limit the caller set must
 * not leave a grant without its record in the log file. */
static bool room_for_a_record(int fd)
{
	struct rlimit limit;
	struct stat st;
	if (getrlimit(RLIMIT_FSIZE, &limit) < 0 || fstat(fd, &st) < 0)
		return false;
	return limit.rlim_cur == RLIM_INFINITY ||
	       (unsigned long long)st.st_size + 4096 <= (unsigned long long)limit.rlim_cur;
}

static int connect_syslog(const char *path)
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
	return fd;
}

void open_resources(struct netd_state *s, const struct netd_paths *paths)
{
	struct error err;
	check_privilege(s);
	s->syslog_fd = connect_syslog(paths->syslog);
	if (s->policy.log)
		s->log_fd = open_root_file(s->policy.log, O_WRONLY | O_APPEND | O_CREAT, 0640);
	if (s->policy.log && s->log_fd < 0)
		netd_decide(s, NETD_FAILED, errno, "cannot open the audit log %s: %s",
			    s->policy.log, strerror(errno));
	else if (s->log_fd >= 0 && !room_for_a_record(s->log_fd))
		netd_decide(s, NETD_FAILED, EFBIG,
			    "the caller's file size limit (ulimit -f) leaves no room for the audit "
			    "record in %s",
			    s->policy.log);
	/* gmtime_r reads the time zone once; do it now, not in the sandbox. */
	tzset();
	struct timeval timeout = {.tv_sec = NETD_REQUEST_TIMEOUT_S};
	if (s->sock >= 0)
		setsockopt(s->sock, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
	if (s->decided)
		return;
	s->tun_fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (s->tun_fd < 0) {
		netd_decide(s, NETD_FAILED, errno, "cannot open /dev/net/tun: %s", strerror(errno));
		return;
	}
	s->lock_fd = open_root_file(paths->lock, O_RDWR | O_CREAT, 0600);
	/* With file capabilities we are not root: flock works on a read-only
	 * fd of a lock file root made (systemd-tmpfiles, see SECURITY.md). */
	if (s->lock_fd < 0 && errno == EACCES)
		s->lock_fd = open_root_file(paths->lock, O_RDONLY, 0);
	if (s->lock_fd < 0) {
		netd_decide(s, NETD_FAILED, errno, "cannot open the lock %s: %s", paths->lock,
			    strerror(errno));
		return;
	}
	s->nl = netlink_open(&err);
	if (!s->nl) {
		netd_decide(s, NETD_FAILED, errno, "%s", err.msg);
		return;
	}
}
