/* A machine as the commands see it: its configuration, its runtime
 * directory, and the emulator that runs it (started, reached over QMP,
 * made to quit). */
#pragma once

#include "config/config.h"
#include "emulator/qemu.h"
#include "emulator/qmp.h"
#include "emulator/runtime.h"

#include <stdbool.h>
#include <sys/types.h>

struct machine {
	struct config cfg;
	struct runtime rt;
	pid_t pid; /* the emulator's, as last read (QEMU removes its pid file as it exits) */
};

/* Loads the configuration, changes into the machine directory and opens
 * the runtime directory (made only with RUNTIME_MAKE: see runtime_open).
 * Returns 0 or -1 with err set (m then holds nothing to close). */
int machine_open(struct machine *m, enum runtime_reach how, struct error *err);
void machine_close(struct machine *m);
const char *machine_name(const struct machine *m);

/* Just before the emulator starts: takes the machine's lock (refusing when
 * it already runs), records how it runs for the other commands, and clears
 * what an earlier run left behind. */
int machine_claim(struct machine *m, const struct qemu_launch *launch, struct error *err);

/* True while the emulator runs; *pid its pid (0 when unknown). */
bool machine_running(struct machine *m, pid_t *pid);
/* Connects to the running emulator's monitor. Fails with "not running" or
 * with why the monitor cannot be reached. */
int machine_connect(struct machine *m, struct qmp *q, int timeout_ms, struct error *err);
/* The disk image the running emulator uses, as recorded when it started
 * (its configured image when the record names none). The caller frees it. */
char *machine_disk(struct machine *m, struct error *err);
/* Makes the emulator quit: QMP quit (q may be NULL: a connection is made),
 * then waits up to timeout_ms for the process to end, then kills it.
 * *forced tells whether it had to be killed. Only the process holding this
 * machine's lock is ever signalled. */
int machine_quit(struct machine *m, struct qmp *q, int timeout_ms, bool *forced, struct error *err);
/* Waits for the emulator to end by itself. */
bool machine_wait_exit(struct machine *m, int timeout_ms);
/* The last lines the emulator wrote to stderr in the background, joined
 * with "; " (the caller frees it; "" when there are none). */
char *machine_stderr_tail(const struct machine *m, int lines);
/* Flushes the host file system that holds the machine's images. */
void machine_sync_host(const struct machine *m);
/* Saves the machine's state as name (HMP savevm, which replies only once
 * the state is written: its reply is the completion, never a sleep; the
 * caller shows the wait). QEMU's complaint, if any, becomes the error; a
 * full disk is named as one. While it saves, machine_saving says so to the
 * other vm commands (vm kill waits for it). */
int machine_savevm(struct machine *m, struct qmp *q, const char *name, struct error *err);
/* True while a vm command saves this machine's state; *pid is its pid. */
bool machine_saving(const struct machine *m, pid_t *pid);
/* Waits up to timeout_ms for the save under way to end; true when it has. */
bool machine_wait_saved(const struct machine *m, int timeout_ms);
/* After a monitor error: when the emulator no longer runs, err becomes
 * "the emulator of NAME died", with how (when QEMU said) and its last
 * stderr lines, and true is returned. Else err is left as it is. */
bool machine_report_death(struct machine *m, struct error *err);
/* When the file system holding file has less than need_mib free, err says
 * "the disk holding FILE is full (N MiB free; about M MiB needed)" and
 * true is returned. */
bool machine_report_full_disk(const char *file, unsigned long need_mib, struct error *err);
/* For a guest QEMU paused on a disk error (run state io-error): what to
 * do, with the space left on the disk (the caller frees it). */
char *machine_io_error_advice(struct machine *m);
/* The guest's RAM in MiB (VM_MACHINE_MEM): about what a saved state needs. */
unsigned long machine_ram_mib(const struct machine *m);
