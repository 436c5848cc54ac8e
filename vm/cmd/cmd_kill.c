/* vm kill: make the emulator quit, by force if it does not. */
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "emulator/machine.h"
#include "log.h"
#include "sys/progress.h"

#include <stdio.h>

#define QUIT_TIMEOUT_MS 10000
/* As long as vm gives a save (machine_savevm). */
#define SAVE_WAIT_MS 600000

static const char kill_usage[] =
    "Usage: vm kill\n"
    "\n"
    "Asks the emulator to quit through its monitor, waits for it to end, and\n"
    "kills it when it does not (said with -v). A save under way (vm stop -s) is\n"
    "let finish first. Only this machine's emulator is ever touched. A machine\n"
    "that is not running is an error (exit status 1).\n"
    "  -v, --verbose  print each step\n"
    "  -h, --help     show this help\n";

/* A save cut short is lost, so the one under way (vm stop -s, vm archive
 * -s) is let finish first; the command that saves quits the emulator
 * itself or lets it go on, and then it is stopped as asked. */
static void wait_for_save(struct machine *m)
{
	pid_t saver;
	if (!machine_saving(m, &saver))
		return;
	printf("vm (pid %d) is saving the state of %s: waiting for the save to finish before "
	       "stopping the emulator\n",
	       (int)saver, machine_name(m));
	fflush(stdout);
	struct progress *spinner =
	    log_is_verbose() ? NULL : progress_start("waiting for the save", 0);
	bool saved = machine_wait_saved(m, SAVE_WAIT_MS);
	progress_finish(spinner);
	if (!saved)
		log_warn("the save has not ended after %d s: stopping the emulator anyway",
			 SAVE_WAIT_MS / 1000);
}

int cmd_kill(int argc, char **argv)
{
	int parsed = cli_parse_help_verbose("kill", kill_usage, true, argc, argv);
	if (parsed >= 0)
		return parsed;
	struct machine m;
	if (cli_open_machine(&m, RUNTIME_FIND) < 0)
		return 1;
	int rc = 0;
	pid_t pid;
	if (!machine_running(&m, &pid)) {
		/* An error, as in the original: scripts rely on 'vm kill || ...'. */
		log_error("virtual machine %s is not running", machine_name(&m));
		rc = 1;
		cli_merge_overlay_stopped(&m, false);
	} else {
		wait_for_save(&m);
		log_progress("asking the emulator (pid %d) to quit", (int)pid);
		bool forced;
		struct error err;
		if (machine_quit(&m, NULL, QUIT_TIMEOUT_MS, &forced, &err) < 0) {
			log_error("%s", err.msg);
			rc = 1;
		} else {
			log_progress(forced ? "the emulator did not quit: it was killed"
					    : "the emulator has quit");
			if (cli_merge_overlay_stopped(&m, false) < 0)
				rc = 1;
		}
	}
	machine_close(&m);
	return rc;
}
