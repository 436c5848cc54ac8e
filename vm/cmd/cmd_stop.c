/* vm stop: suspend the guest, save its state, quit the emulator and sync;
 * or power the guest off, or reboot it. */
#include "cmd/cli.h"
#include "cmd/commands.h"
#include "emulator/machine.h"
#include "emulator/savedstate.h"
#include "emulator/suspend_request.h"
#include "guest/guest.h"
#include "log.h"
#include "sys/progress.h"
#include "xalloc.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MONITOR_TIMEOUT_MS 10000
#define SUSPEND_TIMEOUT_MS 30000
#define LATE_SUSPEND_MS 5000
#define POWEROFF_TIMEOUT_MS 120000
#define REBOOT_TIMEOUT_MS 60000
#define ACPI_REPEAT_MS 10000
#define QUIT_TIMEOUT_MS 30000

static const char stop_usage[] =
    "Usage: vm stop [-s|--savevm NAME] [-p|--poweroff] [-r|--reboot] [-n|--no-suspend]\n"
    "\n"
    "Default: suspend the guest, save its state as NAME, quit the emulator and sync\n"
    "the host's file system. Without -s, -n is needed.\n"
    "  -s, --savevm NAME  save the machine's state as NAME (--vm-save NAME too)\n"
    "  -p, --poweroff     power the guest off (implies -n); ACPI power-down when the\n"
    "                     guest cannot be reached\n"
    "  -r, --reboot       reboot the guest and leave the emulator running\n"
    "  -n, --no-suspend   do not suspend the guest first (--nosuspend too)\n"
    "  -v, --verbose      print each step\n"
    "  -h, --help         show this help\n";

struct stop {
	struct machine m;
	struct qmp q;
	struct guest g;
	const char *savevm;
	bool poweroff, reboot, no_suspend;
	bool suspended; /* the guest sleeps now */
	bool paused;	/* found paused (an interrupted vm stop -s froze it) */
	bool quitting;	/* the emulator was asked to quit: its end is no news */
	char *disk;	/* the image that holds the saved states */
	bool holding;	/* SIGINT, SIGTERM and SIGHUP wait (hold_signals) */
	sigset_t saved_mask;
};

static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP};

/* Before the guest is frozen an interruption leaves it running or asleep,
 * which the next vm stop handles: say so, and die of the signal. */
static void on_early_signal(int sig)
{
	static const char msg[] = "vm: stop: interrupted; the guest was left running or "
				  "suspended: run vm stop again to finish\n";
	ssize_t ignored = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)ignored;
	signal(sig, SIG_DFL);
	raise(sig);
}

static void catch_early_signals(void)
{
	struct sigaction sa = {.sa_handler = on_early_signal}, old;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++)
		/* A signal the user chose to ignore (nohup) stays ignored. */
		if (sigaction(stop_signals[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
			sigaction(stop_signals[i], &sa, NULL);
}

/* From the freeze until the state is saved and the emulator has quit, an
 * interruption waits: vm must not die leaving the guest paused. */
static void hold_signals(struct stop *s)
{
	sigset_t block;
	sigemptyset(&block);
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++)
		sigaddset(&block, stop_signals[i]);
	sigprocmask(SIG_BLOCK, &block, &s->saved_mask);
	s->holding = true;
}

/* Returns the signal that came while held (0 for none), taken so that it
 * does not kill vm: the work it would have cut short is done. */
static int release_signals(struct stop *s)
{
	if (!s->holding)
		return 0;
	sigset_t pending;
	int sig = 0;
	sigpending(&pending);
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]) && !sig; i++)
		if (sigismember(&pending, stop_signals[i]) == 1)
			sig = stop_signals[i];
	if (sig) {
		sigset_t one;
		sigemptyset(&one);
		sigaddset(&one, sig);
		struct timespec now = {0, 0};
		sigtimedwait(&one, NULL, &now);
	}
	sigprocmask(SIG_SETMASK, &s->saved_mask, NULL);
	s->holding = false;
	return sig;
}

/* Waits for an event from the emulator, with a spinner on a terminal. */
static int wait_event(struct stop *s, const char *event, int timeout_ms, const char *what,
		      struct error *err)
{
	struct progress *spinner = progress_spinner(what);
	int rc = qmp_wait_event(&s->q, event, timeout_ms, NULL, err);
	progress_finish(spinner);
	return rc;
}

/* The run state decides the way: a guest that sleeps is not put to sleep
 * again, one that is paused is saved as it is, and one that QEMU paused on
 * a disk error must not be touched before the disk is mended. */
static int read_state(struct stop *s, struct error *err)
{
	char *status;
	if (qmp_query_status(&s->q, &status, err) < 0)
		return -1;
	s->suspended = !strcmp(status, "suspended");
	s->paused = !strcmp(status, "paused");
	bool io_error = !strcmp(status, "io-error");
	free(status);
	if (io_error && (s->savevm || !s->no_suspend)) {
		char *advice = machine_io_error_advice(&s->m);
		error_set(err, "%s; then run vm stop again", advice);
		free(advice);
		return -1;
	}
	if (s->paused && s->savevm)
		log_warn("the guest is paused (by an interrupted vm stop, or 'vm cmd stop'): its "
			 "state is saved as it is");
	return 0;
}

/* A vm stop killed after asking the guest to suspend leaves its request
 * behind (see suspend_request.h): the guest gets the time to carry it out
 * before it is asked again, or its state would be saved with a second
 * request still to come. Returns whether the guest went to sleep. */
static bool await_earlier_request(struct stop *s)
{
	if (!suspend_request_pending(&s->m))
		return false;
	log_warn("an interrupted vm stop may have asked the guest to suspend already: "
		 "waiting up to %d s for that before asking again",
		 LATE_SUSPEND_MS / 1000);
	struct error why;
	return wait_event(s, "SUSPEND", LATE_SUSPEND_MS, "waiting for the guest to suspend",
			  &why) == 0;
}

static int ask_to_suspend(struct stop *s, struct error *err)
{
	log_progress("suspending the guest through %s", guest_control_channel(&s->g));
	qmp_clear_events(&s->q);
	suspend_request_mark(&s->m);
	if (guest_suspend(&s->g, err) < 0) {
		/* A stop killed a moment ago may have asked already: the guest
		 * then drops the connection as it goes to sleep. */
		struct error why;
		if (qmp_wait_event(&s->q, "SUSPEND", LATE_SUSPEND_MS, NULL, &why) < 0)
			return error_prefix(err, "use -n to stop without suspending");
	} else if (wait_event(s, "SUSPEND", SUSPEND_TIMEOUT_MS, "suspending the guest", err) < 0)
		return error_prefix(err, "the guest did not suspend (use -n to stop without "
					 "suspending)");
	return 0;
}

static int suspend_guest(struct stop *s, struct error *err)
{
	if (s->suspended) {
		log_progress("the guest is already suspended");
		suspend_request_clear(&s->m);
		return 0;
	}
	if (s->paused && s->savevm) {
		/* Frozen by a stop after its sleep: whatever asked for it is done. */
		suspend_request_clear(&s->m);
		return 0; /* asleep or not, it cannot be asked to sleep */
	}
	if (!await_earlier_request(s) && ask_to_suspend(s, err) < 0)
		return -1;
	suspend_request_clear(&s->m);
	log_progress("the guest is suspended");
	s->suspended = true;
	return 0;
}

/* Wakes the suspended guest and pauses it in the same instant: the two
 * commands go out together, so the firmware has not yet run when the
 * emulator stops (see savedstate.h for why a suspended guest is not saved
 * as it is). Returns 1 when frozen, 0 when the guest cannot be woken. */
static int freeze_at_wakeup(struct stop *s, struct error *err)
{
	char wake_id[32], stop_id[32];
	if (qmp_send(&s->q, "system_wakeup", NULL, wake_id, err) < 0 ||
	    qmp_send(&s->q, "stop", NULL, stop_id, err) < 0)
		return -1;
	struct error why;
	bool woken = qmp_receive(&s->q, "system_wakeup", wake_id, NULL, &why) == 0;
	if (qmp_receive(&s->q, "stop", stop_id, NULL, err) < 0)
		return -1;
	if (!woken)
		log_debug("cannot freeze the guest at wake-up (%s)", why.msg);
	return woken;
}

/* A save that failed must not leave the guest paused: it goes on (waking
 * up, when it was frozen at its wake-up). */
static void resume_guest(struct stop *s, struct error *err)
{
	struct error why;
	if (machine_running(&s->m, NULL) && qmp_execute(&s->q, "cont", NULL, NULL, &why) < 0 &&
	    !machine_report_death(&s->m, err))
		error_prefix(err, "the guest stays paused (%s): resume it with 'vm cmd cont'",
			     why.msg);
}

static int save_state(struct stop *s, struct error *err)
{
	enum savedstate_kind kind = SAVEDSTATE_RUNNING;
	bool resume = s->paused; /* paused by an interrupted stop: let it go on */
	if (s->suspended) {
		int frozen = freeze_at_wakeup(s, err);
		if (frozen < 0)
			return error_prefix(err, "cannot save the state %s", s->savevm);
		kind = frozen ? SAVEDSTATE_WAKING : SAVEDSTATE_SUSPENDED;
		resume = frozen;
	}
	log_progress("saving the state as %s", s->savevm);
	struct progress *spinner = progress_spinner("saving the state");
	int saved = machine_savevm(&s->m, &s->q, s->savevm, err);
	progress_finish(spinner);
	if (saved < 0) {
		error_prefix(err, "cannot save the state %s", s->savevm);
		if (resume)
			resume_guest(s, err);
		return -1;
	}
	if (savedstate_record(s->disk, s->savevm, kind, err) < 0)
		return -1;
	log_progress("state %s saved%s", s->savevm,
		     kind == SAVEDSTATE_WAKING ? " (the guest resumes from its sleep when loaded)"
		     : kind == SAVEDSTATE_SUSPENDED ? " (guest suspended)"
						    : "");
	return 0;
}

static int reboot_guest(struct stop *s, struct error *err)
{
	if (s->savevm)
		log_warn("the state %s holds the machine from before this reboot: "
			 "'vm start -l %s' brings it back as it was then",
			 s->savevm, s->savevm);
	log_progress("rebooting the guest through %s", guest_control_channel(&s->g));
	qmp_clear_events(&s->q);
	if (guest_reboot(&s->g, err) < 0)
		return -1;
	if (wait_event(s, "RESET", REBOOT_TIMEOUT_MS, "rebooting the guest", err) < 0)
		return error_prefix(err, "the guest did not reboot");
	log_progress("the guest is rebooting; the emulator keeps running");
	return 0;
}

/* ACPI power-down is a button press: a guest that is still booting does
 * not see it, so it is pressed again now and then until the guest is off. */
static int press_power_button(struct stop *s, struct error *err)
{
	struct progress *spinner = progress_spinner("powering the guest off");
	int rc = -1;
	for (int waited = 0; waited < POWEROFF_TIMEOUT_MS; waited += ACPI_REPEAT_MS) {
		if (qmp_execute(&s->q, "system_powerdown", NULL, NULL, err) < 0)
			break;
		rc = qmp_wait_event(&s->q, "SHUTDOWN", ACPI_REPEAT_MS, NULL, err);
		if (rc == 0 || !machine_running(&s->m, NULL))
			break;
		log_debug("no shutdown yet: pressing the power button again");
	}
	progress_finish(spinner);
	return rc;
}

static int power_off_guest(struct stop *s, struct error *err)
{
	log_progress("powering the guest off through %s", guest_control_channel(&s->g));
	qmp_clear_events(&s->q);
	struct error why;
	int rc;
	if (guest_poweroff(&s->g, &why) == 0) {
		rc = wait_event(s, "SHUTDOWN", POWEROFF_TIMEOUT_MS, "powering the guest off", err);
	} else {
		log_progress("%s; falling back to ACPI power-down", why.msg);
		rc = press_power_button(s, err);
	}
	if (rc < 0 && !machine_wait_exit(&s->m, 0))
		return error_prefix(err, "the guest did not power off; 'vm kill' stops the "
					 "emulator anyway");
	log_progress("the guest has shut down");
	return 0;
}

static int quit_emulator(struct stop *s, struct error *err)
{
	if (!machine_running(&s->m, NULL))
		return 0;
	log_progress("quitting the emulator");
	s->quitting = true;
	bool forced;
	if (machine_quit(&s->m, &s->q, QUIT_TIMEOUT_MS, &forced, err) < 0)
		return -1;
	if (forced)
		log_progress("the emulator did not quit: it was killed");
	return 0;
}

/* Before the emulator quits without a save: the guest writes out what it
 * holds, unless it is paused and can run nothing. */
static void sync_guest(struct stop *s)
{
	if (s->paused) {
		log_warn("the guest is paused, so its file systems cannot be synced: the emulator "
			 "quits without ('vm cmd cont' first lets vm stop sync them)");
		return;
	}
	struct error why;
	log_progress("syncing the guest's file systems through %s", guest_control_channel(&s->g));
	if (guest_sync(&s->g, &why) < 0)
		log_warn("%s (quitting anyway)", why.msg);
}

static int stop_machine(struct stop *s, struct error *err)
{
	if (!machine_running(&s->m, NULL)) {
		cli_merge_overlay_stopped(&s->m, false);
		return error_set(err, "the machine %s is not running", machine_name(&s->m));
	}
	if (machine_connect(&s->m, &s->q, MONITOR_TIMEOUT_MS, err) < 0)
		return -1;
	/* Before any savevm, which would write into the overlay. */
	if (cli_merge_overlay_live(&s->m, &s->q) < 0)
		return error_set(err, "nothing was stopped");
	s->disk = machine_disk(&s->m, err);
	if (!s->disk)
		return -1;
	if (guest_open(&s->g, &s->m.cfg, &s->m.rt, err) < 0 || read_state(s, err) < 0)
		return -1;
	/* A paused guest runs nothing: ssh, the agent and the ACPI button
	 * would only wait for their time-outs. */
	if (s->paused && (s->poweroff || s->reboot))
		return error_set(
		    err,
		    "the guest is paused, so it cannot %s: resume it with 'vm cmd cont' "
		    "first, or quit the emulator as it is with 'vm stop -n'",
		    s->poweroff ? "power off" : "reboot");
	if (!s->no_suspend && suspend_guest(s, err) < 0)
		return -1;
	if (s->savevm) {
		hold_signals(s);
		if (save_state(s, err) < 0)
			return -1;
	}
	if (s->reboot)
		return reboot_guest(s, err);
	if (s->poweroff) {
		if (power_off_guest(s, err) < 0)
			return -1;
	} else if (!s->savevm && !s->suspended) {
		sync_guest(s);
	}
	if (quit_emulator(s, err) < 0)
		return -1;
	machine_sync_host(&s->m);
	log_progress("%s is stopped", machine_name(&s->m));
	return 0;
}

int cmd_stop(int argc, char **argv)
{
	static const struct option longopts[] = {{"savevm", required_argument, NULL, 's'},
						 {"vm-save", required_argument, NULL, 's'},
						 {"poweroff", no_argument, NULL, 'p'},
						 {"reboot", no_argument, NULL, 'r'},
						 {"no-suspend", no_argument, NULL, 'n'},
						 {"nosuspend", no_argument, NULL, 'n'},
						 {0}};
	struct stop s = {0};
	struct cli_options o = {.command = "stop",
				.usage = stop_usage,
				.shortopts = "s:prn",
				.longopts = longopts,
				.no_arguments = true};
	int c;
	while ((c = cli_next_option(&o, argc, argv)) >= 0) {
		if (c == 's')
			s.savevm = optarg;
		else if (c == 'p')
			s.poweroff = true;
		else if (c == 'r')
			s.reboot = true;
		else if (c == 'n')
			s.no_suspend = true;
	}
	if (c == CLI_EXIT)
		return o.status;
	if (s.poweroff && s.reboot)
		return cli_usage_error("stop", "--poweroff and --reboot cannot be used together");
	if (s.poweroff || s.reboot)
		s.no_suspend = true;
	if (!s.savevm && !s.no_suspend)
		return cli_usage_error("stop", "name the state to save with -s NAME, or give -n to "
					       "stop without suspending");
	if (cli_open_machine(&s.m, RUNTIME_FIND) < 0)
		return 1;
	struct error err;
	catch_early_signals();
	int rc = stop_machine(&s, &err);
	if (rc < 0 && s.q.open && !s.quitting)
		machine_report_death(&s.m, &err);
	if (rc < 0)
		log_error("%s", err.msg);
	int sig = release_signals(&s);
	if (sig)
		log_warn("SIG%s came while the state was being saved: vm finished the stop first",
			 sigabbrev_np(sig));
	qmp_close(&s.q);
	guest_close(&s.g);
	free(s.disk);
	machine_close(&s.m);
	return sig ? 128 + sig : rc < 0 ? 1 : 0;
}
