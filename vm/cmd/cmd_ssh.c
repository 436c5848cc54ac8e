/* vm ssh: log into the guest, or run a command there. */
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "config/words.h"
#include "emulator/machine.h"
#include "guest/guest.h"
#include "log.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#define CONNECT_TIMEOUT_S 10

static const char ssh_usage[] =
    "Usage: vm ssh [-v|--verbose] [COMMAND...]\n"
    "\n"
    "Logs into the guest as VM_MACHINE_USER (with the NAT port forward when the\n"
    "machine runs with --nat), or runs COMMAND there. As with ssh(1), vm's options\n"
    "come before COMMAND: every word from COMMAND on is the guest's ('vm ssh uname -a').\n"
    "  -v, --verbose  print the ssh command line\n"
    "  -h, --help     show this help\n";

int cmd_ssh(int argc, char **argv)
{
	struct cli_options o = {.command = "ssh", .usage = ssh_usage, .leading_only = true};
	if (cli_next_option(&o, argc, argv) == CLI_EXIT)
		return o.status;
	struct machine m;
	if (cli_open_machine(&m, RUNTIME_FIND) < 0)
		return 1;
	struct guest g;
	struct error err;
	bool running = machine_running(&m, NULL);
	if (guest_open(&g, &m.cfg, running ? &m.rt : NULL, &err) < 0) {
		log_error("%s", err.msg);
		machine_close(&m);
		return 1;
	}
	if (!running)
		log_warn("the machine %s is not running here; trying %s anyway", machine_name(&m),
			 g.host);
	bool command = optind < argc;
	bool tty = !command && isatty(STDIN_FILENO);
	struct strv cmdline = STRV_INIT;
	guest_ssh_argv(&g, CONNECT_TIMEOUT_S, tty, command ? argv + optind : NULL, &cmdline);
	char *shown = words_join_quoted(strv_argv(&cmdline));
	log_debug("running %s", shown);
	free(shown);
	fflush(stdout);
	execvp("ssh", strv_argv(&cmdline));
	log_error("cannot run ssh: %s (install openssh-client)", strerror(errno));
	strv_free(&cmdline);
	guest_close(&g);
	machine_close(&m);
	return 1;
}
