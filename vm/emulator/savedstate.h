/* How each saved state (savevm snapshot) of an image left the guest, when
 * it was saved while the guest was suspended to RAM.
 *
 * QEMU 7.2 does not keep the "suspended" run state in a snapshot, and while
 * a guest is suspended its virtual clock keeps running, so a snapshot taken
 * then loads as "running" with the guest hung in its sleep path, and with a
 * clock that leaves its timers dead after a reset. vm stop therefore wakes
 * the guest and pauses it in the same instant, before the firmware has run
 * an instruction of the resume, and saves that: such a state ("waking")
 * resumes by itself when loaded. A state saved by hand while the guest was
 * suspended ("suspended") needs a reset into the resume path after loading.
 * A state saved while the guest ran has no record and is never touched.
 *
 * The record is a small text file next to the image, IMAGE.suspended, one
 * "NAME KIND" a line, so that copies of the image can take it along. */
#pragma once

#include "error.h"

enum savedstate_kind {
	SAVEDSTATE_RUNNING,   /* saved while the guest ran: no record */
	SAVEDSTATE_WAKING,    /* frozen at the instant of waking up */
	SAVEDSTATE_SUSPENDED, /* saved in QEMU's suspended run state */
};

/* The record's file name for image; the caller frees it. */
char *savedstate_path(const char *image);
enum savedstate_kind savedstate_lookup(const char *image, const char *name);
/* Records how state name was just saved (a state saved again under the
 * same name replaces the old record; RUNNING removes it). */
int savedstate_record(const char *image, const char *name, enum savedstate_kind kind,
		      struct error *err);
