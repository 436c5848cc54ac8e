/* Disk images: copying them safely (image.c) and what qemu-img does to them
 * (qemu_img.c: overlays, commit, snapshots, info, check). Paths are taken
 * as given, relative to the current directory (the machine directory). */
#pragma once

#include "error.h"
#include "strv.h"
#include "sys/report.h"
#include "sys/tempfile.h"

#include <stdbool.h>
#include <stdint.h>

enum {
	IMAGE_REPLACE = 1u << 0, /* replace the destination when it exists, else refuse */
	IMAGE_PLAIN = 1u << 1,	 /* copy with read/write only (no reflink, no copy_file_range) */
	/* Stop the copy (it fails) as soon as SIGINT, SIGTERM or SIGHUP is
	 * pending: for callers that block these signals while they copy. */
	IMAGE_STOP_ON_SIGNAL = 1u << 2,
};

/* Copies src to dst through a temporary file beside dst that is renamed
 * into place when complete (see tempfile.h): a failed or interrupted copy
 * leaves no dst. Uses reflink or copy_file_range where the file system
 * offers them and keeps holes. The copy's progress goes to report (NULL:
 * none shown). */
int image_copy(const char *src, const char *dst, unsigned flags, const struct report *report,
	       struct error *err);
/* The same into a temporary file the caller made (tempfile_create) and then
 * commits or discards, for work on the copy before it gets its name. */
int image_copy_into(const char *src, struct tempfile *tf, unsigned flags,
		    const struct report *report, struct error *err);

/* Whether anything (a dangling symlink too) is at path. */
bool image_exists(const char *path);

struct image_info {
	char *format;
	uint64_t virtual_size;
	uint64_t actual_size;	   /* bytes allocated on disk */
	char *backing_file;	   /* as recorded in the image; NULL when none */
	char *full_backing_file;   /* the same, resolved against the image's directory */
	struct strv snapshots;	   /* names of the internal snapshots (saved states) */
	long long *snapshot_dates; /* when each was taken (seconds since the epoch) */
};

/* qemu-img info --output=json; works on images another emulator has open. */
int image_info(const char *path, struct image_info *info, struct error *err);
void image_info_free(struct image_info *info);
/* Whether the image and all its backing files open (qemu-img info
 * --backing-chain); else what qemu-img said. */
int image_open_chain(const char *path, struct error *err);

/* Creates an empty overlay path on backing (qemu-img create -f FMT -b BACKING
 * -F FMT), through a temporary file like image_copy. backing is recorded as
 * given: a name relative to path's directory keeps the pair movable.
 * IMAGE_REPLACE replaces an existing path. */
int image_create_overlay(const char *path, const char *backing, const char *fmt, unsigned flags,
			 struct error *err);
/* Writes the overlay's data into its backing file (qemu-img commit, which
 * draws its own bar where report lets a child draw). */
int image_commit(const char *path, const struct report *report, struct error *err);
/* Deletes an internal snapshot (qemu-img snapshot -d); the image's backing
 * file need not be there. */
int image_snapshot_delete(const char *path, const char *fmt, const char *name, struct error *err);
/* qemu-img check -r leaks: frees the clusters an interrupted write (a
 * killed commit) left allocated but unused; *repaired says how many. Fails
 * when the image has worse problems than leaks. */
int image_repair_leaks(const char *path, const char *fmt, long *repaired, struct error *err);
/* The command lines the functions above run, for dry runs and -v. */
char *image_create_overlay_command(const char *path, const char *backing, const char *fmt);
