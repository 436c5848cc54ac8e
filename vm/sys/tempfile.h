/* Files vm writes (images, archives) are made under a temporary name in
 * their target directory and renamed into place only when complete, so a
 * failed or interrupted write never leaves a half file under the real name.
 *
 * Temporary files are created with O_EXCL and mode 0666 less the umask (as
 * any new file of the user's), and until they are committed or discarded a
 * SIGINT, SIGTERM or SIGHUP removes them before vm dies of the signal. A
 * temporary directory collects several files that appear together (an
 * archive): whatever was tracked in it goes with it. */
#pragma once

#include "error.h"

#include <stdbool.h>

struct tempfile {
	char *path;   /* the temporary name, ".NAME.tmp-XXXXXX" beside target */
	char *target; /* the final name */
	int fd;	      /* open for writing until commit or discard */
	int slot;     /* in the clean-up registry */
};

struct tempdir {
	char *path;   /* the temporary name */
	char *target; /* the final name */
	int slot;
};

/* For commands that make temporary files: from now on, a SIGINT, SIGTERM
 * or SIGHUP also says "vm: interrupted" when there was nothing to remove,
 * so that vm never dies of it silently. */
void tempfile_tell_interruptions(void);
/* Creates the temporary file for target (which need not exist yet). */
int tempfile_create(struct tempfile *tf, const char *target, struct error *err);

enum {
	TEMPFILE_REPLACE = 1u << 0, /* an existing target is replaced, else refused */
};

/* Flushes the file to disk and renames it to its target (fsyncing the
 * directory too). On failure the temporary file is removed. */
int tempfile_commit(struct tempfile *tf, unsigned flags, struct error *err);
/* Removes the temporary file (a no-op once committed). */
void tempfile_discard(struct tempfile *tf);

/* Creates target's temporary directory, named path as given: the caller
 * picks a name that can never be taken for a complete target. It must not
 * exist yet. */
int tempdir_create(struct tempdir *td, const char *path, const char *target, struct error *err);
/* Registers a file inside the directory that the directory takes with it
 * when discarded or interrupted. Call it before the file is written. */
void tempdir_track(struct tempdir *td, const char *path);
/* Renames the directory to its target (never replacing one) and syncs. */
int tempdir_commit(struct tempdir *td, struct error *err);
/* Removes the tracked files and the directory. */
void tempdir_discard(struct tempdir *td);

/* Flushes a directory's entries to disk (after a rename or unlink in it). */
void tempfile_sync_dir(const char *dir);
/* Removes left-overs of temporary files for target that a killed vm could
 * not remove; only call it while holding the machine's lock, so no other vm
 * is writing them. Returns how many were removed. */
int tempfile_remove_stale(const char *target);
