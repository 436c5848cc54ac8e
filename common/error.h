/* An error message that travels up to the one place that prints it. */
#pragma once

#include <stddef.h>

struct error {
	char msg[1024];
};

/* Each returns -1 so that callers can write: return error_set(err, ...); */
int error_set(struct error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Like error_set, with ": strerror(errno)" appended. */
int error_errno(struct error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Puts context before the message already there: "context: old message". */
int error_prefix(struct error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
