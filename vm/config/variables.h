/* Every variable vm knows: its built-in default and whether it is mandatory
 * or derived. The one table behind the defaults, the checks, variables.txt
 * and vmrc(5) (tests hold the last two to it). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum variable_kind {
	VARIABLE_SETTING, /* the user sets it; the default applies when unset */
	VARIABLE_DERIVED, /* vm computes it; shown to shells and scripts */
};

struct variable {
	const char *name;
	/* Built-in default (NULL: none). VM_CONFIG, VM_FMT and VM_SAVE_DELAY have
	 * none here: as in the original, only the global vmrc gives them. */
	const char *fallback;
	enum variable_kind kind;
	bool mandatory;
	const char *summary;
};

extern const struct variable variables[];
extern const size_t variables_count;
