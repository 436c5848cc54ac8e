/* Bridged networking for run and start: a tap on VM_NET_BRIDGE from
 * vm-netd, for the emulator to inherit. */
#pragma once

#include "emulator/machine.h"
#include "emulator/qemu.h"
#include "net/netclient.h"

/* For a bridged launch, asks vm-netd for the tap (creating the bridge when
 * launch->create_bridge) and points launch->tap at it; does nothing for NAT.
 * Refuses first when the machine already runs, so that a second start does
 * not take a tap, and when VM_NET_QUEUES cannot be had. The fds (one per
 * queue) stay close-on-exec: whoever starts the emulator lets it inherit
 * them (bridge_release closes vm's copies). */
int bridge_attach(struct machine *m, struct qemu_launch *launch, struct netclient_tap *tap,
		  struct error *err);
void bridge_release(struct netclient_tap *tap);
