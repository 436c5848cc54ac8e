#include "sys/progress.h"

#include "log.h"
#include "sys/clock.h"

#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BAR_WIDTH 30
#define REDRAW_INTERVAL_MS 100

struct progress {
	char *label;
	uint64_t total;
	uint64_t done;
	unsigned frame;
	long long last_draw_ms;
	bool visible;
};

struct progress *progress_spinner(const char *label)
{
	return log_is_verbose() ? NULL : progress_start(label, 0);
}

bool progress_visible(void)
{
	return isatty(STDOUT_FILENO);
}

static void draw(struct progress *p, bool force)
{
	if (!p->visible)
		return;
	long long now = clock_now_ms();
	if (!force && now - p->last_draw_ms < REDRAW_INTERVAL_MS)
		return;
	p->last_draw_ms = now;
	if (p->total) {
		unsigned percent = (unsigned)(p->done * 100 / p->total);
		int filled = (int)(p->done * BAR_WIDTH / p->total);
		printf("\r%s [%.*s%*s] %3u%%", p->label, filled, "##############################",
		       BAR_WIDTH - filled, "", percent);
	} else {
		static const char frames[] = "|/-\\";
		printf("\r%s %c", p->label, frames[p->frame++ % 4]);
	}
	fflush(stdout);
}

struct progress *progress_start(const char *label, uint64_t total)
{
	struct progress *p = xcalloc(1, sizeof(*p));
	p->label = xstrdup(label);
	p->total = total;
	p->visible = progress_visible();
	draw(p, true);
	return p;
}

void progress_update(struct progress *p, uint64_t done)
{
	p->done = done > p->total ? p->total : done;
	draw(p, p->done == p->total);
}

void progress_tick(struct progress *p)
{
	draw(p, false);
}

void progress_finish(struct progress *p)
{
	if (!p)
		return;
	if (p->visible) {
		printf("\r%*s\r", (int)strlen(p->label) + BAR_WIDTH + 8, "");
		fflush(stdout);
	}
	free(p->label);
	free(p);
}
