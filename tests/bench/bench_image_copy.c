/* Image copy throughput against cp on the same file in the same run,
 * printed as ratios (above 1: vm is slower). image_copy fsyncs what it
 * wrote before renaming it into place, so cp is measured both bare and
 * followed by sync(1) of the copy, which is the fair comparison. */
#include "storage/image.h"
#include "sys/spawn.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MiB (1024 * 1024ULL)
#define ROUNDS 3

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 512 MiB with 256 MiB of data in four runs: an image as it really looks. */
static void make_source(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	char *buf = malloc(MiB);
	uint64_t state = 88172645463325252ULL;
	for (int run = 0; run < 4; run++)
		for (uint64_t i = 0; i < 64; i++) {
			for (size_t j = 0; j < MiB; j += 8) {
				state ^= state << 13, state ^= state >> 7, state ^= state << 17;
				memcpy(buf + j, &state, 8);
			}
			if (pwrite(fd, buf, MiB, (off_t)((run * 128 + i) * MiB)) != (ssize_t)MiB) {
				perror("write");
				exit(1);
			}
		}
	if (ftruncate(fd, 512 * MiB) < 0 || fsync(fd) < 0)
		exit(1);
	close(fd);
	free(buf);
}

static int run_program(char *const argv[])
{
	struct spawn_result res;
	struct error err;
	if (spawn_run(argv, NULL, &res, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		exit(1);
	}
	int status = res.status;
	spawn_result_free(&res);
	return status;
}

static double time_image_copy(const char *src, const char *dst, unsigned flags)
{
	struct error err;
	unlink(dst);
	double start = now();
	if (image_copy(src, dst, flags, NULL, &err) < 0) {
		fprintf(stderr, "image_copy: %s\n", err.msg);
		exit(1);
	}
	return now() - start;
}

static double time_cp(const char *src, const char *dst, bool then_sync)
{
	unlink(dst);
	char *cp[] = {"cp", (char *)src, (char *)dst, NULL};
	char *sync_file[] = {"sync", (char *)dst, NULL};
	double start = now();
	if (run_program(cp) != 0 || (then_sync && run_program(sync_file) != 0))
		exit(1);
	return now() - start;
}

static int compare(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

typedef double (*timer)(const char *, const char *, unsigned);

static double t_default(const char *s, const char *d, unsigned unused)
{
	(void)unused;
	return time_image_copy(s, d, 0);
}
static double t_plain(const char *s, const char *d, unsigned unused)
{
	(void)unused;
	return time_image_copy(s, d, IMAGE_PLAIN);
}
static double t_cp(const char *s, const char *d, unsigned unused)
{
	(void)unused;
	return time_cp(s, d, false);
}
static double t_cp_sync(const char *s, const char *d, unsigned unused)
{
	(void)unused;
	return time_cp(s, d, true);
}

int main(void)
{
	char dir[] = "/tmp/vm-bench-copy-XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	char src[128], dst[128];
	snprintf(src, sizeof(src), "%s/seed.img", dir);
	snprintf(dst, sizeof(dst), "%s/base.img", dir);
	make_source(src);
	struct {
		const char *name;
		timer fn;
		double runs[ROUNDS];
	} cases[] = {{"image_copy", t_default, {0}},
		     {"image_copy (read/write)", t_plain, {0}},
		     {"cp", t_cp, {0}},
		     {"cp + sync", t_cp_sync, {0}}};
	size_t n = sizeof(cases) / sizeof(cases[0]);
	/* Interleaved rounds, so that a busy moment on the machine hits all alike. */
	for (int r = 0; r < ROUNDS; r++)
		for (size_t i = 0; i < n; i++)
			cases[i].runs[r] = cases[i].fn(src, dst, 0);
	double median[4];
	for (size_t i = 0; i < n; i++) {
		qsort(cases[i].runs, ROUNDS, sizeof(double), compare);
		median[i] = cases[i].runs[ROUNDS / 2];
		printf("%-24s %6.3f s  %7.1f MiB/s of data (median of %d)\n", cases[i].name,
		       median[i], 256 / median[i], ROUNDS);
	}
	printf("ratio image_copy / cp + sync:            %.2f\n", median[0] / median[3]);
	printf("ratio image_copy / cp:                   %.2f\n", median[0] / median[2]);
	printf("ratio image_copy (read/write) / cp + sync: %.2f\n", median[1] / median[3]);
	unlink(dst);
	unlink(src);
	rmdir(dir);
	return 0;
}
