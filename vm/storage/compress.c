#include "storage/compress.h"

#include "log.h"
#include "strv.h"
#include "sys/spawn.h"
#include "sys/tempfile.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

static const struct compressor compressors[] = {
    {"xz", "xz", ".xz", "xz-utils"},	 {"gzip", "gzip", ".gz", "gzip"},
    {"bzip2", "bzip2", ".bz2", "bzip2"}, {"lz4", "lz4", ".lz4", "lz4"},
    {"zstd", "zstd", ".zst", "zstd"},
};

#define N_COMPRESSORS (sizeof(compressors) / sizeof(compressors[0]))

const struct compressor *compressor_find(const char *name, struct error *err)
{
	for (size_t i = 0; i < N_COMPRESSORS; i++)
		if (!strcmp(compressors[i].name, name))
			return &compressors[i];
	error_set(err, "unknown compressor '%s'; choose xz, gzip, bzip2, lz4 or zstd", name);
	return NULL;
}

int compressor_check(const struct compressor *c, struct error *err)
{
	if (spawn_program_exists(c->program))
		return 0;
	return error_set(err,
			 "%s not found: install it (Debian: apt-get install %s) or choose "
			 "another compressor",
			 c->program, c->package);
}

/* Quiet, to stdout, using every core where the tool can. */
static void compress_args(const struct compressor *c, const char *src, struct strv *args)
{
	strv_add(args, c->program);
	strv_add(args, "-c");
	strv_add(args, "-q");
	if (!strcmp(c->name, "xz") || !strcmp(c->name, "zstd"))
		strv_add(args, "-T0");
	strv_add(args, "--");
	strv_add(args, src);
}

int compressor_run(const struct compressor *c, const char *src, const char *dst, struct error *err)
{
	if (compressor_check(c, err) < 0)
		return -1;
	struct tempfile tf;
	if (tempfile_create(&tf, dst, err) < 0)
		return -1;
	struct strv args = STRV_INIT;
	compress_args(c, src, &args);
	char *line = strv_join(&args, " ");
	log_debug("running %s > %s", line, tf.path);
	free(line);
	struct spawn_options opts = {.stdout_fd = tf.fd, .capture_stderr = true};
	struct spawn_result res;
	int rc = spawn_run(strv_argv(&args), &opts, &res, err);
	strv_free(&args);
	if (rc == 0) {
		if (res.status != 0) {
			char *reason = spawn_last_lines(res.err, 1);
			rc = error_set(err, "cannot compress %s into %s with %s: %s", src, dst,
				       c->program, reason[0] ? reason : "no reason given");
			free(reason);
		}
		spawn_result_free(&res);
	}
	if (rc < 0) {
		tempfile_discard(&tf);
		return -1;
	}
	return tempfile_commit(&tf, 0, err);
}
