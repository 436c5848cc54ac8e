/* Counting taps without a lock. Each request makes its tap first (with a
 * pending name that says whose it is and for which machine, then the alias
 * that says the bridge too), and only then looks at all the taps vm-netd
 * made:
 *
 * - quota: the request keeps its tap when fewer than the quota of the
 *   caller's taps on the bridge are older (a lower ifindex, which the kernel
 *   hands out in increasing order). A pending tap of the caller's counts
 *   as on this bridge. Of requests made at the same time, the oldest win;
 *   the quota is never exceeded, whatever the timing.
 * - machine: a machine ID is the user's whose tap for it is the oldest. A
 *   request gives up when another user's tap for the machine is older than
 *   every tap of the caller's for it (the new one included); the other
 *   user's request, seeing ours older, gives up in turn. So two users
 *   racing for one machine are never both granted, and a user who already
 *   has the machine keeps getting taps for it whatever others ask.
 * - a persistent tap of vm-netd's that no process holds any more (no
 *   carrier: the tun driver drops it with the last fd; its
 *   holder made it persistent and closed it) is deleted, so that nobody
 *   attaches to it and it counts against no one. A holder that clears the
 *   carrier itself (TUNSETCARRIER) loses its tap the same way.
 *
 * Before making its tap, a request looks once the same way, as if its tap
 * were there and the newest: one that could not be granted (the quota
 * already reached, the machine another user's) makes no tap, so that a
 * user who floods vm-netd with such requests never holds a tap another
 * user's census would see.
 *
 * Nothing here waits for anything another user controls. */
#include "netd.h"

#include "ifname.h"
#include "maker.h"
#include "netlink.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#define MAX_ORPHANS 128
#define MAX_CALLERS 256

struct census {
	struct netd_state *s;
	int own;		  /* our tap's ifindex; INT_MAX before it is made */
	int callers[MAX_CALLERS]; /* the caller's other taps on the bridge (or pending) */
	size_t ncallers;
	int oldest_own_claim;	/* the caller's oldest tap for the machine, ours too */
	int oldest_other_claim; /* another user's oldest tap for it */
	bool foreign_tap_name;	/* a vm<ID>t<n> of the machine vm-netd did not make */
	int orphans[MAX_ORPHANS];
	size_t norphans;
};

static void claim_machine(int *oldest, int index)
{
	if (index < *oldest)
		*oldest = index;
}

static void count_link(const struct link_info *link, void *data)
{
	struct census *c = data;
	struct netd_state *s = c->s;
	struct tap_maker m;
	unsigned id, n;
	bool ours = maker_of(link, &m);
	if (ifname_is_tap(link->name, &id, &n) && id == s->req.machine_id) {
		s->names_taken[n] = true;
		if (!ours) /* a vm tap vm-netd did not make: not the caller's */
			c->foreign_tap_name = true;
	}
	if (ours && !strcmp(link->name, s->tap))
		c->own = s->tap_index = link->index;
	if (!ours)
		return;
	if (link->persistent && !link->carrier) {
		if (c->norphans < MAX_ORPHANS)
			c->orphans[c->norphans++] = link->index;
		return;
	}
	if (m.machine == (int)s->req.machine_id)
		claim_machine(m.uid == s->uid ? &c->oldest_own_claim : &c->oldest_other_claim,
			      link->index);
	if (m.uid != s->uid || !strcmp(link->name, s->tap))
		return;
	if (!m.bridge[0] || !strcmp(m.bridge, s->req.bridge))
		c->callers[c->ncallers < MAX_CALLERS ? c->ncallers++ : MAX_CALLERS - 1] =
		    link->index;
}

/* The caller's taps older than ours. */
static unsigned older_taps(const struct census *c)
{
	unsigned older = 0;
	for (size_t i = 0; i < c->ncallers; i++)
		older += c->callers[i] < c->own;
	return c->ncallers == MAX_CALLERS ? MAX_CALLERS : older;
}

/* All the taps vm-netd made, as seen now; our own is the newest when not
 * made yet. Persistent ones no process holds are deleted. */
static int count_taps(struct netd_state *s, struct census *c)
{
	struct error err;
	*c = (struct census){
	    .s = s, .own = INT_MAX, .oldest_own_claim = INT_MAX, .oldest_other_claim = INT_MAX};
	memset(s->names_taken, 0, sizeof(s->names_taken));
	s->tap_index = 0;
	if (tap_dump(s->nl, count_link, c, &err) < 0) {
		netd_decide(s, NETD_FAILED, errno, "%s", err.msg);
		return -1;
	}
	/* Gone already (a race with another request) is as good as deleted. */
	for (size_t i = 0; i < c->norphans; i++)
		link_delete(s->nl, c->orphans[i], &err);
	return 0;
}

/* Whether the request may have its tap, by the census's two rules. */
static int judge(struct netd_state *s, const struct census *c)
{
	if (c->foreign_tap_name || c->oldest_other_claim < c->oldest_own_claim) {
		netd_decide(s, NETD_MACHINE_IN_USE, EBUSY, "machine %02u has taps of another user",
			    s->req.machine_id);
		return -1;
	}
	unsigned older = older_taps(c);
	if (older >= s->quota) {
		netd_decide(s, NETD_QUOTA, EDQUOT, "%u of %u taps on %s in use (%s:%u)", older,
			    s->quota, s->req.bridge, s->rule->origin.file, s->rule->origin.line);
		return -1;
	}
	return 0;
}

int census_before_claim(struct netd_state *s)
{
	struct census c;
	if (count_taps(s, &c) < 0)
		return -1;
	return judge(s, &c);
}

int take_census(struct netd_state *s)
{
	struct census c;
	if (count_taps(s, &c) < 0)
		return -1;
	if (!s->tap_index) {
		netd_decide(s, NETD_FAILED, ENODEV, "the new tap %s is not in the list of links",
			    s->tap);
		return -1;
	}
	return judge(s, &c);
}
