/* Step 2: who the caller is, from the kernel's credentials alone. The real
 * uid and gid and the supplementary groups are the caller's; nothing in the
 * request or the environment says who anyone is. */
#include "netd.h"

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void add_group(struct netd_state *s, gid_t gid)
{
	struct group *gr = getgrgid(gid);
	if (!gr || s->ngroups == NETD_MAX_GROUPS || strlen(gr->gr_name) > POLICY_NAME_MAX)
		return; /* a group without a usable name cannot match a rule */
	for (size_t i = 0; i < s->ngroups; i++)
		if (!strcmp(s->groups[i], gr->gr_name))
			return;
	char *slot = s->group_storage[s->ngroups];
	snprintf(slot, POLICY_NAME_MAX + 1, "%s", gr->gr_name);
	s->groups[s->ngroups++] = slot;
}

void identify_caller(struct netd_state *s)
{
	s->uid = getuid();
	s->gid = getgid();
	struct passwd *pw = getpwuid(s->uid);
	if (pw && strlen(pw->pw_name) < sizeof(s->user))
		snprintf(s->user, sizeof(s->user), "%s", pw->pw_name);
	else
		netd_decide(s, NETD_DENIED, 0, "uid %u has no user name", (unsigned)s->uid);
	add_group(s, s->gid);
	gid_t groups[NETD_MAX_GROUPS];
	int n = getgroups(NETD_MAX_GROUPS, groups);
	for (int i = 0; i < n; i++)
		add_group(s, groups[i]);
}
