/* A machine's configuration: where its directory is and every variable, from
 * the built-in defaults, the environment, the global vmrc and the machine's
 * .vmrc, in that order of precedence (lowest first). */
#pragma once

#include "config/varmap.h"
#include "error.h"
#include "strv.h"

#include <stdbool.h>

struct config {
	struct vars vars;
	char *calling_dir; /* where vm was called from */
	char *home;	   /* the machine directory, absolute; NULL before config_load_machine */
	char *global_vmrc; /* the global vmrc that was read */
	/* What the caller tells as warnings once the machine is loaded: a line
	 * each ("FILE:LINE: VM_MACHINE_MEN is not a vm variable; ..."). */
	struct strv warnings;
};

/* Defaults, the environment and the global vmrc. Enough for commands that
 * work on no machine in particular. */
int config_load_global(struct config *cfg, char **envp, struct error *err);
/* Finds the machine directory (the VM_HOME rules), changes into it, reads
 * its .vmrc, checks it and derives the rest. Reports each missing or invalid
 * variable, then fails with "exiting after N errors". A vmrc line setting a
 * VM_ name vm does not know but nearly does (a typo that leaves the setting
 * at its default) is a line in warnings, or in the error when it fails. */
int config_load_machine(struct config *cfg, struct error *err);
/* Both of the above. */
int config_load(struct config *cfg, char **envp, struct error *err);

/* The guest's MAC address, from its machine ID (VM_NET_MAC). */
#define CONFIG_MAC_FORMAT "DE:AD:BE:EF:%02u:11"

/* The accessors, one per type of the variable table (config/variables.h);
 * a value was checked against its row when the machine was loaded, and a
 * missing one (unset or empty) is the row's default.
 *
 * Text, file names, words of an allowed list: the value; NULL when missing
 * and without a default. Also for variables outside the table (SHELL). */
const char *config_get(const struct config *cfg, const char *name);
/* A yes/no variable (VM_USE_SNAPSHOTS: anything but "no" is yes). */
bool config_bool(const struct config *cfg, const char *name);
/* An integer variable; -1 when missing and without a default. */
long long config_int(const struct config *cfg, const char *name);
/* A words variable, split the way a shell would, appended to words. */
int config_words(const struct config *cfg, const char *name, struct strv *words, struct error *err);
/* A file of vm's shared data: under VM_LIB when set, else the installed data
 * directory. The caller frees it. */
char *config_data_path(const struct config *cfg, const char *file);
void config_free(struct config *cfg);
