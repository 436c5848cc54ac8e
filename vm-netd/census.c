/* Counting taps without a lock. Each request makes its tap first (with a
 * pending name that says whose it is, then the alias that says for which
 * machine and bridge), and only then looks at all the taps vm-netd made:
 *
 * - quota: the request keeps its tap when fewer than the quota of the
 *   caller's taps on the bridge are older (a lower ifindex, which the kernel
 *   hands out in increasing order). A pending tap of the caller's counts
 *   as on this bridge. Of requests made at the same time, the oldest win;
 *   the quota is never exceeded, whatever the timing.
 * - machine: the request gives up when another user has a tap with an alias
 *   for the machine, older or newer; two users racing for one machine may
 *   both be refused, never both granted.
 * - a persistent tap of vm-netd's that no process holds any more (no
 *   carrier: the tun driver drops it with the last fd; its
 *   holder made it persistent and closed it) is deleted, so that nobody
 *   attaches to it and it counts against no one.
 *
 * Nothing here waits for anything another user controls. */
#include "netd.h"

#include "ifname.h"
#include "maker.h"
#include "netlink.h"

#include <errno.h>
#include <string.h>

#define MAX_ORPHANS 128
#define MAX_CALLERS 256

struct census {
	struct netd_state *s;
	int callers[MAX_CALLERS]; /* the caller's other taps on the bridge (or pending) */
	size_t ncallers;
	bool machine_used_by_other;
	int orphans[MAX_ORPHANS];
	size_t norphans;
};

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
			c->machine_used_by_other = true;
	}
	if (ours && !strcmp(link->name, s->tap))
		s->tap_index = link->index;
	if (!ours || !strcmp(link->name, s->tap))
		return;
	if (link->persistent && !link->carrier) {
		if (c->norphans < MAX_ORPHANS)
			c->orphans[c->norphans++] = link->index;
		return;
	}
	if (m.uid != s->uid) {
		if (m.machine == (int)s->req.machine_id)
			c->machine_used_by_other = true;
		return;
	}
	if (!m.bridge[0] || !strcmp(m.bridge, s->req.bridge))
		c->callers[c->ncallers < MAX_CALLERS ? c->ncallers++ : MAX_CALLERS - 1] =
		    link->index;
}

/* The caller's taps older than ours. */
static unsigned older_taps(const struct census *c, int own)
{
	unsigned older = 0;
	for (size_t i = 0; i < c->ncallers; i++)
		older += c->callers[i] < own;
	return c->ncallers == MAX_CALLERS ? MAX_CALLERS : older;
}

int take_census(struct netd_state *s)
{
	struct census c = {.s = s};
	struct error err;
	memset(s->names_taken, 0, sizeof(s->names_taken));
	s->tap_index = 0;
	if (tap_dump(s->nl, count_link, &c, &err) < 0) {
		netd_decide(s, NETD_FAILED, errno, "%s", err.msg);
		return -1;
	}
	if (!s->tap_index) {
		netd_decide(s, NETD_FAILED, ENODEV, "the new tap %s is not in the list of links",
			    s->tap);
		return -1;
	}
	/* Gone already (a race with another request) is as good as deleted. */
	for (size_t i = 0; i < c.norphans; i++)
		link_delete(s->nl, c.orphans[i], &err);
	if (c.machine_used_by_other) {
		netd_decide(s, NETD_MACHINE_IN_USE, EBUSY, "machine %02u has taps of another user",
			    s->req.machine_id);
		return -1;
	}
	unsigned older = older_taps(&c, s->tap_index);
	if (older >= s->quota) {
		netd_decide(s, NETD_QUOTA, EDQUOT, "%u of %u taps on %s in use (%s:%u)", older,
			    s->quota, s->req.bridge, s->rule->origin.file, s->rule->origin.line);
		return -1;
	}
	return 0;
}
