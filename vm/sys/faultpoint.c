#include "sys/faultpoint.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_POINTS 8

/* Whether name is one of the comma-separated names in list. */
static bool listed(const char *list, const char *name)
{
	char all[256], one[64];
	snprintf(all, sizeof(all), ",%s,", list);
	snprintf(one, sizeof(one), ",%s,", name);
	return strstr(all, one) != NULL;
}

void fault_point(const char *name)
{
	/* Once per point and run: the copy's point is passed at every chunk,
	 * and a test that continued vm must not find it stopped again. */
	static const char *stopped[MAX_POINTS];
	static size_t n_stopped;
	const char *at = getenv("VM_TEST_STOP_AT");
	if (!at || !listed(at, name))
		return;
	for (size_t i = 0; i < n_stopped; i++)
		if (!strcmp(stopped[i], name))
			return;
	if (n_stopped < MAX_POINTS)
		stopped[n_stopped++] = name;
	raise(SIGSTOP);
}
