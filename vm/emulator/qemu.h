/* The one place that turns a machine's configuration into the emulator's
 * command line. */
#pragma once

#include "config/config.h"
#include "emulator/runtime.h"
#include "error.h"
#include "net/netclient.h"
#include "strv.h"
#include "sys/report.h"

#include <stdbool.h>

enum qemu_network {
	QEMU_NET_NAT,	 /* QEMU user networking, guest ssh forwarded to loopback */
	QEMU_NET_BRIDGE, /* a tap on VM_NET_BRIDGE from vm-netd */
};

struct qemu_launch {
	const struct config *cfg;
	const struct runtime *rt;
	enum qemu_network network;
	bool create_bridge; /* --bridge: vm-netd may create VM_NET_BRIDGE */
	bool base_only;	    /* -b: run the base image, not the backing file */
	const char *loadvm; /* a saved state to start from, or NULL */
	bool background;    /* no window unless a display is configured */
	char **user_args;   /* vm run's extra arguments, or NULL */
	int user_argc;
	/* Bridged: the tap vm-netd gave us (see bridge.h). */
	const struct netclient_tap *tap;
	/* Where the warnings about an exposed port go (NULL: nowhere). */
	const struct report *report;
};

/* The image the machine runs on: the backing file, the base with
 * base_only, or NAME.FMT when VM_USE_SNAPSHOTS=no. The caller frees it. */
char *qemu_disk_image(const struct config *cfg, bool base_only);
/* Fails, saying what to do, when that image is missing. */
int qemu_check_disk(const struct config *cfg, bool base_only, struct error *err);
/* The decisions the command line is made of, for whoever describes the
 * same machine another way (vm export): the accelerator ("kvm" or "tcg",
 * auto resolved), the disk's interface, the NIC's device model, and
 * whether the guest agent's channel is there. */
int qemu_accelerator(const struct config *cfg, const char **accel, struct error *err);
const char *qemu_disk_interface(const struct config *cfg);
const char *qemu_net_model(const struct config *cfg);
/* The tap's queues: VM_NET_QUEUES when bridged, 1 for NAT. */
unsigned qemu_net_queues(const struct config *cfg, enum qemu_network network);
/* Refuses VM_NET_QUEUES > 1 with a NIC model of one queue, before anything
 * starts; with NAT it only warns, to report (user networking has one
 * queue). */
int qemu_check_net_queues(const struct config *cfg, enum qemu_network network,
			  const struct report *report, struct error *err);
bool qemu_has_guest_agent(const struct config *cfg);
/* The CPU model vm chooses itself for accel ("kvm" or "tcg") when words
 * (VM_QEMU_EXTRA's, vm run's arguments) name none: "host" with KVM, else
 * NULL (QEMU's default). */
const char *qemu_default_cpu(const char *accel, char *const words[]);
/* The loopback port the guest's ssh is forwarded to in NAT mode. */
int qemu_nat_ssh_port(const struct config *cfg);
/* Builds the whole command line into argv. Fails, saying what to do, when
 * the disk image is missing, a variable cannot be split, -daemonize is
 * asked for, or the network cannot be set up. */
int qemu_build_command(const struct qemu_launch *launch, struct strv *argv, struct error *err);
/* The network part of the command line (NAT, or the bridged tap). */
int qemu_add_network(const struct qemu_launch *launch, struct strv *argv, struct error *err);
/* Whether the user's words (argv from user_from on) take the guest's serial
 * port or the terminal (-serial, -nographic): then vm console has none. */
bool qemu_user_takes_serial(char *const argv[], size_t user_from);
/* Whether the command line asks for a curses display (which needs a
 * terminal of its own). */
bool qemu_uses_curses(char *const argv[]);
