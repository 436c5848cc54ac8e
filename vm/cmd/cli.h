/* What the commands share: help and option errors, loading the machine's
 * configuration, opening the machine; each reports its own errors (the
 * domain parts below only return them). */
#pragma once

#include "config/config.h"
#include "emulator/machine.h"
#include "emulator/qemu.h"
#include "sys/report.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

/* What the commands hand to the work they call, so that it tells the user
 * through them (cli_report.c): warnings on stderr, progress on a terminal. */
extern const struct report cli_report;

/* Prints usage to stdout for -h/--help; returns exit status 0. */
int cli_help(const char *usage);

enum { CLI_DONE = -1, CLI_EXIT = -2 };

/* One command's options. The command names its own; -h/--help and
 * -v/--verbose (and -j/--json, and -n/--nat -c/--bridge, when asked for) are
 * added and handled here, so every command reads them alike: anywhere on the
 * line (as the original did: 'vm cmd info status -v'), until "--". */
struct cli_options {
	const char *command;
	const char *usage;
	const char *shortopts;	       /* the command's own, getopt style; NULL: none */
	const struct option *longopts; /* the command's own, {0}-terminated; NULL: none */
	bool no_arguments;	       /* refuse any argument */
	bool leading_only;	     /* options only before the first argument, which starts another
					program's command line (vm ssh uname -a, as ssh(1)) */
	const char *passthrough;     /* arguments go to this program: unknown options
					earn the hint to put them after -- */
	bool *json;		     /* non-NULL: takes -j/--json */
	struct qemu_launch *network; /* non-NULL: takes -n/--nat and -c/--bridge */
	int status;		     /* the exit status once cli_next_option says CLI_EXIT */
	/* Private to cli.c. */
	char optstring_[64];
	struct option all_[24];
	bool started_;
	int operands_; /* arguments met so far, gathered from argv[1] on */
};

/* The next of the command's own options, as getopt_long returns it (optarg
 * set). CLI_DONE at the end, optind at the first argument; CLI_EXIT after
 * --help (status 0) or a wrong use, reported (status 1). */
int cli_next_option(struct cli_options *o, int argc, char **argv);
/* For a command that takes only -h/--help and -v/--verbose: -1 to go on
 * (optind at the first argument), else the exit status to return at once.
 * With no_arguments, any argument is refused. */
int cli_parse_help_verbose(const char *command, const char *usage, bool no_arguments, int argc,
			   char **argv);
/* Reports a wrong use of a command; returns exit status 1. */
int cli_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Loads the machine's configuration and changes into its directory; reports
 * any error. Returns 0 or -1. */
int cli_load_machine(struct config *cfg);
/* machine_open, reporting any error. Returns 0 or -1. The commands that
 * only look pass RUNTIME_FIND, so that they create nothing. */
int cli_open_machine(struct machine *m, enum runtime_reach how);
/* What an interrupted vm archive leaves must not wait: these find its
 * overlay and merge it back into the disk, saying so. Live: through q,
 * connected to the running emulator. Stopped: under the machine's lock
 * (taken here unless locked says the caller holds it). Return 0, or -1
 * after reporting; the overlay then stays, and nothing is lost. */
int cli_merge_overlay_live(struct machine *m, struct qmp *q);
int cli_merge_overlay_stopped(struct machine *m, bool locked);
/* machine_claim, then the stopped merge under the lock it took: a guest
 * never starts without the writes an overlay holds. With launch->loadvm,
 * refuses a state the disk does not hold, naming those it holds. */
int cli_claim_machine(struct machine *m, const struct qemu_launch *launch, struct error *err);
