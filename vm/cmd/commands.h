/* The command table (main.c) and the commands' entry points, one file each:
 * adding a command is adding a file and a row. */
#pragma once

#include <stdio.h>

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

const struct command *command_find(const char *name);
void commands_print_usage(FILE *out);

/* The command entry points, one file each. */
int cmd_archive(int argc, char **argv);
int cmd_boot(int argc, char **argv);
int cmd_cmd(int argc, char **argv);
int cmd_console(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_kill(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_net(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_sh(int argc, char **argv);
int cmd_ssh(int argc, char **argv);
int cmd_start(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_stop(int argc, char **argv);
/* vm SCRIPT [ARGS...]: not a table row, since any file can be a script. */
int script_run(int argc, char **argv);
