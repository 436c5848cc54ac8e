/* vm kill: make the emulator quit, by force if it does not. */
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "emulator/machine.h"
#include "log.h"

#define QUIT_TIMEOUT_MS 10000

static const char kill_usage[] =
    "Usage: vm kill\n"
    "\n"
    "Asks the emulator to quit through its monitor, waits for it to end, and\n"
    "kills it when it does not (said with -v). Only this machine's emulator is\n"
    "ever touched. A machine that is not running is an error (exit status 1).\n"
    "  -v, --verbose  print each step\n"
    "  -h, --help     show this help\n";

int cmd_kill(int argc, char **argv)
{
	int parsed = cli_parse_help_verbose("kill", kill_usage, true, argc, argv);
	if (parsed >= 0)
		return parsed;
	struct machine m;
	if (cli_open_machine(&m) < 0)
		return 1;
	int rc = 0;
	pid_t pid;
	if (!machine_running(&m, &pid)) {
		/* An error, as in the original: scripts rely on 'vm kill || ...'. */
		log_error("kill: virtual machine %s is not running", machine_name(&m));
		rc = 1;
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
