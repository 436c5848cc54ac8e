/* What the commands share: help and option errors, loading the machine's
 * configuration, opening the machine; each reports its own errors (the
 * domain parts below only return them). */
#pragma once

#include "config/config.h"
#include "emulator/machine.h"

#include <stdbool.h>
#include <stdio.h>

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
/* machine_open, reporting any error. Returns 0 or -1. */
int cli_open_machine(struct machine *m);
