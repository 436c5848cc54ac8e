#include "sys/report.h"

#include "xalloc.h"

#include <stdarg.h>
#include <stdlib.h>

/* The one way a notice is told: formatted here, printed by the report. */
static void tell(const struct report *r, bool warning, const char *fmt, va_list ap)
{
	if (!r)
		return;
	char *text = xvasprintf(fmt, ap);
	(warning ? r->warn : r->info)(r->ctx, text);
	free(text);
}

void report_warn(const struct report *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	tell(r, true, fmt, ap);
	va_end(ap);
}

void report_info(const struct report *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	tell(r, false, fmt, ap);
	va_end(ap);
}

struct progress *report_progress(const struct report *r, const char *label, uint64_t total)
{
	return r ? r->progress_start(r->ctx, label, total) : NULL;
}

void report_progress_update(const struct report *r, struct progress *p, uint64_t done)
{
	if (r && p)
		r->progress_update(p, done);
}

void report_progress_finish(const struct report *r, struct progress *p)
{
	if (r && p)
		r->progress_finish(p);
}

bool report_child_progress(const struct report *r)
{
	return r && r->child_progress(r->ctx);
}
