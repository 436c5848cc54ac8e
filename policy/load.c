/* Reading policy files: only files the admin alone could have written. */
#include "parse.h"

#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The file must be a regular file (not a symlink), owned by owner, writable
 * by no one else: whoever can write it decides who gets network access. */
static int check_file(int fd, const char *path, uid_t owner, struct stat *st, struct error *err)
{
	if (fstat(fd, st) < 0)
		return error_errno(err, "%s", path);
	if (!S_ISREG(st->st_mode))
		return error_set(err, "%s: not a regular file", path);
	if (st->st_uid != owner)
		return error_set(err, "%s: owned by uid %u, must be owned by uid %u", path,
				 (unsigned)st->st_uid, (unsigned)owner);
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return error_set(err, "%s: writable by %s; run 'chmod go-w %s'", path,
				 st->st_mode & S_IWOTH ? "others" : "its group", path);
	if (st->st_size > POLICY_FILE_MAX)
		return error_set(err, "%s: larger than %d bytes", path, POLICY_FILE_MAX);
	return 0;
}

/* Whoever can write DIR can swap PATH (a sticky one lets them only remove
 * their own). */
static int check_parent(const char *path, const char *dir, uid_t owner, struct error *err)
{
	struct stat st;
	if (stat(dir, &st) < 0)
		return error_errno(err, "%s", dir);
	if (st.st_uid != 0 && st.st_uid != owner)
		return error_set(err, "%s: the directory %s is owned by uid %u, not root", path,
				 dir, (unsigned)st.st_uid);
	if ((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX))
		return error_set(err,
				 "%s: the directory %s is writable by others; run 'chmod o-w %s'",
				 path, dir, dir);
	return 0;
}

int policy_check_parents(const char *path, uid_t owner, struct error *err)
{
	if (path[0] != '/')
		return error_set(err, "%s: not an absolute path", path);
	if (strlen(path) >= PATH_MAX)
		return error_set(err, "%s: path too long", path);
	/* On the heap, not 4 KiB of vm-netd's stack, which a caller's small
	 * RLIMIT_STACK bounds. */
	char *dir = xstrdup(path);
	int rc = 0;
	/* Every directory from the file's up to /. */
	for (char *slash = strrchr(dir, '/'); rc == 0 && slash; slash = strrchr(dir, '/')) {
		bool top = slash == dir;
		slash[top] = '\0';
		rc = check_parent(path, dir, owner, err);
		if (top)
			break;
	}
	free(dir);
	return rc;
}

static int read_all(int fd, const char *path, char *buf, size_t size, size_t *len,
		    struct error *err)
{
	*len = 0;
	for (;;) {
		ssize_t n = read(fd, buf + *len, size - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_errno(err, "%s", path);
		if (n == 0)
			return 0;
		*len += (size_t)n;
		if (*len == size)
			return error_set(err, "%s: larger than %d bytes", path, POLICY_FILE_MAX);
	}
}

static bool in_chain(const struct parse_context *ctx, const struct stat *st)
{
	for (unsigned i = 0; i < ctx->depth; i++)
		if (ctx->open_files[i].dev == st->st_dev && ctx->open_files[i].ino == st->st_ino)
			return true;
	return false;
}

static int load_file(struct policy *policy, struct parse_context *ctx, const char *path,
		     struct error *err)
{
	if (ctx->depth > POLICY_INCLUDE_DEPTH)
		return error_set(err, "%s: includes nested deeper than %d files", path,
				 POLICY_INCLUDE_DEPTH);
	int rc = policy_check_parents(path, ctx->owner, err);
	if (rc < 0)
		return rc;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return errno == ELOOP ? error_set(err, "%s: is a symbolic link", path)
				      : error_errno(err, "%s", path);
	struct stat st;
	char *text = xmalloc(POLICY_FILE_MAX + 1);
	size_t len = 0;
	rc = check_file(fd, path, ctx->owner, &st, err);
	if (rc == 0 && in_chain(ctx, &st))
		rc = error_set(err, "%s: includes itself (an include loop)", path);
	if (rc == 0)
		rc = read_all(fd, path, text, POLICY_FILE_MAX + 1, &len, err);
	close(fd);
	if (rc == 0) {
		ctx->open_files[ctx->depth].dev = st.st_dev;
		ctx->open_files[ctx->depth].ino = st.st_ino;
		ctx->depth++;
		rc = policy_parse_lines(policy, ctx, path, text, len, err);
		ctx->depth--;
	}
	free(text);
	return rc;
}

static bool has_wildcard(const char *pattern)
{
	return strpbrk(pattern, "*?[") != NULL;
}

/* A pattern's files in order. A plain path must exist; a wildcard may match
 * nothing (an empty drop-in directory), but its directory must be readable. */
static int include_pattern(struct policy *policy, struct parse_context *ctx, const char *pattern,
			   struct error *err)
{
	if (!has_wildcard(pattern))
		return load_file(policy, ctx, pattern, err);
	glob_t g;
	int rc = glob(pattern, GLOB_ERR, NULL, &g);
	if (rc == GLOB_NOMATCH) {
		char *dir = xstrdup(pattern);
		*strrchr(dir, '/') = '\0';
		/* Effective ids: as the setuid helper, the real ones are the caller's. */
		int ok = has_wildcard(dir) ||
			 faccessat(AT_FDCWD, dir[0] ? dir : "/", R_OK | X_OK, AT_EACCESS) == 0;
		rc = ok ? 0 : error_errno(err, "include %s: directory %s", pattern, dir);
		free(dir);
		return rc;
	}
	if (rc != 0)
		return error_set(err, "include %s: cannot read the directory", pattern);
	for (size_t i = 0; rc == 0 && i < g.gl_pathc; i++)
		rc = load_file(policy, ctx, g.gl_pathv[i], err);
	globfree(&g);
	return rc;
}

int policy_load(struct policy *policy, const char *path, uid_t owner, struct error *err)
{
	struct parse_context ctx = {.include = include_pattern, .owner = owner};
	*policy = (struct policy)POLICY_INIT;
	if (load_file(policy, &ctx, path, err) < 0 || policy_check_rules(policy, err) < 0) {
		policy_free(policy);
		return -1;
	}
	return 0;
}
