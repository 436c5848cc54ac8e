#include "emulator/jsonstream.h"
#include "sys/clock.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int json_stream_connect(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(addr.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(addr.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

void json_stream_init(struct json_stream *s, int fd)
{
	*s = (struct json_stream){.fd = fd, .tok = json_tokener_new()};
	/* QEMU and its guest agent speak plain JSON. json-c's extensions
	 * (comments, single quotes) would let a value's end depend on how the
	 * bytes were cut into reads: after "'a' /" the value waits for the
	 * comment to end, while a read ending after 'a' hands it over. */
	json_tokener_set_flags(s->tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS);
}

void json_stream_close(struct json_stream *s)
{
	if (s->fd >= 0)
		close(s->fd);
	if (s->tok)
		json_tokener_free(s->tok);
	*s = (struct json_stream){.fd = -1};
}

/* Reads more bytes into the buffer before the deadline. */
static int fill(struct json_stream *s, long long deadline, int timeout_ms, struct error *err)
{
	if (s->start == s->len)
		s->start = s->len = 0;
	if (s->len == sizeof(s->buf)) {
		memmove(s->buf, s->buf + s->start, s->len - s->start);
		s->len -= s->start;
		s->start = 0;
	}
	for (;;) {
		long long left = deadline - clock_now_ms();
		if (left <= 0)
			return error_set(err, "no answer within %.1f s", timeout_ms / 1000.0);
		struct pollfd pfd = {s->fd, POLLIN, 0};
		int n = poll(&pfd, 1, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_errno(err, "cannot wait for an answer");
		if (n == 0)
			continue; /* the deadline check above reports it */
		ssize_t r = read(s->fd, s->buf + s->len, sizeof(s->buf) - s->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno != ECONNRESET)
			return error_errno(err, "cannot read the answer");
		if (r <= 0) {
			s->closed = true;
			return error_set(err, "the connection was closed");
		}
		s->len += (size_t)r;
		return 0;
	}
}

int json_stream_read(struct json_stream *s, int timeout_ms, struct json_object **value,
		     struct error *err)
{
	long long deadline = clock_now_ms() + timeout_ms;
	*value = NULL;
	for (;;) {
		if (s->start < s->len) {
			const char *text = s->buf + s->start;
			int size = (int)(s->len - s->start);
			struct json_object *obj = json_tokener_parse_ex(s->tok, text, size);
			enum json_tokener_error jerr = json_tokener_get_error(s->tok);
			size_t used = json_tokener_get_parse_end(s->tok);
			if (jerr == json_tokener_continue) {
				s->start = s->len; /* the tokener keeps what it has seen */
			} else if (jerr != json_tokener_success) {
				json_tokener_reset(s->tok);
				s->start = s->len = 0;
				return error_set(err, "malformed JSON: %s",
						 json_tokener_error_desc(jerr));
			} else {
				s->start += used;
				json_tokener_reset(s->tok);
				if (obj) {
					*value = obj;
					return 0;
				}
			}
			if (s->start < s->len)
				continue;
		}
		if (fill(s, deadline, timeout_ms, err) < 0)
			return -1;
	}
}

int json_stream_write_raw(struct json_stream *s, const void *data, size_t size, struct error *err)
{
	const char *p = data;
	while (size) {
		ssize_t w = send(s->fd, p, size, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EPIPE || errno == ECONNRESET)) {
			s->closed = true;
			return error_set(err, "the connection was closed");
		}
		if (w < 0)
			return error_errno(err, "cannot send");
		p += w;
		size -= (size_t)w;
	}
	return 0;
}

int json_stream_write(struct json_stream *s, struct json_object *value, struct error *err)
{
	size_t len;
	const char *text = json_object_to_json_string_length(
	    value, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (json_stream_write_raw(s, text, len, err) < 0)
		return -1;
	return json_stream_write_raw(s, "\n", 1, err);
}

int json_stream_skip_to(struct json_stream *s, unsigned char marker, int timeout_ms,
			struct error *err)
{
	long long deadline = clock_now_ms() + timeout_ms;
	json_tokener_reset(s->tok);
	for (;;) {
		while (s->start < s->len)
			if ((unsigned char)s->buf[s->start++] == marker)
				return 0;
		if (fill(s, deadline, timeout_ms, err) < 0)
			return -1;
	}
}
