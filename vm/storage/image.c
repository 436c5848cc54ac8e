/* image_copy: a disk image copied whole or not at all. */
#include "storage/image.h"

#include "log.h"
#include "storage/filecopy.h"
#include "sys/clock.h"
#include "sys/faultpoint.h"
#include "xalloc.h"

#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

struct copy_watch {
	const struct report *report;
	struct progress *bar;
	bool stop_on_signal;
};

static bool interrupt_pending(void)
{
	sigset_t pending;
	return sigpending(&pending) == 0 &&
	       (sigismember(&pending, SIGINT) == 1 || sigismember(&pending, SIGTERM) == 1 ||
		sigismember(&pending, SIGHUP) == 1);
}

static bool watch_copy(void *ctx, uint64_t done)
{
	struct copy_watch *watch = ctx;
	report_progress_update(watch->report, watch->bar, done);
	fault_point("copy");
	return !(watch->stop_on_signal && interrupt_pending());
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

int image_copy_into(const char *src, struct tempfile *tf, unsigned flags,
		    const struct report *report, struct error *err)
{
	struct stat st;
	int in = open_source(src, &st, err);
	if (in < 0)
		return -1;
	char *label = progress_label(src);
	struct copy_watch watch = {
	    .report = report,
	    .bar = report_progress(report, label, (uint64_t)st.st_size),
	    .stop_on_signal = flags & IMAGE_STOP_ON_SIGNAL,
	};
	struct filecopy job = {
	    .in = in,
	    .out = tf->fd,
	    .size = (uint64_t)st.st_size,
	    .in_name = src,
	    .out_name = tf->target,
	    .flags = (flags & IMAGE_PLAIN) ? FILECOPY_NO_REFLINK | FILECOPY_NO_COPY_RANGE : 0,
	    .progress = watch_copy,
	    .progress_ctx = &watch,
	};
	long long start_ms = clock_now_ms();
	int rc = filecopy_run(&job, err);
	report_progress_finish(report, watch.bar);
	free(label);
	close(in);
	if (rc == 0) {
		char size[32];
		filecopy_size_text((uint64_t)st.st_size, size, sizeof(size));
		log_debug("copied %s to %s (%s, %s) in %.2f s", src, tf->target, size,
			  filecopy_method_name(job.method),
			  (double)(clock_now_ms() - start_ms) / 1000);
	}
	return rc;
}

int image_copy(const char *src, const char *dst, unsigned flags, const struct report *report,
	       struct error *err)
{
	/* Refuse before copying gigabytes; the rename checks again. */
	if (!(flags & IMAGE_REPLACE) && access(dst, F_OK) == 0)
		return error_set(err, "%s already exists; vm does not overwrite it", dst);
	struct tempfile tf;
	if (tempfile_create(&tf, dst, err) < 0)
		return -1;
	if (image_copy_into(src, &tf, flags, report, err) < 0) {
		tempfile_discard(&tf);
		return -1;
	}
	return tempfile_commit(&tf, (flags & IMAGE_REPLACE) ? TEMPFILE_REPLACE : 0, err);
}

bool image_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}
