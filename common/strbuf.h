/* A growable, always NUL-terminated string. */
#pragma once

#include <stddef.h>

struct strbuf {
	char *s;
	size_t len;
	size_t cap;
};

#define STRBUF_INIT                                                                                \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

void strbuf_add(struct strbuf *sb, const char *data, size_t n);
void strbuf_addc(struct strbuf *sb, char c);
void strbuf_adds(struct strbuf *sb, const char *s);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The text so far ("" when nothing was added). */
const char *strbuf_str(const struct strbuf *sb);
void strbuf_reset(struct strbuf *sb);
/* Hands the string to the caller and leaves sb empty. */
char *strbuf_take(struct strbuf *sb);
void strbuf_free(struct strbuf *sb);
