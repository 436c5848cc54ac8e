/* libFuzzer: the JSON stream reader that QMP and the guest agent read
 * through, on arbitrary bytes from the other end of the socket.
 * Property: the values read do not depend on how the bytes arrive: the same
 * bytes sent at once and in packets of 1 to 64 bytes (the first input byte
 * says how many) give the same values and end the same way. Streams with
 * digits or signs are read both ways but not compared: json-c 0.16 reads a number
 * cut by a packet boundary differently from a whole one ({"a":2-} in
 * 1-byte packets reads as {"a":2}, "1-1" sent at once as 1 and -1). */
#include "emulator/jsonstream.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_VALUES 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct outcome {
	char *values[MAX_VALUES];
	int count;
	bool malformed; /* else the stream ended */
};

/* The bytes as the reader's peer sends them: in packets of chunk bytes. */
static int peer(int type, const uint8_t *data, size_t size, size_t chunk)
{
	int sv[2];
	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) < 0)
		__builtin_trap();
	for (size_t off = 0; off < size; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;
		if (write(sv[1], data + off, n) != (ssize_t)n)
			__builtin_trap();
	}
	close(sv[1]);
	return sv[0];
}

static void read_all(int fd, struct outcome *out)
{
	struct json_stream s;
	json_stream_init(&s, fd);
	*out = (struct outcome){.count = 0};
	struct error err;
	struct json_object *value;
	while (out->count < MAX_VALUES && json_stream_read(&s, 1000, &value, &err) == 0) {
		out->values[out->count++] = strdup(json_object_to_json_string(value));
		json_object_put(value);
	}
	out->malformed = out->count < MAX_VALUES && !strncmp(err.msg, "malformed", 9);
	json_stream_close(&s);
}

static void outcome_free(struct outcome *out)
{
	for (int i = 0; i < out->count; i++)
		free(out->values[i]);
}

static bool has_numbers(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i < size; i++)
		if ((data[i] >= '0' && data[i] <= '9') || data[i] == '-')
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Packets stay within the reader's buffer, as a stream would deliver. */
	if (size < 1 || size > 64 * 1024)
		return 0;
	size_t chunk = 1 + data[0] % 64;
	/* Each packet costs the socket far more than its bytes: at most 32,
	 * which its buffer holds without blocking the writer. */
	if ((size - 1) / chunk >= 32)
		chunk = (size - 1) / 32 + 1;
	struct outcome whole, pieces;
	read_all(peer(SOCK_STREAM, data + 1, size - 1, size), &whole);
	read_all(peer(SOCK_SEQPACKET, data + 1, size - 1, chunk), &pieces);
	if (!has_numbers(data + 1, size - 1)) {
		if (whole.count != pieces.count || whole.malformed != pieces.malformed)
			__builtin_trap();
		for (int i = 0; i < whole.count; i++)
			if (strcmp(whole.values[i], pieces.values[i]))
				__builtin_trap();
	}
	outcome_free(&whole);
	outcome_free(&pieces);
	return 0;
}
