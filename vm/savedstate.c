#include "savedstate.h"

#include "strv.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *savedstate_path(const char *image)
{
	return xasprintf("%s.suspended", image);
}

static void read_names(const char *path, struct strv *names)
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
			strv_add(names, line);
	}
	free(line);
	fclose(f);
}

bool savedstate_was_suspended(const char *image, const char *name)
{
	char *path = savedstate_path(image);
	struct strv names = STRV_INIT;
	read_names(path, &names);
	bool found = false;
	for (size_t i = 0; i < names.n && !found; i++)
		found = !strcmp(names.v[i], name);
	strv_free(&names);
	free(path);
	return found;
}

static int write_names(const char *path, const struct strv *names, struct error *err)
{
	if (!names->n) {
		if (unlink(path) < 0 && errno != ENOENT)
			return error_errno(err, "cannot remove %s", path);
		return 0;
	}
	char *tmp = xasprintf("%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
	if (fd < 0 && errno == EEXIST && unlink(tmp) == 0)
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
	int rc = 0;
	if (!f) {
		rc = error_errno(err, "cannot write %s", tmp);
		if (fd >= 0)
			close(fd);
	} else {
		for (size_t i = 0; i < names->n; i++)
			fprintf(f, "%s\n", names->v[i]);
		if (fclose(f) != 0 || rename(tmp, path) < 0)
			rc = error_errno(err, "cannot write %s", path);
	}
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

int savedstate_record(const char *image, const char *name, bool suspended, struct error *err)
{
	char *path = savedstate_path(image);
	struct strv old = STRV_INIT, names = STRV_INIT;
	read_names(path, &old);
	for (size_t i = 0; i < old.n; i++)
		if (strcmp(old.v[i], name))
			strv_add(&names, old.v[i]);
	if (suspended)
		strv_add(&names, name);
	int rc = 0;
	if (suspended || names.n != old.n)
		rc = write_names(path, &names, err);
	strv_free(&old);
	strv_free(&names);
	free(path);
	return rc;
}
