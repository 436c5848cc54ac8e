/* vm net: what vm-netd's policy grants you, asked of vm-netd itself (the
 * policy file may be unreadable to users, and the helper knows your groups
 * and taps the way it will count them). */
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "log.h"
#include "net/netclient.h"

#include <stdio.h>

static const char net_usage[] =
    "Usage: vm net [-v|--verbose]\n"
    "\n"
    "Shows the bridges vm-netd's policy lets you put machines on, how many taps\n"
    "you may have on each, and how many you have now. 'vm run' and 'vm start'\n"
    "use VM_NET_BRIDGE (default br0); --bridge also lets vm-netd create a bridge\n"
    "the policy declares 'create'. Without a grant, use --nat.\n";

static void print_grants(const struct netd_reply *reply)
{
	printf("vm-netd's policy %s grants %s:\n", reply->policy, reply->user);
	printf("  %-15s %5s %7s  %s\n", "BRIDGE", "QUOTA", "IN USE", "STATE");
	for (uint32_t i = 0; i < reply->ngrants; i++) {
		const struct netd_grant *g = &reply->grants[i];
		const char *state = g->flags & NETD_GRANT_EXISTS ? "ready"
				    : g->flags & NETD_GRANT_CREATE
					? "missing; 'vm start --bridge' creates it"
					: "missing; ask your admin to create it";
		printf("  %-15s %5u %7u  %s\n", g->bridge, g->quota, g->used, state);
	}
}

int cmd_net(int argc, char **argv)
{
	int parsed = cli_parse_help_verbose("net", net_usage, true, argc, argv);
	if (parsed >= 0)
		return parsed;
	struct netd_reply reply;
	struct error err;
	log_debug("asking %s", netclient_helper_path());
	if (netclient_query(&reply, &err) < 0) {
		log_error("%s", err.msg);
		return 1;
	}
	if (reply.ngrants == 0) {
		printf("vm-netd's policy %s grants %s no bridge: ask your admin to add "
		       "'allow %s BRIDGE 1' to it, or use 'vm run --nat'.\n",
		       reply.policy, reply.user, reply.user);
		return 0;
	}
	print_grants(&reply);
	return 0;
}
