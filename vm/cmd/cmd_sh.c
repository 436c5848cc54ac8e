/* vm sh and vm SCRIPT: a shell in the machine directory with every variable
 * exported and vm's shell library loaded. */
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "config/words.h"
#include "log.h"
#include "strv.h"
#include "xalloc.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char sh_usage[] =
    "Usage: vm sh [-v|--verbose] [SHELL ARGS...]\n"
    "\n"
    "Opens $SHELL (else bash) in the machine directory with every configured and\n"
    "derived variable exported and vm's shell functions (vm_echo, vm_ssh, ...)\n"
    "loaded. Arguments after vm's own options go to the shell, e.g.\n"
    "  vm sh -c 'echo $VM_SNAPSHOT_BACKING_FILENAME'\n"
    "Without arguments the shell is interactive on a terminal; otherwise it runs\n"
    "the commands it reads (vm sh < FILE) as a script would.\n";

static bool is_bash(const char *shell)
{
	const char *base = strrchr(shell, '/');
	return strcmp(base ? base + 1 : shell, "bash") == 0;
}

/* Replaces vm with the shell; returns only on failure. */
static int exec_with_config(struct config *cfg, struct strv *argv)
{
	char **envp = vars_environ(&cfg->vars);
	log_progress("running %s in %s", argv->v[0], cfg->home);
	fflush(stdout);
	execvpe(argv->v[0], strv_argv(argv), envp);
	log_error("cannot run %s: %s", argv->v[0], strerror(errno));
	vars_free_environ(envp);
	return 1;
}

int cmd_sh(int argc, char **argv)
{
	/* Only leading -h/-v are vm's: everything else belongs to the shell. */
	int first = 1;
	for (; first < argc; first++) {
		const char *arg = argv[first];
		if (!strcmp(arg, "-h") || !strcmp(arg, "--help"))
			return cli_help(sh_usage);
		if (!strcmp(arg, "-v") || !strcmp(arg, "--verbose"))
			log_set_verbose(true);
		else if (!strcmp(arg, "--")) {
			first++;
			break;
		} else
			break;
	}
	struct config cfg;
	if (cli_load_machine(&cfg) < 0)
		return 1;
	const char *shell = config_get(&cfg, "SHELL");
	if (!shell)
		shell = "bash";
	const char *functions = config_get(&cfg, "VM_FUNCTIONS");
	char *params = words_join(argc - first, argv + first);
	vars_set(&cfg.vars, "VM_PARAMS", params);
	free(params);
	struct strv cmd = STRV_INIT;
	strv_add(&cmd, shell);
	if (first == argc && !isatty(STDIN_FILENO)) {
		/* vm sh < file: the commands of a file or pipe, run as a script
		 * (no prompts, no ~/.bashrc, no history expansion). */
		printf("Entering interactive mode; type 'exit' to quit.\n");
		if (is_bash(shell)) {
			vars_set(&cfg.vars, "BASH_ENV", functions);
			strv_add(&cmd, "-s");
		} else {
			strv_add(&cmd, "-c");
			strv_add(&cmd, ". \"$VM_FUNCTIONS\" && . /dev/stdin");
		}
	} else if (first == argc) {
		if (is_bash(shell)) {
			char *rcfile = config_data_path(&cfg, "vm-shrc");
			strv_add(&cmd, "--rcfile");
			strv_push(&cmd, rcfile);
			strv_add(&cmd, "-i");
		} else {
			vars_set(&cfg.vars, "ENV", functions);
		}
		printf("Entering interactive mode; type 'exit' to quit.\n");
	} else {
		vars_set(&cfg.vars, "BASH_ENV", functions);
		for (int i = first; i < argc; i++)
			strv_add(&cmd, argv[i]);
	}
	int rc = exec_with_config(&cfg, &cmd);
	strv_free(&cmd);
	config_free(&cfg);
	return rc;
}

int script_run(int argc, char **argv)
{
	/* The path is the caller's, so resolve it before moving into VM_HOME. */
	char script[PATH_MAX];
	if (!realpath(argv[0], script)) {
		log_error("cannot run script %s: %s", argv[0], strerror(errno));
		return 1;
	}
	struct config cfg;
	if (cli_load_machine(&cfg) < 0)
		return 1;
	char *params = words_join(argc - 1, argv + 1);
	vars_set(&cfg.vars, "VM_PARAMS", params);
	free(params);
	vars_set(&cfg.vars, "BASH_ENV", config_get(&cfg, "VM_FUNCTIONS"));
	struct strv cmd = STRV_INIT;
	strv_add(&cmd, "bash");
	strv_add(&cmd, script);
	for (int i = 1; i < argc; i++)
		strv_add(&cmd, argv[i]);
	int rc = exec_with_config(&cfg, &cmd);
	strv_free(&cmd);
	config_free(&cfg);
	return rc;
}
