/* The kernel boundary for taps: /dev/net/tun's ioctls. */
#pragma once

#include "error.h"

#include <stdbool.h>
#include <sys/types.h>

/* Makes the open /dev/net/tun fd a new tap called name, owned by owner and
 * not persistent: it vanishes when the last fd to it closes. Never attaches
 * to an existing device (IFF_TUN_EXCL). multi_queue makes it a tap that
 * takes more queues (IFF_MULTI_QUEUE); a single queue has no need of it, and
 * goes without, as before multi-queue taps. */
int tap_create(int tun_fd, const char *name, uid_t owner, bool multi_queue, struct error *err);
/* Attaches another open /dev/net/tun fd to the multi-queue tap name as one
 * more queue; the kernel's answer must name that tap. */
int tap_attach_queue(int tun_fd, const char *name, struct error *err);
