#include "netlink.h"

#include "xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Large enough for a link dump's messages (libmnl's advice for dumps). */
#define NL_BUFFER_SIZE 32768
/* A request: a header and a few short attributes. */
#define NL_REQUEST_SIZE 4096

struct netlink {
	struct mnl_socket *sock;
	unsigned portid;
	unsigned seq;
};

struct netlink *netlink_open(int at, struct error *err)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd >= 0 && at >= 0 && fd != at) {
		int moved = dup3(fd, at, O_CLOEXEC);
		close(fd);
		fd = moved;
	}
	struct mnl_socket *sock = fd >= 0 ? mnl_socket_fdopen(fd) : NULL;
	if (!sock) {
		error_errno(err, "cannot open a netlink socket");
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (mnl_socket_bind(sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		error_errno(err, "cannot bind the netlink socket");
		mnl_socket_close(sock);
		return NULL;
	}
	struct netlink *nl = xcalloc(1, sizeof(*nl));
	nl->sock = sock;
	nl->portid = mnl_socket_get_portid(sock);
	nl->seq = (unsigned)time(NULL);
	return nl;
}

int netlink_fd(const struct netlink *nl)
{
	return mnl_socket_get_fd(nl->sock);
}

/* Sends msg and runs cb over the answer until the kernel's ACK, NLMSG_DONE,
 * or cb saying stop. */
static int transact(struct netlink *nl, struct nlmsghdr *msg, mnl_cb_t cb, void *data)
{
	/* Static, not on the stack: the answers use its first page or two, and
	 * the callbacks then run just below the caller's frame, not 32 KiB
	 * deeper, where each new stack page is one more page fault (tens of
	 * microseconds on a virtual machine). The helper has one thread. */
	static char buf[NL_BUFFER_SIZE];
	msg->nlmsg_seq = ++nl->seq;
	if (mnl_socket_sendto(nl->sock, msg, msg->nlmsg_len) < 0)
		return -1;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
		if (n < 0)
			return -1;
		int rc = mnl_cb_run(buf, (size_t)n, msg->nlmsg_seq, nl->portid, cb, data);
		if (rc <= MNL_CB_STOP)
			return rc;
	}
}

/* One request at a time, in one static buffer, as the answers: no 4 KiB
 * on the stack per operation (a caller's small RLIMIT_STACK must not end
 * the helper between its grant and its record). */
static struct nlmsghdr *new_message(int type, unsigned flags)
{
	static char buf[NL_REQUEST_SIZE];
	struct nlmsghdr *msg = mnl_nlmsg_put_header(buf);
	msg->nlmsg_type = (uint16_t)type;
	msg->nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
	return msg;
}

static struct nlmsghdr *link_message(int type, unsigned flags, int index)
{
	struct nlmsghdr *msg = new_message(type, flags);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(msg, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = index;
	return msg;
}

/* An RTM_GETLINK: the link's counters are nothing to us (a kernel that
 * does not know the bit ignores it and sends them). */
static struct nlmsghdr *link_query(unsigned flags)
{
	struct nlmsghdr *msg = link_message(RTM_GETLINK, flags, 0);
	mnl_attr_put_u32(msg, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	return msg;
}

static void parse_tun_data(const struct nlattr *data, struct link_info *info)
{
	const struct nlattr *attr;
	mnl_attr_for_each_nested(attr, data)
	{
		int type = mnl_attr_get_type(attr);
		if (type == IFLA_TUN_OWNER && mnl_attr_validate(attr, MNL_TYPE_U32) >= 0) {
			info->has_owner = true;
			info->owner = (uid_t)mnl_attr_get_u32(attr);
		} else if (type == IFLA_TUN_PERSIST && mnl_attr_validate(attr, MNL_TYPE_U8) >= 0) {
			info->persistent = mnl_attr_get_u8(attr) != 0;
		}
	}
}

static void parse_linkinfo(const struct nlattr *linkinfo, struct link_info *info)
{
	const struct nlattr *attr, *data = NULL;
	mnl_attr_for_each_nested(attr, linkinfo)
	{
		int type = mnl_attr_get_type(attr);
		if (type == IFLA_INFO_KIND && mnl_attr_validate(attr, MNL_TYPE_STRING) >= 0)
			snprintf(info->kind, sizeof(info->kind), "%s", mnl_attr_get_str(attr));
		else if (type == IFLA_INFO_DATA && mnl_attr_validate(attr, MNL_TYPE_NESTED) >= 0)
			data = attr;
	}
	if (data && !strcmp(info->kind, "tun"))
		parse_tun_data(data, info);
}

static void parse_link(const struct nlmsghdr *msg, struct link_info *info)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(msg);
	*info = (struct link_info){.index = ifi->ifi_index, .flags = ifi->ifi_flags};
	const struct nlattr *attr;
	mnl_attr_for_each(attr, msg, sizeof(*ifi))
	{
		int type = mnl_attr_get_type(attr);
		if (type == IFLA_IFNAME && mnl_attr_validate(attr, MNL_TYPE_STRING) >= 0)
			snprintf(info->name, sizeof(info->name), "%s", mnl_attr_get_str(attr));
		else if (type == IFLA_MTU && mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
			info->mtu = mnl_attr_get_u32(attr);
		else if (type == IFLA_MASTER && mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
			info->master = (int)mnl_attr_get_u32(attr);
		else if (type == IFLA_CARRIER && mnl_attr_validate(attr, MNL_TYPE_U8) >= 0)
			info->carrier = mnl_attr_get_u8(attr) != 0;
		else if (type == IFLA_IFALIAS && mnl_attr_validate(attr, MNL_TYPE_STRING) >= 0)
			snprintf(info->alias, sizeof(info->alias), "%s", mnl_attr_get_str(attr));
		else if (type == IFLA_LINKINFO && mnl_attr_validate(attr, MNL_TYPE_NESTED) >= 0)
			parse_linkinfo(attr, info);
	}
}

/* A non-dump RTM_GETLINK answer has no NLMSG_DONE: stop after the one link. */
static int one_link_cb(const struct nlmsghdr *msg, void *data)
{
	if (msg->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	parse_link(msg, data);
	return MNL_CB_STOP;
}

int link_get(struct netlink *nl, const char *name, struct link_info *info, struct error *err)
{
	struct nlmsghdr *msg = link_query(0);
	mnl_attr_put_strz(msg, IFLA_IFNAME, name);
	*info = (struct link_info){0};
	if (transact(nl, msg, one_link_cb, info) < 0)
		return error_errno(err, "link %s", name);
	return 0;
}

/* Which links a dump asks for: of this kind, enslaved to this master
 * (NULL, 0: any). */
struct link_filter {
	const char *kind;
	int master;
};

struct dump_visitor {
	const struct link_filter *filter;
	void (*visit)(const struct link_info *info, void *data);
	void *data;
};

/* Only the links the filter asks for, whether or not the kernel filtered. */
static int dump_cb(const struct nlmsghdr *msg, void *data)
{
	const struct dump_visitor *v = data;
	const struct link_filter *f = v->filter;
	struct link_info info;
	if (msg->nlmsg_type == RTM_NEWLINK) {
		parse_link(msg, &info);
		if ((!f->kind || !strcmp(info.kind, f->kind)) &&
		    (!f->master || info.master == f->master))
			v->visit(&info, v->data);
	}
	return MNL_CB_OK;
}

/* The kernel sends only the links the filter asks for, so a host's other
 * links (a container host has dozens) cost nothing; one too old to filter
 * sends them all, and dump_cb passes over them. */
static int link_dump(struct netlink *nl, const struct link_filter *f,
		     void (*visit)(const struct link_info *info, void *data), void *data,
		     struct error *err)
{
	struct nlmsghdr *msg = link_query(NLM_F_DUMP);
	if (f->kind) {
		struct nlattr *linkinfo = mnl_attr_nest_start(msg, IFLA_LINKINFO);
		mnl_attr_put_strz(msg, IFLA_INFO_KIND, f->kind);
		mnl_attr_nest_end(msg, linkinfo);
	}
	if (f->master)
		mnl_attr_put_u32(msg, IFLA_MASTER, (uint32_t)f->master);
	struct dump_visitor v = {f, visit, data};
	if (transact(nl, msg, dump_cb, &v) < 0)
		return error_errno(err, "cannot list the network links");
	return 0;
}

int tap_dump(struct netlink *nl, void (*visit)(const struct link_info *info, void *data),
	     void *data, struct error *err)
{
	return link_dump(nl, &(struct link_filter){.kind = "tun"}, visit, data, err);
}

int port_dump(struct netlink *nl, int bridge,
	      void (*visit)(const struct link_info *info, void *data), void *data,
	      struct error *err)
{
	return link_dump(nl, &(struct link_filter){.master = bridge}, visit, data, err);
}

/* Changes sent with NLM_F_ACK: the kernel's ACK ends the exchange. */
static int change(struct netlink *nl, struct nlmsghdr *msg)
{
	msg->nlmsg_flags |= NLM_F_ACK;
	return transact(nl, msg, NULL, NULL) < 0 ? -1 : 0;
}

int bridge_create(struct netlink *nl, const char *name, const unsigned char *mac, struct error *err)
{
	struct nlmsghdr *msg = link_message(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(msg);
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	mnl_attr_put_strz(msg, IFLA_IFNAME, name);
	mnl_attr_put(msg, IFLA_ADDRESS, LINK_MAC_SIZE, mac);
	struct nlattr *linkinfo = mnl_attr_nest_start(msg, IFLA_LINKINFO);
	mnl_attr_put_strz(msg, IFLA_INFO_KIND, "bridge");
	mnl_attr_nest_end(msg, linkinfo);
	if (change(nl, msg) < 0)
		return error_errno(err, "cannot create bridge %s", name);
	return 0;
}

int link_delete(struct netlink *nl, int index, struct error *err)
{
	struct nlmsghdr *msg = link_message(RTM_DELLINK, 0, index);
	if (change(nl, msg) < 0)
		return error_errno(err, "cannot delete link %d", index);
	return 0;
}

int link_delete_name(struct netlink *nl, const char *name, struct error *err)
{
	struct nlmsghdr *msg = link_message(RTM_DELLINK, 0, 0);
	mnl_attr_put_strz(msg, IFLA_IFNAME, name);
	if (change(nl, msg) < 0)
		return error_errno(err, "cannot delete link %s", name);
	return 0;
}

int link_change(struct netlink *nl, int index, const char *by_name, const struct link_change *c,
		struct error *err)
{
	struct nlmsghdr *msg = link_message(RTM_NEWLINK, 0, index);
	if (!index)
		mnl_attr_put_strz(msg, IFLA_IFNAME, by_name);
	if (c->up) {
		struct ifinfomsg *ifi = mnl_nlmsg_get_payload(msg);
		ifi->ifi_flags = IFF_UP;
		ifi->ifi_change = IFF_UP;
	}
	if (c->mac)
		mnl_attr_put(msg, IFLA_ADDRESS, LINK_MAC_SIZE, c->mac);
	if (c->mtu)
		mnl_attr_put_u32(msg, IFLA_MTU, c->mtu);
	if (c->name)
		mnl_attr_put_strz(msg, IFLA_IFNAME, c->name);
	if (c->alias)
		mnl_attr_put_strz(msg, IFLA_IFALIAS, c->alias);
	if (c->no_ipv6_addresses) {
		struct nlattr *af = mnl_attr_nest_start(msg, IFLA_AF_SPEC);
		struct nlattr *inet6 = mnl_attr_nest_start(msg, AF_INET6);
		mnl_attr_put_u8(msg, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE);
		mnl_attr_nest_end(msg, inet6);
		mnl_attr_nest_end(msg, af);
	}
	if (c->master)
		mnl_attr_put_u32(msg, IFLA_MASTER, (uint32_t)c->master);
	if (change(nl, msg) < 0)
		return index ? error_errno(err, "cannot set up link %d%s%s", index,
					   c->name ? " as " : "", c->name ? c->name : "")
			     : error_errno(err, "cannot set up link %s", by_name);
	return 0;
}

static int parse_cidr(const char *cidr, int *family, unsigned char addr[16], unsigned *prefix)
{
	char host[64];
	const char *slash = strchr(cidr, '/');
	if (!slash || (size_t)(slash - cidr) >= sizeof(host))
		return -1;
	memcpy(host, cidr, (size_t)(slash - cidr));
	host[slash - cidr] = '\0';
	*family = strchr(host, ':') ? AF_INET6 : AF_INET;
	*prefix = (unsigned)atoi(slash + 1);
	return inet_pton(*family, host, addr) == 1 ? 0 : -1;
}

int addr_add(struct netlink *nl, int index, const char *cidr, struct error *err)
{
	int family;
	unsigned char addr[16];
	unsigned prefix;
	if (parse_cidr(cidr, &family, addr, &prefix) < 0)
		return error_set(err, "'%s' is not an ADDRESS/PREFIX", cidr);
	struct nlmsghdr *msg = new_message(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(msg, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)family;
	ifa->ifa_prefixlen = (uint8_t)prefix;
	ifa->ifa_index = (uint32_t)index;
	size_t len = family == AF_INET ? 4 : 16;
	mnl_attr_put(msg, IFA_LOCAL, len, addr);
	mnl_attr_put(msg, IFA_ADDRESS, len, addr);
	if (change(nl, msg) < 0 && errno != EEXIST)
		return error_errno(err, "cannot add address %s", cidr);
	return 0;
}
