#include "config/words.h"

#include "strbuf.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/* Inside "...": a backslash escapes only what the shell lets it escape. */
static bool escapable_in_double_quotes(char c)
{
	return c == '"' || c == '\\' || c == '$' || c == '`' || c == '\n';
}

int words_split(const char *text, struct strv *words, struct error *err)
{
	struct strv found = STRV_INIT;
	struct strbuf word = STRBUF_INIT;
	bool in_word = false;
	const char *p = text;
	while (*p) {
		char c = *p++;
		if (is_blank(c)) {
			if (in_word)
				strv_push(&found, strbuf_take(&word));
			in_word = false;
			continue;
		}
		in_word = true;
		if (c == '\'') {
			while (*p && *p != '\'')
				strbuf_addc(&word, *p++);
			if (!*p++)
				goto unterminated;
		} else if (c == '"') {
			while (*p && *p != '"') {
				if (*p == '\\' && p[1] && escapable_in_double_quotes(p[1]))
					p++;
				strbuf_addc(&word, *p++);
			}
			if (!*p++)
				goto unterminated;
		} else if (c == '\\') {
			if (!*p) {
				error_set(err, "a backslash ends the text '%s'", text);
				goto fail;
			}
			if (*p == '\n')
				p++; /* a line continuation */
			else
				strbuf_addc(&word, *p++);
		} else {
			strbuf_addc(&word, c);
		}
	}
	if (in_word)
		strv_push(&found, strbuf_take(&word));
	for (size_t i = 0; i < found.n; i++)
		strv_add(words, found.v[i]);
	strv_free(&found);
	strbuf_free(&word);
	return 0;
unterminated:
	error_set(err, "a quote is not closed in '%s'", text);
fail:
	strv_free(&found);
	strbuf_free(&word);
	return -1;
}

static bool needs_quotes(const char *word)
{
	if (!*word)
		return true;
	for (const char *p = word; *p; p++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
			    "-_./,:=+@%",
			    *p))
			return true;
	return false;
}

char *words_join_quoted(char *const words[])
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; words[i]; i++) {
		if (i)
			strbuf_addc(&sb, ' ');
		if (!needs_quotes(words[i])) {
			strbuf_adds(&sb, words[i]);
			continue;
		}
		strbuf_addc(&sb, '\'');
		for (const char *p = words[i]; *p; p++) {
			if (*p == '\'')
				strbuf_adds(&sb, "'\\''");
			else
				strbuf_addc(&sb, *p);
		}
		strbuf_addc(&sb, '\'');
	}
	return strbuf_take(&sb);
}

char *words_join(int n, char *const words[])
{
	struct strbuf sb = STRBUF_INIT;
	for (int i = 0; i < n; i++) {
		if (i)
			strbuf_addc(&sb, ' ');
		strbuf_adds(&sb, words[i]);
	}
	return strbuf_take(&sb);
}
