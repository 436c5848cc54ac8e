/* The bridges the policy declares 'create': made, or brought to their
 * declared state, by requests and by --setup alike. */
#pragma once

#include "netlink.h"
#include "policy.h"

/* Makes the bridge, with a fixed MAC (so that it never takes a port's),
 * up; made says whether this call made it (a concurrent request may have).
 * bridge_ready then gives it its address. A bridge that cannot be read back
 * is deleted again. */
int bridge_make(struct netlink *nl, const struct policy_bridge *decl, struct link_info *bridge,
		bool *made, struct error *err);
/* A declared 'create' bridge that exists (perhaps half made by a helper
 * that was killed) gets its address and is brought up. */
int bridge_ready(struct netlink *nl, const struct policy_bridge *decl,
		 const struct link_info *bridge, struct error *err);
