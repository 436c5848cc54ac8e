/* vm status: does the machine run, and can the guest be reached? */
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "emulator/forwards.h"
#include "emulator/machine.h"
#include "emulator/qemu.h"
#include "emulator/savedstate.h"
#include "guest/guest.h"
#include "log.h"
#include "storage/image.h"

#include <stdlib.h>
#include <string.h>

#define MONITOR_TIMEOUT_MS 5000
#define BANNER_TIMEOUT_MS 3000
#define LOGIN_TIMEOUT_MS 20000

static const char status_usage[] =
    "Usage: vm status [-q|--quiet] [-s|--no-ssh-check] [-j|--json]\n"
    "\n"
    "Shows the guest's address, whether it can be reached, the emulator's state,\n"
    "whether ssh logs in, and the saved states the disk holds (vm start -l NAME).\n"
    "Exit status 0 only when the machine runs and the guest can be reached.\n"
    "  -q, --quiet         print nothing; only the exit status tells\n"
    "  -s, --no-ssh-check  do not try to log in (also --no-ssh-fail, the original's\n"
    "                      spelling)\n"
    "  -j, --json          print the same as a JSON object\n"
    "  -v, --verbose       also show the guest's control method (systemctl/loginctl)\n"
    "  -h, --help          show this help\n";

struct status {
	bool running;
	int pid;
	int busy_pid; /* not running, and another vm command holds the lock */
	char *state;  /* the emulator's run state; NULL when unknown */
	char *monitor_error;
	char *network;
	struct forwards forwards; /* what the running emulator forwards (NAT) */
	char *address;		  /* USER@HOST[:PORT] */
	bool reachable;
	int ssh; /* 1 logs in, 0 does not, -1 not checked */
	char *ssh_error;
	char *control; /* systemctl/loginctl, with -v */
	char *disk;    /* the image that holds the saved states */
	bool have_states;
	struct image_info disk_info; /* its saved states, when have_states */
};

static void check_emulator(struct machine *m, struct status *st)
{
	pid_t pid;
	st->running = machine_running(m, &pid);
	st->pid = (int)pid;
	if (!st->running && runtime_state(&m->rt, &pid) == RUNTIME_BUSY)
		st->busy_pid = (int)pid;
	if (!st->running) {
		cli_merge_overlay_stopped(m, false);
		return;
	}
	struct qmp q;
	struct error err;
	if (qmp_connect(&q, m->rt.qmp_socket, MONITOR_TIMEOUT_MS, &err) < 0)
		st->monitor_error = strdup(err.msg);
	else if (cli_merge_overlay_live(m, &q), qmp_query_status(&q, &st->state, &err) < 0)
		st->monitor_error = strdup(err.msg);
	else
		forwards_query(&q, &st->forwards, &err);
	qmp_close(&q); /* a no-op when the connection was never made */
}

static void check_guest(struct machine *m, struct status *st, bool ssh_check)
{
	struct guest g;
	struct error err;
	st->ssh = -1;
	if (guest_open(&g, &m->cfg, st->running ? &m->rt : NULL, &err) < 0) {
		st->ssh_error = strdup(err.msg);
		return;
	}
	struct runtime_info info;
	st->network = strdup(
	    st->running && runtime_read_info(&m->rt, &info, &err) == 0 ? info.network : "none");
	if (st->running)
		runtime_info_free(&info);
	st->address = guest_address(&g);
	st->reachable = st->running && guest_ssh_banner(&g, BANNER_TIMEOUT_MS);
	if (ssh_check && st->reachable) {
		st->ssh = guest_login(&g, LOGIN_TIMEOUT_MS, &err) == 0;
		if (!st->ssh)
			st->ssh_error = strdup(err.msg);
	}
	if (log_is_verbose() && st->ssh == 1 && guest_control_method(&g, &st->control, &err) < 0)
		st->control = strdup("none");
	guest_close(&g);
}

/* The saved states the disk holds, for vm start -l. */
static void check_states(const struct machine *m, struct status *st)
{
	st->disk = qemu_disk_image(&m->cfg, false);
	struct error err;
	st->have_states = image_info(st->disk, &st->disk_info, &err) == 0;
	if (!st->have_states)
		log_debug("cannot list the saved states: %s", err.msg);
}

/* Saved while the guest slept: vm start -l wakes it. */
static bool state_asleep(const struct status *st, size_t i)
{
	return savedstate_lookup(st->disk, st->disk_info.snapshots.v[i]) != SAVEDSTATE_RUNNING;
}

static void print_states(const struct status *st)
{
	const struct strv *names = &st->disk_info.snapshots;
	if (!st->have_states) {
		printf("states:    ?\n");
		return;
	}
	if (!names->n) {
		printf("states:    none ('vm stop -s NAME' saves one)\n");
		return;
	}
	printf("states:   ");
	for (size_t i = 0; i < names->n; i++)
		printf("%s %s%s", i ? "," : "", names->v[i],
		       state_asleep(st, i) ? " (asleep)" : "");
	printf("\n");
}

static struct json_object *states_json(const struct status *st)
{
	if (!st->have_states)
		return NULL;
	struct json_object *list = json_object_new_array();
	for (size_t i = 0; i < st->disk_info.snapshots.n; i++) {
		struct json_object *state = json_object_new_object();
		json_object_object_add(state, "name",
				       json_object_new_string(st->disk_info.snapshots.v[i]));
		json_object_object_add(state, "saved",
				       json_object_new_int64(st->disk_info.snapshot_dates[i]));
		json_object_object_add(state, "asleep",
				       json_object_new_boolean(state_asleep(st, i)));
		json_object_array_add(list, state);
	}
	return list;
}

static void print_text(struct machine *m, const struct status *st)
{
	printf("machine:   %s (id %s) in %s\n", machine_name(m),
	       config_get(&m->cfg, "VM_MACHINE_ID"), m->cfg.home);
	if (!st->running && st->busy_pid)
		printf("emulator:  not running; another vm command is working on this machine "
		       "(pid %d)\n",
		       st->busy_pid);
	else if (!st->running)
		printf("emulator:  not running\n");
	else if (st->state && !strcmp(st->state, "paused"))
		printf("emulator:  running (pid %d), guest paused: resume it with 'vm cmd cont'\n",
		       st->pid);
	else if (st->state)
		printf("emulator:  running (pid %d), guest %s\n", st->pid, st->state);
	else
		printf("emulator:  running (pid %d), monitor unreachable: %s\n", st->pid,
		       st->monitor_error);
	if (st->running && st->state && !strcmp(st->state, "io-error")) {
		char *advice = machine_io_error_advice(m);
		printf("           %s\n", advice);
		free(advice);
	}
	printf("network:   %s\n", st->network ? st->network : "?");
	if (st->forwards.n) {
		char *list = forwards_describe(&st->forwards);
		printf("forwards:  %s\n", list);
		free(list);
	}
	printf("address:   %s\n", st->address ? st->address : "?");
	printf("reachable: %s\n", st->reachable ? "yes" : "no");
	if (st->ssh < 0)
		printf("ssh:       not checked\n");
	else
		printf("ssh:       %s%s%s\n", st->ssh ? "yes" : "no", st->ssh ? "" : ": ",
		       st->ssh ? "" : st->ssh_error);
	if (st->control)
		printf("control:   %s\n", st->control);
	print_states(st);
}

static void add_string(struct json_object *obj, const char *key, const char *value)
{
	json_object_object_add(obj, key, value ? json_object_new_string(value) : NULL);
}

static void print_json(const struct machine *m, const struct status *st)
{
	struct json_object *obj = json_object_new_object();
	add_string(obj, "name", machine_name(m));
	add_string(obj, "id", config_get(&m->cfg, "VM_MACHINE_ID"));
	add_string(obj, "home", m->cfg.home);
	json_object_object_add(obj, "running", json_object_new_boolean(st->running));
	json_object_object_add(obj, "pid", st->running ? json_object_new_int(st->pid) : NULL);
	add_string(obj, "state", st->state);
	add_string(obj, "network", st->network);
	add_string(obj, "address", st->address);
	if (st->forwards.n)
		json_object_object_add(obj, "forwards", forwards_json(&st->forwards));
	json_object_object_add(obj, "reachable", json_object_new_boolean(st->reachable));
	json_object_object_add(obj, "ssh", st->ssh < 0 ? NULL : json_object_new_boolean(st->ssh));
	if (st->control)
		add_string(obj, "control", st->control);
	json_object_object_add(obj, "states", states_json(st));
	printf("%s\n", json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(obj);
}

int cmd_status(int argc, char **argv)
{
	/* --no-ssh-fail: the original's long spelling of -s. */
	static const struct option longopts[] = {{"quiet", no_argument, NULL, 'q'},
						 {"no-ssh-check", no_argument, NULL, 's'},
						 {"no-ssh-fail", no_argument, NULL, 's'},
						 {0}};
	bool quiet = false, json = false, ssh_check = true;
	struct cli_options o = {.command = "status",
				.usage = status_usage,
				.shortopts = "qs",
				.longopts = longopts,
				.no_arguments = true,
				.json = &json};
	int c;
	while ((c = cli_next_option(&o, argc, argv)) >= 0) {
		if (c == 'q')
			quiet = true;
		else if (c == 's')
			ssh_check = false;
	}
	if (c == CLI_EXIT)
		return o.status;
	if (quiet && log_is_verbose())
		return cli_usage_error("status", "--quiet and --verbose cannot be used together");
	struct machine m;
	if (cli_open_machine(&m, RUNTIME_FIND) < 0)
		return 1;
	struct status st = {.ssh = -1};
	check_emulator(&m, &st);
	check_guest(&m, &st, ssh_check);
	if (!quiet || json)
		check_states(&m, &st);
	if (json)
		print_json(&m, &st);
	else if (!quiet)
		print_text(&m, &st);
	bool ok = st.running && st.reachable;
	free(st.state), free(st.monitor_error), free(st.network), free(st.address);
	free(st.ssh_error), free(st.control), free(st.disk);
	if (st.have_states)
		image_info_free(&st.disk_info);
	forwards_free(&st.forwards);
	machine_close(&m);
	return ok ? 0 : 1;
}
