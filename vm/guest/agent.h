/* The QEMU guest agent (VM_GUEST_AGENT=yes), reached over the virtio-serial
 * channel's socket. Each use starts with guest-sync-delimited, so a reply
 * left over from an earlier, interrupted use is never taken for ours. */
#pragma once

#include "error.h"

/* Each connects, synchronises, acts and disconnects. Suspend and shutdown
 * get no reply from the agent when they work; the caller watches the
 * emulator's events to see them happen. */
int agent_suspend(const char *socket_path, struct error *err);
int agent_shutdown(const char *socket_path, const char *mode, struct error *err);
/* Runs sync(1) in the guest and waits for it. */
int agent_sync(const char *socket_path, int timeout_ms, struct error *err);
/* Whether the agent answers within timeout_ms. */
int agent_ping(const char *socket_path, int timeout_ms, struct error *err);
