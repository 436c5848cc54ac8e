#include "storage/filecopy.h"

#include "xalloc.h"

#include <errno.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Progress is reported after each chunk. */
#define COPY_RANGE_CHUNK (8u << 20)
#define READ_WRITE_BUFFER (1u << 20)

struct copy_state {
	struct filecopy *job;
	bool use_copy_range;
	uint64_t by_copy_range, by_read_write;
	char *buffer;
};

const char *filecopy_method_name(enum filecopy_method method)
{
	switch (method) {
	case FILECOPY_NOTHING:
		return "nothing to copy";
	case FILECOPY_REFLINK:
		return "reflink";
	case FILECOPY_COPY_RANGE:
		return "copy_file_range";
	case FILECOPY_READ_WRITE:
		return "read/write";
	}
	return "?";
}

/* The errors with which a kernel or file system says "not here", as opposed
 * to a real failure such as a full disk. */
static bool not_supported(int e)
{
	return e == EOPNOTSUPP || e == ENOTTY || e == EXDEV || e == EINVAL || e == ENOSYS ||
	       e == EBADF;
}

void filecopy_size_text(uint64_t bytes, char *buf, size_t size)
{
	static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
	double value = (double)bytes;
	size_t unit = 0;
	while (value >= 1024 && unit < sizeof(units) / sizeof(units[0]) - 1) {
		value /= 1024;
		unit++;
	}
	if (unit == 0)
		snprintf(buf, size, "%llu bytes", (unsigned long long)bytes);
	else
		snprintf(buf, size, "%.1f %s", value, units[unit]);
}

static int write_error(const struct filecopy *job, struct error *err)
{
	if (errno == ENOSPC || errno == EDQUOT) {
		const char *reason = strerror(errno);
		char need[32];
		filecopy_size_text(job->size, need, sizeof(need));
		return error_set(err,
				 "cannot write %s: %s (the copy needs up to %s there; free some "
				 "space and retry)",
				 job->out_name, reason, need);
	}
	return error_errno(err, "cannot write %s", job->out_name);
}

static int shrank_error(const struct filecopy *job, struct error *err)
{
	return error_set(err, "%s got shorter while being copied; make sure nothing writes it",
			 job->in_name);
}

/* Reports progress; fails when the caller wants the copy stopped. */
static int report(struct copy_state *s, uint64_t done, struct error *err)
{
	if (!s->job->progress || s->job->progress(s->job->progress_ctx, done))
		return 0;
	return error_set(err, "copying %s was interrupted", s->job->in_name);
}

static int copy_read_write(struct copy_state *s, uint64_t offset, uint64_t end, struct error *err)
{
	struct filecopy *job = s->job;
	if (!s->buffer)
		s->buffer = xmalloc(READ_WRITE_BUFFER);
	while (offset < end) {
		size_t want = end - offset < READ_WRITE_BUFFER ? end - offset : READ_WRITE_BUFFER;
		ssize_t got = pread(job->in, s->buffer, want, (off_t)offset);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return error_errno(err, "cannot read %s", job->in_name);
		if (got == 0)
			return shrank_error(job, err);
		for (ssize_t written = 0; written < got;) {
			ssize_t w = pwrite(job->out, s->buffer + written, (size_t)(got - written),
					   (off_t)offset + written);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return write_error(job, err);
			written += w;
		}
		offset += (uint64_t)got;
		s->by_read_write += (uint64_t)got;
		if (report(s, offset, err) < 0)
			return -1;
	}
	return 0;
}

/* Copies [offset, end) in the kernel; hands what is left to the plain loop
 * when the file systems cannot do it. */
static int copy_range(struct copy_state *s, uint64_t offset, uint64_t end, struct error *err)
{
	struct filecopy *job = s->job;
	while (s->use_copy_range && offset < end) {
		size_t want = end - offset < COPY_RANGE_CHUNK ? end - offset : COPY_RANGE_CHUNK;
		loff_t in_off = (loff_t)offset, out_off = (loff_t)offset;
		ssize_t n = copy_file_range(job->in, &in_off, job->out, &out_off, want, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && not_supported(errno)) {
			s->use_copy_range = false;
			break;
		}
		if (n < 0)
			return errno == ENOSPC || errno == EDQUOT
				   ? write_error(job, err)
				   : error_errno(err, "cannot copy %s to %s", job->in_name,
						 job->out_name);
		if (n == 0)
			return shrank_error(job, err);
		offset += (uint64_t)n;
		s->by_copy_range += (uint64_t)n;
		if (report(s, offset, err) < 0)
			return -1;
	}
	return copy_read_write(s, offset, end, err);
}

/* Finds the next run of data at or after offset: [*start, *end). False when
 * only a hole remains. File systems without SEEK_DATA count as all data. */
static bool next_data(int fd, uint64_t offset, uint64_t size, uint64_t *start, uint64_t *end)
{
	if (offset >= size)
		return false;
	off_t data = lseek(fd, (off_t)offset, SEEK_DATA);
	if (data < 0) {
		if (errno == ENXIO)
			return false;
		*start = offset;
		*end = size;
		return true;
	}
	if ((uint64_t)data >= size)
		return false;
	off_t hole = lseek(fd, data, SEEK_HOLE);
	*start = (uint64_t)data;
	*end = hole < 0 || (uint64_t)hole > size ? size : (uint64_t)hole;
	return true;
}

static bool try_reflink(struct filecopy *job)
{
	if (job->flags & FILECOPY_NO_REFLINK)
		return false;
	return ioctl(job->out, FICLONE, job->in) == 0;
}

int filecopy_run(struct filecopy *job, struct error *err)
{
	job->method = FILECOPY_NOTHING;
	struct copy_state s = {.job = job,
			       .use_copy_range = !(job->flags & FILECOPY_NO_COPY_RANGE)};
	if (job->size && try_reflink(job)) {
		job->method = FILECOPY_REFLINK;
		return report(&s, job->size, err);
	}
	int rc = 0;
	uint64_t start, end;
	for (uint64_t offset = 0; rc == 0 && next_data(job->in, offset, job->size, &start, &end);
	     offset = end)
		rc = copy_range(&s, start, end, err);
	free(s.buffer);
	if (rc < 0)
		return -1;
	/* A trailing hole: the size without writing a byte. */
	if (ftruncate(job->out, (off_t)job->size) < 0)
		return write_error(job, err);
	if (report(&s, job->size, err) < 0)
		return -1;
	if (s.by_copy_range || s.by_read_write)
		job->method =
		    s.by_copy_range >= s.by_read_write ? FILECOPY_COPY_RANGE : FILECOPY_READ_WRITE;
	return 0;
}
