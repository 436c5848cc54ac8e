/* image_copy: a disk image copied whole or not at all. */
#include "image.h"

#include "filecopy.h"
#include "log.h"
#include "progress.h"
#include "tempfile.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void show_progress(void *ctx, uint64_t done)
{
	progress_update(ctx, done);
}

static double seconds_since(const struct timespec *start)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static int open_source(const char *src, struct stat *st, struct error *err)
{
	int fd = open(src, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return error_errno(err, "cannot open %s", src);
	if (fstat(fd, st) < 0) {
		close(fd);
		return error_errno(err, "cannot read %s", src);
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		return error_set(err, "%s is not a regular file", src);
	}
	return fd;
}

static char *progress_label(const char *src)
{
	char *copy = xstrdup(src);
	char *label = xasprintf("Copying %s", basename(copy));
	free(copy);
	return label;
}

int image_copy(const char *src, const char *dst, unsigned flags, struct error *err)
{
	struct stat st;
	int in = open_source(src, &st, err);
	if (in < 0)
		return -1;
	/* Refuse before copying gigabytes; the rename checks again. */
	if (!(flags & IMAGE_REPLACE) && access(dst, F_OK) == 0) {
		close(in);
		return error_set(err, "%s already exists; vm does not overwrite it", dst);
	}
	struct tempfile tf;
	if (tempfile_create(&tf, dst, err) < 0) {
		close(in);
		return -1;
	}
	char *label = progress_label(src);
	struct progress *bar = (flags & IMAGE_PROGRESS) ? progress_start(label, st.st_size) : NULL;
	struct filecopy job = {
	    .in = in,
	    .out = tf.fd,
	    .size = (uint64_t)st.st_size,
	    .in_name = src,
	    .out_name = dst,
	    .flags = (flags & IMAGE_PLAIN) ? FILECOPY_NO_REFLINK | FILECOPY_NO_COPY_RANGE : 0,
	    .progress = bar ? show_progress : NULL,
	    .progress_ctx = bar,
	};
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	int rc = filecopy_run(&job, err);
	progress_finish(bar);
	free(label);
	close(in);
	if (rc < 0) {
		tempfile_discard(&tf);
		return -1;
	}
	if (tempfile_commit(&tf, (flags & IMAGE_REPLACE) ? TEMPFILE_REPLACE : 0, err) < 0)
		return -1;
	log_debug("copied %s to %s (%llu MiB, %s) in %.2f s", src, dst,
		  (unsigned long long)(st.st_size >> 20), filecopy_method_name(job.method),
		  seconds_since(&start));
	return 0;
}
