#include "emulator/savedstate.h"

#include "strv.h"
#include "sys/tempfile.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const kind_names[] = {"running", "waking", "suspended"};

char *savedstate_path(const char *image)
{
	return xasprintf("%s.suspended", image);
}

/* The record's lines, "NAME KIND" each. */
static void read_lines(const char *path, struct strv *lines)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	char *line = NULL;
	size_t size = 0;
	ssize_t len;
	while ((len = getline(&line, &size, f)) > 0) {
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (len)
			strv_add(lines, line);
	}
	free(line);
	fclose(f);
}

/* Whether line records state name. */
static bool names(const char *line, const char *name)
{
	size_t len = strlen(name);
	return !strncmp(line, name, len) && (line[len] == ' ' || line[len] == '\0');
}

enum savedstate_kind savedstate_lookup(const char *image, const char *name)
{
	char *path = savedstate_path(image);
	struct strv lines = STRV_INIT;
	read_lines(path, &lines);
	enum savedstate_kind kind = SAVEDSTATE_RUNNING;
	for (size_t i = 0; i < lines.n; i++) {
		if (!names(lines.v[i], name))
			continue;
		const char *word = lines.v[i] + strlen(name);
		/* Anything unknown is treated as suspended: the careful choice. */
		kind = !strcmp(word, " waking") ? SAVEDSTATE_WAKING : SAVEDSTATE_SUSPENDED;
	}
	strv_free(&lines);
	free(path);
	return kind;
}

static int write_lines(const char *path, const struct strv *lines, struct error *err)
{
	if (!lines->n) {
		if (unlink(path) < 0 && errno != ENOENT)
			return error_errno(err, "cannot remove %s", path);
		return 0;
	}
	struct tempfile tf;
	if (tempfile_create(&tf, path, err) < 0)
		return -1;
	for (size_t i = 0; i < lines->n; i++)
		if (dprintf(tf.fd, "%s\n", lines->v[i]) < 0) {
			error_errno(err, "cannot write %s", path);
			tempfile_discard(&tf);
			return -1;
		}
	return tempfile_commit(&tf, TEMPFILE_REPLACE, err);
}

int savedstate_record(const char *image, const char *name, enum savedstate_kind kind,
		      struct error *err)
{
	char *path = savedstate_path(image);
	struct strv old = STRV_INIT, lines = STRV_INIT;
	read_lines(path, &old);
	for (size_t i = 0; i < old.n; i++)
		if (!names(old.v[i], name))
			strv_add(&lines, old.v[i]);
	if (kind != SAVEDSTATE_RUNNING)
		strv_addf(&lines, "%s %s", name, kind_names[kind]);
	int rc = 0;
	if (kind != SAVEDSTATE_RUNNING || lines.n != old.n)
		rc = write_lines(path, &lines, err);
	strv_free(&old);
	strv_free(&lines);
	free(path);
	return rc;
}
