/* Step 7: make the tap (and the bridge, when the policy lets us and the
 * caller asked). Any failure undoes what this request did: the tap vanishes
 * with its fd when we exit, and a bridge made here is deleted. */
#include "netd.h"

#include "netlink.h"
#include "tap.h"

#include <errno.h>
#include <unistd.h>

static int make_bridge(struct netd_state *s, struct link_info *bridge, struct error *err)
{
	const struct policy_bridge *decl = policy_find_bridge(&s->policy, s->req.bridge);
	if (bridge_create(s->nl, decl->name, err) < 0 ||
	    link_get(s->nl, decl->name, bridge, err) < 0)
		return -1;
	if ((decl->address[0] && addr_add(s->nl, bridge->index, decl->address, err) < 0) ||
	    link_set_up(s->nl, bridge->index, err) < 0) {
		int saved = errno;
		struct error ignored;
		link_delete(s->nl, bridge->index, &ignored);
		errno = saved;
		return -1;
	}
	return 0;
}

static int attach_tap(struct netd_state *s, const struct link_info *bridge, struct error *err)
{
	struct link_info tap;
	if (tap_create(s->tun_fd, s->tap, s->uid, err) < 0 ||
	    link_get(s->nl, s->tap, &tap, err) < 0 ||
	    link_set_mtu(s->nl, tap.index, bridge->mtu, err) < 0 ||
	    link_set_master(s->nl, tap.index, bridge->index, err) < 0 ||
	    link_set_up(s->nl, tap.index, err) < 0)
		return -1;
	return 0;
}

void act(struct netd_state *s)
{
	if (s->decided || !s->have_request || s->req.op != NETD_OP_TAP)
		return;
	if (!s->dropped || !s->sandboxed) {
		netd_decide(s, NETD_FAILED, EPERM, "refusing to act outside the sandbox");
		return;
	}
	struct error err;
	struct link_info bridge;
	if (s->create_bridge ? make_bridge(s, &bridge, &err) < 0
			     : link_get(s->nl, s->req.bridge, &bridge, &err) < 0) {
		netd_decide(s, NETD_FAILED, errno, "%s", err.msg);
		return;
	}
	if (attach_tap(s, &bridge, &err) < 0) {
		int saved = errno;
		struct error ignored;
		if (s->create_bridge)
			link_delete(s->nl, bridge.index, &ignored);
		/* Not persistent: the tap vanishes with its fd. */
		close(s->tun_fd);
		s->tun_fd = -1;
		netd_decide(s, NETD_FAILED, saved, "%s", err.msg);
		return;
	}
	netd_decide(s, NETD_GRANTED, 0,
		    s->create_bridge ? "tap %s on new bridge %s" : "tap %s on %s", s->tap,
		    s->req.bridge);
}
