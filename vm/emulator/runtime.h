/* The one place that knows a machine's runtime directory:
 * $XDG_RUNTIME_DIR/vm/<ID>/ (fallback /tmp/vm-<uid>/<ID>/), 0700, holding
 * the QMP socket, the pid file and the lock. Another local user must not be
 * able to pre-create or swap any part of it. */
#pragma once

#include "error.h"
#include "strv.h"

#include <stdbool.h>
#include <sys/types.h>

struct runtime {
	char *dir;
	char *qmp_socket;
	char *ga_socket; /* the guest agent's channel (VM_GUEST_AGENT=yes) */
	char *pid_file;
	char *lock_file;
	char *stderr_log; /* the emulator's stderr while it runs in the background */
	char *info_file;  /* what runs there: struct runtime_info */
	int lock_fd;	  /* -1 unless runtime_lock succeeded */
};

/* Finds (creating when needed) and checks the directory for machine id. */
int runtime_open(struct runtime *rt, const char *id, struct error *err);
/* Takes the machine's lock without waiting. The lock belongs to the
 * emulator's lifetime: the lock fd is inherited by the emulator (it is not
 * close-on-exec), so the machine counts as running exactly while that
 * process lives. Fails with "already running" when another holds it. */
int runtime_lock(struct runtime *rt, struct error *err);
/* Lets go of the lock in this process (the emulator keeps its copy). */
void runtime_unlock(struct runtime *rt);
/* True while some process holds the lock; *pid from the pid file (0 when
 * unknown). Never looks at the process list. */
bool runtime_is_running(const struct runtime *rt, pid_t *pid);
void runtime_close(struct runtime *rt);
/* Checks that path is a real directory (not a symlink) owned by the user
 * with no group/other access, creating it 0700 when missing. */
int runtime_secure_dir(const char *path, struct error *err);
/* For commands that change the images (init, archive --create): opens the
 * runtime directory of machine id and takes the lock, so that the machine
 * cannot start meanwhile. When it runs, fails with "NAME is running (pid N);
 * stop it first (vm stop, or vm kill): WHY". */
int runtime_lock_stopped(struct runtime *rt, const char *id, const char *name, const char *why,
			 struct error *err);

/* What vm records about a running machine, for status, ssh, stop and list. */
struct runtime_info {
	char *name;    /* VM_MACHINE_NAME */
	char *home;    /* the machine directory */
	char *network; /* "nat" or "bridge" */
	int ssh_port;  /* the forwarded loopback port in NAT mode; 0 otherwise */
	char *disk;    /* the image the emulator runs on (it holds the saved states) */
};

/* Written when the machine starts, replacing what an earlier run left. */
int runtime_write_info(const struct runtime *rt, const struct runtime_info *info,
		       struct error *err);
/* Fails when nothing was recorded. Unknown keys are ignored. */
int runtime_read_info(const struct runtime *rt, struct runtime_info *info, struct error *err);
void runtime_info_free(struct runtime_info *info);
/* The ids that have a runtime directory of this user (running or not). */
int runtime_list_ids(struct strv *ids, struct error *err);
