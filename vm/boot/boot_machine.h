/* One listed machine at boot or shutdown, handled as its owner: vm boot runs
 * `vm start`, `vm stop` or `vm status` for it as the owner (groups, gid, uid,
 * the owner's HOME/USER/LOGNAME/XDG_RUNTIME_DIR, VM_HOME = the machine
 * directory), within the machine's time-out. Root never reads anything in
 * the owner's directory. */
#pragma once

#include "boot/bootlist.h"
#include "strbuf.h"

#include <stdbool.h>

enum boot_action { BOOT_START, BOOT_STOP, BOOT_STATUS };

struct boot_context {
	const char *vm_path;   /* this very vm program, run as the owner */
	const char *state_dir; /* root's record of the states saved at shutdown */
	bool verbose;
};

/* What a machine's turn has to tell, for the command to print, each in one
 * piece (machines are handled in parallel): lines for stdout, and errors,
 * one a line ("DIR (OWNER): message"). */
struct boot_outcome {
	struct strbuf out;
	struct strbuf errors;
};

/* Does action for the machine, says how it went in outcome (which the
 * caller frees with boot_outcome_free) and to syslog. Returns 0 when it
 * worked (for status: when the machine runs), else -1. */
int boot_machine(const struct boot_context *ctx, const struct boot_entry *entry,
		 enum boot_action action, struct boot_outcome *outcome);
void boot_outcome_free(struct boot_outcome *outcome);
