#include "ifname.h"

#include <stdio.h>
#include <string.h>

static bool allowed_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.';
}

void ifname_escape(char *buf, size_t size, const char *s, size_t n)
{
	size_t len = 0;
	if (!size)
		return;
	for (size_t i = 0; i < n && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		char piece[5];
		if (c > ' ' && c < 0x7f && c != '\\' && c != '"')
			snprintf(piece, sizeof(piece), "%c", c);
		else
			snprintf(piece, sizeof(piece), "\\x%02x", c);
		size_t plen = strlen(piece);
		if (len + plen >= size)
			break;
		memcpy(buf + len, piece, plen);
		len += plen;
	}
	buf[len] = '\0';
}

bool ifname_valid(const char *name, struct error *err)
{
	char shown[4 * 64 + 1];
	size_t len = strnlen(name, IFNAME_MAX + 1);
	ifname_escape(shown, sizeof(shown), name, 64);
	const char *problem = NULL;
	if (len == 0)
		problem = "cannot be empty";
	else if (len > IFNAME_MAX)
		problem = "is longer than 15 bytes";
	else if (strstr(name, ".."))
		problem = "cannot contain '..'";
	else if (!strcmp(name, "."))
		problem = "cannot be '.'";
	for (size_t i = 0; !problem && i < len; i++)
		if (!allowed_char((unsigned char)name[i]))
			problem = "may hold only letters, digits, '_', '-' and '.'";
	if (problem)
		error_set(err, "interface name '%s' %s", shown, problem);
	return !problem;
}

void ifname_tap(char *buf, unsigned machine_id, unsigned index)
{
	snprintf(buf, IFNAME_MAX + 1, "vm%02ut%u", machine_id % 100, index % 100);
}

static bool parse_digits(const char *s, size_t min, size_t max, unsigned *value, const char **end)
{
	size_t n = 0;
	unsigned v = 0;
	while (s[n] >= '0' && s[n] <= '9' && n < max)
		v = v * 10 + (unsigned)(s[n++] - '0');
	if (n < min)
		return false;
	*value = v;
	*end = s + n;
	return true;
}

bool ifname_is_tap(const char *name, unsigned *machine_id, unsigned *index)
{
	unsigned id, n;
	const char *p;
	if (strncmp(name, "vm", 2) || !parse_digits(name + 2, 2, 2, &id, &p) || *p != 't')
		return false;
	/* One canonical spelling per tap: no leading zeros in the index. */
	if (p[1] == '0' && p[2] != '\0')
		return false;
	if (!parse_digits(p + 1, 1, 2, &n, &p) || *p != '\0')
		return false;
	if (machine_id)
		*machine_id = id;
	if (index)
		*index = n;
	return true;
}
