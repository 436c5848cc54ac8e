/* A NULL-terminated vector of owned strings, e.g. an argv being built. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct strv {
	char **v;
	size_t n;
	size_t cap;
};

#define STRV_INIT                                                                                  \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

void strv_add(struct strv *sv, const char *s);
void strv_addf(struct strv *sv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Takes ownership of s. */
void strv_push(struct strv *sv, char *s);
/* The vector, NULL-terminated even when empty. */
char **strv_argv(struct strv *sv);
/* Joins with single spaces (for showing a command line, not for running it). */
char *strv_join(const struct strv *sv, const char *sep);
/* Whether s is one of the strings. */
bool strv_contains(const struct strv *sv, const char *s);
void strv_free(struct strv *sv);
