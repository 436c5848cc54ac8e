/* vm run: the emulator in the foreground. */
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "config/words.h"
#include "emulator/bridge.h"
#include "emulator/machine.h"
#include "emulator/qemu.h"
#include "log.h"
#include "net/netclient.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static const char run_usage[] =
    "Usage: vm run [-n|--nat] [-c|--bridge] [-b|--base-only] [-l|--loadvm NAME] [ARGS...]\n"
    "\n"
    "Runs the emulator in the foreground; ARGS go to it (after --).\n"
    "  -n, --nat          QEMU user networking; the guest's ssh is forwarded to a\n"
    "                     loopback port (127.0.0.1:22<ID>)\n"
    "  -c, --bridge       let vm-netd create VM_NET_BRIDGE if the policy allows\n"
    "  -b, --base-only    run the base image instead of the backing file\n"
    "  -l, --loadvm NAME  start from the saved state NAME\n"
    "  -v, --verbose      print each step and the full command line\n"
    "  -h, --help         show this help\n";

int cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"base-only", no_argument, NULL, 'b'}, {"loadvm", required_argument, NULL, 'l'}, {0}};
	struct qemu_launch launch = {.network = QEMU_NET_BRIDGE, .report = &cli_report};
	struct cli_options o = {.command = "run",
				.usage = run_usage,
				.shortopts = "bl:",
				.longopts = longopts,
				.passthrough = "the emulator",
				.network = &launch};
	int c;
	while ((c = cli_next_option(&o, argc, argv)) >= 0) {
		if (c == 'b')
			launch.base_only = true;
		else if (c == 'l')
			launch.loadvm = optarg;
	}
	if (c == CLI_EXIT)
		return o.status;
	launch.user_args = argv + optind;
	launch.user_argc = argc - optind;

	struct machine m;
	if (cli_open_machine(&m, RUNTIME_MAKE) < 0)
		return 1;
	launch.cfg = &m.cfg;
	launch.rt = &m.rt;
	struct strv cmdline = STRV_INIT;
	struct error err;
	struct netclient_tap tap;
	if (bridge_attach(&m, &launch, &tap, &err) < 0 ||
	    qemu_build_command(&launch, &cmdline, &err) < 0 ||
	    cli_claim_machine(&m, &launch, &err) < 0) {
		log_error("%s", err.msg);
		bridge_release(&tap);
		strv_free(&cmdline);
		machine_close(&m);
		return 1;
	}
	/* The emulator inherits the tap; it vanishes when the emulator exits. */
	for (size_t i = 0; i < tap.nfds; i++)
		fcntl(tap.fds[i], F_SETFD, 0);
	char *shown = words_join_quoted(strv_argv(&cmdline));
	log_progress("running %s", shown);
	free(shown);
	fflush(stdout);
	/* The emulator takes vm's place, and with it the machine's lock; not
	 * vm-netd, which is vm's child until reaped. */
	netclient_reap_helper(&tap);
	runtime_hand_over(&m.rt, getpid());
	execvp(cmdline.v[0], strv_argv(&cmdline));
	log_error("cannot run the emulator %s: %s (install it, or set VM_QEMU)", cmdline.v[0],
		  strerror(errno));
	bridge_release(&tap);
	strv_free(&cmdline);
	machine_close(&m);
	return 1;
}
