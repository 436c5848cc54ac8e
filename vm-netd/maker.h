/* Whom vm-netd made a tap for, told by what only CAP_NET_ADMIN can change:
 * the holder of a tap's fd can change its owner, group, persistence and
 * MAC, never its name or its alias (IFLA_IFALIAS).
 *
 * A tap is born with a pending name, v<machine ID><uid in 7 base-32
 * digits><pid in 5>, gets its alias "vm-netd uid=UID machine=ID bridge=NAME"
 * before anything else, and its name vm<ID>t<n> once granted. Between its
 * birth and its alias only the name tells whose it is and for which
 * machine (so that the census can tell which request claimed a machine
 * first); the bridge is not known yet. */
#pragma once

#include "netlink.h"

#include <stdbool.h>
#include <sys/types.h>

struct tap_maker {
	uid_t uid;
	int machine;
	char bridge[16]; /* "" while pending */
};

void maker_pending_name(char *buf, size_t size, uid_t uid, unsigned machine, pid_t pid);
void maker_alias(char *buf, size_t size, uid_t uid, unsigned machine, const char *bridge);
/* A high, locally administered MAC for the pending tap, so that a bridge
 * never adopts a MAC a guest chose. */
void maker_tap_mac(unsigned char mac[LINK_MAC_SIZE], uid_t uid, pid_t pid);
/* True when vm-netd made this tun/tap; m says for whom. */
bool maker_of(const struct link_info *link, struct tap_maker *m);
