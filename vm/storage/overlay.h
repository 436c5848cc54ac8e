/* The temporary overlay of a live archive: while the backing file is
 * copied, the running disk gets an external overlay (QMP
 * blockdev-snapshot-sync) that takes the guest's writes, so the backing
 * file stays whole and unchanging; the overlay is then merged back live
 * (block-commit of the active layer, completed when ready). It is the
 * hidden file .DISK.archive-overlay beside the disk.
 *
 * A vm killed at any step leaves either the overlay in the running
 * emulator's chain (maybe with its merge job still going) or, once the
 * emulator is gone, the overlay file: the next command finds either and
 * finishes the merge, so no write of the guest is ever lost. The job is
 * made to wait, pending, before it moves the guest back onto the disk: by
 * then the disk holds all the overlay has, and QEMU holds the guest's new
 * writes. Only then does the overlay get a second name (.DISK.archive-
 * overlay.merged, the same file), and only then is the job finalized: an
 * overlay file found under both names is already in the disk, which the
 * guest may have written to since, so it is removed, never written into
 * the disk again. One found under its first name alone may hold writes the
 * disk lacks, and is written into the disk. */
#pragma once

#include "emulator/qmp.h"
#include "error.h"
#include "sys/report.h"

#include <stdbool.h>

/* The overlay's file for disk (a path; the caller frees it). */
char *overlay_path(const char *disk);

/* Puts the overlay on the emulator's disk (the image at path disk); from
 * then on the guest writes into it. Refuses when one is there already. */
int overlay_add(struct qmp *q, const char *disk, struct error *err);

enum overlay_found {
	OVERLAY_NONE,	/* nothing to merge */
	OVERLAY_MERGED, /* an overlay was there and is merged back, its file removed */
	OVERLAY_STALE,	/* only a file no emulator uses (its data is in the disk): removed */
};

/* Merges the overlay of the running emulator back into disk, waiting for
 * the merge job's events (a job a killed vm started is taken over), and
 * removes its file. */
int overlay_merge_live(struct qmp *q, const char *disk, enum overlay_found *found,
		       struct error *err);
/* With the emulator stopped, under the machine's lock: writes an overlay
 * file left by an emulator that ended while it ran on it into disk
 * (qemu-img commit, its progress on report) and removes it; one already
 * merged is only removed. */
int overlay_merge_stopped(const char *disk, enum overlay_found *found, const struct report *report,
			  struct error *err);
/* Tells report what was found (nothing for OVERLAY_NONE). */
void overlay_report(enum overlay_found found, const char *overlay, const char *disk,
		    const struct report *report);
