/* vm run: the emulator in the foreground. */
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "config/words.h"
#include "emulator/bridge.h"
#include "emulator/machine.h"
#include "emulator/qemu.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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
	static const struct option longopts[] = {{"help", no_argument, NULL, 'h'},
						 {"verbose", no_argument, NULL, 'v'},
						 {"nat", no_argument, NULL, 'n'},
						 {"bridge", no_argument, NULL, 'c'},
						 {"base-only", no_argument, NULL, 'b'},
						 {"loadvm", required_argument, NULL, 'l'},
						 {0}};
	struct qemu_launch launch = {.network = QEMU_NET_BRIDGE};
	bool nat = false;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:hvncbl:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			return cli_help(run_usage);
		case 'v':
			log_set_verbose(true);
			break;
		case 'n':
			nat = true;
			break;
		case 'c':
			launch.create_bridge = true;
			break;
		case 'b':
			launch.base_only = true;
			break;
		case 'l':
			launch.loadvm = optarg;
			break;
		case '?':
			/* Most likely meant for the emulator. */
			if (optopt)
				log_error("run: unknown option -%c; emulator options go after --, "
					  "e.g. 'vm run --nat -- -S'",
					  optopt);
			else
				log_error("run: unknown option '%s'; emulator options go after --, "
					  "e.g. 'vm run --nat -- -S'",
					  argv[optind - 1]);
			return 1;
		default:
			return cli_option_error("run", c, argv);
		}
	}
	if (nat && launch.create_bridge)
		return cli_usage_error("run", "--nat and --bridge cannot be used together");
	if (nat)
		launch.network = QEMU_NET_NAT;
	launch.user_args = argv + optind;
	launch.user_argc = argc - optind;

	struct machine m;
	if (cli_open_machine(&m) < 0)
		return 1;
	launch.cfg = &m.cfg;
	launch.rt = &m.rt;
	struct strv cmdline = STRV_INIT;
	struct error err;
	struct netclient_tap tap;
	if (bridge_attach(&m, &launch, &tap, &err) < 0 ||
	    qemu_build_command(&launch, &cmdline, &err) < 0 ||
	    machine_claim(&m, &launch, &err) < 0) {
		log_error("%s", err.msg);
		bridge_release(&tap);
		strv_free(&cmdline);
		machine_close(&m);
		return 1;
	}
	/* The emulator inherits the tap; it vanishes when the emulator exits. */
	if (tap.fd >= 0)
		fcntl(tap.fd, F_SETFD, 0);
	char *shown = words_join_quoted(strv_argv(&cmdline));
	log_progress("running %s", shown);
	free(shown);
	fflush(stdout);
	/* The emulator takes vm's place, and with it the machine's lock. */
	execvp(cmdline.v[0], strv_argv(&cmdline));
	log_error("cannot run the emulator %s: %s (install it, or set VM_QEMU)", cmdline.v[0],
		  strerror(errno));
	bridge_release(&tap);
	strv_free(&cmdline);
	machine_close(&m);
	return 1;
}
