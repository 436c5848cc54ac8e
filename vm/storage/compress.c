#include "storage/compress.h"

#include "log.h"
#include "strv.h"
#include "sys/spawn.h"
#include "sys/tempfile.h"
#include "xalloc.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* Quiet, from stdin to stdout, using every core where the tool can. */
static void compress_args(const struct compressor *c, struct strv *args)
{
	strv_add(args, c->program);
	strv_add(args, "-c");
	strv_add(args, "-q");
	if (!strcmp(c->name, "xz") || !strcmp(c->name, "zstd"))
		strv_add(args, "-T0");
}

/* The tool reads src from the file vm opened and shares its offset with
 * vm, so how far it has read is the progress bar's. */
struct compress_watch {
	int fd;
	const struct report *report;
	struct progress *bar;
};

static void watch_compressor(void *ctx)
{
	struct compress_watch *w = ctx;
	off_t done = lseek(w->fd, 0, SEEK_CUR);
	if (done > 0)
		report_progress_update(w->report, w->bar, (uint64_t)done);
}

int compressor_run(const struct compressor *c, const char *src, const char *dst,
		   const struct report *report, struct error *err)
{
	if (compressor_check(c, err) < 0)
		return -1;
	int in = open(src, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (in < 0 || fstat(in, &st) < 0) {
		error_errno(err, "cannot read %s", src);
		if (in >= 0)
			close(in);
		return -1;
	}
	struct tempfile tf;
	if (tempfile_create(&tf, dst, err) < 0) {
		close(in);
		return -1;
	}
	struct strv args = STRV_INIT;
	compress_args(c, &args);
	char *line = strv_join(&args, " ");
	log_debug("running %s < %s > %s", line, src, tf.path);
	free(line);
	char *label = xasprintf("compressing with %s", c->program);
	struct compress_watch watch = {in, report,
				       report_progress(report, label, (uint64_t)st.st_size)};
	free(label);
	struct spawn_options opts = {.stdout_fd = tf.fd,
				     .stdin_fd = in,
				     .capture_stderr = true,
				     .tick = watch_compressor,
				     .tick_ctx = &watch};
	struct spawn_result res;
	int rc = spawn_run(strv_argv(&args), &opts, &res, err);
	report_progress_finish(report, watch.bar);
	close(in);
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
