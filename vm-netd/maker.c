#include "maker.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Digits 0-9a-v: the name must fit the kernel's 15 bytes, and the pid
 * (below 2^22, the kernel's PID_MAX_LIMIT) must be in it too, so that two
 * requests of one user never share a name. */
static const char base32[] = "0123456789abcdefghijklmnopqrstuv";

enum { UID_DIGITS = 7, PID_DIGITS = 5 };

static void put_base32(char *out, unsigned long long value, int digits)
{
	for (int i = digits - 1; i >= 0; i--, value >>= 5)
		out[i] = base32[value & 31];
}

void maker_pending_name(char *buf, size_t size, uid_t uid, unsigned machine, pid_t pid)
{
	char uid_digits[UID_DIGITS + 1] = "", pid_digits[PID_DIGITS + 1] = "";
	put_base32(uid_digits, (unsigned)uid, UID_DIGITS);
	put_base32(pid_digits, (unsigned)pid & ((1u << (5 * PID_DIGITS)) - 1), PID_DIGITS);
	snprintf(buf, size, "v%02u%s%s", machine % 100, uid_digits, pid_digits);
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

static bool get_base32(const char *in, int digits, unsigned long long *value)
{
	*value = 0;
	for (int i = 0; i < digits; i++) {
		const char *digit = in[i] ? strchr(base32, in[i]) : NULL;
		if (!digit)
			return false;
		*value = *value << 5 | (unsigned long long)(digit - base32);
	}
	return true;
}

static bool parse_pending_name(const char *name, struct tap_maker *m)
{
	unsigned long long uid, pid;
	if (strlen(name) != 3 + UID_DIGITS + PID_DIGITS || name[0] != 'v' ||
	    !isdigit((unsigned char)name[1]) || !isdigit((unsigned char)name[2]) ||
	    !get_base32(name + 3, UID_DIGITS, &uid) || uid > UINT32_MAX ||
	    !get_base32(name + 3 + UID_DIGITS, PID_DIGITS, &pid))
		return false;
	*m = (struct tap_maker){.uid = (uid_t)uid, .machine = (name[1] - '0') * 10 + name[2] - '0'};
	return true;
}

bool maker_of(const struct link_info *link, struct tap_maker *m)
{
	if (strcmp(link->kind, "tun"))
		return false;
	return parse_alias(link->alias, m) ||
	       (!link->alias[0] && parse_pending_name(link->name, m));
}
