#include "strv.h"

#include "strbuf.h"
#include "xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void strv_push(struct strv *sv, char *s)
{
	if (sv->n + 2 > sv->cap) {
		sv->cap = sv->cap ? sv->cap * 2 : 16;
		sv->v = xrealloc(sv->v, sv->cap * sizeof(*sv->v));
	}
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
}

void strv_add(struct strv *sv, const char *s)
{
	strv_push(sv, xstrdup(s));
}

void strv_addf(struct strv *sv, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		s = xstrdup("");
	strv_push(sv, s);
}

char **strv_argv(struct strv *sv)
{
	if (!sv->v)
		strv_push(sv, NULL), sv->n = 0;
	return sv->v;
}

char *strv_join(const struct strv *sv, const char *sep)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < sv->n; i++) {
		if (i)
			strbuf_adds(&sb, sep);
		strbuf_adds(&sb, sv->v[i]);
	}
	return strbuf_take(&sb);
}

void strv_free(struct strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

bool strv_contains(const struct strv *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (!strcmp(sv->v[i], s))
			return true;
	return false;
}
