/* The kernel boundary for links: rtnetlink through libmnl, one function per
 * operation, each checking the kernel's answer. On failure errno holds the
 * kernel's reason (ENODEV: no such link). */
#pragma once

#include "error.h"

#include <stdbool.h>
#include <sys/types.h>

struct netlink;

#define LINK_ALIAS_SIZE 128
#define LINK_MAC_SIZE 6

struct link_info {
	int index;
	char name[16];
	unsigned mtu;
	int master; /* 0: none */
	unsigned flags;
	char kind[16];		     /* "bridge", "tun", ... or "" */
	char alias[LINK_ALIAS_SIZE]; /* IFLA_IFALIAS, "" when none */
	bool has_owner;
	uid_t owner;	 /* a tun/tap's owner, when has_owner (its holder can change it) */
	bool persistent; /* a tun/tap that outlives its fds (its holder can change it) */
	bool carrier;	 /* a tun/tap: some process holds it (the tun driver sets it;
			   its holder may clear it, TUNSETCARRIER) */
};

/* What link_change sets; a field left 0/NULL is left as it is. */
struct link_change {
	const char *name;
	const char *alias;
	const unsigned char *mac; /* LINK_MAC_SIZE bytes */
	unsigned mtu;
	int master;
	bool up;
	bool no_ipv6_addresses; /* no link-local address: a bridge port needs none */
};

/* Opens and binds the rtnetlink socket (needs no privilege, but is done
 * before the drop so that the sandbox never has to allow socket()), as fd
 * number at (-1: any). */
struct netlink *netlink_open(int at, struct error *err);
int netlink_fd(const struct netlink *nl);

int link_get(struct netlink *nl, const char *name, struct link_info *info, struct error *err);
/* Calls visit for every tun and tap device in the current network
 * namespace, and no other link. */
int tap_dump(struct netlink *nl, void (*visit)(const struct link_info *info, void *data),
	     void *data, struct error *err);
/* Calls visit for every port of the bridge (index), and no other link. */
int port_dump(struct netlink *nl, int bridge,
	      void (*visit)(const struct link_info *info, void *data), void *data,
	      struct error *err);
/* Creates a bridge with a fixed MAC (so that it never takes a port's), up. */
int bridge_create(struct netlink *nl, const char *name, const unsigned char *mac,
		  struct error *err);
int link_delete(struct netlink *nl, int index, struct error *err);
int link_delete_name(struct netlink *nl, const char *name, struct error *err);
/* One RTM_NEWLINK to the link index (or, when index is 0, the link called
 * by_name; change->name must then be NULL): the kernel applies MAC, MTU,
 * name, alias, up, master in that order and stops at the first failure
 * (errno EEXIST: the name is taken). */
int link_change(struct netlink *nl, int index, const char *by_name,
		const struct link_change *change, struct error *err);
/* Adds ADDR/PREFIX (IPv4 or IPv6) to the link; one already there is fine. */
int addr_add(struct netlink *nl, int index, const char *cidr, struct error *err);
