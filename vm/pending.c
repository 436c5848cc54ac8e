/* Commands whose work lands with a later change: their options are already
 * parsed as SPEC.md lists them, so scripts and completion can rely on them,
 * and they say plainly that they are not implemented yet. A command leaves
 * this table when its own file arrives. */
#include "cli.h"
#include "log.h"

#include <getopt.h>
#include <string.h>

struct pending {
	const char *name;
	const char *shortopts;
	struct option longopts[10];
	const char *usage;
};

#define COMMON_OPTIONS                                                                             \
	{"help", no_argument, NULL, 'h'},                                                          \
	{                                                                                          \
		"verbose", no_argument, NULL, 'v'                                                  \
	}

static const struct pending pending[] = {
    {"net", "+:hv", {COMMON_OPTIONS, {0}}, "Usage: vm net\n"},
};

static const struct pending *find_pending(const char *name)
{
	for (size_t i = 0; i < sizeof(pending) / sizeof(pending[0]); i++)
		if (!strcmp(pending[i].name, name))
			return &pending[i];
	return NULL;
}

int cmd_pending(int argc, char **argv)
{
	const struct pending *cmd = find_pending(argv[0]);
	if (!cmd) {
		log_error("%s: not implemented yet", argv[0]);
		return 1;
	}
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, cmd->shortopts, cmd->longopts, NULL)) != -1) {
		if (c == 'h')
			return cli_help(cmd->usage);
		if (c == 'v')
			log_set_verbose(true);
		else if (c == '?' || c == ':')
			return cli_option_error(cmd->name, c, argv);
	}
	log_error("%s: not implemented yet", cmd->name);
	return 1;
}
