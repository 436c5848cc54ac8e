/* Step 4b: no_new_privs and the seccomp allow-list. From here on the helper
 * can only talk on the fds it already holds, and only in the ways the
 * remaining steps need; anything else kills it. The filter itself is
 * gen-filter.c's, built at build time. */
#include "netd.h"

#include "sandbox.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>

#include "netd-filter.h"

void set_no_new_privs(struct netd_state *s)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		netd_decide(s, NETD_FAILED, errno, "cannot set no_new_privs");
}

int sandbox_install(void)
{
	struct sock_fprog prog = {
	    .len = (unsigned short)(sizeof(netd_filter) / sizeof(netd_filter[0])),
	    .filter = (struct sock_filter *)netd_filter,
	};
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0 ? -1 : 0;
}

void apply_seccomp(struct netd_state *s)
{
	s->sandboxed = sandbox_install() == 0;
	if (!s->sandboxed)
		netd_decide(s, NETD_FAILED, EPERM, "cannot install the seccomp filter");
}
