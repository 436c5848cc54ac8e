/* The one place that knows where a running machine's handle lives: its
 * runtime directory, holding the QMP and agent sockets, the pid file, the
 * lock, the emulator's stderr log and what runs there.
 *
 *   <home>/.local/state/vm/<host>/<ID>/      (0700, as are vm/ and <host>/)
 *
 * <home> is the user's home directory from the password database and <host>
 * the host's name: never the environment or the session, so that a login
 * session, a later one, cron, su, vm boot and systemd units all find the
 * same machine, and the place outlives logouts (logind removes
 * /run/user/UID) and is not aged by tmpfiles (/tmp). <host> keeps apart the
 * machines of hosts that share a home over NFS. Machines started by earlier
 * versions ($XDG_RUNTIME_DIR/vm/ID, /run/user/UID/vm/ID, /tmp/vm-UID/ID)
 * are still found while they run. Another local user must not be able to
 * pre-create or swap any part of it. */
#pragma once

#include "error.h"
#include "strv.h"

#include <stdbool.h>
#include <sys/types.h>

struct runtime {
	char *dir;
	/* The sockets: DIR/NAME, or /proc/self/fd/N/NAME through dir_fd when
	 * DIR/NAME is too long for a unix socket (108 bytes). */
	char *qmp_socket;
	char *ga_socket; /* the guest agent's channel (VM_GUEST_AGENT=yes) */
	char *pid_file;
	char *lock_file;
	char *stderr_log;     /* the emulator's stderr while it runs in the background */
	char *info_file;      /* what runs there: struct runtime_info */
	char *console_socket; /* the guest's first serial port (vm console), as the others */
	char *console_log;    /* what the guest wrote there, kept by QEMU */
	char *console_lock;   /* held by the vm console that is attached */
	int lock_fd;	      /* -1 unless runtime_lock succeeded */
	int dir_fd;	      /* the directory, open while rt is */
	bool sockets_via_fd;
};

/* Whether runtime_open makes the directory: the commands that only look
 * create nothing (RUNTIME_FIND: a machine that never ran has no directory
 * and reads as stopped; dir_fd is then -1); run and start make it first
 * (RUNTIME_MAKE), since the emulator's command line names the sockets in
 * it. runtime_lock makes it in any case: whoever locks changes the machine. */
enum runtime_reach { RUNTIME_FIND, RUNTIME_MAKE };
/* Finds and checks the directory for machine id: the one where it runs,
 * else the current layout's. */
int runtime_open(struct runtime *rt, const char *id, enum runtime_reach how, struct error *err);
/* Makes the directory (and those above it) when missing, then takes the
 * machine's lock without waiting and records this process in it
 * ("vm PID"). The lock fd is close-on-exec: only the emulator inherits it
 * (runtime_emulator_fds), so the machine counts as running exactly while
 * that process lives. */
int runtime_lock(struct runtime *rt, struct error *err);
/* The fds the emulator must inherit (the lock, and the directory when the
 * sockets go through it); returns how many (at most 2). */
size_t runtime_emulator_fds(const struct runtime *rt, int fds[2]);
/* Records in the lock that the emulator (pid) holds it now. */
void runtime_hand_over(const struct runtime *rt, pid_t pid);
/* Lets go of the lock in this process (the emulator keeps its copy). */
void runtime_unlock(struct runtime *rt);

enum runtime_state {
	RUNTIME_STOPPED,
	RUNTIME_RUNNING, /* the emulator holds the lock */
	RUNTIME_BUSY,	 /* another vm command holds it (init, archive, a start) */
};
/* Who holds the lock; *pid the emulator's (pid file, else the lock's
 * record; 0 when unknown) or the vm command's. Never looks at the process
 * list. */
enum runtime_state runtime_state(const struct runtime *rt, pid_t *pid);
/* runtime_state() == RUNTIME_RUNNING. */
bool runtime_is_running(const struct runtime *rt, pid_t *pid);
/* Why the lock cannot be had: "NAME is already running (pid N)" or
 * "another vm command is working on NAME (pid N)". */
int runtime_held_error(const struct runtime *rt, const char *name, struct error *err);
void runtime_close(struct runtime *rt);
/* For commands that change the images (init, archive --create): opens the
 * runtime directory of machine id and takes the lock, so that the machine
 * cannot start meanwhile. When it runs, fails with "NAME is running (pid N);
 * stop it first (vm stop, or vm kill): WHY"; when another machine of the
 * same id runs, as runtime_check_owner. */
int runtime_lock_stopped(struct runtime *rt, const char *id, const char *name, const char *home,
			 const char *vmrc, const char *why, struct error *err);
/* Two machines given the same VM_MACHINE_ID share its runtime directory:
 * fails when the emulator that holds it was started from another machine
 * directory than home (compared as files: a path through a symlink is the
 * same machine; a directory that is gone counts as home), with "ID N is
 * taken by the machine OTHER in DIR, which is running (pid P): give NAME an
 * ID of its own (VM_MACHINE_ID in HOME/VMRC; ...)", so that no command of
 * one machine ever acts on the other's emulator. */
int runtime_check_owner(const struct runtime *rt, const char *id, const char *name,
			const char *home, const char *vmrc, struct error *err);

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
/* The ids that have a runtime directory of this user (running or not), in
 * the current layout and the earlier ones. */
int runtime_list_ids(struct strv *ids, struct error *err);
/* The directory that holds the runtime directories of a user on this
 * host, below the given home directory (created when missing). */
char *runtime_base_in(const char *home, struct error *err);
