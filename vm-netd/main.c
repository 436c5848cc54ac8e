/* vm-netd: gives the calling user a tap on a bridge the admin's policy
 * grants, and nothing else. Installed setuid root (or with file
 * capabilities); vm starts it once per request with the request socket as
 * fd 3. The steps below are DESIGN.md's, in its order; each is in its own
 * file. */
#include "build-config.h"
#include "netd.h"

#ifndef NETD_POLICY_PATH
#define NETD_POLICY_PATH VM_NETD_POLICY
#endif
#ifndef NETD_LOCK_PATH
#define NETD_LOCK_PATH "/run/vm-netd.lock"
#endif
#ifndef NETD_SYSLOG_PATH
#define NETD_SYSLOG_PATH "/dev/log"
#endif

static const struct netd_paths paths = {
    .policy = NETD_POLICY_PATH,
    .lock = NETD_LOCK_PATH,
    .syslog = NETD_SYSLOG_PATH,
};

int main(int argc, char **argv)
{
	if (argc > 1)
		return admin_main(argc, argv, &paths);
	static struct netd_state s;
	netd_state_init(&s);
	hygiene(&s);		       /* 1. fds, environment, umask, not dumpable */
	identify_caller(&s);	       /* 2. the real uid/gid and groups */
	load_policy(&s, paths.policy); /* 3. the compiled-in policy, strictly */
	open_resources(&s, &paths);    /*    tun, netlink, lock, logs: while privileged */
	drop_privileges(&s);	       /* 4. CAP_NET_ADMIN only, as the caller */
	set_no_new_privs(&s);
	apply_seccomp(&s);
	read_request(&s); /* 5. one request, with a time-out */
	decide(&s);	  /* 6. policy, bridge, quota */
	act(&s);	  /* 7. the tap (and bridge), undone on failure */
	audit(&s);	  /* 8. syslog and the policy's log file */
	return reply(&s); /* 9. the answer, and the fd */
}
