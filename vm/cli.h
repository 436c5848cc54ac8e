/* What every command shares: the command table, option errors, loading the
 * machine's configuration. */
#pragma once

#include "config.h"

#include <stdbool.h>
#include <stdio.h>

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

const struct command *command_find(const char *name);
void commands_print_usage(FILE *out);

/* Prints usage to stdout for -h/--help; returns exit status 0. */
int cli_help(const char *usage);
/* Reports the option getopt_long refused with c ('?' or ':'; the optstring
 * must start with "+:"); returns exit status 1. */
int cli_option_error(const char *command, int c, char **argv);
/* The options of a command that takes only -h/--help and -v/--verbose.
 * Returns -1 to go on (optind is at the first argument), else the exit
 * status to return at once. With no_arguments, any argument is refused. */
int cli_parse_help_verbose(const char *command, const char *usage, bool no_arguments, int argc,
			   char **argv);
/* Reports a wrong use of a command; returns exit status 1. */
int cli_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Loads the machine's configuration and changes into its directory; reports
 * any error. Returns 0 or -1. */
int cli_load_machine(struct config *cfg);

/* The command entry points, one file each. */
int cmd_archive(int argc, char **argv);
int cmd_boot(int argc, char **argv);
int cmd_cmd(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_kill(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_net(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_sh(int argc, char **argv);
int cmd_ssh(int argc, char **argv);
int cmd_start(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_stop(int argc, char **argv);
/* vm SCRIPT [ARGS...]: not a table row, since any file can be a script. */
int script_run(int argc, char **argv);
