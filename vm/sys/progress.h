/* A spinner while waiting and a bar while copying, drawn on stdout only
 * when it is a terminal (logs and pipes get none). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct progress;

/* total 0: a spinner (advance with progress_tick); else a bar over total. */
struct progress *progress_start(const char *label, uint64_t total);
void progress_update(struct progress *p, uint64_t done);
void progress_tick(struct progress *p);
/* A spinner while the user waits, unless -v shows the steps instead (NULL
 * then: the progress functions take NULL). */
struct progress *progress_spinner(const char *label);
/* Clears the line and frees p; NULL is fine. */
void progress_finish(struct progress *p);
/* Whether progress_start draws anything (stdout is a terminal). */
bool progress_visible(void);
