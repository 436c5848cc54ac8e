#include "emulator/suspend_request.h"

#include "xalloc.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char *record_path(const struct machine *m)
{
	return xasprintf("%s/suspend-requested", m->rt.dir);
}

void suspend_request_mark(struct machine *m)
{
	pid_t emulator;
	if (!machine_running(m, &emulator) || emulator <= 0)
		return;
	char *path = record_path(m);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	free(path);
	if (fd < 0)
		return; /* without the record, the next stop only asks again */
	dprintf(fd, "%d\n", (int)emulator);
	close(fd);
}

bool suspend_request_pending(struct machine *m)
{
	char *path = record_path(m);
	FILE *f = fopen(path, "re");
	free(path);
	if (!f)
		return false;
	int recorded = 0;
	bool read = fscanf(f, "%d", &recorded) == 1;
	fclose(f);
	pid_t emulator;
	return read && machine_running(m, &emulator) && emulator == recorded;
}

void suspend_request_clear(struct machine *m)
{
	char *path = record_path(m);
	unlink(path);
	free(path);
}
