/* Which saved states (savevm snapshots) of an image were taken while the
 * guest was suspended. QEMU 7.2 loads such a state as "running" and the
 * guest hangs unless it is reset into its S3 resume path; a state saved
 * while running must never be reset. The record is a small text file next
 * to the image, IMAGE.suspended, one state name a line, so that copies of
 * the image can take it along. */
#pragma once

#include "error.h"

#include <stdbool.h>

/* The record's file name for image; the caller frees it. */
char *savedstate_path(const char *image);
bool savedstate_was_suspended(const char *image, const char *name);
/* Records that state name was just saved, suspended or not (a state saved
 * again under the same name replaces the old one). */
int savedstate_record(const char *image, const char *name, bool suspended, struct error *err);
