/* Every variable vm knows, one row each: its type and allowed values, its
 * built-in default, and whether it is mandatory or derived. The one table
 * behind the defaults, the checks, variables.txt and vmrc(5) (tests hold the
 * last two, and the global vmrc, to it). Adding a variable is adding a row. */
#pragma once

#include "error.h"

#include <stdbool.h>
#include <stddef.h>

enum variable_kind {
	VARIABLE_SETTING, /* the user sets it; the default applies when unset */
	VARIABLE_DERIVED, /* vm computes it; shown to shells and scripts */
};

enum variable_type {
	VARIABLE_TEXT,	  /* any text */
	VARIABLE_BOOL,	  /* yes or no */
	VARIABLE_NOT_NO,  /* the original's reading: anything but "no" means yes */
	VARIABLE_ENUM,	  /* one of the words in allowed */
	VARIABLE_INTEGER, /* a whole number from min to max (digits: exactly so many) */
	VARIABLE_WORD,	  /* one word of letters, digits, '.', '_', '-' (a QEMU option value) */
	VARIABLE_NAME,	  /* usable in a file name: no '/', no white space, not . or .. */
	VARIABLE_WORDS,	  /* shell-like words (quotes and backslashes), never run */
	VARIABLE_PATH,	  /* a file or directory */
};

struct variable {
	const char *name;
	enum variable_type type;
	/* Built-in default (NULL: none). VM_CONFIG, VM_FMT and VM_SAVE_DELAY have
	 * none here: as in the original, only the global vmrc gives them. */
	const char *fallback;
	const char *allowed; /* VARIABLE_ENUM: the words, space-separated */
	long long min, max;  /* VARIABLE_INTEGER */
	int digits;	     /* VARIABLE_INTEGER: exactly this many digits (0: any) */
	enum variable_kind kind;
	bool mandatory;
	const char *summary;
};

extern const struct variable variables[];
extern const size_t variables_count;

/* The row of name; NULL for a variable vm does not know. */
const struct variable *variable_find(const char *name);
/* The known variable that name, a VM_ name vm does not know, most likely
 * misspells (VM_MACHINE_MEN: VM_MACHINE_MEM): the nearest within two edits
 * (a letter changed, added, removed, or two swapped; case aside), or one
 * edit when the part after VM_ is shorter than 6. NULL for a known name, a
 * name not starting with VM_, or one near none: users name their own. */
const struct variable *variable_near(const char *name);
/* Checks value against the row's type: fails with "NAME must be ..., not
 * 'value'" (the allowed values named). */
int variable_check(const struct variable *v, const char *value, struct error *err);
/* What the type allows, in words ("yes or no", "a whole number from 1 to
 * 100000"); NULL for text and paths, which are not checked. The caller
 * frees it. */
char *variable_allowed(const struct variable *v);
/* A value's meaning as a yes/no (VARIABLE_BOOL or VARIABLE_NOT_NO); NULL is
 * the row's default. */
bool variable_bool(const struct variable *v, const char *value);
