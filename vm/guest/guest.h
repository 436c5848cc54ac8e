/* Reaching the guest: ssh as VM_MACHINE_USER (at VM_NET_GUEST, or at the
 * forwarded loopback port in NAT mode), or the QEMU guest agent for
 * suspend, power-off and sync when VM_GUEST_AGENT=yes. */
#pragma once

#include "config/config.h"
#include "emulator/runtime.h"
#include "error.h"
#include "strv.h"
#include "sys/spawn.h"

#include <stdbool.h>

struct guest {
	char *host;	     /* where ssh connects */
	int port;	     /* 22, or the forwarded port in NAT mode */
	char *user;	     /* VM_MACHINE_USER */
	struct strv options; /* VM_SSH_OPTS, split into words */
	char *agent_socket;  /* NULL unless VM_GUEST_AGENT=yes */
};

/* How to reach the running machine: the runtime's record says whether it
 * runs with NAT; without a record, the configuration's bridged address. */
int guest_open(struct guest *g, const struct config *cfg, const struct runtime *rt,
	       struct error *err);
void guest_close(struct guest *g);
/* "USER@HOST" or "USER@HOST:PORT", for messages. */
char *guest_address(const struct guest *g);

/* The ssh command line for command (NULL: a login shell). */
void guest_ssh_argv(const struct guest *g, int connect_timeout_s, bool tty, char *const command[],
		    struct strv *argv);
/* True when something at the guest's ssh port sends an SSH banner within
 * timeout_ms (user networking accepts every connection, so a connect alone
 * proves nothing). */
bool guest_ssh_banner(const struct guest *g, int timeout_ms);
/* Runs a shell command line in the guest, capturing its output. */
int guest_run(const struct guest *g, const char *command, int timeout_ms,
	      struct spawn_result *result, struct error *err);
/* A real login that runs true; fails with ssh's own words. */
int guest_login(const struct guest *g, int timeout_ms, struct error *err);
/* "systemctl" or "loginctl", whichever the guest has. */
int guest_control_method(const struct guest *g, char **method, struct error *err);

/* How suspend, power-off and sync reach the guest: "the guest agent" or "ssh". */
const char *guest_control_channel(const struct guest *g);
/* Ask the guest to suspend to RAM / power off / reboot, and return without
 * waiting for it to happen (the caller watches the emulator's events). */
int guest_suspend(const struct guest *g, struct error *err);
int guest_poweroff(const struct guest *g, struct error *err);
int guest_reboot(const struct guest *g, struct error *err);
/* Flushes the guest's file systems and waits for it. */
int guest_sync(const struct guest *g, struct error *err);
