/* Step 4b: no_new_privs and the seccomp allow-list. From here on the helper
 * can only talk on the fds it already holds, and only in the ways the
 * remaining steps need; anything else kills it. */
#include "netd.h"

#include "netlink.h"
#include "sandbox.h"

#include <errno.h>
#include <linux/if_tun.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>

void set_no_new_privs(struct netd_state *s)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		netd_decide(s, NETD_FAILED, errno, "cannot set no_new_privs");
}

/* The comparison "argument arg equals value". */
static struct scmp_arg_cmp arg_equals(unsigned arg, scmp_datum_t value)
{
	return (struct scmp_arg_cmp){.arg = arg, .op = SCMP_CMP_EQ, .datum_a = value, .datum_b = 0};
}

/* One rule: syscall allowed when its first argument is fd. */
static int allow_on_fd(scmp_filter_ctx ctx, int syscall, int fd)
{
	if (fd < 0)
		return 0;
	struct scmp_arg_cmp on_fd = arg_equals(0, (scmp_datum_t)fd);
	return seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, syscall, 1, &on_fd);
}

static int allow_tun_ioctl(scmp_filter_ctx ctx, int fd, unsigned long request)
{
	if (fd < 0)
		return 0;
	struct scmp_arg_cmp args[] = {arg_equals(0, (scmp_datum_t)fd), arg_equals(1, request)};
	return seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 2, args);
}

int sandbox_install(const struct sandbox_fds *fds)
{
	/* Default: kill. Foreign architectures (and x32, which libseccomp
	 * refuses when only the native x86_64 ABI is in the filter) too. */
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return -1;
	int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	rc = rc ?: allow_on_fd(ctx, SCMP_SYS(recvmsg), fds->request);
	rc = rc ?: allow_on_fd(ctx, SCMP_SYS(sendmsg), fds->request);
	rc = rc ?: allow_on_fd(ctx, SCMP_SYS(recvmsg), fds->netlink);
	rc = rc ?: allow_on_fd(ctx, SCMP_SYS(sendto), fds->netlink);
	rc = rc ?: allow_on_fd(ctx, SCMP_SYS(sendto), fds->syslog);
	rc = rc ?: allow_on_fd(ctx, SCMP_SYS(write), fds->log);
	rc = rc ?: allow_on_fd(ctx, SCMP_SYS(flock), fds->lock);
	rc = rc ?: allow_on_fd(ctx, SCMP_SYS(close), fds->tun); /* undo: the tap vanishes */
	rc = rc ?: allow_tun_ioctl(ctx, fds->tun, TUNSETIFF);
	rc = rc ?: allow_tun_ioctl(ctx, fds->tun, TUNSETOWNER);
	rc = rc ?: seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(exit_group), 0);
	rc = rc ?: seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(exit), 0);
	/* Only where the vDSO is missing do these reach the kernel. */
	rc = rc ?: seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clock_gettime), 0);
	rc = rc ?: seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(time), 0);
	/* Waiting for the lock, a few milliseconds at a time. */
	rc = rc ?: seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clock_nanosleep), 0);
	rc = rc ?: seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(nanosleep), 0);
	rc = rc ?: seccomp_load(ctx);
	/* Not released: free() could need brk or munmap, which are not allowed. */
	return rc < 0 ? -1 : 0;
}

void apply_seccomp(struct netd_state *s)
{
	struct sandbox_fds fds = {
	    .request = s->sock,
	    .netlink = s->nl ? netlink_fd(s->nl) : -1,
	    .syslog = s->syslog_fd,
	    .log = s->log_fd,
	    .lock = s->lock_fd,
	    .tun = s->tun_fd,
	};
	s->sandboxed = sandbox_install(&fds) == 0;
	if (!s->sandboxed)
		netd_decide(s, NETD_FAILED, EPERM, "cannot install the seccomp filter");
}
