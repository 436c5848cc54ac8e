/* libFuzzer: the .vmrc reader (vmrc_parse and its expansions), the very
 * function vm reads the global vmrc and a machine's .vmrc with.
 * Properties:
 * - nothing outside the subset is accepted: an accepted text is made only
 *   of assignments, "export" and comments, with no operator, command
 *   substitution or special parameter outside quotes (checked by a small
 *   recogniser of the subset written from vmrc(5), not from the parser);
 * - a refused text leaves the variables exactly as they were;
 * - the values read, written back as NAME='value', read back the same. */
#include "config/vmrc.h"

#include "strbuf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
	if (!ok)
		__builtin_trap();
}

/* The recogniser: p walks the text; each function says whether what it
 * read belongs to the subset. */
struct scan {
	const char *p, *end;
};

static bool more(const struct scan *s)
{
	return s->p < s->end;
}

static bool name_char(char c, bool first)
{
	return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (!first && c >= '0' && c <= '9');
}

static size_t name_length(const struct scan *s)
{
	size_t n = 0;
	while (s->p + n < s->end && name_char(s->p[n], n == 0))
		n++;
	return n;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool scan_value(struct scan *s, bool in_braces);

/* After '$'. */
static bool scan_dollar(struct scan *s)
{
	if (!more(s))
		return true;
	char c = *s->p;
	if (c == '(' || (c >= '0' && c <= '9') || strchr("@*#?$!-", c))
		return false;
	if (c != '{') {
		s->p += name_length(s);
		return true;
	}
	s->p++;
	size_t n = name_length(s);
	if (!n)
		return false;
	s->p += n;
	if (more(s) && *s->p == '}') {
		s->p++;
		return true;
	}
	if (s->end - s->p >= 2 && s->p[0] == ':' && s->p[1] == '-')
		s->p += 2;
	else if (more(s) && *s->p == '-')
		s->p++;
	else
		return false;
	return scan_value(s, true);
}

static bool scan_double_quoted(struct scan *s)
{
	while (more(s)) {
		char c = *s->p++;
		if (c == '"')
			return true;
		if (c == '`')
			return false;
		if (c == '\\' && more(s))
			s->p++;
		else if (c == '$' && !scan_dollar(s))
			return false;
	}
	return false;
}

/* A value: up to a blank or the line's end, or inside ${NAME:-...} up to '}'. */
static bool scan_value(struct scan *s, bool in_braces)
{
	while (more(s)) {
		char c = *s->p;
		if (in_braces && c == '}') {
			s->p++;
			return true;
		}
		if (!in_braces && (blank(c) || c == '\n'))
			return true;
		s->p++;
		if (strchr(";|&<>()`", c))
			return false;
		if (c == '\\') {
			if (more(s))
				s->p++;
		} else if (c == '\'') {
			const char *close = memchr(s->p, '\'', (size_t)(s->end - s->p));
			if (!close)
				return false;
			s->p = close + 1;
		} else if (c == '"') {
			if (!scan_double_quoted(s))
				return false;
		} else if (c == '$') {
			if (!scan_dollar(s))
				return false;
		}
	}
	return !in_braces;
}

static void skip_blanks(struct scan *s)
{
	while (more(s) && blank(*s->p))
		s->p++;
}

static bool at_statement_end(const struct scan *s)
{
	return !more(s) || *s->p == '\n' || *s->p == '#';
}

/* [export] NAME=value ..., or "export NAME ...". */
static bool scan_statement(struct scan *s)
{
	bool exported = s->end - s->p > 6 && !memcmp(s->p, "export", 6) && blank(s->p[6]);
	if (exported) {
		s->p += 6;
		skip_blanks(s);
	}
	do {
		size_t n = name_length(s);
		if (!n)
			return false;
		s->p += n;
		if (more(s) && *s->p == '=') {
			s->p++;
			if (!scan_value(s, false))
				return false;
		} else if (!exported || !(at_statement_end(s) || blank(*s->p))) {
			return false;
		}
		skip_blanks(s);
	} while (!at_statement_end(s));
	return true;
}

static bool in_subset(const char *text, size_t len)
{
	if (memchr(text, '\0', len))
		return false;
	struct scan s = {text, text + len};
	while (more(&s)) {
		skip_blanks(&s);
		if (more(&s) && *s.p != '\n' && *s.p != '#' && !scan_statement(&s))
			return false;
		const char *nl = memchr(s.p, '\n', (size_t)(s.end - s.p));
		s.p = nl ? nl + 1 : s.end;
	}
	return true;
}

/* The text with each CRLF's CR removed, as the reader sees it. */
static char *without_crlf(const uint8_t *data, size_t size, size_t *len)
{
	char *out = malloc(size + 1);
	size_t n = 0;
	for (size_t i = 0; i < size; i++)
		if (!(data[i] == '\r' && i + 1 < size && data[i + 1] == '\n'))
			out[n++] = (char)data[i];
	*len = n;
	return out;
}

static void start_vars(struct vars *vars)
{
	*vars = (struct vars)VARS_INIT;
	vars_set(vars, "HOME", "/home/daniel");
	vars_set(vars, "VM_HOME", "/srv/vm/one");
	vars_set(vars, "X", "ex");
	vars_set(vars, "EMPTY", "");
}

static bool same_vars(const struct vars *a, const struct vars *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i].name, b->v[i].name) || strcmp(a->v[i].value, b->v[i].value))
			return false;
	return true;
}

/* Every variable as NAME='value' ('\'' for a quote); false when the text
 * would not pass the reader's limits, or holds a CRLF (read as LF). */
static bool write_quoted(const struct vars *vars, struct strbuf *sb)
{
	size_t lines = 0;
	for (size_t i = 0; i < vars->n; i++) {
		if (strlen(vars->v[i].value) > VMRC_MAX_LINE_LENGTH / 8 ||
		    strstr(vars->v[i].value, "\r\n"))
			return false;
		strbuf_addf(sb, "%s='", vars->v[i].name);
		for (const char *c = vars->v[i].value; *c; c++) {
			lines += *c == '\n';
			if (*c == '\'')
				strbuf_adds(sb, "'\\''");
			else
				strbuf_addc(sb, *c);
		}
		strbuf_adds(sb, "'\n");
		lines++;
	}
	return sb->len < VMRC_MAX_SIZE / 2 && lines < VMRC_MAX_LINES / 2;
}

static void check_quoted_round_trip(const struct vars *vars)
{
	struct strbuf sb = STRBUF_INIT;
	if (write_quoted(vars, &sb)) {
		struct vars again = VARS_INIT;
		struct error err;
		check(vmrc_parse("round-trip", strbuf_str(&sb), sb.len, &again, &err) == 0);
		check(same_vars(vars, &again));
		vars_free(&again);
	}
	strbuf_free(&sb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vars vars, before;
	start_vars(&vars);
	start_vars(&before);
	struct error err;
	if (vmrc_parse("fuzz.vmrc", (const char *)data, size, &vars, &err) < 0) {
		check(same_vars(&vars, &before));
	} else {
		size_t len;
		char *text = without_crlf(data, size, &len);
		check(in_subset(text, len));
		free(text);
		check_quoted_round_trip(&vars);
	}
	vars_free(&vars);
	vars_free(&before);
	return 0;
}
