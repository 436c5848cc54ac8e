/* A terminal in raw mode while vm relays it to a guest, restored on every
 * way out: a normal return, exit(), and the signals that end vm. */
#pragma once

#include "error.h"

/* Puts fd (a terminal) into raw mode, saving its settings; one terminal per
 * process. */
int terminal_make_raw(int fd, struct error *err);
/* Puts the saved settings back (does nothing when none are saved). */
void terminal_restore(void);
