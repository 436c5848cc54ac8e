#include "config/vmrc.h"

#include "strbuf.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct parser {
	const char *path;
	const char *p;
	const char *end;
	int line;
	size_t expanded; /* bytes the expansions added so far */
	struct vars *vars;
	struct error *err;
};

static int fail(struct parser *ps, int line, const char *reason)
{
	return error_set(ps->err, "%s:%d: %s", ps->path, line, reason);
}

static bool at_end(const struct parser *ps)
{
	return ps->p >= ps->end;
}

static char peek(const struct parser *ps, size_t ahead)
{
	return ps->p + ahead < ps->end ? ps->p[ahead] : '\0';
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_name_char(char c, bool first)
{
	return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (!first && c >= '0' && c <= '9');
}

static void skip_blanks(struct parser *ps)
{
	while (!at_end(ps) && is_blank(*ps->p))
		ps->p++;
}

/* Why a character that the shell treats as an operator is refused. */
static const char *operator_reason(char c)
{
	switch (c) {
	case '`':
		return "backtick command substitution is refused: .vmrc is read, never run";
	case ';':
		return "';' would start another command: only NAME=value assignments are allowed";
	case '|':
		return "'|' would run a command: only NAME=value assignments are allowed";
	case '&':
		return "'&' would run a command: only NAME=value assignments are allowed";
	case '<':
	case '>':
		return "redirection is refused: only NAME=value assignments are allowed";
	case '(':
	case ')':
		return "parentheses would run a subshell or function: only NAME=value "
		       "assignments are allowed";
	default:
		return NULL;
	}
}

static int parse_word(struct parser *ps, struct strbuf *out, bool in_braces);

/* Adds a variable's value where it is expanded. A few lines of A=$A$A would
 * otherwise grow without bound; what the budget refuses no environment
 * could carry anyway. */
static int add_expansion(struct parser *ps, struct strbuf *out, const char *value)
{
	size_t len = strlen(value);
	if (len > VMRC_MAX_EXPANSION - ps->expanded)
		return fail(
		    ps, ps->line,
		    "the expansions add up to more than 1 MiB: write the value out instead");
	ps->expanded += len;
	strbuf_add(out, value, len);
	return 0;
}

/* After "${NAME": the rest up to '}', applying :- or - defaults. */
static int parse_braced(struct parser *ps, struct strbuf *out, const char *name)
{
	const char *value = vars_get(ps->vars, name);
	bool colon = peek(ps, 0) == ':' && peek(ps, 1) == '-';
	if (at_end(ps) || peek(ps, 0) == '\n')
		return fail(ps, ps->line, "unterminated ${ expansion");
	if (peek(ps, 0) == '}') {
		ps->p++;
		return add_expansion(ps, out, value ? value : "");
	}
	if (!colon && peek(ps, 0) != '-')
		return fail(ps, ps->line,
			    "unsupported expansion: only ${NAME}, ${NAME:-default} and "
			    "${NAME-default} are allowed");
	ps->p += colon ? 2 : 1;
	struct strbuf word = STRBUF_INIT;
	int rc = parse_word(ps, &word, true);
	if (rc == 0) {
		bool use_default = colon ? !(value && value[0]) : !value;
		if (use_default)
			strbuf_adds(out, strbuf_str(&word));
		else
			rc = add_expansion(ps, out, value);
	}
	strbuf_free(&word);
	return rc;
}

/* After '$': a variable expansion, or a literal '$'. */
static int parse_dollar(struct parser *ps, struct strbuf *out)
{
	char c = peek(ps, 0);
	if (c == '(')
		return fail(ps, ps->line,
			    "command substitution $(...) is refused: .vmrc is read, never run");
	if (c == '{') {
		ps->p++;
		const char *start = ps->p;
		while (!at_end(ps) && is_name_char(*ps->p, ps->p == start))
			ps->p++;
		if (ps->p == start)
			return fail(ps, ps->line,
				    "unsupported expansion: only ${NAME}, ${NAME:-default} and "
				    "${NAME-default} are allowed");
		char *name = xstrndup(start, (size_t)(ps->p - start));
		int rc = parse_braced(ps, out, name);
		free(name);
		return rc;
	}
	if (is_name_char(c, true)) {
		const char *start = ps->p;
		while (!at_end(ps) && is_name_char(*ps->p, false))
			ps->p++;
		char *name = xstrndup(start, (size_t)(ps->p - start));
		const char *value = vars_get(ps->vars, name);
		int rc = add_expansion(ps, out, value ? value : "");
		free(name);
		return rc;
	}
	if ((c >= '0' && c <= '9') || (c && strchr("@*#?$!-", c)))
		return fail(ps, ps->line, "special parameters such as $1, $$ or $? are refused");
	strbuf_addc(out, '$');
	return 0;
}

static int parse_single_quoted(struct parser *ps, struct strbuf *out)
{
	int opened = ps->line;
	while (!at_end(ps) && *ps->p != '\'') {
		if (*ps->p == '\n')
			ps->line++;
		strbuf_addc(out, *ps->p++);
	}
	if (at_end(ps))
		return fail(ps, opened, "unterminated ' quote");
	ps->p++;
	return 0;
}

static int parse_double_quoted(struct parser *ps, struct strbuf *out)
{
	int opened = ps->line;
	while (!at_end(ps) && *ps->p != '"') {
		char c = *ps->p++;
		if (c == '\\' && !at_end(ps) && strchr("$`\"\\\n", *ps->p)) {
			if (*ps->p == '\n')
				ps->line++; /* a continuation: the newline vanishes */
			else
				strbuf_addc(out, *ps->p);
			ps->p++;
		} else if (c == '$') {
			if (parse_dollar(ps, out) < 0)
				return -1;
		} else if (c == '`') {
			return fail(ps, ps->line, operator_reason('`'));
		} else {
			if (c == '\n')
				ps->line++;
			strbuf_addc(out, c);
		}
	}
	if (at_end(ps))
		return fail(ps, opened, "unterminated \" quote");
	ps->p++;
	return 0;
}

/* One shell word. At top level it ends at a blank or the end of the line;
 * inside ${NAME:-word} it ends at the closing brace, blanks included. */
static int parse_word(struct parser *ps, struct strbuf *out, bool in_braces)
{
	if (!in_braces && peek(ps, 0) == '~' &&
	    (peek(ps, 1) == '/' || peek(ps, 1) == '\n' || is_blank(peek(ps, 1)) ||
	     ps->p + 1 >= ps->end)) {
		const char *home = vars_get(ps->vars, "HOME");
		ps->p++;
		if (add_expansion(ps, out, home ? home : "~") < 0)
			return -1;
	}
	while (!at_end(ps)) {
		char c = *ps->p;
		if (in_braces && c == '}') {
			ps->p++;
			return 0;
		}
		if (!in_braces && (c == '\n' || is_blank(c)))
			break;
		ps->p++;
		if (c == '\\') {
			if (at_end(ps))
				break;
			if (*ps->p == '\n')
				ps->line++;
			else
				strbuf_addc(out, *ps->p);
			ps->p++;
		} else if (c == '\'') {
			if (parse_single_quoted(ps, out) < 0)
				return -1;
		} else if (c == '"') {
			if (parse_double_quoted(ps, out) < 0)
				return -1;
		} else if (c == '$' && (peek(ps, 0) == '\'' || peek(ps, 0) == '"')) {
			/* A shell reads $'a\tb' as ANSI-C quoting and $"..." as a
			 * translated string: never misread them as a literal '$'. */
			return fail(ps, ps->line,
				    "$'...' and $\"...\" quoting is not supported: write the "
				    "characters themselves inside '...' or \"...\"");
		} else if (c == '$') {
			if (parse_dollar(ps, out) < 0)
				return -1;
		} else if (operator_reason(c)) {
			return fail(ps, ps->line, operator_reason(c));
		} else {
			strbuf_addc(out, c);
		}
	}
	if (in_braces)
		return fail(ps, ps->line, "unterminated ${ expansion");
	return 0;
}

static bool at_line_end(const struct parser *ps)
{
	return at_end(ps) || *ps->p == '\n' || *ps->p == '#';
}

static void skip_to_next_line(struct parser *ps)
{
	while (!at_end(ps) && *ps->p != '\n')
		ps->p++;
	if (!at_end(ps)) {
		ps->p++;
		ps->line++;
	}
}

/* Says why a statement that is not an assignment is refused. */
static int refuse_statement(struct parser *ps, const char *word, size_t len)
{
	char c = peek(ps, 0);
	if (c == '$' && peek(ps, 1) == '(')
		return fail(ps, ps->line,
			    "command substitution $(...) is refused: .vmrc is read, never run");
	if (operator_reason(c))
		return fail(ps, ps->line, operator_reason(c));
	char msg[160];
	int shown = len > 40 ? 40 : (int)len;
	if (len == 0)
		snprintf(msg, sizeof(msg), "not an assignment: only NAME=value lines are allowed");
	else
		snprintf(msg, sizeof(msg),
			 "'%.*s' is a command, not an assignment: only NAME=value lines are "
			 "allowed, and nothing in .vmrc is run",
			 shown, word);
	return fail(ps, ps->line, msg);
}

/* One line (or more, with continuations): [export] NAME=value ... */
static int parse_statement(struct parser *ps)
{
	bool exported = false;
	if (ps->end - ps->p > 6 && memcmp(ps->p, "export", 6) == 0 && is_blank(ps->p[6])) {
		exported = true;
		ps->p += 6;
		skip_blanks(ps);
	}
	do {
		const char *name = ps->p;
		while (!at_end(ps) && is_name_char(*ps->p, ps->p == name))
			ps->p++;
		size_t len = (size_t)(ps->p - name);
		if (len && peek(ps, 0) == '=') {
			int line = ps->line; /* where the assignment starts */
			ps->p++;
			struct strbuf value = STRBUF_INIT;
			int rc = parse_word(ps, &value, false);
			if (rc == 0) {
				char *key = xstrndup(name, len);
				char *origin = xasprintf("%s:%d", ps->path, line);
				vars_set_from(ps->vars, key, strbuf_str(&value), origin);
				free(origin);
				if (exported)
					vars_export(ps->vars, key);
				free(key);
			}
			strbuf_free(&value);
			if (rc < 0)
				return -1;
		} else if (exported && len && (at_line_end(ps) || is_blank(peek(ps, 0)))) {
			char *key = xstrndup(name, len); /* "export NAME" */
			vars_export(ps->vars, key);
			free(key);
		} else {
			const char *word_end = ps->p;
			while (word_end < ps->end && !is_blank(*word_end) && *word_end != '\n')
				word_end++;
			ps->p = name;
			return refuse_statement(ps, name, (size_t)(word_end - name));
		}
		skip_blanks(ps);
	} while (!at_line_end(ps));
	skip_to_next_line(ps);
	return 0;
}

/* Limits and characters checked before parsing, so the parser sees sane text.
 * Each refusal names the line where it happens. Returns the text with the CR
 * of each CRLF removed. */
static char *check_and_normalize(const char *path, const char *text, size_t len, struct error *err)
{
	char *out = xmalloc(len + 1);
	size_t n = 0, line_start = 0;
	int line = 1;
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (c == '\0') {
			error_set(err, "%s:%d: contains a NUL byte: not a text file", path, line);
			goto fail;
		}
		if (i >= VMRC_MAX_SIZE) {
			error_set(err, "%s:%d: file too large (more than %d bytes)", path, line,
				  VMRC_MAX_SIZE);
			goto fail;
		}
		if (c == '\r' && i + 1 < len && text[i + 1] == '\n')
			continue;
		if (c == '\n') {
			line++;
			line_start = n + 1;
			/* The newline that ends the last allowed line is fine. */
			if (line > VMRC_MAX_LINES && i + 1 < len) {
				error_set(err, "%s:%d: too many lines (at most %d)", path, line,
					  VMRC_MAX_LINES);
				goto fail;
			}
		} else if (n - line_start >= VMRC_MAX_LINE_LENGTH) {
			error_set(err, "%s:%d: line too long (at most %d bytes)", path, line,
				  VMRC_MAX_LINE_LENGTH);
			goto fail;
		}
		out[n++] = c;
	}
	out[n] = '\0';
	return out;
fail:
	free(out);
	return NULL;
}

int vmrc_parse(const char *path, const char *text, size_t len, struct vars *vars, struct error *err)
{
	char *clean = check_and_normalize(path, text, len, err);
	if (!clean)
		return -1;
	/* Assignments go to a copy, kept only when the whole text is read: a
	 * refused file changes no variable. */
	struct vars assigned;
	vars_copy(&assigned, vars);
	struct parser ps = {.path = path,
			    .p = clean,
			    .end = clean + strlen(clean),
			    .line = 1,
			    .vars = &assigned,
			    .err = err};
	int rc = 0;
	while (rc == 0 && !at_end(&ps)) {
		skip_blanks(&ps);
		if (at_line_end(&ps))
			skip_to_next_line(&ps);
		else
			rc = parse_statement(&ps);
	}
	free(clean);
	if (rc < 0) {
		vars_free(&assigned);
		return -1;
	}
	vars_free(vars);
	*vars = assigned;
	return 0;
}

int vmrc_load(const char *path, struct vars *vars, struct error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return error_errno(err, "%s", path);
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return error_set(err, "%s: not a regular file", path);
	}
	/* One byte over the limit is enough for the parser to name the line. */
	size_t cap = VMRC_MAX_SIZE + 1, len = 0;
	char *text = xmalloc(cap);
	while (len < cap) {
		ssize_t n = read(fd, text + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(text);
			close(fd);
			return error_errno(err, "%s", path);
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	int rc = vmrc_parse(path, text, len, vars, err);
	free(text);
	return rc;
}
