#include "xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void (*exhaustion_handler)(void);

void xalloc_on_exhaustion(void (*handler)(void))
{
	exhaustion_handler = handler;
}

static void *checked(void *p)
{
	if (!p) {
		void (*handler)(void) = exhaustion_handler;
		exhaustion_handler = NULL; /* an allocation in the handler aborts */
		if (handler)
			handler();
		static const char msg[] = "out of memory\n";
		/* write(2) because stdio may itself need memory. */
		ssize_t ignored = write(STDERR_FILENO, msg, sizeof(msg) - 1);
		(void)ignored;
		abort();
	}
	return p;
}

void *xmalloc(size_t size)
{
	return checked(malloc(size ? size : 1));
}

void *xcalloc(size_t n, size_t size)
{
	return checked(calloc(n ? n : 1, size ? size : 1));
}

void *xrealloc(void *p, size_t size)
{
	return checked(realloc(p, size ? size : 1));
}

char *xstrdup(const char *s)
{
	return checked(strdup(s));
}

char *xstrndup(const char *s, size_t n)
{
	return checked(strndup(s, n));
}

char *xvasprintf(const char *fmt, va_list ap)
{
	char *s = NULL;
	int n = vasprintf(&s, fmt, ap);
	return checked(n < 0 ? NULL : s);
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}
