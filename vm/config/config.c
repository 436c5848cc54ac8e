#include "config/config.h"

#include "build-config.h"
#include "config/variables.h"
#include "config/vmrc.h"
#include "config/words.h"
#include "log.h"
#include "strbuf.h"
#include "sys/files.h"
#include "sys/spawn.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The row of a variable the code asks for: one outside the table is a bug. */
static const struct variable *row(const char *name)
{
	const struct variable *v = variable_find(name);
	if (!v) {
		fprintf(stderr, "vm: internal error: %s is not in the variable table\n", name);
		abort();
	}
	return v;
}

const char *config_get(const struct config *cfg, const char *name)
{
	const char *value = vars_value(&cfg->vars, name);
	if (value)
		return value;
	const struct variable *v = variable_find(name); /* also SHELL, DISPLAY, ... */
	return v ? v->fallback : NULL;
}

bool config_bool(const struct config *cfg, const char *name)
{
	return variable_bool(row(name), config_get(cfg, name));
}

long long config_int(const struct config *cfg, const char *name)
{
	row(name);
	const char *value = config_get(cfg, name);
	return value ? strtoll(value, NULL, 10) : -1;
}

int config_words(const struct config *cfg, const char *name, struct strv *words, struct error *err)
{
	row(name);
	const char *value = config_get(cfg, name);
	if (value && words_split(value, words, err) < 0)
		return error_prefix(err, "%s", name);
	return 0;
}

char *config_data_path(const struct config *cfg, const char *file)
{
	const char *lib = config_get(cfg, "VM_LIB");
	return lib ? xasprintf("%s/%s", lib, file) : xasprintf("%s/%s", VM_DATADIR, file);
}

static void apply_logging(const struct config *cfg)
{
	log_set_datefmt(vars_get(&cfg->vars, "VM_DATEFMT"));
	log_set_files(config_get(cfg, "VM_LOG"), config_get(cfg, "VM_ERRLOG"));
}

static void set_defaults(struct vars *vars)
{
	for (size_t i = 0; i < variables_count; i++)
		if (variables[i].fallback)
			vars_set(vars, variables[i].name, variables[i].fallback);
}

/* VM_LIB as vm exports it to shells and scripts: absolute, so that it
 * still holds in the machine directory. */
static void make_lib_absolute(struct config *cfg)
{
	const char *lib = config_get(cfg, "VM_LIB");
	if (!lib || lib[0] == '/')
		return;
	char resolved[PATH_MAX];
	char *absolute = xasprintf("%s/%s", cfg->calling_dir, lib);
	vars_set(&cfg->vars, "VM_LIB", realpath(absolute, resolved) ? resolved : absolute);
	free(absolute);
}

/* The installed library's global vmrc is in the configuration directory.
 * vm exports VM_LIB to scripts, so a vm they run finds it the same way. */
static char *global_vmrc_path(const char *lib)
{
	if (!lib || files_same(lib, VM_DATADIR))
		return xasprintf("%s/vm/vmrc", VM_SYSCONFDIR);
	return xasprintf("%s/vmrc", lib);
}

/* A VM_LIB left pointing at another install (the guide suggests setting it
 * in /etc/environment for the original) would give scripts none of vm's
 * functions, silently: refuse it, saying what to change. */
static int check_library(const char *lib, struct error *err)
{
	char *functions = xasprintf("%s/vm-functions.sh", lib);
	bool found = access(functions, R_OK) == 0;
	free(functions);
	if (found)
		return 0;
	return error_set(err,
			 "VM_LIB is %s, which holds no shell library of vm (vm-functions.sh): "
			 "perhaps the original vm's lib; unset VM_LIB (look in /etc/environment "
			 "and your shell's start-up files) or set it to %s",
			 lib, VM_DATADIR);
}

static int read_global_vmrc(struct config *cfg, struct error *err)
{
	const char *lib = config_get(cfg, "VM_LIB");
	cfg->global_vmrc = global_vmrc_path(lib);
	if (access(cfg->global_vmrc, F_OK) < 0)
		return error_errno(err,
				   "global configuration %s (reinstall vm, or set VM_LIB to the "
				   "directory holding vmrc)",
				   cfg->global_vmrc);
	if (lib && check_library(lib, err) < 0)
		return -1;
	return vmrc_load(cfg->global_vmrc, &cfg->vars, err);
}

int config_load_global(struct config *cfg, char **envp, struct error *err)
{
	*cfg = (struct config){.vars = VARS_INIT};
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof(cwd)))
		return error_errno(err, "cannot tell the current directory");
	cfg->calling_dir = xstrdup(cwd);
	set_defaults(&cfg->vars);
	vars_import_environ(&cfg->vars, envp);
	make_lib_absolute(cfg);
	apply_logging(
	    cfg); /* so that errors in the global vmrc reach an error log set in the environment */
	if (read_global_vmrc(cfg, err) < 0)
		return -1;
	apply_logging(cfg);
	return 0;
}

/* VM_HOME without trailing slashes, made absolute against the calling directory. */
static char *home_from_variable(const struct config *cfg, const char *value)
{
	size_t len = strlen(value);
	while (len > 1 && value[len - 1] == '/')
		len--;
	char *trimmed = xstrndup(value, len);
	if (trimmed[0] == '/')
		return trimmed;
	char *absolute = xasprintf("%s/%s", cfg->calling_dir, trimmed);
	free(trimmed);
	return absolute;
}

static bool has_file(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name);
	struct stat st;
	bool found = stat(path, &st) == 0;
	free(path);
	return found;
}

/* The VM_HOME rules of SPEC.md: pick the machine directory and change into it. */
static int enter_home(struct config *cfg, const char *config_name, struct error *err)
{
	const char *value = config_get(cfg, "VM_HOME");
	cfg->home = value ? home_from_variable(cfg, value) : xstrdup(cfg->calling_dir);
	if (!value)
		return 0;
	struct stat st;
	if (stat(cfg->home, &st) < 0)
		return error_errno(err, "cannot change into VM_HOME %s", cfg->home);
	if (!files_same(cfg->home, cfg->calling_dir) && has_file(cfg->calling_dir, config_name) &&
	    !config_bool(cfg, "VM_HOME_OVERRIDES_CWD"))
		return error_set(err,
				 "VM_HOME is %s, but the current directory %s has its own %s; "
				 "cd elsewhere, unset VM_HOME, or set VM_HOME_OVERRIDES_CWD=yes "
				 "to use VM_HOME anyway",
				 cfg->home, cfg->calling_dir, config_name);
	if (chdir(cfg->home) < 0)
		return error_errno(err, "cannot change into VM_HOME %s", cfg->home);
	return 0;
}

/* Each missing mandatory variable, a line in problems. */
static int check_mandatory(const struct config *cfg, const char *config_name,
			   struct strbuf *problems)
{
	int errors = 0;
	for (size_t i = 0; i < variables_count; i++)
		if (variables[i].mandatory && !vars_value(&cfg->vars, variables[i].name)) {
			strbuf_addf(problems, "%s: mandatory variable %s not set\n", config_name,
				    variables[i].name);
			errors++;
		}
	return errors;
}

/* Each value the table refuses, a line in problems, with where it was set. */
static int check_values(const struct config *cfg, const char *config_name, struct strbuf *problems)
{
	int errors = 0;
	for (size_t i = 0; i < variables_count; i++) {
		const char *value = vars_value(&cfg->vars, variables[i].name);
		struct error why;
		if (!value || variable_check(&variables[i], value, &why) == 0)
			continue;
		const char *origin = vars_origin(&cfg->vars, variables[i].name);
		strbuf_addf(problems, "%s: %s\n", origin ? origin : config_name, why.msg);
		errors++;
	}
	return errors;
}

/* The vmrc lines that set a VM_ name vm does not know but nearly does: most
 * likely a typo, which leaves the setting at its default. Only lines of the
 * files: a vm that a vm script or shell runs gets their variables from the
 * environment (the same value set again keeps that origin, varmap.h), so
 * each is told once, by the vm the user ran. */
static void find_misspellings(const struct config *cfg, struct strv *lines)
{
	for (size_t i = 0; i < cfg->vars.n; i++) {
		const struct var *var = &cfg->vars.v[i];
		const struct variable *near = variable_near(var->name);
		if (near && var->origin && strcmp(var->origin, VARS_FROM_ENVIRONMENT))
			strv_addf(lines, "%s: %s is not a vm variable; did you mean %s?",
				  var->origin, var->name, near->name);
	}
}

static void set_image_names(struct vars *vars, const char *name, const char *fmt)
{
	static const char *const parts[] = {"SEED", "BASE", "BACKING"};
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		char *var = xasprintf("VM_SNAPSHOT_%sNAME", parts[i]);
		char *fallback_var = xasprintf("VM_SNAPSHOT_%sNAME_DEFAULT", parts[i]);
		char *lower = xstrdup(parts[i]);
		for (char *c = lower; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		const char *fallback = vars_value(vars, fallback_var);
		vars_set_default(vars, var, fallback ? fallback : lower);
		char *file_var = xasprintf("VM_SNAPSHOT_%s_FILENAME", parts[i]);
		char *file = xasprintf("%s-%s.%s", name, vars_value(vars, var), fmt);
		vars_set(vars, file_var, file);
		free(var), free(fallback_var), free(lower), free(file_var), free(file);
	}
	char *image = xasprintf("%s.%s", name, fmt);
	vars_set(vars, "VM_IMAGE_FILENAME", image);
	free(image);
}

static void derive(struct config *cfg)
{
	struct vars *vars = &cfg->vars;
	const char *name = config_get(cfg, "VM_MACHINE_NAME");
	const char *id = config_get(cfg, "VM_MACHINE_ID");
	vars_set(vars, "VM_HOME", cfg->home);
	vars_set(vars, "VM_CALLING_DIR", cfg->calling_dir);
	vars_set_default(vars, "VM_MACHINE_USER", config_get(cfg, "VM_MACHINE_OWNER"));
	vars_set_default(vars, "VM_NET_GUEST", name);
	char *port = xasprintf("77%s", id);
	vars_set_default(vars, "VM_NET_PORT", port);
	free(port);
	char *mac = xasprintf(CONFIG_MAC_FORMAT, (unsigned)atoi(id));
	vars_set(vars, "VM_NET_MAC", mac);
	free(mac);
	set_image_names(vars, name, config_get(cfg, "VM_FMT"));
	if (log_is_verbose())
		vars_set(vars, "VM_VERBOSE", "yes");
	else
		vars_set_default(vars, "VM_VERBOSE", "no");
	struct error ignored; /* VM_BIN is then left unset, as before */
	char *self = spawn_self_path(&ignored);
	if (self)
		vars_set(vars, "VM_BIN", self);
	free(self);
	/* Scripts load the original's libraries from VM_LIB. */
	vars_set_default(vars, "VM_LIB", VM_DATADIR);
	char *functions = config_data_path(cfg, "vm-functions.sh");
	vars_set(vars, "VM_FUNCTIONS", functions);
	free(functions);
}

/* What a sourced .vmrc would have given the programs vm starts (the
 * emulator, qemu-img, ssh, compressors): the variables marked export and
 * those that came from the environment, as the configuration left them;
 * PATH=... there chooses which emulator runs. */
static void export_to_environment(const struct vars *vars)
{
	for (size_t i = 0; i < vars->n; i++)
		if (vars->v[i].exported)
			setenv(vars->v[i].name, vars->v[i].value, 1);
}

int config_load_machine(struct config *cfg, struct error *err)
{
	/* Without VM_CONFIG the file is still looked for under its usual name, so
	 * that one run reports every missing variable. */
	const char *config_name = config_get(cfg, "VM_CONFIG");
	char *name = xstrdup(config_name ? config_name : ".vmrc");
	int rc = -1;
	if (enter_home(cfg, name, err) < 0)
		goto out;
	if (!has_file(".", name)) {
		error_set(err,
			  "no %s in %s: cd to a machine directory, set VM_HOME, or create %s "
			  "(see vmrc(5))",
			  name, cfg->home, name);
		goto out;
	}
	/* As in the original, .vmrc can build on these: VM_LOG=$VM_HOME/log,
	 * or $PWD, the machine directory the original read it in. */
	vars_set(&cfg->vars, "VM_HOME", cfg->home);
	vars_set(&cfg->vars, "VM_CALLING_DIR", cfg->calling_dir);
	vars_set(&cfg->vars, "PWD", cfg->home);
	if (vmrc_load(name, &cfg->vars, err) < 0)
		goto out;
	apply_logging(cfg);
	find_misspellings(cfg, &cfg->warnings);
	struct strbuf problems = STRBUF_INIT;
	int errors = check_mandatory(cfg, name, &problems) + check_values(cfg, name, &problems);
	/* A missing VM_MACHINE_NAME may be a VM_MACHINE_NAMR found above. */
	for (size_t i = 0; errors && i < cfg->warnings.n; i++)
		strbuf_addf(&problems, "%s\n", cfg->warnings.v[i]);
	if (errors)
		error_set(err, "%sexiting after %d error%s", strbuf_str(&problems), errors,
			  errors == 1 ? "" : "s");
	strbuf_free(&problems);
	if (errors)
		goto out;
	derive(cfg);
	export_to_environment(&cfg->vars);
	rc = 0;
out:
	free(name);
	return rc;
}

int config_load(struct config *cfg, char **envp, struct error *err)
{
	if (config_load_global(cfg, envp, err) < 0)
		return -1;
	return config_load_machine(cfg, err);
}

void config_free(struct config *cfg)
{
	vars_free(&cfg->vars);
	free(cfg->calling_dir);
	free(cfg->home);
	free(cfg->global_vmrc);
	strv_free(&cfg->warnings);
	*cfg = (struct config){.vars = VARS_INIT};
}
