/* Step 3: the admin's policy, from the compiled-in path only. Any problem
 * with any file denies everything, and the audit record says why. */
#include "netd.h"

void load_policy(struct netd_state *s, const char *path)
{
	struct error err;
	s->policy_path = path;
	if (policy_load(&s->policy, path, 0, &err) < 0)
		netd_decide(s, NETD_POLICY_BROKEN, 0, "policy: %s", err.msg);
}
