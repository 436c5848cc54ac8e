/* What work below the commands has to tell the user on the way: a warning
 * it goes on after, a line saying what it did, and progress (a bar over a
 * size, a spinner while waiting). Only the commands print (vm/README.md), so
 * a function with something to tell takes a report from its caller and tells
 * it there; the commands' report (cli_report, cmd/cli.h) prints it as vm
 * always has. A NULL report tells nothing (unit tests, benchmarks). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct progress; /* what the report's progress_start gave; opaque here */

struct report {
	/* A warning (a line each, several lines fine); the work goes on. */
	void (*warn)(void *ctx, const char *text);
	/* A line saying what was done, for the user's stdout. */
	void (*info)(void *ctx, const char *text);
	/* A bar over total bytes, or a spinner while waiting when total is 0;
	 * NULL where nothing is drawn. */
	struct progress *(*progress_start)(void *ctx, const char *label, uint64_t total);
	void (*progress_update)(struct progress *p, uint64_t done);
	void (*progress_finish)(struct progress *p);
	/* Whether a child may draw its own bar on vm's stdout (qemu-img -p). */
	bool (*child_progress)(void *ctx);
	void *ctx;
};

void report_warn(const struct report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void report_info(const struct report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
struct progress *report_progress(const struct report *r, const char *label, uint64_t total);
/* Both take NULL for p (nothing drawn). */
void report_progress_update(const struct report *r, struct progress *p, uint64_t done);
void report_progress_finish(const struct report *r, struct progress *p);
bool report_child_progress(const struct report *r);
