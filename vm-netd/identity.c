/* Step 2: who the caller is, from the kernel's credentials alone. The real
 * uid and gid and the supplementary groups are the caller's; nothing in the
 * request or the environment says who anyone is. */
#include "netd.h"

#include "xalloc.h"

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void identify_caller(struct netd_state *s)
{
	s->uid = getuid();
	s->gid = getgid();
	struct passwd *pw = getpwuid(s->uid);
	if (pw && strlen(pw->pw_name) < sizeof(s->user))
		snprintf(s->user, sizeof(s->user), "%s", pw->pw_name);
	else
		netd_decide(s, NETD_DENIED, 0, "uid %u has no user name", (unsigned)s->uid);
	/* All of them, however many: a rule for the last one must match. */
	int n = getgroups(0, NULL);
	s->gids = xcalloc((size_t)(n > 0 ? n : 0) + 1, sizeof(*s->gids));
	if (n > 0)
		n = getgroups(n, s->gids + 1);
	if (n < 0) {
		netd_decide(s, NETD_FAILED, 0, "cannot read the caller's groups");
		n = 0;
	}
	s->gids[0] = s->gid;
	s->ngids = (size_t)n + 1;
}

static bool is_callers(const struct netd_state *s, gid_t gid)
{
	for (size_t i = 0; i < s->ngids; i++)
		if (s->gids[i] == gid)
			return true;
	return false;
}

static bool named_already(const struct netd_state *s, const char *name)
{
	for (size_t i = 0; i < s->ngroups; i++)
		if (!strcmp(s->groups[i], name))
			return true;
	return false;
}

/* Step 3, continued: which of the groups the rules name are the caller's.
 * One lookup per group the policy names, not one per group the caller has
 * (a desktop user has a dozen). */
void name_callers_groups(struct netd_state *s)
{
	const struct policy *p = &s->policy;
	s->groups = xcalloc(p->nrules + 1, sizeof(*s->groups));
	for (size_t i = 0; i < p->nrules; i++) {
		const char *name = p->rules[i].subject;
		if (!p->rules[i].group || named_already(s, name))
			continue;
		struct group *gr = getgrnam(name);
		if (gr && is_callers(s, gr->gr_gid))
			s->groups[s->ngroups++] = name;
	}
}
