/* The kernel boundary for taps: /dev/net/tun's ioctls. */
#pragma once

#include "error.h"

#include <sys/types.h>

/* Makes the open /dev/net/tun fd a new tap called name, owned by owner and
 * not persistent: it vanishes when the last fd to it closes. Never attaches
 * to an existing device (IFF_TUN_EXCL). */
int tap_create(int tun_fd, const char *name, uid_t owner, struct error *err);
