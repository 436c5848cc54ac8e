/* The variables a machine is configured with: an ordered name -> value map.
 * It starts from the defaults and the environment, the vmrc files add to it,
 * and it becomes the environment of every program vm starts. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct var {
	char *name;
	char *value;
	bool exported; /* what a shell would export: from the environment, or marked export */
	char *origin;  /* where the value came from ("FILE:LINE", "the environment");
			  NULL: vm set it (a default, a derived value) */
};

struct vars {
	struct var *v;
	size_t n;
	size_t cap;
};

#define VARS_INIT                                                                                  \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

/* NULL when the variable is not set at all. */
const char *vars_get(const struct vars *vars, const char *name);
/* NULL when not set or set to "" (both count as missing). */
const char *vars_value(const struct vars *vars, const char *name);
void vars_set(struct vars *vars, const char *name, const char *value);
/* vars_set, remembering where the value came from (for messages); setting
 * the value it already has keeps its first origin. */
void vars_set_from(struct vars *vars, const char *name, const char *value, const char *origin);
/* Where the value of name came from; NULL when vm set it or it is unset. */
const char *vars_origin(const struct vars *vars, const char *name);
/* Sets name only when it is missing (unset or empty). */
void vars_set_default(struct vars *vars, const char *name, const char *value);
void vars_unset(struct vars *vars, const char *name);
/* Marks name for export (setting it to "" if it is not set), as the shell's
 * export does. Assignments keep the mark. */
void vars_export(struct vars *vars, const char *name);
/* The origin of what came from the process environment. */
#define VARS_FROM_ENVIRONMENT "the environment"
/* Adds every NAME=value of a process environment, marked exported (their
 * origin: VARS_FROM_ENVIRONMENT). */
void vars_import_environ(struct vars *vars, char **envp);
/* A fresh "NAME=value" array for execve; free with vars_free_environ. */
char **vars_environ(const struct vars *vars);
void vars_free_environ(char **envp);
/* A copy of from, in the same order, export marks included. */
void vars_copy(struct vars *to, const struct vars *from);
void vars_free(struct vars *vars);
/* True for a shell identifier: [A-Za-z_][A-Za-z0-9_]*. */
bool vars_name_valid(const char *name, size_t len);
