/* JSON objects over a stream socket, one after another, as QMP and the
 * QEMU guest agent speak them. Every read has a time-out. */
#pragma once

#include "error.h"

#include <json-c/json.h>
#include <stdbool.h>

struct json_stream {
	int fd;
	struct json_tokener *tok;
	char buf[4096];
	size_t start, len; /* unparsed bytes are buf[start..len) */
	bool closed;	   /* the other end closed the connection */
};

/* Connects to the unix stream socket at path: the fd, or -1 with errno
 * (kept from connect(): ENOENT or ECONNREFUSED while nobody listens). */
int json_stream_connect(const char *path);
void json_stream_init(struct json_stream *s, int fd);
/* Closes the fd too. */
void json_stream_close(struct json_stream *s);
/* The next complete JSON value, waiting at most timeout_ms; the caller puts
 * it. Fails on time-out, end of stream or malformed input. */
int json_stream_read(struct json_stream *s, int timeout_ms, struct json_object **value,
		     struct error *err);
/* Writes value followed by a newline. */
int json_stream_write(struct json_stream *s, struct json_object *value, struct error *err);
/* Writes raw bytes (e.g. the guest agent's 0xFF resynchronisation byte). */
int json_stream_write_raw(struct json_stream *s, const void *data, size_t size, struct error *err);
/* Drops input up to and including the next byte equal to marker (the guest
 * agent's delimiter), and any half-parsed value. */
int json_stream_skip_to(struct json_stream *s, unsigned char marker, int timeout_ms,
			struct error *err);
