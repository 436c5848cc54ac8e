/* The kernel boundary for links: rtnetlink through libmnl, one function per
 * operation, each checking the kernel's answer. On failure errno holds the
 * kernel's reason (ENODEV: no such link). */
#pragma once

#include "error.h"

#include <stdbool.h>
#include <sys/types.h>

struct netlink;

struct link_info {
	int index;
	char name[16];
	unsigned mtu;
	int master; /* 0: none */
	unsigned flags;
	char kind[16]; /* "bridge", "tun", ... or "" */
	bool has_owner;
	uid_t owner; /* a tun/tap's owner, when has_owner */
};

/* Opens and binds the rtnetlink socket (needs no privilege, but is done
 * before the drop so that the sandbox never has to allow socket()). */
struct netlink *netlink_open(struct error *err);
int netlink_fd(const struct netlink *nl);

int link_get(struct netlink *nl, const char *name, struct link_info *info, struct error *err);
/* Calls visit for every link in the current network namespace. */
int link_dump(struct netlink *nl, void (*visit)(const struct link_info *info, void *data),
	      void *data, struct error *err);
int bridge_create(struct netlink *nl, const char *name, struct error *err);
int link_delete(struct netlink *nl, int index, struct error *err);
int link_set_master(struct netlink *nl, int index, int master, struct error *err);
int link_set_mtu(struct netlink *nl, int index, unsigned mtu, struct error *err);
int link_set_up(struct netlink *nl, int index, struct error *err);
/* Adds ADDR/PREFIX (IPv4 or IPv6) to the link. */
int addr_add(struct netlink *nl, int index, const char *cidr, struct error *err);
