#include "sys/terminal.h"

#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static struct termios saved;
static int saved_fd = -1;
static const int ending_signals[] = {SIGTERM, SIGHUP, SIGINT, SIGQUIT};

void terminal_restore(void)
{
	if (saved_fd >= 0)
		tcsetattr(saved_fd, TCSAFLUSH, &saved);
	saved_fd = -1;
}

/* Restores the terminal, then dies of the signal as it would have. */
static void restore_and_reraise(int sig)
{
	if (saved_fd >= 0)
		tcsetattr(saved_fd, TCSAFLUSH, &saved);
	signal(sig, SIG_DFL);
	raise(sig);
}

int terminal_make_raw(int fd, struct error *err)
{
	static bool registered;
	struct termios raw;
	if (tcgetattr(fd, &saved) < 0)
		return error_errno(err, "cannot read the terminal's settings");
	raw = saved;
	cfmakeraw(&raw);
	saved_fd = fd;
	if (!registered) {
		atexit(terminal_restore);
		struct sigaction sa = {.sa_handler = restore_and_reraise};
		sigemptyset(&sa.sa_mask);
		for (size_t i = 0; i < sizeof(ending_signals) / sizeof(ending_signals[0]); i++)
			sigaction(ending_signals[i], &sa, NULL);
		registered = true;
	}
	if (tcsetattr(fd, TCSAFLUSH, &raw) < 0) {
		saved_fd = -1;
		return error_errno(err, "cannot put the terminal into raw mode");
	}
	return 0;
}
