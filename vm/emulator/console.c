#include "emulator/console.h"

#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* After the input ends (not a terminal), the guest's answer is still
 * copied until it has been quiet this long. */
#define DRAIN_QUIET_MS 1000

static pid_t lock_holder(int fd)
{
	char text[32] = "";
	ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
	return n > 0 ? (pid_t)atoi(text) : 0;
}

static int take_lock(const struct runtime *rt, struct console *c, struct error *err)
{
	c->lock_fd = open(rt->console_lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (c->lock_fd < 0)
		return error_errno(err, "%s", rt->console_lock);
	if (flock(c->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		pid_t pid = lock_holder(c->lock_fd);
		close(c->lock_fd);
		c->lock_fd = -1;
		return error_set(err,
				 "the console is attached already (vm console, pid %d): detach "
				 "there with Ctrl-]",
				 (int)pid);
	}
	char text[32];
	int len = snprintf(text, sizeof(text), "%d\n", (int)getpid());
	if (ftruncate(c->lock_fd, 0) < 0 || pwrite(c->lock_fd, text, (size_t)len, 0) != len)
		return error_errno(err, "%s", rt->console_lock);
	return 0;
}

static int connect_serial(const struct runtime *rt, struct console *c, struct error *err)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(rt->console_socket) >= sizeof(addr.sun_path))
		return error_set(err, "%s: the path is too long for a socket", rt->console_socket);
	strcpy(addr.sun_path, rt->console_socket);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return error_errno(err, "cannot reach the console");
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
		return 0;
	if (errno == ENOENT)
		return error_set(err,
				 "the emulator has no console socket (%s): it was started "
				 "without one; restart it with this vm",
				 rt->console_socket);
	return error_errno(err, "cannot reach the console at %s", rt->console_socket);
}

int console_attach(const struct runtime *rt, struct console *c, struct error *err)
{
	*c = (struct console){.fd = -1, .lock_fd = -1};
	if (take_lock(rt, c, err) < 0 || connect_serial(rt, c, err) < 0) {
		console_detach(c);
		return -1;
	}
	return 0;
}

void console_detach(struct console *c)
{
	if (c->fd >= 0)
		close(c->fd);
	if (c->lock_fd >= 0)
		close(c->lock_fd); /* lets go of the lock */
	*c = (struct console){.fd = -1, .lock_fd = -1};
}

static int write_all(int fd, const char *buf, size_t len, struct error *err)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_errno(err, "cannot write to the console");
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Input for the guest: everything up to the detach key. Returns 1 when the
 * key was typed. */
static int forward_input(struct console *c, int in, bool *ended, struct error *err)
{
	char buf[4096];
	ssize_t n = read(in, buf, sizeof(buf));
	if (n < 0)
		return errno == EINTR ? 0 : error_errno(err, "cannot read the input");
	if (n == 0) {
		*ended = true;
		return 0;
	}
	char *key = memchr(buf, CONSOLE_DETACH_KEY, (size_t)n);
	size_t len = key ? (size_t)(key - buf) : (size_t)n;
	if (write_all(c->fd, buf, len, err) < 0)
		return -1;
	return key != NULL;
}

/* Output of the guest: 1 when the emulator closed the port. */
static int forward_output(struct console *c, int out, struct error *err)
{
	char buf[4096];
	ssize_t n = read(c->fd, buf, sizeof(buf));
	if (n < 0)
		return errno == EINTR ? 0 : error_errno(err, "cannot read the console");
	if (n == 0)
		return 1;
	return write_all(out, buf, (size_t)n, err);
}

int console_relay(struct console *c, int in, int out, struct error *err)
{
	bool input_ended = false;
	for (;;) {
		struct pollfd fds[2] = {{.fd = c->fd, .events = POLLIN},
					{.fd = input_ended ? -1 : in, .events = POLLIN}};
		int ready = poll(fds, 2, input_ended ? DRAIN_QUIET_MS : -1);
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready < 0)
			return error_errno(err, "poll");
		if (ready == 0)
			return CONSOLE_INPUT_ENDED;
		if (fds[0].revents) {
			int rc = forward_output(c, out, err);
			if (rc != 0)
				return rc < 0 ? -1 : CONSOLE_EMULATOR_ENDED;
		}
		if (fds[1].revents) {
			int rc = forward_input(c, in, &input_ended, err);
			if (rc != 0)
				return rc < 0 ? -1 : CONSOLE_DETACHED;
		}
	}
}

/* QEMU appends to the log (O_APPEND), so cutting its head off here is
 * safe while it writes: its next write lands at the new end. */
static void trim_log(int fd, off_t size)
{
	char *keep = xmalloc(CONSOLE_LOG_KEEP);
	ssize_t n = pread(fd, keep, CONSOLE_LOG_KEEP, size - CONSOLE_LOG_KEEP);
	if (n > 0 && ftruncate(fd, 0) == 0 && pwrite(fd, keep, (size_t)n, 0) < 0) {
		/* Nothing to undo: the log only loses its history. */
	}
	free(keep);
}

char *console_log_read(const struct runtime *rt)
{
	int fd = open(rt->console_log, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return NULL;
	}
	if (st.st_size > CONSOLE_LOG_MAX) {
		trim_log(fd, st.st_size);
		fstat(fd, &st);
	}
	size_t size = (size_t)st.st_size;
	char *text = xmalloc(size + 1);
	ssize_t n = pread(fd, text, size, 0);
	close(fd);
	text[n > 0 ? n : 0] = '\0';
	return text;
}
