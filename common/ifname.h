/* The rules for network interface names, shared by vm and vm-netd.
 *
 * The kernel's rules (dev_valid_name): 1-15 bytes, no '/', no white space,
 * not "." or "..". This project is stricter, because names end up in
 * policies, logs and shell commands: only ASCII letters, digits, '_', '-'
 * and '.', and no "..". A '%' in particular never reaches the kernel, which
 * would expand "%d" into a number of its choosing. */
#pragma once

#include "error.h"

#include <stdbool.h>
#include <stddef.h>

#define IFNAME_MAX 15 /* bytes, without the NUL (IFNAMSIZ - 1) */

/* True when name is a safe interface name; else err says why (the name is
 * shown escaped, since it may hold anything). */
bool ifname_valid(const char *name, struct error *err);

/* Taps are named vm<ID>t<n>: ID the two-digit machine ID, n from 0 to 99. */
#define IFNAME_TAP_MAX_INDEX 99
/* Writes the tap name into buf (at least IFNAME_MAX + 1 bytes). */
void ifname_tap(char *buf, unsigned machine_id, unsigned index);
/* True when name is a tap name of this project; gives its machine ID and
 * index when the pointers are not NULL. */
bool ifname_is_tap(const char *name, unsigned *machine_id, unsigned *index);

/* Copies up to n bytes of s into buf as printable ASCII, every other byte
 * (and '\\', '"', space) as \xHH, for messages and logs. */
void ifname_escape(char *buf, size_t size, const char *s, size_t n);
