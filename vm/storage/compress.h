/* The compressors archives can use, run as the external tools. */
#pragma once

#include "error.h"
#include "sys/report.h"

struct compressor {
	const char *name;      /* as given to -z: xz, gzip, bzip2, lz4, zstd */
	const char *program;   /* the tool run */
	const char *extension; /* added to the file name, with its dot */
	const char *package;   /* the Debian package that has the tool */
};

/* The compressor called name, or NULL (the error lists the known ones). */
const struct compressor *compressor_find(const char *name, struct error *err);
/* Fails, saying what to install, when the tool is not in PATH. */
int compressor_check(const struct compressor *c, struct error *err);
/* Compresses src into dst (normally src's name plus the extension) through
 * a temporary file beside dst, its progress on report; src is left as it
 * is. */
int compressor_run(const struct compressor *c, const char *src, const char *dst,
		   const struct report *report, struct error *err);
