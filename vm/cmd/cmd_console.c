/* vm console: the terminal on the guest's serial console, as virsh console
 * does: for when the guest's network is broken. */
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "config/words.h"
#include "emulator/console.h"
#include "emulator/machine.h"
#include "emulator/qemu.h"
#include "log.h"
#include "sys/terminal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char console_usage[] =
    "Usage: vm console [--log]\n"
    "\n"
    "Attaches the terminal to the guest's serial console; Ctrl-] detaches.\n"
    "One console attaches at a time.\n"
    "      --log      print what the guest wrote to its console since it started\n"
    "  -v, --verbose  print each step\n"
    "  -h, --help     show this help\n";

/* Why this machine has no console of vm's, or NULL. */
static const char *why_no_console(const struct machine *m)
{
	struct strv words = STRV_INIT;
	struct error err;
	const char *why = NULL;
	const char *extra = config_get(&m->cfg, "VM_QEMU_EXTRA");
	if (extra && words_split(extra, &words, &err) == 0 &&
	    qemu_user_takes_serial(strv_argv(&words), 0))
		why = "VM_QEMU_EXTRA takes the serial port itself (-serial or -nographic): "
		      "remove that to use vm console";
	strv_free(&words);
	return why;
}

static int print_log(const struct machine *m)
{
	char *text = console_log_read(&m->rt);
	if (!text) {
		log_error("there is no console log in %s: the machine has not run "
			  "with a console since it was last started",
			  m->rt.dir);
		return 1;
	}
	fputs(text, stdout);
	free(text);
	return 0;
}

static int attach(const struct machine *m)
{
	struct console c;
	struct error err;
	if (console_attach(&m->rt, &c, &err) < 0) {
		log_error("%s", err.msg);
		return 1;
	}
	bool tty = isatty(STDIN_FILENO);
	if (tty && terminal_make_raw(STDIN_FILENO, &err) < 0) {
		console_detach(&c);
		log_error("%s", err.msg);
		return 1;
	}
	fprintf(stderr, "Connected to the console of %s; Ctrl-] detaches.%s", machine_name(m),
		tty ? "\r\n" : "\n");
	int end = console_relay(&c, STDIN_FILENO, STDOUT_FILENO, &err);
	terminal_restore();
	console_detach(&c);
	if (end < 0) {
		log_error("%s", err.msg);
		return 1;
	}
	if (end == CONSOLE_EMULATOR_ENDED) {
		fprintf(stderr, "\nThe emulator closed the console: the machine has stopped.\n");
		return 1;
	}
	fprintf(stderr, "\nDetached from the console of %s.\n", machine_name(m));
	return 0;
}

int cmd_console(int argc, char **argv)
{
	static const struct option longopts[] = {{"log", no_argument, NULL, 'L'}, {0}};
	bool log_only = false;
	struct cli_options o = {.command = "console",
				.usage = console_usage,
				.longopts = longopts,
				.no_arguments = true};
	int c;
	while ((c = cli_next_option(&o, argc, argv)) >= 0)
		if (c == 'L')
			log_only = true;
	if (c == CLI_EXIT)
		return o.status;
	struct machine m;
	if (cli_open_machine(&m, RUNTIME_FIND) < 0)
		return 1;
	int rc;
	const char *why = why_no_console(&m);
	if (log_only)
		rc = print_log(&m);
	else if (why) {
		log_error("%s", why);
		rc = 1;
	} else if (!machine_running(&m, NULL)) {
		log_error("virtual machine %s is not running: 'vm start' it first, or "
			  "'vm console --log' for what its console showed",
			  machine_name(&m));
		rc = 1;
	} else {
		rc = attach(&m);
	}
	machine_close(&m);
	return rc;
}
