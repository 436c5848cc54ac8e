/* The record that vm stop asked the guest to suspend: a file in the runtime
 * directory, written before the request goes out and removed once the
 * guest has been seen asleep. A vm stop killed in between leaves it: the
 * guest may still carry out that request, and a second request from the
 * next vm stop would then still be pending in the guest when its state is
 * saved, so that the guest went back to sleep each time the state was
 * loaded. The next vm stop finds the record and waits for the first
 * request instead of asking again. The record names the emulator it was
 * made for: one left by an earlier run of the machine means nothing. */
#pragma once

#include "emulator/machine.h"

#include <stdbool.h>

/* Records that a suspend request is about to go out to the running guest. */
void suspend_request_mark(struct machine *m);
/* Whether a vm stop that did not finish asked this emulator's guest to
 * suspend. */
bool suspend_request_pending(struct machine *m);
/* The guest slept: the request, whoever made it, is carried out. */
void suspend_request_clear(struct machine *m);
