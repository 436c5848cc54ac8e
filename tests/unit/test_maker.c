/* How vm-netd tells whom it made a tap for: the alias and the pending name,
 * written and read back, and what is not one of its taps. */
#include "maker.h"

#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static struct link_info tun(const char *name, const char *alias)
{
	struct link_info link = {.index = 7};
	snprintf(link.name, sizeof(link.name), "%s", name);
	snprintf(link.kind, sizeof(link.kind), "tun");
	snprintf(link.alias, sizeof(link.alias), "%s", alias);
	return link;
}

Test(maker, the_alias_says_uid_machine_and_bridge)
{
	char alias[LINK_ALIAS_SIZE];
	maker_alias(alias, sizeof(alias), 1001, 7, "br0");
	cr_expect_str_eq(alias, "vm-netd uid=1001 machine=07 bridge=br0");
	struct link_info link = tun("vm07t0", alias);
	struct tap_maker m;
	cr_assert(maker_of(&link, &m));
	cr_expect_eq(m.uid, 1001);
	cr_expect_eq(m.machine, 7);
	cr_expect_str_eq(m.bridge, "br0");
}

Test(maker, a_pending_tap_says_whose_it_is_and_for_which_machine)
{
	char name[16];
	maker_pending_name(name, sizeof(name), 1001, 7, 4194303);
	cr_expect_str_eq(name, "v0700000v93vvvv");
	struct link_info link = tun(name, "");
	struct tap_maker m;
	cr_assert(maker_of(&link, &m));
	cr_expect_eq(m.uid, 1001);
	cr_expect_eq(m.machine, 7);
	cr_expect_str_eq(m.bridge, "", "the bridge is not known yet");
}

Test(maker, pending_names_fit_every_uid_and_pid)
{
	char name[16];
	maker_pending_name(name, sizeof(name), (uid_t)UINT32_MAX - 1, 99, 4194303);
	cr_expect_eq(strlen(name), 15, "%s", name);
	struct link_info link = tun(name, "");
	struct tap_maker m;
	cr_assert(maker_of(&link, &m), "%s", name);
	cr_expect_eq(m.uid, (uid_t)UINT32_MAX - 1);
	cr_expect_eq(m.machine, 99);
	char other[16];
	maker_pending_name(other, sizeof(other), 1001, 7, 4194302);
	cr_expect_str_neq(other, "v0700000v93vvvv", "another request of the same user");
}

Test(maker, anything_else_is_not_vm_netds)
{
	struct tap_maker m;
	struct link_info owned_by_root = tun("vm07t0", "");
	cr_expect(!maker_of(&owned_by_root, &m), "a vm name without an alias");
	struct link_info sloppy = tun("vm07t0", "vm-netd uid=1001 machine=7 bridge=br0");
	cr_expect(!maker_of(&sloppy, &m), "not the exact spelling");
	struct link_info trailing = tun("vm07t0", "vm-netd uid=1001 machine=07 bridge=br0 x");
	cr_expect(!maker_of(&trailing, &m), "more after the bridge");
	struct link_info bridge = tun("vm07t0", "vm-netd uid=1001 machine=07 bridge=br0");
	snprintf(bridge.kind, sizeof(bridge.kind), "bridge");
	cr_expect(!maker_of(&bridge, &m), "not a tun");
	struct link_info upper = tun("v0700000V93vvvv", "");
	cr_expect(!maker_of(&upper, &m), "a pending name in another spelling");
	struct link_info too_big = tun("v07400000000000", "");
	cr_expect(!maker_of(&too_big, &m), "a uid over 32 bits");
	struct link_info short_name = tun("v0700000v93vvv", "");
	cr_expect(!maker_of(&short_name, &m), "a digit short");
}

Test(maker, tap_macs_are_high_and_locally_administered)
{
	unsigned char mac[LINK_MAC_SIZE];
	maker_tap_mac(mac, 1001, 12345);
	cr_expect_eq(mac[0], 0xfe);
	cr_expect_eq(mac[0] & 1, 0, "unicast");
}
