/* vm archive --create: with the machine stopped, commit the backing file
 * into the base, copy the base into NAME-<base mtime>, start a fresh backing
 * file and archive it too. The archive is built in a hidden directory that
 * is renamed into place only when complete: a partial archive never looks
 * like a complete one, and the live images are only ever read, committed
 * (which keeps them usable at every point) or replaced by rename. */
#include "storage/archive.h"

#include "emulator/runtime.h"
#include "emulator/savedstate.h"
#include "log.h"
#include "storage/image.h"
#include "storage/overlay.h"
#include "sys/files.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *join_names(const struct strv *names)
{
	return strv_join(names, ", ");
}

/* The backing file must sit on the base, or the commit would write into
 * some other image; and its saved states would not survive the commit (their
 * disk contents would no longer match the base). */
static int check_backing(const struct archive_job *job, struct error *err)
{
	struct image_info info;
	if (image_info(job->backing, &info, err) < 0)
		return -1;
	int rc = 0;
	if (!info.full_backing_file || !files_same(info.full_backing_file, job->base))
		rc = error_set(err,
			       "%s is not made on %s (its backing file is %s), so committing it "
			       "would change another image; recreate it with vm init -k",
			       job->backing, job->base,
			       info.backing_file ? info.backing_file : "none");
	else if (info.snapshots.n && !job->force) {
		char *names = join_names(&info.snapshots);
		rc = error_set(err,
			       "%s holds saved states (%s), which the commit into the base "
			       "would make useless and the fresh backing file would not keep; "
			       "delete them first (vm cmd delvm NAME while the machine runs, or "
			       "qemu-img snapshot -d NAME %s), or use --force to drop them",
			       job->backing, names, job->backing);
		free(names);
	}
	image_info_free(&info);
	return rc;
}

static int check_other_overlays(const struct archive_job *job, struct error *err)
{
	struct strv others = STRV_INIT;
	int rc = archive_other_overlays(job, &others, err);
	if (rc == 0 && others.n) {
		char *names = join_names(&others);
		if (job->force)
			report_warn(job->report,
				    "committing changes what %s see%s: they use %s as their "
				    "backing file",
				    names, others.n == 1 ? "s" : "", job->base);
		else
			rc = error_set(err,
				       "%s use%s %s as backing file, and committing %s into it "
				       "would change what they see; use --force to commit anyway",
				       names, others.n == 1 ? "s" : "", job->base, job->backing);
		free(names);
	}
	strv_free(&others);
	return rc;
}

static int build_archive(const struct archive_job *job, const char *dir, struct error *err)
{
	char *partial = xasprintf(".%s.partial", dir);
	struct tempdir td;
	int rc = tempdir_create(&td, partial, dir, err);
	free(partial);
	if (rc < 0)
		return -1;
	rc = archive_store(job, job->base, td.path, job->base, job->compress_base, &td, NULL, err);
	if (rc == 0) {
		log_progress("creating a fresh %s on %s", job->backing, job->base);
		rc = image_create_overlay(job->backing, job->base, job->fmt, IMAGE_REPLACE, err);
	}
	if (rc == 0) {
		/* The fresh backing file has no saved states to keep a record of. */
		char *record = savedstate_path(job->backing);
		unlink(record);
		free(record);
	}
	if (rc == 0)
		rc = archive_store(job, job->backing, td.path, job->backing,
				   job->compressor != NULL, &td, NULL, err);
	if (rc < 0) {
		tempdir_discard(&td);
		return error_prefix(err, "archive %s not made", dir);
	}
	return tempdir_commit(&td, err);
}

static int create_locked(const struct archive_job *job, struct error *err)
{
	if (!image_exists(job->base) || !image_exists(job->backing))
		return error_set(err, "%s or %s is missing; run vm init first", job->base,
				 job->backing);
	/* First the writes an interrupted update left in its overlay: the
	 * commit below would leave them stranded on a replaced backing file. */
	enum overlay_found found;
	char *overlay = overlay_path(job->backing);
	int merged = overlay_merge_stopped(job->backing, &found, job->report, err);
	if (merged == 0)
		overlay_report(found, overlay, job->backing, job->report);
	free(overlay);
	if (merged < 0)
		return error_prefix(err, "cannot merge back the overlay an interrupted vm archive "
					 "left; it holds the guest's last writes");
	if (check_backing(job, err) < 0 || check_other_overlays(job, err) < 0)
		return -1;
	archive_remove_stale(job);
	long leaks;
	if (image_repair_leaks(job->base, job->fmt, &leaks, err) < 0)
		return -1;
	if (leaks)
		log_progress("freed %ld leaked cluster%s in %s (left by an interrupted commit)",
			     leaks, leaks == 1 ? "" : "s", job->base);
	log_progress("committing %s into %s", job->backing, job->base);
	if (image_commit(job->backing, job->report, err) < 0)
		return -1;
	char *dir = archive_dir_name(job, err);
	if (!dir)
		return -1;
	int rc = 0;
	if (image_exists(dir))
		rc = error_set(err,
			       "archive %s exists already: the base has not changed since it was "
			       "made, and vm never overwrites an archive; to add the current state "
			       "to it, run vm archive (without --create) while the machine runs",
			       dir);
	else
		rc = build_archive(job, dir, err);
	if (rc == 0)
		log_progress("archived %s and %s into %s", job->base, job->backing, dir);
	free(dir);
	return rc;
}

int archive_create(const struct archive_job *job, struct error *err)
{
	struct runtime rt;
	int rc = runtime_lock_stopped(&rt, config_get(job->cfg, "VM_MACHINE_ID"), job->name,
				      job->cfg->home, config_get(job->cfg, "VM_CONFIG"),
				      "--create commits into the base under it; leave out "
				      "--create to add to the archive while it runs",
				      err);
	if (rc == 0)
		rc = create_locked(job, err);
	runtime_close(&rt);
	return rc;
}
