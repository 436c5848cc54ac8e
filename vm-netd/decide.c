/* Step 6: does the policy give this caller this tap, now? Counting the
 * caller's taps and creating the next one happen under one exclusive lock,
 * so that helpers started in parallel cannot overrun a quota together. */
#include "netd.h"

#include "ifname.h"
#include "netlink.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>

/* What the links in the namespace say about the caller and the machine. */
struct tap_census {
	uid_t uid;
	int bridge_index;
	unsigned machine_id;
	unsigned callers_taps_on_bridge;
	bool machine_used_by_other;
	bool index_taken[IFNAME_TAP_MAX_INDEX + 1];
};

static void count_tap(const struct link_info *link, void *data)
{
	struct tap_census *c = data;
	unsigned id, index;
	if (!ifname_is_tap(link->name, &id, &index))
		return;
	if (id == c->machine_id)
		c->index_taken[index] = true;
	if (!link->has_owner || link->owner != c->uid) {
		if (id == c->machine_id)
			c->machine_used_by_other = true;
		return;
	}
	if (link->master == c->bridge_index && c->bridge_index > 0)
		c->callers_taps_on_bridge++;
}

static int take_census(struct netd_state *s, int bridge_index, unsigned machine_id,
		       struct tap_census *c)
{
	struct error err;
	*c = (struct tap_census){
	    .uid = s->uid, .bridge_index = bridge_index, .machine_id = machine_id};
	if (link_dump(s->nl, count_tap, c, &err) < 0) {
		netd_decide(s, NETD_FAILED, errno, "%s", err.msg);
		return -1;
	}
	return 0;
}

/* After the drop a caller can stop its own helper while it holds the lock;
 * the others wait a bounded time and say so, rather than hang. */
static int take_lock(struct netd_state *s)
{
	struct timespec pause = {0, NETD_LOCK_POLL_MS * 1000000L};
	for (int waited = 0; waited < NETD_LOCK_WAIT_S * 1000; waited += NETD_LOCK_POLL_MS) {
		if (flock(s->lock_fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			break;
		nanosleep(&pause, NULL);
	}
	netd_decide(s, NETD_FAILED, errno == EWOULDBLOCK ? EBUSY : errno,
		    "other requests held the lock for %d s; try again", NETD_LOCK_WAIT_S);
	return -1;
}

static struct policy_subject subject_of(const struct netd_state *s)
{
	return (struct policy_subject){s->user, s->groups, s->ngroups};
}

/* The same answer for a bridge that is missing and one that is forbidden:
 * the reply must not tell a user which bridges exist. Only the audit record
 * has the reason. */
static void deny(struct netd_state *s, const char *reason)
{
	netd_decide(s, NETD_DENIED, EPERM, "%s", reason);
}

/* Finds the bridge; a missing one the policy lets us create is noted. */
static int find_bridge(struct netd_state *s, const struct policy_bridge *decl,
		       struct link_info *bridge)
{
	struct error err;
	char reason[128];
	if (link_get(s->nl, decl->name, bridge, &err) == 0) {
		if (strcmp(bridge->kind, "bridge")) {
			snprintf(reason, sizeof(reason), "%s is not a bridge (kind '%s')",
				 decl->name, bridge->kind);
			deny(s, reason);
			return -1;
		}
		return 0;
	}
	if (errno != ENODEV) {
		netd_decide(s, NETD_FAILED, errno, "%s", err.msg);
		return -1;
	}
	if (!decl->create) {
		snprintf(reason, sizeof(reason), "bridge %s does not exist", decl->name);
		deny(s, reason);
		return -1;
	}
	if (!(s->req.flags & NETD_FLAG_CREATE_BRIDGE)) {
		snprintf(reason, sizeof(reason),
			 "bridge %s does not exist (declared create; not asked to create it)",
			 decl->name);
		deny(s, reason);
		return -1;
	}
	s->create_bridge = true;
	*bridge = (struct link_info){0};
	return 0;
}

static void pick_tap_name(struct netd_state *s, const struct tap_census *c)
{
	for (unsigned i = 0; i <= IFNAME_TAP_MAX_INDEX; i++)
		if (!c->index_taken[i]) {
			ifname_tap(s->tap, s->req.machine_id, i);
			return;
		}
	netd_decide(s, NETD_FAILED, ENOSPC, "no free tap name for machine %02u", s->req.machine_id);
}

static void decide_tap(struct netd_state *s)
{
	const char *name = s->req.bridge;
	struct policy_subject who = subject_of(s);
	const struct policy_rule *rule;
	s->quota = policy_quota(&s->policy, &who, name, &rule);
	if (!s->quota) {
		char reason[128];
		snprintf(reason, sizeof(reason), "no rule grants %s a tap on %s", s->user, name);
		deny(s, reason);
		return;
	}
	if (take_lock(s) < 0)
		return;
	struct link_info bridge;
	struct tap_census census;
	if (find_bridge(s, policy_find_bridge(&s->policy, name), &bridge) < 0 ||
	    take_census(s, bridge.index, s->req.machine_id, &census) < 0)
		return;
	if (census.machine_used_by_other) {
		netd_decide(s, NETD_MACHINE_IN_USE, EBUSY, "machine %02u has taps of another user",
			    s->req.machine_id);
		return;
	}
	if (census.callers_taps_on_bridge >= s->quota) {
		netd_decide(s, NETD_QUOTA, EDQUOT, "%u of %u taps on %s in use (%s:%u)",
			    census.callers_taps_on_bridge, s->quota, name, rule->origin.file,
			    rule->origin.line);
		return;
	}
	pick_tap_name(s, &census);
}

struct grant_count {
	uid_t uid;
	int bridge_index;
	unsigned used;
};

static void count_grant(const struct link_info *link, void *data)
{
	struct grant_count *g = data;
	if (ifname_is_tap(link->name, NULL, NULL) && link->has_owner && link->owner == g->uid &&
	    link->master == g->bridge_index)
		g->used++;
}

/* vm net: each declared bridge this caller may use, with its quota and use. */
static void decide_query(struct netd_state *s)
{
	struct policy_subject who = subject_of(s);
	struct netd_reply *r = &s->reply;
	struct error err;
	for (size_t i = 0; i < s->policy.nbridges && r->ngrants < NETD_MAX_GRANTS; i++) {
		const struct policy_bridge *b = &s->policy.bridges[i];
		unsigned quota = policy_quota(&s->policy, &who, b->name, NULL);
		if (!quota)
			continue;
		struct netd_grant *g = &r->grants[r->ngrants++];
		netd_field_set(g->bridge, sizeof(g->bridge), b->name);
		g->quota = quota;
		g->flags = b->create ? NETD_GRANT_CREATE : 0;
		struct link_info link;
		if (link_get(s->nl, b->name, &link, &err) < 0 || strcmp(link.kind, "bridge"))
			continue;
		g->flags |= NETD_GRANT_EXISTS;
		struct grant_count count = {s->uid, link.index, 0};
		if (link_dump(s->nl, count_grant, &count, &err) == 0)
			g->used = count.used;
	}
	netd_decide(s, NETD_GRANTED, 0, "%u grants", r->ngrants);
}

void decide(struct netd_state *s)
{
	if (s->decided || !s->have_request)
		return;
	if (s->req.op == NETD_OP_QUERY)
		decide_query(s);
	else
		decide_tap(s);
}
