/* The live archive's temporary overlay: added, merged back, and found
 * again after an interruption (see overlay.h). */
#include "storage/overlay.h"

#include "log.h"
#include "storage/image.h"
#include "sys/faultpoint.h"
#include "sys/files.h"
#include "xalloc.h"

#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The names QEMU knows them by: one overlay node, one merge job, so that a
 * later vm recognises both. */
#define OVERLAY_NODE "vm-archive-overlay"
#define MERGE_JOB "vm-archive-merge"
/* Between two steps of the merge job; its work is what the guest wrote
 * during the copy. */
#define JOB_STEP_TIMEOUT_MS (30 * 60 * 1000)

char *overlay_path(const char *disk)
{
	char *a = xstrdup(disk), *b = xstrdup(disk);
	char *dir = dirname(a), *name = basename(b);
	char *path = strchr(disk, '/') ? xasprintf("%s/.%s.archive-overlay", dir, name)
				       : xasprintf(".%s.archive-overlay", name);
	free(a);
	free(b);
	return path;
}

static struct json_object *member(struct json_object *obj, const char *key)
{
	struct json_object *value = NULL;
	json_object_object_get_ex(obj, key, &value);
	return value;
}

/* The emulator's drive whose top image is path's file, and that image's
 * node name; NULL when none is. */
struct drive {
	char *device;
	char *top_node;
	bool on_overlay; /* the top image is the archive's overlay */
};

static void drive_free(struct drive *d)
{
	free(d->device);
	free(d->top_node);
	*d = (struct drive){0};
}

/* Finds the drive running on disk, directly or through the overlay;
 * d->device stays NULL when there is none. */
static int find_drive(struct qmp *q, const char *disk, struct drive *d, struct error *err)
{
	*d = (struct drive){0};
	struct json_object *blocks;
	if (qmp_execute(q, "query-block", NULL, &blocks, err) < 0)
		return -1;
	size_t n = json_object_array_length(blocks);
	for (size_t i = 0; i < n && !d->device; i++) {
		struct json_object *block = json_object_array_get_idx(blocks, i);
		struct json_object *inserted = member(block, "inserted");
		const char *device = qmp_string(block, "device");
		const char *file = qmp_string(inserted, "file");
		const char *node = qmp_string(inserted, "node-name");
		if (!inserted || !device || !device[0] || !file || !node)
			continue;
		bool on_overlay = !strcmp(node, OVERLAY_NODE);
		if (on_overlay || files_same(file, disk))
			*d = (struct drive){xstrdup(device), xstrdup(node), on_overlay};
	}
	json_object_put(blocks);
	return 0;
}

static int remove_file(const char *path, struct error *err)
{
	if (unlink(path) < 0 && errno != ENOENT)
		return error_errno(err, "cannot remove %s", path);
	return 0;
}

/* The overlay's second name, linked once the merge job is pending: from
 * then on the disk holds everything the overlay has, and the guest can
 * write nothing new into the overlay (QEMU holds its writes until the job
 * is finalized, and then moves the guest onto the disk). So the overlay
 * must never be written into the disk again. A vm killed before it removed
 * the overlay leaves both names on the same file, which tells the next
 * command, even once the emulator is gone, that the file is stale. (A name
 * left over from an earlier overlay is another file, and means nothing.) */
static char *merged_path(const char *overlay)
{
	return xasprintf("%s.merged", overlay);
}

static void mark_merged(const char *overlay)
{
	char *merged = merged_path(overlay);
	unlink(merged);
	if (link(overlay, merged) < 0)
		log_debug("cannot link %s to %s: %s", overlay, merged, strerror(errno));
	free(merged);
}

/* The merge did not happen after all: the overlay is live again. */
static void unmark_merged(const char *overlay)
{
	char *merged = merged_path(overlay);
	unlink(merged);
	free(merged);
}

static bool was_merged(const char *overlay)
{
	char *merged = merged_path(overlay);
	bool same = image_exists(merged) && files_same(overlay, merged);
	free(merged);
	return same;
}

/* The overlay, then its second name. */
static int remove_overlay(const char *overlay, struct error *err)
{
	if (remove_file(overlay, err) < 0)
		return -1;
	char *merged = merged_path(overlay);
	int rc = remove_file(merged, err);
	free(merged);
	return rc;
}

int overlay_add(struct qmp *q, const char *disk, struct error *err)
{
	struct drive d;
	if (find_drive(q, disk, &d, err) < 0)
		return -1;
	int rc = 0;
	char *path = overlay_path(disk);
	if (!d.device) {
		rc = error_set(err, "the emulator runs no drive on %s", disk);
	} else if (d.on_overlay) {
		rc = error_set(err, "%s runs on the overlay %s already", disk, path);
	} else {
		/* No emulator uses a file of that name (see overlay_merge_live);
		 * nor may a second name of an earlier one stay. */
		struct error ignored;
		remove_overlay(path, &ignored);
		struct json_object *args = json_object_new_object();
		json_object_object_add(args, "device", json_object_new_string(d.device));
		json_object_object_add(args, "snapshot-file", json_object_new_string(path));
		json_object_object_add(args, "snapshot-node-name",
				       json_object_new_string(OVERLAY_NODE));
		json_object_object_add(args, "format", json_object_new_string("qcow2"));
		json_object_object_add(args, "mode", json_object_new_string("absolute-paths"));
		if (qmp_execute(q, "blockdev-snapshot-sync", args, NULL, err) < 0)
			rc = error_prefix(err, "cannot put the overlay %s on %s", path, disk);
	}
	free(path);
	drive_free(&d);
	return rc;
}

/* The node name of the image that holds disk's data under the overlay: the
 * format node (not the protocol one) of that file. */
static int find_disk_node(struct qmp *q, const char *disk, char **node, struct error *err)
{
	*node = NULL;
	struct json_object *nodes;
	if (qmp_execute(q, "query-named-block-nodes", NULL, &nodes, err) < 0)
		return -1;
	size_t n = json_object_array_length(nodes);
	for (size_t i = 0; i < n && !*node; i++) {
		struct json_object *info = json_object_array_get_idx(nodes, i);
		const char *name = qmp_string(info, "node-name");
		const char *file = qmp_string(info, "file");
		const char *drv = qmp_string(info, "drv");
		if (name && file && drv && strcmp(drv, "file") && strcmp(name, OVERLAY_NODE) &&
		    files_same(file, disk))
			*node = xstrdup(name);
	}
	json_object_put(nodes);
	if (!*node)
		return error_set(err, "the emulator has no node for %s under its overlay", disk);
	return 0;
}

/* The merge job's status ("running", "ready", ...), NULL when there is no
 * such job. */
static int merge_job_status(struct qmp *q, char **status, struct error *err)
{
	*status = NULL;
	struct json_object *jobs;
	if (qmp_execute(q, "query-block-jobs", NULL, &jobs, err) < 0)
		return -1;
	size_t n = json_object_array_length(jobs);
	for (size_t i = 0; i < n; i++) {
		struct json_object *job = json_object_array_get_idx(jobs, i);
		const char *id = qmp_string(job, "device");
		const char *st = qmp_string(job, "status");
		if (id && st && !strcmp(id, MERGE_JOB))
			*status = xstrdup(st);
	}
	json_object_put(jobs);
	return 0;
}

static int start_merge(struct qmp *q, const struct drive *d, const char *disk, struct error *err)
{
	char *base;
	if (find_disk_node(q, disk, &base, err) < 0)
		return -1;
	struct json_object *args = json_object_new_object();
	json_object_object_add(args, "job-id", json_object_new_string(MERGE_JOB));
	json_object_object_add(args, "device", json_object_new_string(d->device));
	/* Named, or the commit would go down to the deepest image: the base. */
	json_object_object_add(args, "base-node", json_object_new_string(base));
	/* The job waits, pending, for vm's word before it moves the guest back
	 * onto the disk: see finalize_merge. */
	json_object_object_add(args, "auto-finalize", json_object_new_boolean(false));
	free(base);
	if (qmp_execute(q, "block-commit", args, NULL, err) < 0)
		return error_prefix(err, "cannot start merging the overlay back");
	return 0;
}

/* Once the job is ready: it then copies what is left, holds the guest's
 * writes and waits, pending (finalize_merge). */
static int complete_merge(struct qmp *q, struct error *err)
{
	fault_point("ready");
	struct json_object *args = json_object_new_object();
	json_object_object_add(args, "device", json_object_new_string(MERGE_JOB));
	if (qmp_execute(q, "block-job-complete", args, NULL, err) < 0)
		return error_prefix(err, "cannot complete the merge of the overlay");
	fault_point("completing");
	return 0;
}

/* Pending: the disk holds all the overlay has, flushed, and QEMU holds the
 * guest's writes. The overlay gets its second name before the guest is
 * moved onto the disk, so that at no moment may both an emulator that ends
 * and a vm that is killed lose a write. The job must not stay pending (the
 * guest's disk would hang), so a finalize QEMU refuses cancels it, and the
 * guest goes on on the overlay. */
static int finalize_merge(struct qmp *q, const char *overlay, struct error *err)
{
	mark_merged(overlay);
	fault_point("finalizing");
	struct json_object *args = json_object_new_object();
	json_object_object_add(args, "id", json_object_new_string(MERGE_JOB));
	if (qmp_execute(q, "block-job-finalize", args, NULL, err) == 0)
		return 0;
	if (qmp_emulator_ended(q))
		return -1; /* follow_merge tells it */
	unmark_merged(overlay);
	struct json_object *cancel = json_object_new_object();
	json_object_object_add(cancel, "device", json_object_new_string(MERGE_JOB));
	struct error ignored;
	qmp_execute(q, "block-job-cancel", cancel, NULL, &ignored);
	return error_prefix(err, "cannot finish the merge of the overlay");
}

/* QEMU's report that the merge job ended (BLOCK_JOB_COMPLETED, before the
 * job concludes), waited for up to timeout_ms: 1 when the merge is done, 0
 * when it failed (*failure says why; the caller frees it), -1 when there is
 * none (a cancelled job sends BLOCK_JOB_CANCELLED instead). */
static int merge_report(struct qmp *q, int timeout_ms, char **failure)
{
	*failure = NULL;
	struct json_object *done;
	struct error none;
	if (qmp_wait_event(q, "BLOCK_JOB_COMPLETED", timeout_ms, &done, &none) < 0)
		return -1;
	const char *error = qmp_string(member(done, "data"), "error");
	if (error)
		*failure = xstrdup(error);
	json_object_put(done);
	return !error;
}

/* The emulator ended while vm followed the merge. The disk holds all the
 * overlay has once the job was pending (the overlay has its second name
 * then), unless QEMU then reported the job failed or cancelled, which
 * puts the guest back on the overlay: then the overlay loses its second
 * name, and the next command writes it into the disk. */
static int merge_ended_with_emulator(struct qmp *q, const char *disk, const char *overlay,
				     struct error *err)
{
	char *failure;
	struct error none;
	bool failed = merge_report(q, 0, &failure) == 0;
	free(failure);
	bool cancelled = qmp_wait_event(q, "BLOCK_JOB_CANCELLED", 0, NULL, &none) == 0;
	if (!failed && !cancelled && was_merged(overlay))
		return error_set(
		    err,
		    "the emulator ended just after the overlay %s was merged back into "
		    "%s: the next vm command removes it",
		    overlay, disk);
	unmark_merged(overlay);
	return error_set(err,
			 "the emulator ended while the overlay %s was merged back into %s: the "
			 "next vm command writes it into %s, so no write of the guest is lost",
			 overlay, disk, disk);
}

static bool has_status(const char *status, const char *want)
{
	return status && !strcmp(status, want);
}

/* The job reports each change of its status: once it is ready (the disk
 * holds all the overlay has, and mirrors new writes), vm completes it; once
 * it is pending, vm finalizes it, which moves the guest back onto the disk;
 * it then concludes. status is the job's when vm found it. */
static int follow_merge(struct qmp *q, const char *disk, const char *overlay, const char *status,
			struct error *err)
{
	bool ready = has_status(status, "ready"), pending = has_status(status, "pending");
	bool completing = false, finalizing = false;
	for (;;) {
		int rc = 0;
		if (ready && !completing) {
			rc = complete_merge(q, err);
			completing = true;
		}
		if (rc == 0 && pending && !finalizing) {
			rc = finalize_merge(q, overlay, err);
			finalizing = true;
		}
		struct json_object *event = NULL;
		bool waited = rc == 0;
		if (waited)
			rc = qmp_wait_event(q, "JOB_STATUS_CHANGE", JOB_STEP_TIMEOUT_MS, &event,
					    err);
		if (rc < 0 && qmp_emulator_ended(q))
			return merge_ended_with_emulator(q, disk, overlay, err);
		if (rc < 0)
			return waited ? error_prefix(err, "merging the overlay back") : -1;
		struct json_object *data = member(event, "data");
		const char *id = qmp_string(data, "id");
		const char *now = id && !strcmp(id, MERGE_JOB) ? qmp_string(data, "status") : NULL;
		ready = ready || has_status(now, "ready");
		pending = pending || has_status(now, "pending");
		bool concluded = has_status(now, "concluded");
		json_object_put(event);
		if (concluded)
			break;
	}
	char *failure;
	int done = merge_report(q, 1000, &failure);
	if (done == 1)
		return 0;
	unmark_merged(overlay);
	int rc = failure ? error_set(err, "the merge of the overlay failed: %s", failure)
			 : error_set(err, "the merge of the overlay was cancelled");
	free(failure);
	return rc;
}

int overlay_merge_live(struct qmp *q, const char *disk, enum overlay_found *found,
		       struct error *err)
{
	*found = OVERLAY_NONE;
	struct drive d;
	if (find_drive(q, disk, &d, err) < 0)
		return -1;
	char *path = overlay_path(disk);
	int rc = 0;
	if (!d.device)
		goto out; /* not a disk of this machine's: nothing of an archive's */
	if (!d.on_overlay) {
		/* The emulator runs on the disk itself: a file left by a vm killed
		 * after the merge (or before the overlay was in use) holds nothing
		 * the disk lacks. */
		if (image_exists(path))
			*found = OVERLAY_STALE;
		rc = remove_overlay(path, err);
		goto out;
	}
	*found = OVERLAY_MERGED;
	char *status;
	rc = merge_job_status(q, &status, err);
	if (rc == 0 && !status)
		rc = start_merge(q, &d, disk, err);
	fault_point("merge");
	if (rc == 0)
		rc = follow_merge(q, disk, path, status, err);
	free(status);
	if (rc == 0) {
		fault_point("merged");
		rc = remove_overlay(path, err);
	}
out:
	free(path);
	drive_free(&d);
	return rc;
}

int overlay_merge_stopped(const char *disk, enum overlay_found *found, const struct report *report,
			  struct error *err)
{
	*found = OVERLAY_NONE;
	char *path = overlay_path(disk);
	int rc = 0;
	if (image_exists(path) && was_merged(path)) {
		/* vm was killed after the merge, before it removed the file. */
		*found = OVERLAY_STALE;
		rc = remove_overlay(path, err);
	} else if (image_exists(path)) {
		*found = OVERLAY_MERGED;
		log_progress("writing %s into %s", path, disk);
		rc = image_commit(path, report, err);
		if (rc == 0)
			rc = remove_overlay(path, err);
	} else {
		rc = remove_overlay(path, err); /* a second name alone holds nothing */
	}
	free(path);
	return rc;
}

void overlay_report(enum overlay_found found, const char *overlay, const char *disk,
		    const struct report *report)
{
	if (found == OVERLAY_MERGED)
		report_warn(report,
			    "found the overlay %s that an interrupted vm archive left: the "
			    "guest's writes in it are merged back into %s, nothing is lost",
			    overlay, disk);
	else if (found == OVERLAY_STALE)
		report_warn(report,
			    "removed %s, left by an interrupted vm archive after its writes "
			    "were merged back into %s",
			    overlay, disk);
}
