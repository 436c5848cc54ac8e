#include "boot/bootlist.h"

#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FIELDS 5

/* Splits at blanks, up to a '#' that starts a field. Returns the number of
 * fields; only the first MAX_FIELDS are stored. */
static int split_fields(char *text, char *fields[MAX_FIELDS])
{
	int n = 0;
	char *save = NULL;
	for (char *f = strtok_r(text, " \t\r\n", &save); f; f = strtok_r(NULL, " \t\r\n", &save)) {
		if (f[0] == '#')
			break;
		if (n < MAX_FIELDS)
			fields[n] = f;
		n++;
	}
	return n;
}

static bool has_dotdot(const char *path)
{
	for (const char *p = path; (p = strstr(p, "..")); p += 2)
		if ((p == path || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
			return true;
	return false;
}

static int parse_dir(const char *field, struct boot_entry *entry, struct error *err)
{
	if (field[0] != '/')
		return error_set(err, "machine directory '%s' is not an absolute path", field);
	if (has_dotdot(field))
		return error_set(err, "machine directory '%s' contains '..'", field);
	size_t len = strlen(field);
	while (len > 1 && field[len - 1] == '/')
		len--;
	entry->dir = xmalloc(len + 1);
	memcpy(entry->dir, field, len);
	entry->dir[len] = '\0';
	return 0;
}

/* POSIX portable user names, as useradd accepts them. */
static int parse_owner(const char *field, struct boot_entry *entry, struct error *err)
{
	size_t len = strlen(field);
	bool ok = len > 0 && len <= 32 && field[0] != '-';
	for (size_t i = 0; ok && i < len; i++)
		ok = isalnum((unsigned char)field[i]) || strchr("._-", field[i]) ||
		     (field[i] == '$' && i == len - 1);
	if (!ok)
		return error_set(err, "'%s' is not a user name", field);
	if (!strcmp(field, "root"))
		return error_set(err, "machines do not run as root: give the machine an "
				      "unprivileged owner");
	entry->owner = xstrdup(field);
	return 0;
}

/* Snapshot names go to the monitor as words: keep them to safe characters. */
static bool is_snapshot_name(const char *name)
{
	if (!name[0] || strlen(name) > 64)
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
			return false;
	return true;
}

static int parse_shutdown(const char *field, struct boot_entry *entry, struct error *err)
{
	if (!strcmp(field, "poweroff")) {
		entry->shutdown = BOOT_SHUTDOWN_POWEROFF;
		return 0;
	}
	if (!strncmp(field, "save:", 5)) {
		if (!is_snapshot_name(field + 5))
			return error_set(err,
					 "'%s': the state's name must be 1-64 letters, digits, "
					 "'.', '_' or '-'",
					 field);
		entry->shutdown = BOOT_SHUTDOWN_SAVE;
		entry->save_name = xstrdup(field + 5);
		return 0;
	}
	return error_set(err, "'%s' is not a shutdown action: write save:NAME or poweroff", field);
}

static int parse_timeout(const char *field, struct boot_entry *entry, struct error *err)
{
	char *end;
	errno = 0;
	long seconds = strtol(field, &end, 10);
	if (end == field || !isdigit((unsigned char)field[0]) || errno)
		return error_set(err, "time-out '%s' is not a number of seconds", field);
	if (!strcmp(end, "m") || !strcmp(end, "min"))
		seconds *= 60;
	else if (*end && strcmp(end, "s"))
		return error_set(err, "time-out '%s' is not a number of seconds", field);
	if (seconds < 1 || seconds > BOOT_TIMEOUT_MAX_S)
		return error_set(err, "time-out '%s' is out of range: 1 to %d seconds", field,
				 BOOT_TIMEOUT_MAX_S);
	entry->timeout_s = (int)seconds;
	return 0;
}

/* After the shutdown action: a time-out and the word nat, each at most once,
 * in either order. */
static int parse_option(const char *field, struct boot_entry *entry, bool *timeout_seen,
			struct error *err)
{
	if (!strcmp(field, "nat")) {
		if (entry->nat)
			return error_set(err, "'nat' given twice");
		entry->nat = true;
		return 0;
	}
	if (!isdigit((unsigned char)field[0]))
		return error_set(err, "'%s' is neither a time-out nor 'nat'", field);
	if (*timeout_seen)
		return error_set(err, "time-out given twice");
	*timeout_seen = true;
	return parse_timeout(field, entry, err);
}

int bootlist_parse_line(const char *text, struct boot_entry *entry, struct error *err)
{
	*entry = (struct boot_entry){.timeout_s = BOOT_TIMEOUT_DEFAULT_S};
	char *copy = xstrdup(text);
	char *fields[MAX_FIELDS];
	int n = split_fields(copy, fields);
	int rc = 1;
	if (n == 0)
		rc = 0;
	else if (n < 3 || n > MAX_FIELDS)
		rc = error_set(err,
			       "expected DIRECTORY OWNER save:NAME|poweroff [TIMEOUT] [nat], "
			       "found %d field%s",
			       n, n == 1 ? "" : "s");
	else if (parse_dir(fields[0], entry, err) < 0 || parse_owner(fields[1], entry, err) < 0 ||
		 parse_shutdown(fields[2], entry, err) < 0)
		rc = -1;
	bool timeout_seen = false;
	for (int i = 3; rc > 0 && i < n; i++)
		if (parse_option(fields[i], entry, &timeout_seen, err) < 0)
			rc = -1;
	free(copy);
	if (rc <= 0)
		boot_entry_free(entry);
	return rc;
}

static int check_list_file(int fd, const char *path, struct error *err)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return error_errno(err, "%s", path);
	if (!S_ISREG(st.st_mode))
		return error_set(err, "%s is not a regular file", path);
	if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
		return error_set(err,
				 "%s must belong to root and be writable by root only (it "
				 "decides which user runs what): run 'chown root: %s; chmod "
				 "go-w %s'",
				 path, path, path);
	return 0;
}

static void add_problem(struct boot_list *list, const char *msg)
{
	list->problems = xrealloc(list->problems, (list->problem_count + 1) * sizeof(char *));
	list->problems[list->problem_count++] = xstrdup(msg);
}

int bootlist_add(struct boot_list *list, struct boot_entry *entry, struct error *err)
{
	const struct boot_entry *twin = bootlist_find(list, entry->dir);
	if (twin)
		return error_set(err, "%s is already listed on line %d", entry->dir, twin->line);
	list->entries = xrealloc(list->entries, (list->count + 1) * sizeof(*entry));
	list->entries[list->count++] = *entry;
	*entry = (struct boot_entry){0};
	return 0;
}

int bootlist_load(const char *path, struct boot_list *list, struct error *err)
{
	*list = (struct boot_list){.path = xstrdup(path)};
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return error_errno(err, "cannot read the machine list %s", path);
	FILE *f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return error_errno(err, "cannot read the machine list %s", path);
	}
	if (check_list_file(fd, path, err) < 0) {
		fclose(f);
		return -1;
	}
	char *line = NULL;
	size_t cap = 0;
	for (int lineno = 1; getline(&line, &cap, f) >= 0; lineno++) {
		struct boot_entry entry;
		struct error line_err;
		int rc = bootlist_parse_line(line, &entry, &line_err);
		if (rc > 0) {
			entry.line = lineno;
			rc = bootlist_add(list, &entry, &line_err);
			boot_entry_free(&entry);
		}
		if (rc < 0) {
			char *msg = xasprintf("%s:%d: %s", path, lineno, line_err.msg);
			add_problem(list, msg);
			free(msg);
		}
	}
	free(line);
	bool failed = ferror(f);
	fclose(f);
	if (failed)
		return error_errno(err, "cannot read the machine list %s", path);
	return 0;
}

const struct boot_entry *bootlist_find(const struct boot_list *list, const char *dir)
{
	size_t len = strlen(dir);
	while (len > 1 && dir[len - 1] == '/')
		len--;
	for (size_t i = 0; i < list->count; i++)
		if (strlen(list->entries[i].dir) == len && !strncmp(list->entries[i].dir, dir, len))
			return &list->entries[i];
	return NULL;
}

void boot_entry_free(struct boot_entry *entry)
{
	free(entry->dir);
	free(entry->owner);
	free(entry->save_name);
	*entry = (struct boot_entry){0};
}

void bootlist_free(struct boot_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		boot_entry_free(&list->entries[i]);
	for (size_t i = 0; i < list->problem_count; i++)
		free(list->problems[i]);
	free(list->entries);
	free(list->problems);
	free(list->path);
	*list = (struct boot_list){0};
}
