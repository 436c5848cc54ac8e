/* A machine's configuration: where its directory is and every variable, from
 * the built-in defaults, the environment, the global vmrc and the machine's
 * .vmrc, in that order of precedence (lowest first). */
#pragma once

#include "config/varmap.h"
#include "error.h"

struct config {
	struct vars vars;
	char *calling_dir; /* where vm was called from */
	char *home;	   /* the machine directory, absolute; NULL before config_load_machine */
	char *global_vmrc; /* the global vmrc that was read */
};

/* Defaults, the environment and the global vmrc. Enough for commands that
 * work on no machine in particular. */
int config_load_global(struct config *cfg, char **envp, struct error *err);
/* Finds the machine directory (the VM_HOME rules), changes into it, reads
 * its .vmrc, checks it and derives the rest. Reports each missing or invalid
 * variable, then fails with "exiting after N errors". */
int config_load_machine(struct config *cfg, struct error *err);
/* Both of the above. */
int config_load(struct config *cfg, char **envp, struct error *err);

/* A variable's value; NULL when missing (unset or empty). */
const char *config_get(const struct config *cfg, const char *name);
/* A file of vm's shared data: under VM_LIB when set, else the installed data
 * directory. The caller frees it. */
char *config_data_path(const struct config *cfg, const char *file);
void config_free(struct config *cfg);
