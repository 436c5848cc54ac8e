#include "boot/boot_machine.h"

#include "strbuf.h"
#include "strv.h"
#include "sys/clock.h"
#include "sys/spawn.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

/* How long a command may take to clean up after SIGTERM once its time ran
 * out (vm start stops its half-started emulator on SIGTERM). */
#define TERM_GRACE_MS 10000
/* How long writing the outcome to the machine's own logs may take. */
#define LOG_BUDGET_MS 10000

/* Variables of root's environment that the owner's commands get too: locale,
 * time zone, and where vm's own files are (set by tests and packagers). */
static const char *const passed_through[] = {"LANG", "LC_ALL", "TZ", "VM_LIB", "VM_NETD"};

struct machine_run {
	const struct boot_context *ctx;
	const struct boot_entry *entry;
	struct spawn_identity identity;
	struct strv env;
	long long deadline_ms;
	struct strbuf out;	  /* the report for stdout */
	struct strbuf err;	  /* the errors, one a line */
	struct strv progress_log; /* outcomes for the machine's VM_LOG */
	struct strv error_log;	  /* and for its VM_ERRLOG */
	bool config_ok;		  /* its configuration could be read */
};

static void report(struct machine_run *run, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* One line per outcome: "DIR (OWNER): message", to stdout or stderr and to
 * syslog, and (as the owner, at the end) to the machine's own logs. */
static void report(struct machine_run *run, bool ok, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	const struct boot_entry *e = run->entry;
	if (ok)
		strbuf_addf(&run->out, "%s (%s): %s\n", e->dir, e->owner, msg);
	else
		strbuf_addf(&run->err, "%s (%s): %s\n", e->dir, e->owner, msg);
	syslog(ok ? LOG_INFO : LOG_ERR, "%s (%s): %s", e->dir, e->owner, msg);
	strv_add(ok ? &run->progress_log : &run->error_log, msg);
}

static int find_owner(struct machine_run *run)
{
	errno = 0;
	struct passwd *pw = getpwnam(run->entry->owner);
	if (!pw) {
		report(run, false, "unknown owner '%s' (line %d of the machine list): %s",
		       run->entry->owner, run->entry->line,
		       errno ? strerror(errno) : "no such user");
		return -1;
	}
	if (pw->pw_uid == 0) {
		report(run, false, "owner '%s' is root: machines run as an unprivileged owner",
		       run->entry->owner);
		return -1;
	}
	run->identity = (struct spawn_identity){xstrdup(pw->pw_name), pw->pw_uid, pw->pw_gid};
	struct strv *env = &run->env;
	strv_addf(env, "HOME=%s", pw->pw_dir);
	strv_addf(env, "USER=%s", pw->pw_name);
	strv_addf(env, "LOGNAME=%s", pw->pw_name);
	/* The configuration check runs `vm sh -c`: a plain POSIX shell will do
	 * (the login shell may be nologin). */
	strv_add(env, "SHELL=/bin/sh");
	strv_add(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	/* The owner's own session directory when a session (or lingering)
	 * made one, as the owner's programs expect; vm itself finds its
	 * machines without it (emulator/runtime.h). */
	char *xdg = xasprintf("/run/user/%u", (unsigned)pw->pw_uid);
	struct stat st;
	if (stat(xdg, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == pw->pw_uid)
		strv_addf(env, "XDG_RUNTIME_DIR=%s", xdg);
	free(xdg);
	strv_addf(env, "VM_HOME=%s", run->entry->dir);
	strv_add(env, "VM_HOME_OVERRIDES_CWD=yes");
	for (size_t i = 0; i < sizeof(passed_through) / sizeof(passed_through[0]); i++) {
		const char *value = getenv(passed_through[i]);
		if (value && value[0])
			strv_addf(env, "%s=%s", passed_through[i], value);
	}
	return 0;
}

/* Runs `vm ARGS...` as the owner within what is left of the time-out (or
 * within budget_ms when given). Returns -1 when vm could not be run at all
 * (reported). */
static int run_as_owner(struct machine_run *run, const char *const args[], int budget_ms,
			struct spawn_result *result)
{
	struct strv argv = STRV_INIT;
	strv_add(&argv, run->ctx->vm_path);
	for (size_t i = 0; args[i]; i++)
		strv_add(&argv, args[i]);
	long long left = run->deadline_ms - clock_now_ms();
	if (budget_ms)
		left = budget_ms;
	struct spawn_options opts = {
	    .envp = strv_argv(&run->env),
	    .dir = "/",
	    .capture_stdout = true,
	    .capture_stderr = true,
	    .timeout_ms = left > 0 ? (int)left : 1,
	    .term_grace_ms = TERM_GRACE_MS,
	    .identity = &run->identity,
	};
	struct error err;
	int rc = spawn_run(strv_argv(&argv), &opts, result, &err);
	strv_free(&argv);
	if (rc < 0)
		report(run, false, "as %s: %s", run->entry->owner, err.msg);
	return rc;
}

/* After a command ran over its time: make sure no emulator is left half
 * started or half stopped. */
static void kill_after_timeout(struct machine_run *run, const char *what)
{
	static const char *const kill_args[] = {"kill", NULL};
	struct spawn_result result;
	bool killed = run_as_owner(run, kill_args, BOOT_KILL_GRACE_S * 1000, &result) == 0 &&
		      !result.timed_out;
	if (killed)
		spawn_result_free(&result);
	report(run, false, "%s did not finish within %d s; %s", what, run->entry->timeout_s,
	       killed ? "made the emulator quit (vm kill)"
		      : "vm kill did not finish either: look for the emulator by hand");
}

/* The machine's record under the state directory: the name of the state
 * saved at the last shutdown. The directory's bytes, made safe for a file
 * name ('/' and anything unusual become _XX). */
static char *marker_path(const struct machine_run *run)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%s/", run->ctx->state_dir);
	for (const unsigned char *p = (const unsigned char *)run->entry->dir; *p; p++)
		if (isalnum(*p) || *p == '-' || (*p == '.' && p[-1] != '/'))
			strbuf_addc(&sb, (char)*p);
		else
			strbuf_addf(&sb, "_%02x", *p);
	return strbuf_take(&sb);
}

static char *marker_read(const struct machine_run *run)
{
	char *path = marker_path(run);
	FILE *f = fopen(path, "re");
	free(path);
	if (!f)
		return NULL;
	char name[128] = "";
	bool ok = fgets(name, sizeof(name), f) != NULL;
	fclose(f);
	name[strcspn(name, "\n")] = '\0';
	return ok && name[0] ? xstrdup(name) : NULL;
}

static void marker_remove(const struct machine_run *run)
{
	char *path = marker_path(run);
	unlink(path);
	free(path);
}

/* mkdir -p: the state directory's parents may not exist yet. */
static int make_dirs(const char *path)
{
	char *copy = xstrdup(path);
	int rc = 0;
	for (char *p = copy + 1; rc == 0; p++) {
		bool last = *p == '\0';
		if (*p != '/' && !last)
			continue;
		*p = '\0';
		if (mkdir(copy, 0755) < 0 && errno != EEXIST)
			rc = -1;
		if (last)
			break;
		*p = '/';
	}
	free(copy);
	return rc;
}

static int marker_write(struct machine_run *run, const char *name)
{
	if (make_dirs(run->ctx->state_dir) < 0) {
		report(run, false,
		       "cannot create %s: %s; the saved state will not be restored "
		       "at the next start",
		       run->ctx->state_dir, strerror(errno));
		return -1;
	}
	char *path = marker_path(run);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	bool ok = fd >= 0 && dprintf(fd, "%s\n", name) > 0;
	if (fd >= 0)
		ok = close(fd) == 0 && ok;
	if (!ok)
		report(run, false,
		       "cannot record the saved state in %s: %s; it will not be "
		       "restored at the next start",
		       path, strerror(errno));
	free(path);
	return ok ? 0 : -1;
}

/* `vm status -q -s`: 1 when the machine runs, 0 when not, -1 when that
 * could not be told (reported). *why gets what status said on stderr. */
static int is_running(struct machine_run *run, char **why)
{
	static const char *const args[] = {"status", "-q", "-s", NULL};
	struct spawn_result result;
	*why = NULL;
	if (run_as_owner(run, args, 0, &result) < 0)
		return -1;
	if (result.timed_out) {
		spawn_result_free(&result);
		kill_after_timeout(run, "vm status");
		return -1;
	}
	int running = result.status == 0;
	*why = spawn_last_lines(result.err, SIZE_MAX);
	spawn_result_free(&result);
	return running;
}

/* Reports a finished command; returns 0 when it succeeded. */
static int check_result(struct machine_run *run, struct spawn_result *result, const char *what,
			const char *done)
{
	if (run->ctx->verbose && result->out[0])
		strbuf_addf(&run->out, "%s", result->out);
	int rc = 0;
	if (result->timed_out) {
		kill_after_timeout(run, what);
		rc = -1;
	} else if (result->status != 0) {
		char *why = spawn_last_lines(result->err, SIZE_MAX);
		report(run, false, "%s failed (exit %d)%s%s", what, result->status,
		       why[0] ? ": " : "", why);
		free(why);
		rc = -1;
	} else
		report(run, true, "%s", done);
	spawn_result_free(result);
	return rc;
}

/* Loads the machine's configuration as the owner (through `vm sh`, which
 * reads it exactly as every command does) and checks that it names the
 * listed owner. Reports a missing directory or a broken .vmrc in vm's own
 * words. */
static int check_config(struct machine_run *run)
{
	static const char *const args[] = {"sh", "-c", "printf '%s' \"$VM_MACHINE_OWNER\"", NULL};
	struct spawn_result result;
	if (run_as_owner(run, args, 0, &result) < 0)
		return -1;
	int rc = 0;
	if (result.timed_out) {
		report(run, false, "reading its configuration did not finish within %d s",
		       run->entry->timeout_s);
		rc = -1;
	} else if (result.status != 0) {
		char *why = spawn_last_lines(result.err, SIZE_MAX);
		report(run, false, "configuration: %s", why[0] ? why : "vm sh failed");
		free(why);
		rc = -1;
	} else {
		run->config_ok = true;
		if (strcmp(result.out, run->entry->owner)) {
			report(run, false,
			       "its .vmrc says VM_MACHINE_OWNER=%s but the machine list (line %d) "
			       "says %s: correct one of them",
			       result.out, run->entry->line, run->entry->owner);
			rc = -1;
		}
	}
	spawn_result_free(&result);
	return rc;
}

static int boot_start_listed(struct machine_run *run)
{
	char *why;
	int running = is_running(run, &why);
	free(why);
	if (running < 0)
		return -1;
	if (running) {
		report(run, true, "already running");
		return 0;
	}
	char *saved = marker_read(run);
	const char *args[6] = {"start"};
	size_t n = 1;
	if (run->ctx->verbose)
		args[n++] = "-v";
	if (run->entry->nat)
		args[n++] = "--nat";
	if (saved) {
		args[n++] = "-l";
		args[n++] = saved;
	}
	struct spawn_result result;
	int rc = run_as_owner(run, args, 0, &result);
	/* Used once: a state restored (or found broken) must not come back at
	 * a later start over newer work. */
	if (saved)
		marker_remove(run);
	if (rc == 0) {
		char *done =
		    saved ? xasprintf("started, state '%s' restored", saved) : xstrdup("started");
		rc = check_result(run, &result, saved ? "vm start -l" : "vm start", done);
		free(done);
	}
	free(saved);
	return rc;
}

static int boot_stop_listed(struct machine_run *run)
{
	char *why;
	int running = is_running(run, &why);
	if (running == 0) {
		/* A quiet status that says nothing just means "not running". */
		if (why[0])
			report(run, false, "cannot tell whether it runs: %s", why);
		else
			report(run, true, "not running");
		int rc = why[0] ? -1 : 0;
		free(why);
		return rc;
	}
	free(why);
	if (running < 0)
		return -1;
	bool save = run->entry->shutdown == BOOT_SHUTDOWN_SAVE;
	const char *args[5] = {"stop"};
	size_t n = 1;
	if (run->ctx->verbose)
		args[n++] = "-v";
	args[n++] = save ? "-s" : "-p";
	if (save)
		args[n++] = run->entry->save_name;
	struct spawn_result result;
	if (run_as_owner(run, args, 0, &result) < 0)
		return -1;
	char *done = save ? xasprintf("stopped, state saved as '%s'", run->entry->save_name)
			  : xstrdup("powered off");
	int rc = check_result(run, &result, save ? "vm stop -s" : "vm stop -p", done);
	free(done);
	if (rc == 0 && save)
		rc = marker_write(run, run->entry->save_name);
	return rc;
}

static int boot_status_listed(struct machine_run *run)
{
	const char *args[3] = {"status", run->ctx->verbose ? "-v" : NULL, NULL};
	struct spawn_result result;
	if (run_as_owner(run, args, 0, &result) < 0)
		return -1;
	/* vm status's own lines, each under the machine's name. */
	for (const char *p = result.out; *p;) {
		size_t len = strcspn(p, "\n");
		strbuf_addf(&run->out, "%s: %.*s\n", run->entry->dir, (int)len, p);
		p += len + (p[len] == '\n');
	}
	int rc = 0;
	if (result.timed_out) {
		kill_after_timeout(run, "vm status");
		rc = -1;
	} else if (result.status != 0) {
		char *why = spawn_last_lines(result.err, SIZE_MAX);
		report(run, false, "not running or not reachable%s%s", why[0] ? ": " : "", why);
		free(why);
		rc = -1;
	} else
		report(run, true, "running");
	spawn_result_free(&result);
	return rc;
}

/* Appends the outcomes to the machine's VM_LOG and VM_ERRLOG, as the owner
 * (only the owner's vm can read where they are), with the shell library's
 * vm_log_to: "[TIMESTAMP boot] message". */
static void log_to_machine(struct machine_run *run)
{
	if (!run->config_ok || (!run->progress_log.n && !run->error_log.n))
		return;
	struct strv args = STRV_INIT;
	strv_add(&args, "sh");
	strv_add(&args, "-c");
	strv_add(&args, ". \"$VM_FUNCTIONS\" && for m do case $m in E*) vm_log_to "
			"\"${VM_ERRLOG-}\" \"${m#?}\";; *) vm_log_to \"${VM_LOG-}\" \"${m#?}\";; "
			"esac; done");
	strv_add(&args, "boot");
	for (size_t i = 0; i < run->progress_log.n; i++)
		strv_addf(&args, "P%s", run->progress_log.v[i]);
	for (size_t i = 0; i < run->error_log.n; i++)
		strv_addf(&args, "E%s", run->error_log.v[i]);
	struct spawn_result result;
	if (run_as_owner(run, (const char *const *)strv_argv(&args), LOG_BUDGET_MS, &result) == 0)
		spawn_result_free(&result);
	strv_free(&args);
}

int boot_machine(const struct boot_context *ctx, const struct boot_entry *entry,
		 enum boot_action action, struct boot_outcome *outcome)
{
	struct machine_run run = {
	    .ctx = ctx,
	    .entry = entry,
	    .env = STRV_INIT,
	    .deadline_ms = clock_now_ms() + (long long)entry->timeout_s * 1000,
	    .out = STRBUF_INIT,
	    .err = STRBUF_INIT,
	    .progress_log = STRV_INIT,
	    .error_log = STRV_INIT,
	};
	int rc = find_owner(&run);
	if (rc == 0)
		rc = check_config(&run);
	if (rc == 0) {
		if (action == BOOT_START)
			rc = boot_start_listed(&run);
		else if (action == BOOT_STOP)
			rc = boot_stop_listed(&run);
		else
			rc = boot_status_listed(&run);
	}
	log_to_machine(&run);
	*outcome = (struct boot_outcome){.out = run.out, .errors = run.err};
	strv_free(&run.env);
	strv_free(&run.progress_log);
	strv_free(&run.error_log);
	free((char *)run.identity.user);
	return rc;
}

void boot_outcome_free(struct boot_outcome *outcome)
{
	strbuf_free(&outcome->out);
	strbuf_free(&outcome->errors);
}
