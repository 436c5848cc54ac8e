#include "sys/tempfile.h"

#include "sys/spawn.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

/* The clean-up registry. The signal handler may run at any moment, so it
 * only reads fixed storage, and an entry's path is written before the entry
 * is marked in use. */
#define REGISTRY_SIZE 64

enum entry_kind { ENTRY_FREE, ENTRY_FILE, ENTRY_DIR };

static struct {
	volatile sig_atomic_t kind;
	int owner; /* the directory slot a tracked file goes with, else -1 */
	char path[PATH_MAX];
} registry[REGISTRY_SIZE];

static int registered;
static bool always; /* the handlers stay for the whole run (tempfile_tell_interruptions) */
static const int cleanup_signals[] = {SIGINT, SIGTERM, SIGHUP};
static struct sigaction saved_actions[3];

/* Async-signal-safe: "vm: interrupted" on stderr, with "; removed PATH"
 * when path is not NULL. */
static void tell_interrupted(const char *path)
{
	static const char head[] = "vm: interrupted", removed[] = "; removed ";
	struct iovec parts[] = {{(void *)head, sizeof(head) - 1},
				{(void *)removed, path ? sizeof(removed) - 1 : 0},
				{(void *)(path ? path : ""), path ? strlen(path) : 0},
				{(void *)"\n", 1}};
	ssize_t ignored = writev(STDERR_FILENO, parts, 4);
	(void)ignored;
}

static void remove_registered(int sig)
{
	/* A qemu-img still writing would make its file again after the unlink. */
	spawn_stop_child();
	/* Files first, so that their directories are empty when their turn
	 * comes; a file of a directory is not named, its directory is. */
	bool told = false;
	for (int i = 0; i < REGISTRY_SIZE; i++)
		if (registry[i].kind == ENTRY_FILE && unlink(registry[i].path) == 0 &&
		    registry[i].owner < 0) {
			tell_interrupted(registry[i].path);
			told = true;
		}
	for (int i = 0; i < REGISTRY_SIZE; i++)
		if (registry[i].kind == ENTRY_DIR && rmdir(registry[i].path) == 0) {
			tell_interrupted(registry[i].path);
			told = true;
		}
	if (!told)
		tell_interrupted(NULL);
	for (int i = 0; i < REGISTRY_SIZE; i++)
		registry[i].kind = ENTRY_FREE;
	registered = 0;
	/* Die of the signal as if vm had not caught it (or hand it on). */
	for (size_t i = 0; i < sizeof(cleanup_signals) / sizeof(cleanup_signals[0]); i++)
		if (cleanup_signals[i] == sig)
			sigaction(sig, &saved_actions[i], NULL);
	raise(sig);
}

static void install_handlers(void)
{
	struct sigaction sa = {.sa_handler = remove_registered};
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(cleanup_signals) / sizeof(cleanup_signals[0]); i++) {
		sigaction(cleanup_signals[i], NULL, &saved_actions[i]);
		/* A signal the user chose to ignore (nohup) stays ignored. */
		if (saved_actions[i].sa_handler != SIG_IGN)
			sigaction(cleanup_signals[i], &sa, NULL);
	}
}

static void restore_handlers(void)
{
	for (size_t i = 0; i < sizeof(cleanup_signals) / sizeof(cleanup_signals[0]); i++)
		sigaction(cleanup_signals[i], &saved_actions[i], NULL);
}

static int registry_add(const char *path, enum entry_kind kind, int owner)
{
	for (int i = 0; i < REGISTRY_SIZE; i++) {
		if (registry[i].kind != ENTRY_FREE)
			continue;
		snprintf(registry[i].path, sizeof(registry[i].path), "%s", path);
		registry[i].owner = owner;
		if (registered++ == 0 && !always)
			install_handlers();
		registry[i].kind = kind;
		return i;
	}
	/* vm never has this many files in the making: a bug, not a user error. */
	fprintf(stderr, "vm: internal error: too many temporary files\n");
	abort();
}

static void registry_remove(int slot)
{
	if (slot < 0 || registry[slot].kind == ENTRY_FREE)
		return;
	registry[slot].kind = ENTRY_FREE;
	if (--registered == 0 && !always)
		restore_handlers();
}

void tempfile_tell_interruptions(void)
{
	if (!always && registered == 0)
		install_handlers();
	always = true;
}

static void random_suffix(char *buf, size_t len)
{
	static const char chars[] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	unsigned char bytes[16];
	if (getrandom(bytes, len, 0) != (ssize_t)len)
		for (size_t i = 0; i < len; i++)
			bytes[i] = (unsigned char)(rand() ^ getpid());
	for (size_t i = 0; i < len; i++)
		buf[i] = chars[bytes[i] % (sizeof(chars) - 1)];
	buf[len] = '\0';
}

/* The directory and base name of path, in fresh strings. */
static void split_path(const char *path, char **dir, char **base)
{
	char *a = xstrdup(path), *b = xstrdup(path);
	*dir = xstrdup(dirname(a));
	*base = xstrdup(basename(b));
	free(a);
	free(b);
}

static char *temp_prefix(const char *target)
{
	char *dir, *base;
	split_path(target, &dir, &base);
	char *prefix = xasprintf("%s/.%s.tmp-", dir, base);
	free(dir);
	free(base);
	return prefix;
}

int tempfile_create(struct tempfile *tf, const char *target, struct error *err)
{
	*tf = (struct tempfile){.fd = -1, .slot = -1};
	char *prefix = temp_prefix(target);
	for (int attempt = 0; attempt < 100; attempt++) {
		char suffix[7];
		random_suffix(suffix, 6);
		char *path = xasprintf("%s%s", prefix, suffix);
		/* 0666: the user's umask alone decides, as for any file they make. */
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
		if (fd >= 0) {
			tf->slot = registry_add(path, ENTRY_FILE, -1);
			tf->path = path;
			tf->target = xstrdup(target);
			tf->fd = fd;
			free(prefix);
			return 0;
		}
		int saved = errno;
		free(path);
		if (saved != EEXIST) {
			free(prefix);
			errno = saved;
			return error_errno(err, "cannot create a file beside %s", target);
		}
	}
	free(prefix);
	return error_set(err, "cannot find a free temporary name beside %s", target);
}

void tempfile_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	fsync(fd);
	close(fd);
}

static void sync_parent(const char *path)
{
	char *dir, *base;
	split_path(path, &dir, &base);
	tempfile_sync_dir(dir);
	free(dir);
	free(base);
}

/* rename(2) that refuses to replace target, also where the file system
 * lacks RENAME_NOREPLACE (link(2) refuses an existing name too). */
static int rename_noreplace(const char *from, const char *to, bool is_dir)
{
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (is_dir) {
		struct stat st;
		if (lstat(to, &st) == 0) {
			errno = EEXIST;
			return -1;
		}
		return rename(from, to);
	}
	if (link(from, to) < 0)
		return -1;
	unlink(from);
	return 0;
}

static void tempfile_free(struct tempfile *tf)
{
	registry_remove(tf->slot);
	free(tf->path);
	free(tf->target);
	*tf = (struct tempfile){.fd = -1, .slot = -1};
}

int tempfile_commit(struct tempfile *tf, unsigned flags, struct error *err)
{
	if (fsync(tf->fd) < 0) {
		error_errno(err, "cannot write %s", tf->target);
		tempfile_discard(tf);
		return -1;
	}
	if (close(tf->fd) < 0) {
		tf->fd = -1;
		error_errno(err, "cannot write %s", tf->target);
		tempfile_discard(tf);
		return -1;
	}
	tf->fd = -1;
	int rc = (flags & TEMPFILE_REPLACE) ? rename(tf->path, tf->target)
					    : rename_noreplace(tf->path, tf->target, false);
	if (rc < 0) {
		if (errno == EEXIST)
			error_set(err, "%s already exists; vm does not overwrite it", tf->target);
		else
			error_errno(err, "cannot rename %s to %s", tf->path, tf->target);
		tempfile_discard(tf);
		return -1;
	}
	sync_parent(tf->target);
	tempfile_free(tf);
	return 0;
}

void tempfile_discard(struct tempfile *tf)
{
	if (!tf->path)
		return;
	if (tf->fd >= 0)
		close(tf->fd);
	unlink(tf->path);
	tempfile_free(tf);
}

int tempdir_create(struct tempdir *td, const char *path, const char *target, struct error *err)
{
	*td = (struct tempdir){.slot = -1};
	/* 0777: the umask decides, as for the user's own mkdir. */
	if (mkdir(path, 0777) < 0)
		return error_errno(err, "cannot create directory %s", path);
	td->slot = registry_add(path, ENTRY_DIR, -1);
	td->path = xstrdup(path);
	td->target = xstrdup(target);
	return 0;
}

void tempdir_track(struct tempdir *td, const char *path)
{
	registry_add(path, ENTRY_FILE, td->slot);
}

/* Forgets the directory and the files tracked in it; removes those files
 * first when remove is set. */
static void tempdir_release(struct tempdir *td, bool remove)
{
	for (int i = 0; i < REGISTRY_SIZE; i++) {
		if (registry[i].kind != ENTRY_FILE || registry[i].owner != td->slot)
			continue;
		if (remove)
			unlink(registry[i].path);
		registry_remove(i);
	}
	if (remove)
		rmdir(td->path);
	registry_remove(td->slot);
	free(td->path);
	free(td->target);
	*td = (struct tempdir){.slot = -1};
}

int tempdir_commit(struct tempdir *td, struct error *err)
{
	tempfile_sync_dir(td->path);
	if (rename_noreplace(td->path, td->target, true) < 0) {
		if (errno == EEXIST || errno == ENOTEMPTY)
			error_set(err, "%s already exists; vm does not overwrite it", td->target);
		else
			error_errno(err, "cannot rename %s to %s", td->path, td->target);
		tempdir_release(td, true);
		return -1;
	}
	sync_parent(td->target);
	tempdir_release(td, false);
	return 0;
}

void tempdir_discard(struct tempdir *td)
{
	if (!td->path)
		return;
	tempdir_release(td, true);
}

int tempfile_remove_stale(const char *target)
{
	char *dir, *base;
	split_path(target, &dir, &base);
	char *prefix = xasprintf(".%s.tmp-", base);
	size_t prefix_len = strlen(prefix);
	int removed = 0;
	DIR *d = opendir(dir);
	for (struct dirent *e; d && (e = readdir(d));) {
		if (strncmp(e->d_name, prefix, prefix_len) || strlen(e->d_name) != prefix_len + 6)
			continue;
		char *path = xasprintf("%s/%s", dir, e->d_name);
		struct stat st;
		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && unlink(path) == 0)
			removed++;
		free(path);
	}
	if (d)
		closedir(d);
	free(prefix);
	free(dir);
	free(base);
	return removed;
}
