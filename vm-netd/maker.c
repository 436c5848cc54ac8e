#include "maker.h"

#include <stdio.h>
#include <string.h>

void maker_pending_name(char *buf, size_t size, uid_t uid, pid_t pid)
{
	snprintf(buf, size, "v%08x%06x", (unsigned)uid, (unsigned)pid & 0xffffffu);
}

void maker_alias(char *buf, size_t size, uid_t uid, unsigned machine, const char *bridge)
{
	snprintf(buf, size, "vm-netd uid=%u machine=%02u bridge=%s", (unsigned)uid, machine,
		 bridge);
}

void maker_tap_mac(unsigned char mac[LINK_MAC_SIZE], uid_t uid, pid_t pid)
{
	unsigned p = (unsigned)pid, u = (unsigned)uid;
	unsigned char bytes[LINK_MAC_SIZE] = {0xfe,
					      (unsigned char)(p >> 16),
					      (unsigned char)(p >> 8),
					      (unsigned char)p,
					      (unsigned char)(u >> 8),
					      (unsigned char)u};
	memcpy(mac, bytes, LINK_MAC_SIZE);
}

static bool parse_alias(const char *alias, struct tap_maker *m)
{
	unsigned uid, machine;
	char bridge[16], again[LINK_ALIAS_SIZE];
	if (sscanf(alias, "vm-netd uid=%u machine=%u bridge=%15s", &uid, &machine, bridge) != 3 ||
	    machine > 99)
		return false;
	/* Only the exact spelling we write. */
	maker_alias(again, sizeof(again), uid, machine, bridge);
	if (strcmp(again, alias))
		return false;
	*m = (struct tap_maker){.uid = uid, .machine = (int)machine};
	snprintf(m->bridge, sizeof(m->bridge), "%s", bridge);
	return true;
}

static bool parse_pending_name(const char *name, struct tap_maker *m)
{
	unsigned uid, pid;
	char again[16];
	if (strlen(name) != 15 || sscanf(name, "v%8x%6x", &uid, &pid) != 2)
		return false;
	maker_pending_name(again, sizeof(again), uid, (pid_t)pid);
	if (strcmp(again, name))
		return false;
	*m = (struct tap_maker){.uid = uid, .machine = -1};
	return true;
}

bool maker_of(const struct link_info *link, struct tap_maker *m)
{
	if (strcmp(link->kind, "tun"))
		return false;
	return parse_alias(link->alias, m) ||
	       (!link->alias[0] && parse_pending_name(link->name, m));
}
