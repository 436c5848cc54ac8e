/* An LD_PRELOAD library for the environment attack: if the dynamic loader
 * ever ran it inside vm-netd, it would leave a marker file behind. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

__attribute__((constructor)) static void mark(void)
{
	if (strcmp(program_invocation_short_name, "vm-netd"))
		return; /* the test client loads it too: only the helper counts */
	int fd = open("/run/vm-netd-test/preload-ran", O_WRONLY | O_CREAT, 0644);
	if (fd >= 0)
		close(fd);
}
