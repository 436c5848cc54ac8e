/* The report the commands hand to the work they call (sys/report.h): its
 * warnings as vm's own ("vm: COMMAND: warning: ...", log.c), its lines on
 * stdout, its bars and spinners on the terminal (sys/progress.h). */
#include "cmd/cli.h"

#include "log.h"
#include "sys/progress.h"

#include <stdio.h>

static void warn(void *ctx, const char *text)
{
	(void)ctx;
	log_warn("%s", text);
}

static void info(void *ctx, const char *text)
{
	(void)ctx;
	printf("%s\n", text);
}

/* A spinner gives way to the steps -v shows instead. */
static struct progress *start(void *ctx, const char *label, uint64_t total)
{
	(void)ctx;
	return total ? progress_start(label, total) : progress_spinner(label);
}

static bool child_progress(void *ctx)
{
	(void)ctx;
	return progress_visible();
}

const struct report cli_report = {
    .warn = warn,
    .info = info,
    .progress_start = start,
    .progress_update = progress_update,
    .progress_finish = progress_finish,
    .child_progress = child_progress,
};
