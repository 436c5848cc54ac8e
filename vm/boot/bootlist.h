/* The machine list for boot-time start (<sysconfdir>/vm/machines): which
 * machine directories come up at boot, as which owner, what happens to each
 * at shutdown, and how long each may take. */
#pragma once

#include "error.h"

#include <stdbool.h>
#include <stddef.h>

/* The longest time-out a line may give. vm.service's stop time-out is set
 * above this plus BOOT_KILL_GRACE_S, so systemd never cuts a save short. */
#define BOOT_TIMEOUT_MAX_S 900
#define BOOT_TIMEOUT_DEFAULT_S 300
/* After a machine overran its time-out: how long `vm kill` may take. */
#define BOOT_KILL_GRACE_S 60

enum boot_shutdown {
	BOOT_SHUTDOWN_SAVE,	/* suspend the guest, save its state under save_name */
	BOOT_SHUTDOWN_POWEROFF, /* power the guest off */
};

struct boot_entry {
	char *dir;   /* absolute, no trailing '/' */
	char *owner; /* a user name */
	enum boot_shutdown shutdown;
	char *save_name; /* BOOT_SHUTDOWN_SAVE only */
	int timeout_s;
	bool nat; /* start with user-mode networking (vm start --nat) */
	int line;
};

struct boot_list {
	char *path;
	struct boot_entry *entries;
	size_t count;
	/* "FILE:LINE: reason" for each line that was refused; the other lines
	 * still count, so that one broken line stops no other machine. */
	char **problems;
	size_t problem_count;
};

/* Parses one line: 1 with *entry filled, 0 for a blank or comment line, -1
 * with the reason (without FILE:LINE) in err. */
int bootlist_parse_line(const char *text, struct boot_entry *entry, struct error *err);
/* Reads the list. Fails only when the file cannot be used at all: missing,
 * unreadable, or writable by someone other than root (whoever can write it
 * decides which user runs what). Refused lines go to list->problems. */
int bootlist_load(const char *path, struct boot_list *list, struct error *err);
/* Adds a parsed entry; refuses a directory listed twice. */
int bootlist_add(struct boot_list *list, struct boot_entry *entry, struct error *err);
/* The entry for a machine directory, or NULL. */
const struct boot_entry *bootlist_find(const struct boot_list *list, const char *dir);
void bootlist_free(struct boot_list *list);
void boot_entry_free(struct boot_entry *entry);
