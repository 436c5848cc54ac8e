/* Copying a file's bytes the fastest way the file system offers: a reflink
 * (FICLONE) shares the blocks at once; copy_file_range copies inside the
 * kernel; a read/write loop works everywhere. Holes stay holes
 * (SEEK_DATA/SEEK_HOLE), so a sparse image stays sparse. */
#pragma once

#include "error.h"

#include <stdbool.h>
#include <stdint.h>

enum filecopy_method {
	FILECOPY_NOTHING,    /* an empty file, or holes only */
	FILECOPY_REFLINK,    /* blocks shared (btrfs, xfs, ...) */
	FILECOPY_COPY_RANGE, /* copy_file_range */
	FILECOPY_READ_WRITE, /* the plain loop */
};

enum {
	FILECOPY_NO_REFLINK = 1u << 0,
	FILECOPY_NO_COPY_RANGE = 1u << 1,
};

struct filecopy {
	int in, out;	      /* out: empty, opened for writing */
	uint64_t size;	      /* bytes to copy (the source's size) */
	const char *in_name;  /* for messages */
	const char *out_name; /* for messages: the name the user knows */
	unsigned flags;
	/* Called after each chunk; may be NULL. Returning false stops the copy
	 * (it fails with "interrupted"). */
	bool (*progress)(void *ctx, uint64_t done);
	void *progress_ctx;
	enum filecopy_method method; /* out: the method that did the bulk */
};

int filecopy_run(struct filecopy *job, struct error *err);
const char *filecopy_method_name(enum filecopy_method method);
/* A size for people: "917504 bytes" is "896.0 KiB", "3.0 GiB"; under
 * 1 KiB in bytes. */
void filecopy_size_text(uint64_t bytes, char *buf, size_t size);
