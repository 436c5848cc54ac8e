#include "bridge.h"

#include <errno.h>
#include <net/if.h>

/* FE:FF and a hash of the name: fixed, high, locally administered. */
static void bridge_mac(const char *name, unsigned char mac[LINK_MAC_SIZE])
{
	unsigned hash = 2166136261u; /* FNV-1a */
	for (const char *p = name; *p; p++)
		hash = (hash ^ (unsigned char)*p) * 16777619u;
	unsigned char bytes[LINK_MAC_SIZE] = {0xfe,
					      0xff,
					      (unsigned char)(hash >> 24),
					      (unsigned char)(hash >> 16),
					      (unsigned char)(hash >> 8),
					      (unsigned char)hash};
	for (int i = 0; i < LINK_MAC_SIZE; i++)
		mac[i] = bytes[i];
}

int bridge_ready(struct netlink *nl, const struct policy_bridge *decl,
		 const struct link_info *bridge, struct error *err)
{
	if (!decl->create)
		return 0;
	if (decl->address[0] && addr_add(nl, bridge->index, decl->address, err) < 0)
		return -1;
	struct link_change up = {.up = true};
	if (!(bridge->flags & IFF_UP) && link_change(nl, bridge->index, NULL, &up, err) < 0)
		return -1;
	return 0;
}

int bridge_make(struct netlink *nl, const struct policy_bridge *decl, struct link_info *bridge,
		bool *made, struct error *err)
{
	unsigned char mac[LINK_MAC_SIZE];
	bridge_mac(decl->name, mac);
	*made = bridge_create(nl, decl->name, mac, err) == 0;
	if (!*made && errno != EEXIST) /* EEXIST: another request made it just now */
		return -1;
	if (link_get(nl, decl->name, bridge, err) < 0) {
		int saved = errno;
		struct error ignored;
		if (*made)
			link_delete_name(nl, decl->name, &ignored);
		*made = false;
		errno = saved;
		return -1;
	}
	return 0;
}
