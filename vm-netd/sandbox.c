/* Step 4b: no_new_privs and the seccomp allow-list. From here on the helper
 * can only talk on the fds it already holds, and only in the ways the
 * remaining steps need; anything else kills it. The filter itself is
 * gen-filter.c's, built at build time. */
#include "netd.h"

#include "sandbox.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/prctl.h>

#include "netd-filter.h"

/* Whether vm-netd was started under a seccomp filter of its caller's (a
 * container's, or a service's): PR_GET_SECCOMP says so, or fails, which
 * only a filter makes it do, except for a kernel without seccomp (EINVAL). */
static bool under_callers_filter(void)
{
	int mode = prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
	return mode == SECCOMP_MODE_FILTER || (mode < 0 && errno != EINVAL);
}

const char *sandbox_refusal_advice(int error, bool under_filter)
{
	if (under_filter)
		return "vm runs under a seccomp filter (a container's or a service's) that forbids "
		       "it: run vm outside that sandbox, or have it allow prctl() and seccomp()";
	if (error == EINVAL)
		return "this kernel has no seccomp filters (CONFIG_SECCOMP_FILTER), and vm-netd "
		       "needs them: boot a kernel built with them";
	return NULL;
}

/* What the kernel said, and, where we can tell why, what to do. */
static void tell_refusal(struct netd_state *s, int error, const char *what)
{
	const char *advice = sandbox_refusal_advice(error, under_callers_filter());
	netd_decide(s, NETD_FAILED, error, "%s (%s)%s%s", what, strerror(error), advice ? ": " : "",
		    advice ? advice : "");
}

void set_no_new_privs(struct netd_state *s)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		tell_refusal(s, errno, "cannot set no_new_privs");
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
		tell_refusal(s, errno, "cannot install the seccomp filter");
}
