/* vm list: this user's running machines. */
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "emulator/forwards.h"
#include "emulator/qmp.h"
#include "emulator/runtime.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

#define MONITOR_TIMEOUT_MS 2000

static const char list_usage[] =
    "Usage: vm list [-j|--json]\n"
    "\n"
    "Lists this user's running machines: name, id, directory, state, pid and\n"
    "network.\n"
    "  -j, --json     print a JSON array\n"
    "  -v, --verbose  print each step\n"
    "  -h, --help     show this help\n";

struct entry {
	const char *id;
	struct runtime_info info;
	pid_t pid;
	char *state;
	struct forwards forwards;
};

static void query_state(const struct runtime *rt, struct entry *e)
{
	struct qmp q;
	struct error err;
	if (qmp_connect(&q, rt->qmp_socket, MONITOR_TIMEOUT_MS, &err) < 0) {
		e->state = strdup("unreachable");
		return;
	}
	if (qmp_query_status(&q, &e->state, &err) < 0)
		e->state = strdup("unreachable");
	else
		forwards_query(&q, &e->forwards, &err);
	qmp_close(&q);
}

/* Fills e when the machine with this id runs; false otherwise. */
static bool inspect(const char *id, struct entry *e)
{
	struct runtime rt;
	struct error err;
	*e = (struct entry){.id = id};
	if (runtime_open(&rt, id, RUNTIME_FIND, &err) < 0) {
		log_warn("%s", err.msg);
		return false;
	}
	bool running = runtime_is_running(&rt, &e->pid);
	if (running) {
		if (runtime_read_info(&rt, &e->info, &err) < 0) {
			e->info.name = strdup("?");
			e->info.home = strdup("?");
			e->info.network = strdup("?");
		}
		query_state(&rt, e);
	}
	runtime_close(&rt);
	return running;
}

static struct json_object *entry_json(const struct entry *e)
{
	struct json_object *obj = json_object_new_object();
	json_object_object_add(obj, "name", json_object_new_string(e->info.name));
	json_object_object_add(obj, "id", json_object_new_string(e->id));
	json_object_object_add(obj, "home", json_object_new_string(e->info.home));
	json_object_object_add(obj, "state", json_object_new_string(e->state));
	json_object_object_add(obj, "pid", json_object_new_int((int)e->pid));
	json_object_object_add(obj, "network", json_object_new_string(e->info.network));
	if (e->info.ssh_port)
		json_object_object_add(obj, "ssh_port", json_object_new_int(e->info.ssh_port));
	if (e->forwards.n)
		json_object_object_add(obj, "forwards", forwards_json(&e->forwards));
	return obj;
}

int cmd_list(int argc, char **argv)
{
	bool json = false;
	struct cli_options o = {
	    .command = "list", .usage = list_usage, .no_arguments = true, .json = &json};
	if (cli_next_option(&o, argc, argv) == CLI_EXIT)
		return o.status;
	struct strv ids = STRV_INIT;
	struct error err;
	if (runtime_list_ids(&ids, &err) < 0) {
		log_error("%s", err.msg);
		return 1;
	}
	struct json_object *array = json_object_new_array();
	if (!json)
		printf("%-16s %-3s %-10s %-8s %-7s %s\n", "NAME", "ID", "STATE", "PID", "NETWORK",
		       "DIRECTORY");
	for (size_t i = 0; i < ids.n; i++) {
		struct entry e;
		if (!inspect(ids.v[i], &e))
			continue;
		if (json)
			json_object_array_add(array, entry_json(&e));
		else
			printf("%-16s %-3s %-10s %-8d %-7s %s\n", e.info.name, e.id, e.state,
			       (int)e.pid, e.info.network, e.info.home);
		runtime_info_free(&e.info);
		free(e.state);
		forwards_free(&e.forwards);
	}
	if (json)
		printf("%s\n",
		       json_object_to_json_string_ext(array, JSON_C_TO_STRING_PRETTY |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(array);
	strv_free(&ids);
	return 0;
}
