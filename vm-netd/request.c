/* Step 5: exactly one request, read with a time-out, decoded strictly. */
#include "netd.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

/* The raw bridge and queues fields of a rejected request, for the audit
 * record (which escapes the name). */
static void remember_raw_fields(struct netd_state *s, const unsigned char *buf, size_t len)
{
	size_t at = offsetof(struct netd_request, queues);
	if (len >= at + sizeof(s->req.queues))
		memcpy(&s->req.queues, buf + at, sizeof(s->req.queues));
	size_t off = offsetof(struct netd_request, bridge);
	if (len <= off)
		return;
	size_t n = len - off < sizeof(s->req.bridge) ? len - off : sizeof(s->req.bridge);
	memcpy(s->req.bridge, buf + off, n);
	s->req.bridge[sizeof(s->req.bridge) - 1] = '\0';
}

void read_request(struct netd_state *s)
{
	if (s->sock < 0)
		return;
	/* One byte more than a request: a longer message shows as MSG_TRUNC. */
	unsigned char buf[sizeof(struct netd_request) + 1];
	struct iovec iov = {buf, sizeof(buf)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;
	do
		n = recvmsg(s->sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	struct error err;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		netd_decide(s, NETD_BAD_REQUEST, ETIMEDOUT, "no request within %d s",
			    NETD_REQUEST_TIMEOUT_S);
		return;
	}
	if (n < 0) {
		netd_decide(s, NETD_BAD_REQUEST, errno, "cannot read the request: %s",
			    strerror(errno));
		return;
	}
	if (n == 0) {
		netd_decide(s, NETD_BAD_REQUEST, EPROTO, "no request (empty or closed)");
		return;
	}
	if (msg.msg_flags & MSG_TRUNC) {
		netd_decide(s, NETD_BAD_REQUEST, EMSGSIZE, "request larger than %zu bytes",
			    sizeof(struct netd_request));
		return;
	}
	if (msg.msg_flags & MSG_CTRUNC) {
		netd_decide(s, NETD_BAD_REQUEST, EPROTO, "request carried file descriptors");
		return;
	}
	if (netd_request_decode(buf, (size_t)n, &s->req, &err) < 0) {
		remember_raw_fields(s, buf, (size_t)n);
		netd_decide(s, NETD_BAD_REQUEST, EPROTO, "bad request: %s", err.msg);
		return;
	}
	s->have_request = true;
}
