#include "sys/faultpoint.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

void fault_point(const char *name)
{
	const char *at = getenv("VM_TEST_STOP_AT");
	if (at && !strcmp(at, name))
		raise(SIGSTOP);
}
