/* One listed machine at boot or shutdown, handled as its owner: vm boot runs
 * `vm start`, `vm stop` or `vm status` for it as the owner (groups, gid, uid,
 * the owner's HOME/USER/LOGNAME/XDG_RUNTIME_DIR, VM_HOME = the machine
 * directory), within the machine's time-out. Root never reads anything in
 * the owner's directory. */
#pragma once

#include "boot/bootlist.h"

#include <stdbool.h>

enum boot_action { BOOT_START, BOOT_STOP, BOOT_STATUS };

struct boot_context {
	const char *vm_path;   /* this very vm program, run as the owner */
	const char *state_dir; /* root's record of the states saved at shutdown */
	bool verbose;
};

/* Does action for the machine and reports the outcome on stdout/stderr (in
 * one piece, since machines are handled in parallel) and to syslog. Returns
 * 0 when it worked (for status: when the machine runs), else -1. */
int boot_machine(const struct boot_context *ctx, const struct boot_entry *entry,
		 enum boot_action action);
