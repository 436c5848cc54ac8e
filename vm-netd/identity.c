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

static void add_group(struct netd_state *s, gid_t gid)
{
	struct group *gr = getgrgid(gid);
	if (!gr || strlen(gr->gr_name) > POLICY_NAME_MAX)
		return; /* a group without a usable name cannot match a rule */
	for (size_t i = 0; i < s->ngroups; i++)
		if (!strcmp(s->groups[i], gr->gr_name))
			return;
	s->groups[s->ngroups++] = xstrdup(gr->gr_name);
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
	/* All of them, however many: a rule for the last one must match. */
	int n = getgroups(0, NULL);
	gid_t *gids = xcalloc((size_t)(n > 0 ? n : 0) + 1, sizeof(*gids));
	if (n > 0)
		n = getgroups(n, gids);
	if (n < 0) {
		netd_decide(s, NETD_FAILED, 0, "cannot read the caller's groups");
		n = 0;
	}
	s->groups = xcalloc((size_t)n + 1, sizeof(*s->groups));
	add_group(s, s->gid);
	for (int i = 0; i < n; i++)
		if (gids[i] != s->gid) /* usually among them: one name lookup is enough */
			add_group(s, gids[i]);
	free(gids);
}
