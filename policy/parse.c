/* The policy language: lines of words, one declaration each. */
#include "parse.h"

#include "ifname.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WORDS 8
#define LINE_MAX_BYTES 1024

struct line {
	const char *file;
	unsigned number;
	char *words[MAX_WORDS];
	size_t nwords;
};

static int line_error(const struct line *line, struct error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int line_error(const struct line *line, struct error *err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return error_set(err, "%s:%u: %s", line->file, line->number, msg);
}

static struct policy_origin origin_of(const struct line *line)
{
	return (struct policy_origin){line->file, line->number};
}

/* Splits text in place into words; '#' starts a comment. */
static int split_words(char *text, struct line *line, struct error *err)
{
	line->nwords = 0;
	for (char *p = text; *p;) {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (!*p || *p == '#')
			break;
		if (line->nwords == MAX_WORDS)
			return line_error(line, err, "too many words");
		line->words[line->nwords++] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\r')
			p++;
		if (*p)
			*p++ = '\0';
	}
	return 0;
}

static int parse_quota(const struct line *line, const char *s, unsigned *quota, struct error *err)
{
	char *end;
	if (s[0] < '0' || s[0] > '9' || strlen(s) > 2)
		return line_error(line, err, "quota '%s' is not a number from 1 to %d", s,
				  POLICY_QUOTA_MAX);
	unsigned long v = strtoul(s, &end, 10);
	if (*end || v < 1 || v > POLICY_QUOTA_MAX)
		return line_error(line, err, "quota '%s' is not a number from 1 to %d", s,
				  POLICY_QUOTA_MAX);
	*quota = (unsigned)v;
	return 0;
}

static bool valid_account_name(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len > POLICY_NAME_MAX || s[0] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.' || (c == '$' && i == len - 1)))
			return false;
	}
	return true;
}

static int check_bridge_name(const struct line *line, const char *name, struct error *err)
{
	struct error why;
	if (!ifname_valid(name, &why))
		return line_error(line, err, "%s", why.msg);
	return 0;
}

static bool valid_address(const char *s)
{
	char addr[64];
	const char *slash = strchr(s, '/');
	if (!slash || (size_t)(slash - s) >= sizeof(addr))
		return false;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	unsigned char bin[16];
	int family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(family, addr, bin) != 1)
		return false;
	const char *p = slash + 1;
	if (!*p || strlen(p) > 3 || strspn(p, "0123456789") != strlen(p))
		return false;
	return atoi(p) <= (family == AF_INET ? 32 : 128);
}

static int parse_log(struct policy *policy, const struct line *line, struct error *err)
{
	if (line->nwords != 2)
		return line_error(line, err, "expected 'log /PATH'");
	if (line->words[1][0] != '/')
		return line_error(line, err, "the log file must be an absolute path");
	if (policy->log)
		return line_error(line, err, "a second 'log' line; there can be only one");
	policy->log = xstrdup(line->words[1]);
	return 0;
}

static int parse_bridge(struct policy *policy, const struct line *line, struct error *err)
{
	if (line->nwords < 2 || line->nwords > 4 ||
	    (line->nwords >= 3 && strcmp(line->words[2], "create")))
		return line_error(line, err, "expected 'bridge NAME [create [ADDRESS/PREFIX]]'");
	const char *name = line->words[1];
	if (check_bridge_name(line, name, err) < 0)
		return -1;
	const struct policy_bridge *old = policy_find_bridge(policy, name);
	if (old)
		return line_error(line, err, "bridge %s is already declared at %s:%u", name,
				  old->origin.file, old->origin.line);
	if (line->nwords == 4 && !valid_address(line->words[3]))
		return line_error(line, err, "'%s' is not an ADDRESS/PREFIX such as 10.77.0.1/24",
				  line->words[3]);
	policy->bridges =
	    xrealloc(policy->bridges, (policy->nbridges + 1) * sizeof(*policy->bridges));
	struct policy_bridge *b = &policy->bridges[policy->nbridges++];
	*b = (struct policy_bridge){.create = line->nwords >= 3, .origin = origin_of(line)};
	snprintf(b->name, sizeof(b->name), "%s", name);
	snprintf(b->address, sizeof(b->address), "%s", line->nwords == 4 ? line->words[3] : "");
	return 0;
}

static const struct policy_rule *find_rule(const struct policy *policy, const char *subject,
					   bool group, const char *bridge)
{
	for (size_t i = 0; i < policy->nrules; i++) {
		const struct policy_rule *r = &policy->rules[i];
		if (r->group == group && !strcmp(r->subject, subject) && !strcmp(r->bridge, bridge))
			return r;
	}
	return NULL;
}

static int parse_allow(struct policy *policy, const struct line *line, struct error *err)
{
	if (line->nwords != 4)
		return line_error(line, err, "expected 'allow USER|@GROUP BRIDGE QUOTA'");
	bool group = line->words[1][0] == '@';
	const char *subject = line->words[1] + group;
	if (!valid_account_name(subject))
		return line_error(line, err, "'%s' is not a valid %s name", subject,
				  group ? "group" : "user");
	const char *bridge = line->words[2];
	if (check_bridge_name(line, bridge, err) < 0)
		return -1;
	unsigned quota = 0;
	if (parse_quota(line, line->words[3], &quota, err) < 0)
		return -1;
	const struct policy_rule *old = find_rule(policy, subject, group, bridge);
	if (old)
		return line_error(line, err, "%s%s already has a rule for %s at %s:%u",
				  group ? "@" : "", subject, bridge, old->origin.file,
				  old->origin.line);
	policy->rules = xrealloc(policy->rules, (policy->nrules + 1) * sizeof(*policy->rules));
	struct policy_rule *r = &policy->rules[policy->nrules++];
	*r = (struct policy_rule){.group = group, .quota = quota, .origin = origin_of(line)};
	snprintf(r->subject, sizeof(r->subject), "%s", subject);
	snprintf(r->bridge, sizeof(r->bridge), "%s", bridge);
	return 0;
}

static int parse_line(struct policy *policy, struct parse_context *ctx, const struct line *line,
		      struct error *err)
{
	const char *keyword = line->words[0];
	if (!strcmp(keyword, "log"))
		return parse_log(policy, line, err);
	if (!strcmp(keyword, "bridge"))
		return parse_bridge(policy, line, err);
	if (!strcmp(keyword, "allow"))
		return parse_allow(policy, line, err);
	if (!strcmp(keyword, "include")) {
		if (line->nwords != 2 || line->words[1][0] != '/')
			return line_error(line, err, "expected 'include /ABSOLUTE/PATTERN'");
		if (!ctx->include)
			return line_error(line, err, "include is not possible here");
		if (ctx->include(policy, ctx, line->words[1], err) < 0)
			return error_prefix(err, "%s:%u", line->file, line->number);
		return 0;
	}
	return line_error(line, err,
			  "unknown keyword '%s' (expected log, bridge, allow or include)", keyword);
}

const char *policy_keep_file(struct policy *policy, const char *file)
{
	for (size_t i = 0; i < policy->nfiles; i++)
		if (!strcmp(policy->files[i], file))
			return policy->files[i];
	policy->files = xrealloc(policy->files, (policy->nfiles + 1) * sizeof(*policy->files));
	return policy->files[policy->nfiles++] = xstrdup(file);
}

int policy_parse_lines(struct policy *policy, struct parse_context *ctx, const char *name,
		       const char *text, size_t len, struct error *err)
{
	struct line line = {.file = policy_keep_file(policy, name)};
	if (memchr(text, '\0', len))
		return error_set(err, "%s: holds a NUL byte; is it a text file?", name);
	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - text) - pos : len - pos;
		line.number++;
		if (n > LINE_MAX_BYTES)
			return line_error(&line, err, "line longer than %d bytes", LINE_MAX_BYTES);
		char buf[LINE_MAX_BYTES + 1];
		memcpy(buf, text + pos, n);
		buf[n] = '\0';
		pos += n + 1;
		if (split_words(buf, &line, err) < 0)
			return -1;
		if (line.nwords && parse_line(policy, ctx, &line, err) < 0)
			return -1;
	}
	return 0;
}

/* After every file is read: each allow must name a declared bridge. */
int policy_check_rules(const struct policy *policy, struct error *err)
{
	for (size_t i = 0; i < policy->nrules; i++) {
		const struct policy_rule *r = &policy->rules[i];
		if (!policy_find_bridge(policy, r->bridge))
			return error_set(err, "%s:%u: bridge %s is not declared; add 'bridge %s'",
					 r->origin.file, r->origin.line, r->bridge, r->bridge);
	}
	return 0;
}

int policy_parse_text(struct policy *policy, const char *name, const char *text, size_t len,
		      struct error *err)
{
	struct parse_context ctx = {0};
	*policy = (struct policy)POLICY_INIT;
	if (policy_parse_lines(policy, &ctx, name, text, len, err) < 0 ||
	    policy_check_rules(policy, err) < 0) {
		policy_free(policy);
		return -1;
	}
	return 0;
}

void policy_free(struct policy *policy)
{
	free(policy->log);
	free(policy->bridges);
	free(policy->rules);
	for (size_t i = 0; i < policy->nfiles; i++)
		free(policy->files[i]);
	free(policy->files);
	*policy = (struct policy)POLICY_INIT;
}
