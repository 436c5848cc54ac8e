/* What both archive modes share: the archive's name, the other overlays on
 * the base, and storing one file in the archive. */
#include "storage/archive.h"

#include "log.h"
#include "storage/image.h"
#include "sys/files.h"
#include "xalloc.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void archive_timestamp(time_t when, char stamp[ARCHIVE_STAMP_SIZE])
{
	struct tm tm;
	localtime_r(&when, &tm);
	strftime(stamp, ARCHIVE_STAMP_SIZE, "%Y%m%d%H%M%S", &tm);
}

char *archive_dir_name(const struct archive_job *job, struct error *err)
{
	struct stat st;
	if (stat(job->base, &st) < 0) {
		error_errno(err, "cannot read %s", job->base);
		return NULL;
	}
	char stamp[ARCHIVE_STAMP_SIZE];
	archive_timestamp(st.st_mtime, stamp);
	return xasprintf("%s-%s", job->name, stamp);
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n > m && !strcmp(s + n - m, suffix);
}

/* Whether the image at path has the base as its backing file. Images
 * qemu-img cannot read are not overlays of anything. */
static bool is_overlay_of(const char *path, const char *base)
{
	struct image_info info;
	struct error ignored;
	if (image_info(path, &info, &ignored) < 0) {
		log_debug("%s: not an image qemu-img can read (%s)", path, ignored.msg);
		return false;
	}
	bool yes = info.full_backing_file && files_same(info.full_backing_file, base);
	image_info_free(&info);
	return yes;
}

int archive_other_overlays(const struct archive_job *job, struct strv *found, struct error *err)
{
	if (!image_exists(job->base))
		return error_set(err, "%s is missing", job->base);
	DIR *dir = opendir(".");
	if (!dir)
		return error_errno(err, "cannot read the machine directory");
	char *suffix = xasprintf(".%s", job->fmt);
	for (struct dirent *e; (e = readdir(dir));) {
		struct stat st;
		if (!has_suffix(e->d_name, suffix) || !strcmp(e->d_name, job->backing) ||
		    lstat(e->d_name, &st) < 0 || !S_ISREG(st.st_mode) ||
		    files_same(e->d_name, job->base))
			continue;
		if (is_overlay_of(e->d_name, job->base))
			strv_add(found, e->d_name);
	}
	closedir(dir);
	free(suffix);
	return 0;
}

int archive_store(const struct archive_job *job, const char *src, const char *dir, const char *name,
		  bool compress, struct tempdir *td, char **stored, struct error *err)
{
	const struct compressor *c = compress ? job->compressor : NULL;
	char *dst = xasprintf("%s/%s%s", dir, name, c ? c->extension : "");
	if (td)
		tempdir_track(td, dst);
	int rc;
	if (c) {
		log_progress("compressing %s into %s with %s", src, dst, c->program);
		rc = compressor_run(c, src, dst, job->report, err);
	} else {
		log_progress("copying %s into %s", src, dst);
		rc = image_copy(src, dst, 0, job->report, err);
	}
	if (rc == 0 && stored)
		*stored = dst;
	else
		free(dst);
	return rc;
}

static bool is_dir(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void remove_dir_files(const char *path)
{
	DIR *d = opendir(path);
	for (struct dirent *e; d && (e = readdir(d));) {
		char *file = xasprintf("%s/%s", path, e->d_name);
		struct stat st;
		if (lstat(file, &st) == 0 && S_ISREG(st.st_mode))
			unlink(file);
		free(file);
	}
	if (d)
		closedir(d);
	rmdir(path);
}

/* A temporary file's name (tempfile.h): ".TARGET.tmp-XXXXXX". */
static bool is_temp_name(const char *name, const char *prefix)
{
	size_t len = strlen(name), plen = strlen(prefix);
	return len > plen + 11 && !strncmp(name, prefix, plen) &&
	       !strncmp(name + len - 11, ".tmp-", 5);
}

/* An archive directory of this machine: NAME-<14 digits>. */
static bool is_archive_name(const char *name, const char *prefix)
{
	size_t plen = strlen(prefix);
	return !strncmp(name, prefix, plen) && strlen(name + plen) == 14 &&
	       strspn(name + plen, "0123456789") == 14;
}

static void remove_stale_temps(const char *dir, const char *temp_prefix,
			       const struct report *report)
{
	DIR *d = opendir(dir);
	for (struct dirent *e; d && (e = readdir(d));) {
		if (!is_temp_name(e->d_name, temp_prefix))
			continue;
		char *path = xasprintf("%s/%s", dir, e->d_name);
		struct stat st;
		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && unlink(path) == 0)
			report_warn(report,
				    "removed %s (%lld MiB), left by an interrupted vm archive",
				    path, (long long)st.st_size >> 20);
		free(path);
	}
	if (d)
		closedir(d);
}

void archive_remove_stale(const struct archive_job *job)
{
	char *prefix = xasprintf("%s-", job->name);
	char *hidden = xasprintf(".%s-", job->name);
	DIR *d = opendir(".");
	for (struct dirent *e; d && (e = readdir(d));) {
		size_t len = strlen(e->d_name);
		if (is_archive_name(e->d_name, prefix) && is_dir(e->d_name)) {
			remove_stale_temps(e->d_name, hidden, job->report);
		} else if (!strncmp(e->d_name, hidden, strlen(hidden)) && len > 8 &&
			   !strcmp(e->d_name + len - 8, ".partial") && is_dir(e->d_name)) {
			report_warn(job->report,
				    "removed %s, left unfinished by an interrupted vm archive",
				    e->d_name);
			remove_dir_files(e->d_name);
		}
	}
	if (d)
		closedir(d);
	free(prefix);
	free(hidden);
}
