/* Root's modes: check a policy, create the declared bridges at boot, list
 * the taps vm-netd made and who owns them. None of them is for users: a
 * setuid program must not read files or change links on a user's say. */
#include "netd.h"

#include "bridge.h"
#include "ifname.h"
#include "maker.h"
#include "netlink.h"

#include <errno.h>
#include <net/if.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "Usage: vm-netd --check [FILE]   validate a policy (default: the installed one)\n"
    "       vm-netd --setup          create the bridges the policy declares 'create'\n"
    "       vm-netd --list           show vm's taps and whom vm-netd made them for\n"
    "vm starts vm-netd itself for each tap; these modes are for root.\n";

static int check_policy(const char *path)
{
	struct policy policy;
	struct error err;
	if (policy_load(&policy, path, 0, &err) < 0) {
		fprintf(stderr, "vm-netd: %s\n", err.msg);
		return 1;
	}
	bool as_callers = works_as_its_caller();
	int problems = check_subjects(&policy, path, as_callers);
	if (!problems)
		printf("%s: OK: %zu bridges, %zu rules%s%s%s\n", path, policy.nbridges,
		       policy.nrules, policy.log ? ", audit log " : "",
		       policy.log ? policy.log : "",
		       as_callers ? "; vm-netd has file capabilities, and each user and group "
				    "the rules name can use them"
				  : "");
	policy_free(&policy);
	return problems ? 1 : 0;
}

static int setup_bridge(struct netlink *nl, const struct policy_bridge *b)
{
	struct error err;
	struct link_info link;
	bool made = false;
	int rc = link_get(nl, b->name, &link, &err);
	if (rc == 0 && strcmp(link.kind, "bridge")) {
		fprintf(stderr, "vm-netd: %s exists and is not a bridge\n", b->name);
		return 1;
	}
	if ((rc < 0 && (errno != ENODEV || bridge_make(nl, b, &link, &made, &err) < 0)) ||
	    bridge_ready(nl, b, &link, &err) < 0) {
		fprintf(stderr, "vm-netd: %s\n", err.msg);
		return 1;
	}
	printf("%s: %s%s%s\n", b->name, made ? "created" : "exists, up",
	       b->address[0] ? " with " : "", b->address);
	return 0;
}

static int setup_bridges(const char *path)
{
	struct policy policy;
	struct error err;
	struct netlink *nl;
	if (policy_load(&policy, path, 0, &err) < 0 || !(nl = netlink_open(-1, &err))) {
		fprintf(stderr, "vm-netd: %s\n", err.msg);
		return 1;
	}
	int failures = 0;
	for (size_t i = 0; i < policy.nbridges; i++)
		if (policy.bridges[i].create)
			failures += setup_bridge(nl, &policy.bridges[i]);
	policy_free(&policy);
	return failures ? 1 : 0;
}

struct tap_listing {
	struct netlink *nl;
	int count;
};

/* The maker, from the tap's alias: its owner is whatever its holder set. */
static void print_tap(const struct link_info *link, void *data)
{
	struct tap_listing *l = data;
	char master[IF_NAMESIZE] = "-", maker[64];
	struct tap_maker m;
	if (!ifname_is_tap(link->name, NULL, NULL) || !maker_of(link, &m))
		return;
	if (link->master && !if_indextoname((unsigned)link->master, master))
		snprintf(master, sizeof(master), "%d", link->master);
	struct passwd *pw = getpwuid(m.uid);
	if (pw)
		snprintf(maker, sizeof(maker), "%s", pw->pw_name);
	else
		snprintf(maker, sizeof(maker), "%u", (unsigned)m.uid);
	if (!l->count++)
		printf("%-15s %-15s %-16s %s\n", "TAP", "BRIDGE", "MADE FOR", "STATE");
	printf("%-15s %-15s %-16s %s%s\n", link->name, master, maker,
	       link->flags & IFF_UP ? "up" : "down",
	       link->persistent ? (link->carrier ? ", persistent" : ", persistent, unheld") : "");
}

static int list_taps(void)
{
	struct error err;
	struct tap_listing listing = {0};
	listing.nl = netlink_open(-1, &err);
	if (!listing.nl || tap_dump(listing.nl, print_tap, &listing, &err) < 0) {
		fprintf(stderr, "vm-netd: %s\n", err.msg);
		return 1;
	}
	if (!listing.count)
		printf("no vm taps\n");
	return 0;
}

int admin_main(int argc, char **argv, const struct netd_paths *paths)
{
	const char *mode = argv[1];
	if (!strcmp(mode, "-h") || !strcmp(mode, "--help")) {
		fputs(usage, stdout);
		return 0;
	}
	if (getuid() != 0) {
		fprintf(stderr, "vm-netd: %s is for root; vm starts vm-netd by itself\n", mode);
		return 1;
	}
	if (!strcmp(mode, "--check") && argc <= 3)
		return check_policy(argc == 3 ? argv[2] : paths->policy);
	if (!strcmp(mode, "--setup") && argc == 2)
		return setup_bridges(paths->policy);
	if (!strcmp(mode, "--list") && argc == 2)
		return list_taps();
	fprintf(stderr, "vm-netd: unknown arguments\n%s", usage);
	return 1;
}
