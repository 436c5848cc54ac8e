#include "cmd/cli.h"

#include "log.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

extern char **environ;

int cli_help(const char *usage)
{
	fputs(usage, stdout);
	return 0;
}

int cli_option_error(const char *command, int c, char **argv)
{
	if (c == ':')
		log_error("%s: option %s needs a value; see 'vm %s --help'", command,
			  argv[optind - 1], command);
	else if (optopt)
		log_error("%s: unknown option -%c; see 'vm %s --help'", command, optopt, command);
	else
		log_error("%s: unknown option '%s'; see 'vm %s --help'", command, argv[optind - 1],
			  command);
	return 1;
}

int cli_parse_help_verbose(const char *command, const char *usage, bool no_arguments, int argc,
			   char **argv)
{
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'}, {"verbose", no_argument, NULL, 'v'}, {0}};
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:hv", longopts, NULL)) != -1) {
		if (c == 'h')
			return cli_help(usage);
		if (c == 'v')
			log_set_verbose(true);
		else
			return cli_option_error(command, c, argv);
	}
	if (no_arguments && optind < argc)
		return cli_usage_error(command, "unexpected argument '%s'", argv[optind]);
	return -1;
}

int cli_usage_error(const char *command, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_error("%s: %s; see 'vm %s --help'", command, msg, command);
	return 1;
}

int cli_load_machine(struct config *cfg)
{
	struct error err;
	if (config_load(cfg, environ, &err) < 0) {
		log_error("%s", err.msg);
		config_free(cfg);
		return -1;
	}
	return 0;
}

int cli_open_machine(struct machine *m)
{
	struct error err;
	if (machine_open(m, &err) < 0) {
		log_error("%s", err.msg);
		return -1;
	}
	return 0;
}
