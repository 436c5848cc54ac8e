#include "sys/faultpoint.h"

#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void fault_point(const char *name)
{
	/* Once per run: the copy's point is passed at every chunk, and a test
	 * that continued vm must not find it stopped again. */
	static bool stopped;
	const char *at = getenv("VM_TEST_STOP_AT");
	if (!stopped && at && !strcmp(at, name)) {
		stopped = true;
		raise(SIGSTOP);
	}
}
