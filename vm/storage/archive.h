/* vm archive: dated copies of a machine's images, each one complete or not
 * there at all. --create (machine stopped) commits the backing file into
 * the base and archives both under NAME-<base mtime>; the update (machine
 * running) adds a timestamped copy of the backing file to that archive. */
#pragma once

#include "config/config.h"
#include "emulator/machine.h"
#include "error.h"
#include "storage/compress.h"
#include "strv.h"
#include "sys/report.h"
#include "sys/tempfile.h"

#include <stdbool.h>
#include <time.h>

struct archive_job {
	struct machine *m;		     /* the machine, its runtime directory */
	const struct config *cfg;	     /* &m->cfg */
	const char *name;		     /* VM_MACHINE_NAME */
	const char *fmt;		     /* VM_FMT */
	const char *base;		     /* NAME-base.FMT, in the machine directory (the cwd) */
	const char *backing;		     /* NAME-backing.FMT */
	const struct compressor *compressor; /* NULL: no compression */
	bool compress_base;
	bool force;		     /* commit although other overlays use the base */
	const char *savevm;	     /* update: save this state before copying */
	const char *delvm;	     /* update: delete this state from the copy */
	const struct report *report; /* where warnings and progress go */
};

int archive_create(const struct archive_job *job, struct error *err);
int archive_update(const struct archive_job *job, struct error *err);

/* Shared by both modes (archive.c). */

/* The one form of time in archive names: %Y%m%d%H%M%S, local time. */
#define ARCHIVE_STAMP_SIZE 32
void archive_timestamp(time_t when, char stamp[ARCHIVE_STAMP_SIZE]);
/* The archive directory of the current base: NAME-<its mtime, as a stamp>. */
char *archive_dir_name(const struct archive_job *job, struct error *err);
/* Adds to found the images in the machine directory, other than the
 * machine's own, whose backing file is the base. */
int archive_other_overlays(const struct archive_job *job, struct strv *found, struct error *err);
/* Puts a copy of src into dir as name, compressed (name + extension) when
 * compress, through a temporary file; *stored gets the path written. When td
 * is given, the file is tracked so that it goes with td. */
int archive_store(const struct archive_job *job, const char *src, const char *dir, const char *name,
		  bool compress, struct tempdir *td, char **stored, struct error *err);
/* Removes what a killed vm archive of either mode left: unfinished
 * archives (.NAME-*.partial) and temporary files in the archives. Only call
 * it while no other vm can archive this machine: --create under the
 * machine's lock, the update holding the monitor (one client at a time). */
void archive_remove_stale(const struct archive_job *job);
