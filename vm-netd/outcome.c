/* The state every step shares, and the one place an outcome is recorded. */
#include "netd.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

void netd_state_init(struct netd_state *s)
{
	*s = (struct netd_state){
	    .sock = -1,
	    .tun_fd = -1,
	    .log_fd = -1,
	    .log_repair_fd = -1,
	    .syslog_fd = -1,
	    .status = NETD_FAILED,
	};
	for (int i = 0; i < NETD_MAX_QUEUES - 1; i++)
		s->queue_fds[i] = -1;
	s->pid = getpid();
	s->uid = getuid();
	s->gid = getgid();
	snprintf(s->user, sizeof(s->user), "%u", (unsigned)s->uid);
}

void netd_decide(struct netd_state *s, enum netd_status status, int error, const char *fmt, ...)
{
	if (s->decided)
		return;
	s->decided = true;
	s->status = status;
	s->error = error;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->reason, sizeof(s->reason), fmt, ap);
	va_end(ap);
}

void netd_revoke(struct netd_state *s, int error, const char *reason)
{
	s->status = NETD_FAILED;
	s->error = error;
	snprintf(s->reason, sizeof(s->reason), "%s", reason);
}
