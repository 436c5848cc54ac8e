/* Allocation that never returns NULL: running out of memory ends the program with a message. */
#pragma once

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* HANDLER runs once, when an allocation fails, before the message and the
 * abort (vm-netd records and answers the request first). */
void xalloc_on_exhaustion(void (*handler)(void));
