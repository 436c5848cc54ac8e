/* vm cmd: one command to the emulator's monitor, its answer printed. */
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "config/words.h"
#include "emulator/machine.h"
#include "emulator/savedstate.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

#define MONITOR_TIMEOUT_MS 10000
#define COMMAND_TIMEOUT_MS 600000

static const char cmd_usage[] =
    "Usage: vm cmd [-j|--json] COMMAND...\n"
    "\n"
    "Sends a human monitor command (info status, savevm NAME, loadvm NAME,\n"
    "delvm NAME, info snapshots, system_wakeup, ...) and prints its output.\n"
    "Options may come anywhere on the line ('vm cmd info status -v'); after --\n"
    "every word is the monitor command's, dashes included.\n"
    "  -j, --json     send a QMP command instead: a JSON object such as\n"
    "                 '{\"execute\":\"query-status\"}', or a command name followed by\n"
    "                 its arguments as a JSON object; the reply is printed as JSON\n"
    "  -v, --verbose  print each step\n"
    "  -h, --help     show this help\n";

/* '{"execute":...}' as given, or NAME [ARGUMENTS-JSON]. */
static struct json_object *qmp_request(int argc, char **argv, struct error *err)
{
	char *text = words_join(argc, argv);
	struct json_object *request = NULL;
	if (text[0] == '{') {
		request = json_tokener_parse(text);
		if (!request || !json_object_is_type(request, json_type_object))
			error_set(err, "not a JSON object: %s", text);
	} else {
		struct json_object *args = NULL;
		if (argc > 1) {
			char *rest = words_join(argc - 1, argv + 1);
			args = json_tokener_parse(rest);
			if (!args || !json_object_is_type(args, json_type_object))
				error_set(err, "the arguments of %s are not a JSON object: %s",
					  argv[0], rest);
			free(rest);
			if (!args || !json_object_is_type(args, json_type_object)) {
				json_object_put(args);
				free(text);
				return NULL;
			}
		}
		request = json_object_new_object();
		json_object_object_add(request, "execute", json_object_new_string(argv[0]));
		if (args)
			json_object_object_add(request, "arguments", args);
	}
	free(text);
	return request;
}

static int send_json(struct qmp *q, int argc, char **argv, struct error *err)
{
	struct json_object *request = qmp_request(argc, argv, err), *reply, *error;
	if (!request)
		return -1;
	if (qmp_execute_raw(q, request, &reply, err) < 0)
		return -1;
	json_object_object_del(reply, "id");
	printf("%s\n", json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PRETTY |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
	int rc = 0;
	if (json_object_object_get_ex(reply, "error", &error))
		rc = error_set(err, "the monitor refused the command (see its reply above)");
	json_object_put(reply);
	return rc;
}

/* The human monitor ends its lines with CR LF; a terminal or a script
 * wants LF. */
static void print_lines(const char *text)
{
	for (const char *p = text; *p; p++)
		if (!(p[0] == '\r' && p[1] == '\n'))
			putchar(*p);
}

/* savevm and delvm change which states exist: keep the record of states
 * saved while the guest was suspended true (see savedstate.h). */
static void update_saved_states(struct machine *m, const char *verb, const char *name,
				bool was_suspended)
{
	struct error err;
	char *disk = machine_disk(m, &err);
	if (!disk)
		return;
	enum savedstate_kind kind =
	    !strcmp(verb, "savevm") && was_suspended ? SAVEDSTATE_SUSPENDED : SAVEDSTATE_RUNNING;
	if (savedstate_record(disk, name, kind, &err) < 0)
		log_warn("%s", err.msg);
	free(disk);
}

/* The human monitor answers a command it refuses with text, not with an
 * error: "Error: ..." when the command failed (loadvm of a state that does
 * not exist, a savevm that could not write), "unknown command: ...", or
 * 'Try "help NAME" for more information' after wrong arguments. */
static bool hmp_refused(const char *output)
{
	return !strncmp(output, "Error: ", 7) || strstr(output, "\nError: ") ||
	       !strncmp(output, "unknown command: ", 17) || strstr(output, "Try \"help ");
}

/* A loadvm that fails leaves the guest paused (QEMU stops it first and
 * does not resume it): say so, and how to go on. */
static int refused(struct qmp *q, const char *verb, struct error *err)
{
	char *status = NULL;
	struct error unasked;
	if (!strcmp(verb, "loadvm") && qmp_query_status(q, &status, &unasked) == 0 &&
	    strcmp(status, "running"))
		error_set(err,
			  "the monitor refused the command (see its answer above); the guest "
			  "is left paused (%s): resume it with 'vm cmd cont'",
			  status);
	else
		error_set(err, "the monitor refused the command (see its answer above)");
	free(status);
	return -1;
}

static int send_hmp(struct machine *m, struct qmp *q, int argc, char **argv, struct error *err)
{
	bool changes_states =
	    argc == 2 && (!strcmp(argv[0], "savevm") || !strcmp(argv[0], "delvm"));
	char *status = NULL;
	if (changes_states && qmp_query_status(q, &status, err) < 0)
		return -1;
	char *command = words_join(argc, argv), *output;
	int rc = qmp_hmp(q, command, &output, err);
	free(command);
	if (rc < 0) {
		free(status);
		return -1;
	}
	print_lines(output);
	if (changes_states && !output[0])
		update_saved_states(m, argv[0], argv[1], !strcmp(status, "suspended"));
	rc = hmp_refused(output) ? refused(q, argv[0], err) : 0;
	free(output);
	free(status);
	return rc;
}

int cmd_cmd(int argc, char **argv)
{
	bool json = false;
	struct cli_options o = {.command = "cmd",
				.usage = cmd_usage,
				.passthrough = "the monitor command",
				.json = &json};
	if (cli_next_option(&o, argc, argv) == CLI_EXIT)
		return o.status;
	if (optind == argc)
		return cli_usage_error("cmd", "name the monitor command to send");
	struct machine m;
	if (cli_open_machine(&m, RUNTIME_FIND) < 0)
		return 1;
	struct qmp q;
	struct error err;
	int rc = machine_connect(&m, &q, MONITOR_TIMEOUT_MS, &err);
	/* A savevm must never write into an archive's overlay. */
	if (rc == 0 && cli_merge_overlay_live(&m, &q) < 0) {
		qmp_close(&q);
		machine_close(&m);
		return 1;
	}
	if (rc == 0) {
		log_progress("the monitor of %s answers", machine_name(&m));
		q.timeout_ms = COMMAND_TIMEOUT_MS;
		rc = json ? send_json(&q, argc - optind, argv + optind, &err)
			  : send_hmp(&m, &q, argc - optind, argv + optind, &err);
		qmp_close(&q);
	}
	if (rc < 0)
		log_error("%s", err.msg);
	machine_close(&m);
	return rc < 0 ? 1 : 0;
}
