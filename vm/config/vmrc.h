/* The .vmrc reader: the safe subset of shell assignments, read, never run.
 *
 * Accepted: NAME=value (several on a line), "export", # comments, blank lines,
 * unquoted / 'single' / "double" values, $NAME, ${NAME}, ${NAME:-word},
 * ${NAME-word}, a leading ~, backslash escapes and continuations, CRLF.
 * Refused with "FILE:LINE: reason": anything that would run a command or
 * redirect (command substitution, backticks, ; | & < > ( ), keywords), NUL
 * bytes, over-long lines and files, expansions adding up to over 1 MiB. */
#pragma once

#include "config/varmap.h"
#include "error.h"

#include <stddef.h>

#define VMRC_MAX_SIZE (256 * 1024)
#define VMRC_MAX_LINE_LENGTH 8192
#define VMRC_MAX_LINES 4096
/* What the $NAME expansions of one file may add up to. */
#define VMRC_MAX_EXPANSION (1024 * 1024)

/* Applies the assignments in text to vars; $NAME looks up vars as they are
 * at that point (the environment and the files read before). A refused text
 * changes no variable, not even those assigned before the refused line. */
int vmrc_parse(const char *path, const char *text, size_t len, struct vars *vars,
	       struct error *err);
/* Reads path (a regular file, within the size limit) and parses it. */
int vmrc_load(const char *path, struct vars *vars, struct error *err);
