/* vm: one directory, one .vmrc, one short command for each thing you do with
 * a QEMU machine. This file is the command table and the dispatch. */
#include "build-config.h"
#include "cmd/commands.h"
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const struct command commands[] = {
    {"init", cmd_init, "create the base and backing images from the seed image"},
    {"run", cmd_run, "run the emulator in the foreground"},
    {"start", cmd_start, "start the machine in the background and wait until it is ready"},
    {"stop", cmd_stop, "suspend and save, power off, or reboot the machine"},
    {"kill", cmd_kill, "make the emulator quit, by force if need be"},
    {"cmd", cmd_cmd, "send a command to the emulator's monitor"},
    {"status", cmd_status, "tell whether the machine runs and is reachable"},
    {"archive", cmd_archive, "back the machine's images up into a dated directory"},
    {"export", cmd_export, "print the stopped machine as a libvirt domain XML"},
    {"sh", cmd_sh, "open a shell in the machine directory with its variables"},
    {"console", cmd_console, "attach the terminal to the guest's serial console"},
    {"ssh", cmd_ssh, "log into the guest, or run a command there"},
    {"list", cmd_list, "list this user's running machines"},
    {"net", cmd_net, "show what the network policy grants you"},
    {"boot", cmd_boot, "start or stop the machines listed for boot (root)"},
};

const struct command *command_find(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

void commands_print_usage(FILE *out)
{
	fprintf(out, "Usage: vm COMMAND [OPTIONS] [ARGS...]\n"
		     "       vm SCRIPT [ARGS...]\n\n"
		     "Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nEvery command takes -h/--help and -v/--verbose. "
		     "See vm(1) and vmrc(5).\n");
}

/* next: the word after name, or NULL. */
static void report_unknown_command(const char *name, const char *next)
{
	char list[512] = "";
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (i)
			strncat(list, ", ", sizeof(list) - strlen(list) - 1);
		strncat(list, commands[i].name, sizeof(list) - strlen(list) - 1);
	}
	/* vm -v status: options come after the command, anywhere there. */
	if (name[0] == '-' && name[1])
		log_error("'%s' is an option: put it after the command (vm %s %s); the commands "
			  "are: %s",
			  name, next && command_find(next) ? next : "COMMAND", name, list);
	else
		log_error("unknown command '%s'; the commands are: %s (or give a script's path)",
			  name, list);
}

static bool is_script(const char *name)
{
	struct stat st;
	return stat(name, &st) == 0 && S_ISREG(st.st_mode);
}

int main(int argc, char **argv)
{
	log_setup("vm");
	if (argc < 2) {
		commands_print_usage(stderr);
		return 1;
	}
	const char *name = argv[1];
	if (!strcmp(name, "-h") || !strcmp(name, "--help") || !strcmp(name, "help")) {
		commands_print_usage(stdout);
		return 0;
	}
	if (!strcmp(name, "--version")) {
		printf("vm %s\n", VM_VERSION);
		return 0;
	}
	const struct command *command = command_find(name);
	if (command) {
		log_set_command(command->name);
		return command->run(argc - 1, argv + 1);
	}
	if (strchr(name, '/') || is_script(name)) {
		log_set_command(name);
		return script_run(argc - 1, argv + 1);
	}
	report_unknown_command(name, argv[2]);
	return 1;
}
