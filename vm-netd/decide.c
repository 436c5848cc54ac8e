/* Step 6: does the policy give this caller this tap, now? There is no lock
 * (a caller can stop its own helper, so any lock it held would stall
 * everyone): the tap is made first, then counted with the others, and taken
 * back when over the quota (census.c). */
#include "netd.h"

#include "maker.h"
#include "netlink.h"
#include "tap.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

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

/* What a caller that holds our socket end too did: it took the request the
 * peek saw (resources.c) back out, and sent another that needs more than
 * was opened for it. */
#define REQUEST_CHANGED "the request changed after vm-netd opened it"

/* The tap's other queues, on the fds opened for them: the same device
 * (the kernel's answer names it), so the census and the quota see one tap. */
static int attach_queues(struct netd_state *s, struct error *err)
{
	for (unsigned i = 0; i + 1 < s->req.queues; i++) {
		if (s->queue_fds[i] < 0 && !s->queue_open_error) {
			/* Never opened: the peek saw fewer queues (see claim_tap). */
			error_set(err, REQUEST_CHANGED);
			errno = EBADF;
			return -1;
		}
		if (s->queue_fds[i] < 0) {
			errno = s->queue_open_error;
			return error_errno(err, "cannot open /dev/net/tun for queue %u of %u",
					   i + 2, s->req.queues);
		}
		if (tap_attach_queue(s->queue_fds[i], s->tap, err) < 0)
			return -1;
	}
	return 0;
}

/* The tap, under its pending name, with its queues, alias and MAC, before
 * anything else: from here on the census sees it, and whose it is. */
static int claim_tap(struct netd_state *s)
{
	struct error err;
	char alias[LINK_ALIAS_SIZE];
	unsigned char mac[LINK_MAC_SIZE];
	if (s->tun_fd < 0) {
		/* The peek saw a query: a caller that holds our socket end too
		 * took it and sent a tap request in its place. */
		netd_decide(s, NETD_FAILED, EBADF, REQUEST_CHANGED);
		return -1;
	}
	maker_pending_name(s->tap, sizeof(s->tap), s->uid, s->req.machine_id, s->pid);
	maker_alias(alias, sizeof(alias), s->uid, s->req.machine_id, s->req.bridge);
	maker_tap_mac(mac, s->uid, s->pid);
	struct link_change marks = {.alias = alias, .mac = mac, .no_ipv6_addresses = true};
	if (tap_create(s->tun_fd, s->tap, s->uid, s->req.queues > 1, &err) < 0 ||
	    attach_queues(s, &err) < 0 || link_change(s->nl, 0, s->tap, &marks, &err) < 0) {
		netd_decide(s, NETD_FAILED, errno, "%s", err.msg);
		return -1;
	}
	return 0;
}

static void decide_tap(struct netd_state *s)
{
	const char *name = s->req.bridge;
	struct policy_subject who = subject_of(s);
	s->quota = policy_quota(&s->policy, &who, name, &s->rule);
	if (!s->quota) {
		char reason[128];
		snprintf(reason, sizeof(reason), "no rule grants %s a tap on %s", s->user, name);
		deny(s, reason);
		return;
	}
	if (!s->dropped || !s->sandboxed) {
		netd_decide(s, NETD_FAILED, EPERM, "refusing to act outside the sandbox");
		return;
	}
	if (find_bridge(s, policy_find_bridge(&s->policy, name), &s->bridge) < 0 ||
	    census_before_claim(s) < 0 || claim_tap(s) < 0 || take_census(s) < 0)
		undo_grant(s);
}

struct grant_count {
	uid_t uid;
	const char *bridge;
	unsigned used;
};

static void count_grant(const struct link_info *link, void *data)
{
	struct grant_count *g = data;
	struct tap_maker m;
	if (maker_of(link, &m) && m.uid == g->uid && !strcmp(m.bridge, g->bridge) &&
	    !(link->persistent && !link->carrier))
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
		struct grant_count count = {s->uid, b->name, 0};
		if (tap_dump(s->nl, count_grant, &count, &err) == 0)
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
