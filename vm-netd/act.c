/* Step 7: the bridge (made, or brought to its declared state) and the tap
 * under its own name, with the bridge's MTU, enslaved and up. Any failure
 * undoes what this request did: the tap vanishes with its fd, and a bridge
 * made here is deleted. */
#include "netd.h"

#include "bridge.h"
#include "ifname.h"
#include "netlink.h"

#include <errno.h>
#include <net/if.h>
#include <unistd.h>

/* vm<ID>t<n>, the lowest n free; another request of the caller's for the
 * same machine may take a name first, then the next one is tried. */
static int attach_tap(struct netd_state *s, const struct link_info *bridge, struct error *err)
{
	char name[NETD_NAME_SIZE];
	for (unsigned n = 0; n <= IFNAME_TAP_MAX_INDEX; n++) {
		if (s->names_taken[n])
			continue;
		ifname_tap(name, s->req.machine_id, n);
		struct link_change attach = {
		    .name = name, .mtu = bridge->mtu, .master = bridge->index, .up = true};
		if (link_change(s->nl, s->tap_index, NULL, &attach, err) == 0) {
			netd_field_set(s->tap, sizeof(s->tap), name);
			return 0;
		}
		if (errno != EEXIST)
			return -1;
	}
	errno = ENOSPC;
	return error_set(err, "no free tap name for machine %02u", s->req.machine_id);
}

static void count_port(const struct link_info *port, void *data)
{
	(void)port;
	++*(unsigned *)data;
}

/* A bridge this request made goes with its grant, unless another request's
 * tap joined it meanwhile: another user's machine is on it now, and the
 * bridge is the policy's (declared 'create'), not this caller's. When the
 * ports cannot be listed, the bridge stays: a later request, or --setup,
 * brings a declared bridge to its state. */
static bool has_ports(struct netlink *nl, int bridge)
{
	unsigned ports = 0;
	struct error ignored;
	return port_dump(nl, bridge, count_port, &ports, &ignored) < 0 || ports > 0;
}

void undo_grant(struct netd_state *s)
{
	struct error ignored;
	/* Not persistent: the tap vanishes with its fds, all its queues'. */
	if (s->tun_fd >= 0)
		close(s->tun_fd);
	s->tun_fd = -1;
	for (int i = 0; i < NETD_MAX_QUEUES - 1; i++) {
		if (s->queue_fds[i] >= 0)
			close(s->queue_fds[i]);
		s->queue_fds[i] = -1;
	}
	if (s->made_bridge && !has_ports(s->nl, s->made_bridge))
		link_delete(s->nl, s->made_bridge, &ignored);
	s->made_bridge = 0;
}

void act(struct netd_state *s)
{
	if (s->decided || !s->have_request || s->req.op != NETD_OP_TAP)
		return;
	struct error err;
	struct link_info bridge = s->bridge; /* decide looked it up: no second time */
	const struct policy_bridge *decl = policy_find_bridge(&s->policy, s->req.bridge);
	bool made = false;
	int rc = s->create_bridge ? bridge_make(s->nl, decl, &bridge, &made, &err) : 0;
	if (made)
		s->made_bridge = bridge.index;
	if (rc < 0 || bridge_ready(s->nl, decl, &bridge, &err) < 0 ||
	    attach_tap(s, &bridge, &err) < 0) {
		int saved = errno;
		undo_grant(s);
		netd_decide(s, NETD_FAILED, saved, "%s", err.msg);
		return;
	}
	netd_decide(s, NETD_GRANTED, 0, s->made_bridge ? "tap %s on new bridge %s" : "tap %s on %s",
		    s->tap, s->req.bridge);
}
