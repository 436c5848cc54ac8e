#include "emulator/runtime.h"

#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int runtime_secure_dir(const char *path, struct error *err)
{
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return error_errno(err, "cannot create runtime directory %s", path);
	struct stat st;
	if (lstat(path, &st) < 0)
		return error_errno(err, "runtime directory %s", path);
	if (!S_ISDIR(st.st_mode))
		return error_set(err,
				 "runtime directory %s is not a directory (a symlink or file "
				 "there could be another user's trap): remove it and retry",
				 path);
	if (st.st_uid != geteuid())
		return error_set(err,
				 "runtime directory %s belongs to uid %u, not to you: another "
				 "user may have created it; remove it (as root) and retry",
				 path, (unsigned)st.st_uid);
	if (st.st_mode & 077)
		return error_set(err,
				 "runtime directory %s is open to other users (mode %03o): "
				 "run 'chmod 700 %s' or remove it",
				 path, (unsigned)(st.st_mode & 0777), path);
	return 0;
}

/* The per-user base: $XDG_RUNTIME_DIR/vm, else /tmp/vm-<uid>. */
static char *base_dir(struct error *err)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	struct stat st;
	char *base;
	if (xdg && xdg[0] == '/' && stat(xdg, &st) == 0 && S_ISDIR(st.st_mode) &&
	    st.st_uid == geteuid())
		base = xasprintf("%s/vm", xdg);
	else
		base = xasprintf("/tmp/vm-%u", (unsigned)geteuid());
	if (runtime_secure_dir(base, err) < 0) {
		free(base);
		return NULL;
	}
	return base;
}

int runtime_open(struct runtime *rt, const char *id, struct error *err)
{
	*rt = (struct runtime){.lock_fd = -1};
	char *base = base_dir(err);
	if (!base)
		return -1;
	rt->dir = xasprintf("%s/%s", base, id);
	free(base);
	if (runtime_secure_dir(rt->dir, err) < 0)
		return -1;
	rt->qmp_socket = xasprintf("%s/qmp.sock", rt->dir);
	rt->ga_socket = xasprintf("%s/agent.sock", rt->dir);
	rt->pid_file = xasprintf("%s/qemu.pid", rt->dir);
	rt->lock_file = xasprintf("%s/lock", rt->dir);
	rt->stderr_log = xasprintf("%s/qemu.stderr", rt->dir);
	rt->info_file = xasprintf("%s/machine", rt->dir);
	return 0;
}

static int open_lock_file(const struct runtime *rt, int flags)
{
	return open(rt->lock_file, O_RDWR | O_CREAT | O_NOFOLLOW | O_NOCTTY | flags, 0600);
}

int runtime_lock(struct runtime *rt, struct error *err)
{
	int fd = open_lock_file(rt, 0);
	if (fd < 0)
		return error_errno(err, "cannot open lock %s", rt->lock_file);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int saved = errno;
		close(fd);
		if (saved == EWOULDBLOCK)
			return error_set(err, "the machine is already running (lock %s is held)",
					 rt->lock_file);
		errno = saved;
		return error_errno(err, "cannot lock %s", rt->lock_file);
	}
	rt->lock_fd = fd;
	return 0;
}

void runtime_unlock(struct runtime *rt)
{
	if (rt->lock_fd >= 0)
		close(rt->lock_fd);
	rt->lock_fd = -1;
}

static pid_t read_pid(const char *path)
{
	FILE *f = fopen(path, "re");
	long pid = 0;
	if (f) {
		if (fscanf(f, "%ld", &pid) != 1 || pid <= 0)
			pid = 0;
		fclose(f);
	}
	return (pid_t)pid;
}

bool runtime_is_running(const struct runtime *rt, pid_t *pid)
{
	if (pid)
		*pid = 0;
	int fd = open_lock_file(rt, O_CLOEXEC);
	if (fd < 0)
		return false;
	bool held = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	if (held && pid)
		*pid = read_pid(rt->pid_file);
	return held;
}

void runtime_close(struct runtime *rt)
{
	runtime_unlock(rt);
	free(rt->dir);
	free(rt->qmp_socket);
	free(rt->ga_socket);
	free(rt->pid_file);
	free(rt->lock_file);
	free(rt->stderr_log);
	free(rt->info_file);
	*rt = (struct runtime){.lock_fd = -1};
}

int runtime_lock_stopped(struct runtime *rt, const char *id, const char *name, const char *why,
			 struct error *err)
{
	if (runtime_open(rt, id, err) < 0)
		return -1;
	pid_t pid;
	if (!runtime_is_running(rt, &pid)) {
		if (runtime_lock(rt, err) == 0)
			return 0;
		if (!runtime_is_running(rt, &pid))
			return -1; /* not a running machine: the lock itself failed */
	}
	char pid_text[32] = "";
	if (pid)
		snprintf(pid_text, sizeof(pid_text), " (pid %d)", (int)pid);
	return error_set(err, "%s is running%s; stop it first (vm stop, or vm kill): %s", name,
			 pid_text, why);
}

int runtime_write_info(const struct runtime *rt, const struct runtime_info *info, struct error *err)
{
	char *tmp = xasprintf("%s.tmp", rt->info_file);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
	if (!f) {
		error_errno(err, "cannot write %s", tmp);
		if (fd >= 0)
			close(fd);
		free(tmp);
		return -1;
	}
	fprintf(f, "name=%s\nhome=%s\nnetwork=%s\nssh_port=%d\ndisk=%s\n", info->name, info->home,
		info->network, info->ssh_port, info->disk ? info->disk : "");
	int rc = 0;
	if (fclose(f) != 0 || rename(tmp, rt->info_file) < 0) {
		rc = error_errno(err, "cannot write %s", rt->info_file);
		unlink(tmp);
	}
	free(tmp);
	return rc;
}

int runtime_read_info(const struct runtime *rt, struct runtime_info *info, struct error *err)
{
	*info = (struct runtime_info){0};
	FILE *f = fopen(rt->info_file, "re");
	if (!f)
		return error_errno(err, "cannot read %s", rt->info_file);
	char *line = NULL;
	size_t size = 0;
	ssize_t len;
	while ((len = getline(&line, &size, f)) > 0) {
		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		char *eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq = '\0';
		const char *value = eq + 1;
		if (!strcmp(line, "name"))
			info->name = xstrdup(value);
		else if (!strcmp(line, "home"))
			info->home = xstrdup(value);
		else if (!strcmp(line, "network"))
			info->network = xstrdup(value);
		else if (!strcmp(line, "ssh_port"))
			info->ssh_port = atoi(value);
		else if (!strcmp(line, "disk"))
			info->disk = xstrdup(value);
	}
	free(line);
	fclose(f);
	if (!info->name)
		info->name = xstrdup("?");
	if (!info->home)
		info->home = xstrdup("?");
	if (!info->network)
		info->network = xstrdup("bridge");
	return 0;
}

void runtime_info_free(struct runtime_info *info)
{
	free(info->name);
	free(info->home);
	free(info->network);
	free(info->disk);
	*info = (struct runtime_info){0};
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int runtime_list_ids(struct strv *ids, struct error *err)
{
	char *base = base_dir(err);
	if (!base)
		return -1;
	DIR *dir = opendir(base);
	if (!dir) {
		error_errno(err, "cannot list %s", base);
		free(base);
		return -1;
	}
	struct dirent *entry;
	while ((entry = readdir(dir)))
		if (strlen(entry->d_name) == 2 && entry->d_name[0] >= '0' &&
		    entry->d_name[0] <= '9' && entry->d_name[1] >= '0' && entry->d_name[1] <= '9')
			strv_add(ids, entry->d_name);
	closedir(dir);
	free(base);
	if (ids->n)
		qsort(ids->v, ids->n, sizeof(*ids->v), compare_strings);
	return 0;
}
