/* vm-netd: gives the calling user a tap on a bridge the admin's policy
 * grants, and nothing else. Installed setuid root (or with file
 * capabilities); vm starts it once per request with the request socket as
 * fd 3. The steps below are DESIGN.md's, in its order; each is in its own
 * file. */
#include "build-config.h"
#include "netd.h"
#include "xalloc.h"

#ifndef NETD_POLICY_PATH
#define NETD_POLICY_PATH VM_NETD_POLICY
#endif
#ifndef NETD_SYSLOG_PATH
#define NETD_SYSLOG_PATH "/dev/log"
#endif

static const struct netd_paths paths = {
    .policy = NETD_POLICY_PATH,
    .syslog = NETD_SYSLOG_PATH,
};

static struct netd_state s;

/* The caller's memory limits, or the host, left too little for a step
 * before the drop (the steps after it allocate nothing). */
static void out_of_memory(void)
{
	fail_out_of_memory(&s, paths.syslog);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		return admin_main(argc, argv, &paths);
	netd_state_init(&s);
	xalloc_on_exhaustion(out_of_memory);
	/* 1. Hygiene: fds 0-2 open, fd 3 a seqpacket socket, nothing else open,
	 *    no environment, umask 077, not dumpable. */
	hygiene(&s);
	/* 2. Identity: the real uid and gid and the groups, nothing else. */
	identify_caller(&s);
	/* 3. Policy: the compiled-in file, root's alone, parsed in full. */
	load_policy(&s, paths.policy);
	/*    The caller's groups that its rules name. */
	name_callers_groups(&s);
	/* Still privileged: tun, netlink and the logs. */
	open_resources(&s, &paths);
	/* 4. Drop: CAP_NET_ADMIN only, as the caller; no_new_privs; seccomp. */
	drop_privileges(&s);
	set_no_new_privs(&s);
	apply_seccomp(&s);
	/* 5. One request, with a time-out, decoded strictly. */
	read_request(&s);
	/* 6. Decide: grant, bridge; the tap made first, then counted. */
	decide(&s);
	/* 7. Act: the bridge, the tap named, enslaved, up; undone on failure. */
	act(&s);
	/* 8. Audit: one record, to syslog and the policy's log file; a grant
	 *    whose record was not written whole is undone. */
	audit(&s);
	/* 9. Reply: the answer, and the tap's fd when granted. */
	return reply(&s);
}
