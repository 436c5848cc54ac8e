/* vm kill: make the emulator quit, by force if it does not. */
#include "cli.h"
#include "log.h"
#include "machine.h"

#include <getopt.h>

#define QUIT_TIMEOUT_MS 10000

static const char kill_usage[] =
    "Usage: vm kill\n"
    "\n"
    "Asks the emulator to quit through its monitor, waits for it to end, and\n"
    "kills it when it does not (said with -v). Only this machine's emulator is\n"
    "ever touched.\n"
    "  -v, --verbose  print each step\n"
    "  -h, --help     show this help\n";

int cmd_kill(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'}, {"verbose", no_argument, NULL, 'v'}, {0}};
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:hv", longopts, NULL)) != -1) {
		if (c == 'h')
			return cli_help(kill_usage);
		if (c == 'v')
			log_set_verbose(true);
		else
			return cli_option_error("kill", c, argv);
	}
	if (optind < argc)
		return cli_usage_error("kill", "unexpected argument '%s'", argv[optind]);
	struct machine m;
	if (machine_open(&m) < 0)
		return 1;
	int rc = 0;
	pid_t pid;
	if (!machine_running(&m, &pid)) {
		printf("%s is not running\n", machine_name(&m));
	} else {
		log_progress("asking the emulator (pid %d) to quit", (int)pid);
		bool forced;
		struct error err;
		if (machine_quit(&m, NULL, QUIT_TIMEOUT_MS, &forced, &err) < 0) {
			log_error("kill: %s", err.msg);
			rc = 1;
		} else {
			log_progress(forced ? "the emulator did not quit: it was killed"
					    : "the emulator has quit");
		}
	}
	machine_close(&m);
	return rc;
}
