/* vm boot start|stop|status [DIRECTORY...]: the machines listed for boot,
 * each handled as its owner, all in parallel. Run by root from vm.service,
 * vm@.service or /etc/init.d/vm. */
#include "boot/boot_machine.h"
#include "boot/bootlist.h"
#include "build-config.h"
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "log.h"
#include "net/netclient.h"
#include "sys/spawn.h"
#include "xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

static const char boot_usage[] =
    "Usage: vm boot [-f|--file LIST] start|stop|status [DIRECTORY...]\n"
    "\n"
    "Starts, stops or checks the machines listed for boot (default list:\n" VM_SYSCONFDIR
    "/vm/machines, or $VM_BOOT_LIST), or only the listed\n"
    "DIRECTORYs. Each machine is handled as its owner, all in parallel, each\n"
    "within its time-out. Root only. Exit status 0 when every machine\n"
    "succeeded (status: runs), else 1.\n"
    "\n"
    "Options:\n"
    "  -f, --file LIST  the machine list to use\n"
    "  -v, --verbose    show each step and the machines' own output\n"
    "  -h, --help       show this help\n";

static const char *const action_names[] = {"start", "stop", "status"};

static int parse_action(const char *word, enum boot_action *action)
{
	for (size_t i = 0; i < sizeof(action_names) / sizeof(action_names[0]); i++)
		if (!strcmp(word, action_names[i])) {
			*action = (enum boot_action)i;
			return 0;
		}
	return -1;
}

static const char *list_path(const char *option)
{
	if (option)
		return option;
	const char *env = getenv("VM_BOOT_LIST");
	return env && env[0] ? env : VM_SYSCONFDIR "/vm/machines";
}

static const char *state_dir(void)
{
	const char *env = getenv("VM_BOOT_STATE");
	return env && env[0] ? env : VM_STATEDIR "/boot";
}

/* Bridges declared `create` in the network policy must exist before the
 * machines that use them start. Without the helper installed there is
 * nothing to set up. */
static void setup_bridges(void)
{
	const char *netd = netclient_helper_path();
	if (access(netd, X_OK) < 0) {
		log_debug("%s is not installed: no bridges to set up", netd);
		return;
	}
	char *argv[] = {(char *)netd, "--setup", NULL};
	struct spawn_options opts = {.capture_stderr = true, .timeout_ms = 60000};
	struct spawn_result result;
	struct error err;
	if (spawn_run(argv, &opts, &result, &err) < 0) {
		log_error("%s; machines on bridges it should create may not start", err.msg);
		syslog(LOG_ERR, "%s", err.msg);
		return;
	}
	if (result.status != 0 || result.timed_out) {
		log_error("%s --setup failed%s: %s; machines on bridges it should create "
			  "may not start",
			  netd, result.timed_out ? " (timed out)" : "", result.err);
		syslog(LOG_ERR, "%s --setup failed: %s", netd, result.err);
	} else
		log_progress("bridges set up (%s --setup)", netd);
	spawn_result_free(&result);
}

/* The entries to act on: all of them, or the DIRECTORYs named (which must
 * be listed: the list is what says who owns a machine). */
static int select_entries(const struct boot_list *list, int argc, char **argv,
			  const struct boot_entry ***selected, size_t *count)
{
	size_t n = argc > 0 ? (size_t)argc : list->count;
	*selected = xmalloc((n ? n : 1) * sizeof(**selected));
	*count = 0;
	int missing = 0;
	if (argc == 0)
		for (size_t i = 0; i < list->count; i++)
			(*selected)[(*count)++] = &list->entries[i];
	for (int i = 0; i < argc; i++) {
		const struct boot_entry *entry = bootlist_find(list, argv[i]);
		if (entry) {
			(*selected)[(*count)++] = entry;
			continue;
		}
		log_error("%s is not listed in %s (or its line is refused above); add "
			  "a line 'DIRECTORY OWNER save:NAME|poweroff [TIMEOUT]' there",
			  argv[i], list->path);
		syslog(LOG_ERR, "%s is not listed in %s", argv[i], list->path);
		missing++;
	}
	return missing ? -1 : 0;
}

static void write_all(int fd, const struct strbuf *sb)
{
	const char *p = strbuf_str(sb);
	size_t left = sb->len;
	while (left) {
		ssize_t w = write(fd, p, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		left -= (size_t)w;
	}
}

/* A worker's turn: the machine's outcome told in one piece each. */
static int run_one(const struct boot_context *ctx, const struct boot_entry *entry,
		   enum boot_action action)
{
	struct boot_outcome outcome;
	int rc = boot_machine(ctx, entry, action, &outcome);
	write_all(STDOUT_FILENO, &outcome.out);
	if (outcome.errors.len)
		log_error("%s", strbuf_str(&outcome.errors));
	boot_outcome_free(&outcome);
	return rc;
}

/* One worker process per machine, so that a slow machine holds up no
 * other; each reports its own outcome. Returns how many failed. */
static size_t run_parallel(const struct boot_context *ctx, const struct boot_entry **entries,
			   size_t count, enum boot_action action)
{
	pid_t *pids = xmalloc((count ? count : 1) * sizeof(pid_t));
	size_t failed = 0;
	fflush(stdout);
	fflush(stderr);
	for (size_t i = 0; i < count; i++) {
		log_progress("%s %s as %s", action_names[action], entries[i]->dir,
			     entries[i]->owner);
		fflush(stdout);
		pids[i] = fork();
		if (pids[i] == 0)
			_exit(run_one(ctx, entries[i], action) == 0 ? 0 : 1);
		if (pids[i] < 0) {
			log_error("%s: cannot fork: %s", entries[i]->dir, strerror(errno));
			failed++;
		}
	}
	for (size_t i = 0; i < count; i++) {
		int status;
		if (pids[i] < 0)
			continue;
		while (waitpid(pids[i], &status, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
	}
	free(pids);
	return failed;
}

static int refuse_unless_root(void)
{
	if (getuid() == 0 && geteuid() == 0)
		return 0;
	log_error("must be run as root: it starts each listed machine as its owner; "
		  "use 'sudo vm boot ...' or the vm service, or run 'vm start' yourself");
	return -1;
}

static int report_list_problems(const struct boot_list *list)
{
	for (size_t i = 0; i < list->problem_count; i++) {
		log_error("%s (this machine is skipped)", list->problems[i]);
		syslog(LOG_ERR, "%s (machine skipped)", list->problems[i]);
	}
	return list->problem_count ? -1 : 0;
}

int cmd_boot(int argc, char **argv)
{
	static const struct option longopts[] = {{"file", required_argument, NULL, 'f'}, {0}};
	const char *file = NULL;
	struct cli_options o = {
	    .command = "boot", .usage = boot_usage, .shortopts = "f:", .longopts = longopts};
	int c;
	while ((c = cli_next_option(&o, argc, argv)) >= 0)
		if (c == 'f')
			file = optarg;
	if (c == CLI_EXIT)
		return o.status;
	enum boot_action action;
	if (optind >= argc)
		return cli_usage_error("boot", "say what to do: start, stop or status");
	if (parse_action(argv[optind], &action) < 0)
		return cli_usage_error("boot", "'%s' is not start, stop or status", argv[optind]);
	if (refuse_unless_root() < 0)
		return 1;
	struct error err;
	char *self = spawn_self_path(&err);
	if (!self) {
		log_error("%s", err.msg);
		return 1;
	}
	openlog("vm-boot", LOG_PID, LOG_DAEMON);
	struct boot_list list;
	if (bootlist_load(list_path(file), &list, &err) < 0) {
		log_error("%s", err.msg);
		syslog(LOG_ERR, "%s", err.msg);
		bootlist_free(&list);
		free(self);
		return 1;
	}
	int rc = report_list_problems(&list);
	const struct boot_entry **entries;
	size_t count;
	if (select_entries(&list, argc - optind - 1, argv + optind + 1, &entries, &count) < 0)
		rc = -1;
	if (action == BOOT_START && count)
		setup_bridges();
	struct boot_context ctx = {self, state_dir(), log_is_verbose()};
	size_t failed = run_parallel(&ctx, entries, count, action);
	if (failed) {
		log_error("%s failed for %zu of %zu machine%s; see the messages above and "
			  "syslog",
			  action_names[action], failed, count, count == 1 ? "" : "s");
		rc = -1;
	}
	free(entries);
	bootlist_free(&list);
	free(self);
	closelog();
	return rc < 0 ? 1 : 0;
}
