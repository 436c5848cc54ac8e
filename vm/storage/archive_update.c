/* vm archive without --create: with the machine running, sync the guest,
 * save its state if asked, put a temporary overlay on its disk (storage/
 * overlay.h), copy the backing file, now unchanging, into the archive of the
 * current base as NAME-backing-<now>.FMT while the guest runs on, and merge
 * the overlay back (always, also when the copy failed). The copy is made
 * under a temporary name and renamed only once it is complete (and
 * compressed, if asked). */
#include "storage/archive.h"

#include "emulator/machine.h"
#include "emulator/savedstate.h"
#include "guest/guest.h"
#include "log.h"
#include "storage/image.h"
#include "storage/overlay.h"
#include "sys/clock.h"
#include "sys/faultpoint.h"
#include "sys/files.h"
#include "xalloc.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MONITOR_TIMEOUT_MS 10000

struct update {
	const struct archive_job *job;
	struct machine *m;
	struct qmp q;
	struct guest g;
	bool guest_open;
	char *disk;	 /* the image the emulator runs on: the backing file */
	char *dir;	 /* the archive directory */
	char *copy;	 /* dir/NAME-backing-<now>.FMT */
	char *overlay;	 /* where the guest writes during the copy */
	bool suspended;	 /* the guest sleeps (S3) */
	bool on_overlay; /* the overlay is in use: it must be merged back */
	sigset_t saved_mask;
};

/* The machine must run on its backing file, and the archive of its base
 * must exist. */
static int find_archive(struct update *u, struct error *err)
{
	const struct archive_job *job = u->job;
	if (!machine_running(u->m, NULL))
		return error_set(err,
				 "%s is not running; an update copies the running machine's "
				 "backing file: start it (vm start), or use --create while it is "
				 "stopped",
				 job->name);
	u->disk = machine_disk(u->m, err);
	if (!u->disk)
		return -1;
	if (!files_same(u->disk, job->backing))
		return error_set(err,
				 "%s runs on %s, not on its backing file %s (vm run -b?): there "
				 "are no changes of its own to archive",
				 job->name, u->disk, job->backing);
	u->overlay = overlay_path(u->disk);
	u->dir = archive_dir_name(job, err);
	if (!u->dir)
		return -1;
	if (!image_exists(u->dir))
		return error_set(err,
				 "there is no archive of the current base yet (%s): make one "
				 "with vm archive --create while the machine is stopped",
				 u->dir);
	return 0;
}

/* Refuses -d NAME when the backing file has no such state (unless -s
 * saves it first), before the guest is touched. */
static int check_delvm(struct update *u, struct error *err)
{
	const char *name = u->job->delvm;
	if (!name || (u->job->savevm && !strcmp(name, u->job->savevm)))
		return 0;
	struct image_info info;
	if (image_info(u->job->backing, &info, err) < 0)
		return -1;
	int rc = 0;
	if (!strv_contains(&info.snapshots, name)) {
		char *names = info.snapshots.n ? strv_join(&info.snapshots, ", ") : xstrdup("none");
		rc = error_set(err,
			       "%s has no saved state '%s' to delete from the copy (it has: %s)",
			       u->job->backing, name, names);
		free(names);
	}
	image_info_free(&info);
	return rc;
}

static int name_copy(struct update *u, struct error *err)
{
	const struct archive_job *job = u->job;
	char stamp[ARCHIVE_STAMP_SIZE];
	archive_timestamp(time(NULL), stamp);
	u->copy = xasprintf("%s/%s-%s-%s.%s", u->dir, job->name,
			    config_get(job->cfg, "VM_SNAPSHOT_BACKINGNAME"), stamp, job->fmt);
	const char *ext = job->compressor ? job->compressor->extension : "";
	char *final = xasprintf("%s%s", u->copy, ext);
	int rc = image_exists(final)
		     ? error_set(err, "%s exists already; vm never overwrites an archive", final)
		     : 0;
	free(final);
	return rc;
}

static int connect_machine(struct update *u, struct error *err)
{
	if (machine_connect(u->m, &u->q, MONITOR_TIMEOUT_MS, err) < 0)
		return -1;
	if (guest_open(&u->g, u->job->cfg, &u->m->rt, err) < 0)
		return -1;
	u->guest_open = true;
	return 0;
}

/* What a killed vm archive left: its overlay, merged back, and its
 * temporary files, which no other vm writes while this one holds the
 * monitor (one client at a time). */
static int clean_up_leftovers(struct update *u, struct error *err)
{
	enum overlay_found found;
	if (overlay_merge_live(&u->q, u->disk, &found, err) < 0)
		return error_prefix(err,
				    "cannot merge back the overlay %s that an interrupted "
				    "vm archive left",
				    u->overlay);
	overlay_report(found, u->overlay, u->disk, u->job->report);
	archive_remove_stale(u->job);
	return 0;
}

static void sync_guest(struct update *u)
{
	log_progress("syncing the guest's file systems");
	struct error why;
	if (guest_sync(&u->g, &why) < 0)
		report_warn(u->job->report,
			    "%s; the copy holds what the guest had written to its disk", why.msg);
}

/* From the overlay to its merge, Ctrl-C and friends wait: vm must not die
 * leaving the guest on the overlay. The copy notices them and stops early;
 * the merge still runs. */
static void hold_signals(struct update *u)
{
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &u->saved_mask);
}

static void release_signals(struct update *u)
{
	/* A signal that came meanwhile is delivered here: it removes the
	 * temporary files and ends vm, as it would have at once. */
	sigprocmask(SIG_SETMASK, &u->saved_mask, NULL);
}

static int read_status(struct update *u, struct error *err)
{
	char *status;
	if (qmp_query_status(&u->q, &status, err) < 0)
		return -1;
	u->suspended = !strcmp(status, "suspended");
	free(status);
	return 0;
}

/* savevm stops the guest for the time it saves (QEMU's own pause, the
 * only one of an update): vm says how long it was. */
static int save_state(struct update *u, struct error *err)
{
	const char *name = u->job->savevm;
	log_progress("saving the state as %s", name);
	long long start = clock_now_ms();
	struct progress *spinner = report_progress(u->job->report, "saving the state", 0);
	int rc = machine_savevm(u->m, &u->q, name, err);
	report_progress_finish(u->job->report, spinner);
	if (rc < 0)
		return error_prefix(err, "cannot save the state %s", name);
	report_info(u->job->report, "saved the state %s; the guest was paused %.1f s for it", name,
		    (double)(clock_now_ms() - start) / 1000);
	/* Saved as it is, a sleeping guest needs the reset into its resume path
	 * that vm start -l gives such states. */
	return savedstate_record(u->disk, name,
				 u->suspended ? SAVEDSTATE_SUSPENDED : SAVEDSTATE_RUNNING, err);
}

/* Merges the overlay back; its failure matters more than the copy's: the
 * guest then still writes into the overlay, which the next vm command
 * merges. */
static void merge_overlay(struct update *u, struct error *err)
{
	log_progress("merging the guest's writes during the copy back into %s", u->disk);
	enum overlay_found found;
	struct error why;
	if (overlay_merge_live(&u->q, u->disk, &found, &why) < 0)
		error_set(err,
			  "%s; the guest runs on, writing into %s, and the next vm command "
			  "(vm status, for one) merges it back",
			  why.msg, u->overlay);
	else
		u->on_overlay = false;
}

/* A guest QEMU paused because the copy filled the disk can go on, now
 * that the copy is gone. */
static void resume_after_full_disk(struct update *u)
{
	char *status;
	struct error why;
	if (qmp_query_status(&u->q, &status, &why) < 0)
		return;
	if (!strcmp(status, "io-error")) {
		report_warn(u->job->report,
			    "the guest was paused by a disk write error while the copy filled "
			    "the disk; resuming it now that the copy is removed");
		if (qmp_execute(&u->q, "cont", NULL, NULL, &why) < 0)
			report_warn(u->job->report,
				    "cannot resume the guest (%s): free space, then vm cmd cont",
				    why.msg);
	}
	free(status);
}

/* The guest runs on, writing into the overlay, while the backing file,
 * now unchanging, is copied. */
static int copy_live(struct update *u, struct tempfile *tf, struct error *err)
{
	hold_signals(u);
	int rc = read_status(u, err);
	if (rc == 0 && u->job->savevm)
		rc = save_state(u, err);
	if (rc == 0) {
		log_progress("putting the overlay %s on %s for the guest's writes", u->overlay,
			     u->disk);
		rc = overlay_add(&u->q, u->disk, err);
		u->on_overlay = rc == 0;
		fault_point("overlay");
	}
	if (rc == 0) {
		log_progress("copying %s into %s", u->job->backing, u->copy);
		rc =
		    image_copy_into(u->job->backing, tf, IMAGE_STOP_ON_SIGNAL, u->job->report, err);
		if (rc < 0) /* at once: a copy that filled the disk frees it */
			tempfile_discard(tf);
	}
	if (u->on_overlay)
		merge_overlay(u, err);
	if (u->on_overlay)
		rc = -1;
	else if (rc < 0)
		resume_after_full_disk(u);
	release_signals(u);
	return rc;
}

/* The record of which states were saved while suspended goes along with
 * the copy, less the state deleted from it. */
static int copy_state_record(struct update *u, struct error *err)
{
	char *from = savedstate_path(u->disk), *to = savedstate_path(u->copy);
	FILE *in = fopen(from, "re");
	int rc = 0;
	if (in) {
		struct tempfile tf;
		rc = tempfile_create(&tf, to, err);
		FILE *out = rc == 0 ? fdopen(dup(tf.fd), "w") : NULL;
		char *line = NULL;
		size_t size = 0;
		while (out && getline(&line, &size, in) > 0) {
			line[strcspn(line, "\n")] = '\0';
			/* "NAME KIND" */
			size_t name_len = strcspn(line, " ");
			bool deleted = u->job->delvm && strlen(u->job->delvm) == name_len &&
				       !strncmp(line, u->job->delvm, name_len);
			if (!deleted)
				fprintf(out, "%s\n", line);
		}
		free(line);
		if (rc == 0 && (!out || fclose(out) != 0)) {
			rc = error_errno(err, "cannot write %s", to);
			tempfile_discard(&tf);
		} else if (rc == 0) {
			rc = tempfile_commit(&tf, 0, err);
		}
		fclose(in);
	}
	free(from);
	free(to);
	return rc;
}

/* -d, then the copy's name (compressed, if asked): the guest runs again. */
static int finish_copy(struct update *u, struct tempfile *tf, struct error *err)
{
	const struct archive_job *job = u->job;
	if (job->delvm) {
		log_progress("deleting the state %s from the copy", job->delvm);
		if (image_snapshot_delete(tf->path, job->fmt, job->delvm, err) < 0)
			return -1;
	}
	if (!job->compressor)
		return tempfile_commit(tf, 0, err);
	char *stored = xasprintf("%s%s", u->copy, job->compressor->extension);
	log_progress("compressing the copy into %s with %s", stored, job->compressor->program);
	int rc = compressor_run(job->compressor, tf->path, stored, job->report, err);
	free(stored);
	tempfile_discard(tf);
	return rc;
}

static int update(struct update *u, struct error *err)
{
	if (find_archive(u, err) < 0 || check_delvm(u, err) < 0 || name_copy(u, err) < 0 ||
	    connect_machine(u, err) < 0 || clean_up_leftovers(u, err) < 0)
		return -1;
	sync_guest(u);
	struct tempfile tf;
	if (tempfile_create(&tf, u->copy, err) < 0)
		return -1;
	if (copy_live(u, &tf, err) < 0 || finish_copy(u, &tf, err) < 0) {
		tempfile_discard(&tf);
		return -1;
	}
	if (copy_state_record(u, err) < 0)
		return -1;
	log_progress("archived %s into %s", u->job->backing, u->dir);
	return 0;
}

int archive_update(const struct archive_job *job, struct error *err)
{
	struct update u = {.job = job, .m = job->m};
	int rc = update(&u, err);
	if (u.guest_open)
		guest_close(&u.g);
	qmp_close(&u.q);
	free(u.disk);
	free(u.dir);
	free(u.copy);
	free(u.overlay);
	return rc;
}
