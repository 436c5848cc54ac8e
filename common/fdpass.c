#include "fdpass.h"

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

union fd_control {
	char buf[CMSG_SPACE(sizeof(int) * FDPASS_MAX_FDS)];
	struct cmsghdr align;
};

ssize_t fdpass_send(int sock, const void *buf, size_t len, const int *fds, size_t nfds, int flags)
{
	struct iovec iov = {(void *)buf, len};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	union fd_control control;
	if (nfds > FDPASS_MAX_FDS)
		nfds = FDPASS_MAX_FDS;
	if (nfds) {
		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * nfds);
	}
	return sendmsg(sock, &msg, flags);
}

ssize_t fdpass_recv(int sock, void *buf, size_t len, int fds[FDPASS_MAX_FDS], size_t *nfds,
		    int flags, int *msg_flags)
{
	union fd_control control;
	struct iovec iov = {buf, len};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = control.buf,
			     .msg_controllen = sizeof(control.buf)};
	*nfds = 0;
	*msg_flags = 0;
	ssize_t n = recvmsg(sock, &msg, flags);
	if (n < 0)
		return n;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < count; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*nfds < FDPASS_MAX_FDS)
				fds[(*nfds)++] = fd;
			else
				close(fd);
		}
	}
	*msg_flags = msg.msg_flags;
	return n;
}
