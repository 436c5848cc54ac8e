#include "config/varmap.h"

#include "xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static struct var *find(const struct vars *vars, const char *name)
{
	for (size_t i = 0; i < vars->n; i++)
		if (strcmp(vars->v[i].name, name) == 0)
			return &vars->v[i];
	return NULL;
}

const char *vars_get(const struct vars *vars, const char *name)
{
	struct var *var = find(vars, name);
	return var ? var->value : NULL;
}

const char *vars_value(const struct vars *vars, const char *name)
{
	const char *value = vars_get(vars, name);
	return value && value[0] ? value : NULL;
}

const char *vars_origin(const struct vars *vars, const char *name)
{
	struct var *var = find(vars, name);
	return var ? var->origin : NULL;
}

void vars_set_from(struct vars *vars, const char *name, const char *value, const char *origin)
{
	struct var *var = find(vars, name);
	/* Setting the same value again (the global vmrc's VM_X=${VM_X:-default}
	 * keeping the environment's) leaves it where it came from. */
	if (var && !strcmp(var->value, value))
		return;
	char *copy = xstrdup(value), *from = origin ? xstrdup(origin) : NULL;
	if (var) {
		free(var->value);
		free(var->origin);
		var->value = copy;
		var->origin = from;
		return;
	}
	if (vars->n == vars->cap) {
		vars->cap = vars->cap ? vars->cap * 2 : 64;
		vars->v = xrealloc(vars->v, vars->cap * sizeof(*vars->v));
	}
	vars->v[vars->n++] = (struct var){xstrdup(name), copy, false, from};
}

void vars_set(struct vars *vars, const char *name, const char *value)
{
	vars_set_from(vars, name, value, NULL);
}

void vars_export(struct vars *vars, const char *name)
{
	if (!find(vars, name))
		vars_set(vars, name, "");
	find(vars, name)->exported = true;
}

void vars_set_default(struct vars *vars, const char *name, const char *value)
{
	if (!vars_value(vars, name))
		vars_set(vars, name, value);
}

void vars_unset(struct vars *vars, const char *name)
{
	struct var *var = find(vars, name);
	if (!var)
		return;
	free(var->name);
	free(var->value);
	free(var->origin);
	size_t i = (size_t)(var - vars->v);
	memmove(var, var + 1, (vars->n - i - 1) * sizeof(*var));
	vars->n--;
}

bool vars_name_valid(const char *name, size_t len)
{
	if (len == 0 || !(isalpha((unsigned char)name[0]) || name[0] == '_'))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!(isalnum((unsigned char)name[i]) || name[i] == '_'))
			return false;
	return true;
}

void vars_import_environ(struct vars *vars, char **envp)
{
	for (; envp && *envp; envp++) {
		const char *eq = strchr(*envp, '=');
		if (!eq || !vars_name_valid(*envp, (size_t)(eq - *envp)))
			continue; /* not something a shell would see as a variable */
		char *name = xstrndup(*envp, (size_t)(eq - *envp));
		vars_set_from(vars, name, eq + 1, VARS_FROM_ENVIRONMENT);
		vars_export(vars, name);
		free(name);
	}
}

char **vars_environ(const struct vars *vars)
{
	char **envp = xcalloc(vars->n + 1, sizeof(*envp));
	for (size_t i = 0; i < vars->n; i++)
		envp[i] = xasprintf("%s=%s", vars->v[i].name, vars->v[i].value);
	return envp;
}

void vars_free_environ(char **envp)
{
	for (char **p = envp; p && *p; p++)
		free(*p);
	free(envp);
}

void vars_copy(struct vars *to, const struct vars *from)
{
	*to = (struct vars){.v = xmalloc((from->n ? from->n : 1) * sizeof(*from->v)),
			    .n = from->n,
			    .cap = from->n ? from->n : 1};
	for (size_t i = 0; i < from->n; i++) {
		to->v[i] = from->v[i]; /* the marks too */
		to->v[i].name = xstrdup(from->v[i].name);
		to->v[i].value = xstrdup(from->v[i].value);
		to->v[i].origin = from->v[i].origin ? xstrdup(from->v[i].origin) : NULL;
	}
}

void vars_free(struct vars *vars)
{
	for (size_t i = 0; i < vars->n; i++) {
		free(vars->v[i].name);
		free(vars->v[i].value);
		free(vars->v[i].origin);
	}
	free(vars->v);
	*vars = (struct vars)VARS_INIT;
}
