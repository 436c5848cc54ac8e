#include "emulator/runtime.h"

#include "sys/tempfile.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <unistd.h>

/* Checks that path is a real directory (not a symlink) owned by the user
 * with no group/other access, creating it 0700 when missing (RUNTIME_MAKE);
 * 1 when it is missing (RUNTIME_FIND). */
static int secure_dir(const char *path, enum runtime_reach how, struct error *err)
{
	if (how == RUNTIME_MAKE && mkdir(path, 0700) < 0 && errno != EEXIST)
		return error_errno(err, "cannot create runtime directory %s", path);
	struct stat st;
	if (lstat(path, &st) < 0)
		return how == RUNTIME_FIND && errno == ENOENT
			   ? 1
			   : error_errno(err, "runtime directory %s", path);
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

/* A group that only this user is in (the user private group scheme): its
 * write access is the user's own. */
static bool private_group(gid_t gid)
{
	struct passwd *pw = getpwuid(geteuid());
	struct group *gr = getgrgid(gid);
	return pw && gr && pw->pw_gid == gid && !strcmp(gr->gr_name, pw->pw_name) &&
	       (!gr->gr_mem || !gr->gr_mem[0]);
}

/* A directory above the runtime directories: whoever may rename entries
 * in it could swap what is below. It must be root's or the user's, and
 * writable by no one else (unless sticky, like /tmp). */
static int check_above(const char *path, struct error *err)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return error_errno(err, "%s", path);
	if (!S_ISDIR(st.st_mode))
		return error_set(err, "%s is not a directory: vm keeps running machines below it",
				 path);
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return error_set(err,
				 "%s belongs to uid %u, who could swap the runtime directories "
				 "vm keeps below it: it must be yours or root's",
				 path, (unsigned)st.st_uid);
	bool sticky = st.st_mode & S_ISVTX;
	if (!sticky && ((st.st_mode & 002) || ((st.st_mode & 020) && !private_group(st.st_gid))))
		return error_set(err,
				 "%s is writable by other users (mode %03o), who could swap the "
				 "runtime directories vm keeps below it: run 'chmod go-w %s'",
				 path, (unsigned)(st.st_mode & 0777), path);
	return 0;
}

/* Checks every directory of the absolute, resolved path, from / down. */
static int check_path_above(const char *path, struct error *err)
{
	char *prefix = xstrdup(path);
	int rc = check_above("/", err);
	for (char *slash = strchr(prefix + 1, '/'); rc == 0; slash = strchr(slash + 1, '/')) {
		if (slash)
			*slash = '\0';
		rc = check_above(prefix, err);
		if (!slash)
			break;
		*slash = '/';
	}
	free(prefix);
	return rc;
}

/* A directory between the home and the runtime directories that the user
 * may share with other programs (~/.local, ~/.local/state). */
static int reach_above(const char *path, enum runtime_reach how, struct error *err)
{
	if (how == RUNTIME_MAKE && mkdir(path, 0700) < 0 && errno != EEXIST)
		return error_errno(err, "cannot create %s", path);
	struct stat st;
	if (how == RUNTIME_FIND && lstat(path, &st) < 0 && errno == ENOENT)
		return 1;
	return check_above(path, err);
}

static char *host_name(void)
{
	struct utsname u;
	if (uname(&u) < 0 || !u.nodename[0] || strchr(u.nodename, '/') ||
	    !strcmp(u.nodename, ".") || !strcmp(u.nodename, ".."))
		return xstrdup("localhost");
	return xstrdup(u.nodename);
}

/* The base below home_dir, each part checked, made when missing (RUNTIME_MAKE)
 * or else told in *missing (then the parts below it are not looked at). */
static char *reach_base(const char *home_dir, enum runtime_reach how, bool *missing,
			struct error *err)
{
	char *home = realpath(home_dir, NULL);
	if (!home) {
		error_errno(err,
			    "your home directory %s (vm keeps running machines below it, in "
			    "~/.local/state/vm: create it, or give the user a home)",
			    home_dir);
		return NULL;
	}
	char *local = xasprintf("%s/.local", home), *state = xasprintf("%s/state", local),
	     *vm = xasprintf("%s/vm", state), *host = host_name();
	char *base = xasprintf("%s/%s", vm, host);
	int rc = check_path_above(home, err);
	if (rc == 0)
		rc = reach_above(local, how, err);
	if (rc == 0)
		rc = reach_above(state, how, err);
	if (rc == 0)
		rc = secure_dir(vm, how, err);
	if (rc == 0)
		rc = secure_dir(base, how, err);
	*missing = rc == 1;
	if (rc < 0) {
		free(base);
		base = NULL;
	}
	free(home);
	free(local);
	free(state);
	free(vm);
	free(host);
	return base;
}

char *runtime_base_in(const char *home_dir, struct error *err)
{
	bool missing;
	return reach_base(home_dir, RUNTIME_MAKE, &missing, err);
}

static char *reach_user_base(enum runtime_reach how, bool *missing, struct error *err)
{
	struct passwd *pw = getpwuid(geteuid());
	if (!pw || !pw->pw_dir || pw->pw_dir[0] != '/') {
		error_set(err,
			  "uid %u has no home directory in the password database: vm keeps "
			  "running machines there (~/.local/state/vm)",
			  (unsigned)geteuid());
		return NULL;
	}
	return reach_base(pw->pw_dir, how, missing, err);
}

/* The bases of earlier versions: $XDG_RUNTIME_DIR/vm, /run/user/UID/vm,
 * /tmp/vm-UID (never created; only looked into). */
static void legacy_bases(struct strv *bases)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	if (xdg && xdg[0] == '/')
		strv_addf(bases, "%s/vm", xdg);
	char *run = xasprintf("/run/user/%u/vm", (unsigned)geteuid());
	if (!(bases->n && !strcmp(bases->v[0], run)))
		strv_add(bases, run);
	free(run);
	strv_addf(bases, "/tmp/vm-%u", (unsigned)geteuid());
}

/* An existing private directory of this user (checked as secure_dir
 * does, without creating it). */
static bool private_dir_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
	       !(st.st_mode & 077);
}

static void set_paths(struct runtime *rt)
{
	struct sockaddr_un sun;
	/* The longest socket name decides for all. */
	rt->sockets_via_fd = strlen(rt->dir) + strlen("/console.sock") >= sizeof(sun.sun_path);
	if (rt->sockets_via_fd) {
		rt->qmp_socket = xasprintf("/proc/self/fd/%d/qmp.sock", rt->dir_fd);
		rt->ga_socket = xasprintf("/proc/self/fd/%d/agent.sock", rt->dir_fd);
		rt->console_socket = xasprintf("/proc/self/fd/%d/console.sock", rt->dir_fd);
	} else {
		rt->qmp_socket = xasprintf("%s/qmp.sock", rt->dir);
		rt->ga_socket = xasprintf("%s/agent.sock", rt->dir);
		rt->console_socket = xasprintf("%s/console.sock", rt->dir);
	}
	rt->pid_file = xasprintf("%s/qemu.pid", rt->dir);
	rt->lock_file = xasprintf("%s/lock", rt->dir);
	rt->stderr_log = xasprintf("%s/qemu.stderr", rt->dir);
	rt->info_file = xasprintf("%s/machine", rt->dir);
	rt->console_log = xasprintf("%s/console.log", rt->dir);
	rt->console_lock = xasprintf("%s/console.lock", rt->dir);
}

static void free_paths(struct runtime *rt)
{
	free(rt->qmp_socket);
	free(rt->ga_socket);
	free(rt->pid_file);
	free(rt->lock_file);
	free(rt->stderr_log);
	free(rt->info_file);
	free(rt->console_socket);
	free(rt->console_log);
	free(rt->console_lock);
}

/* Opens rt->dir; the paths then go through it when they must. */
static int open_dir(struct runtime *rt, struct error *err)
{
	rt->dir_fd = open(rt->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rt->dir_fd < 0)
		return error_errno(err, "runtime directory %s", rt->dir);
	free_paths(rt);
	set_paths(rt);
	return 0;
}

/* A machine that an earlier version started and that still runs. */
static bool adopt_legacy(struct runtime *rt, const char *id)
{
	struct strv bases = STRV_INIT;
	legacy_bases(&bases);
	bool adopted = false;
	for (size_t i = 0; i < bases.n && !adopted; i++) {
		struct runtime old = {
		    .dir = xasprintf("%s/%s", bases.v[i], id), .lock_fd = -1, .dir_fd = -1};
		struct error ignored;
		if (private_dir_exists(bases.v[i]) && private_dir_exists(old.dir) &&
		    open_dir(&old, &ignored) == 0 && runtime_state(&old, NULL) != RUNTIME_STOPPED) {
			runtime_close(rt);
			*rt = old;
			adopted = true;
		} else {
			runtime_close(&old);
		}
	}
	strv_free(&bases);
	return adopted;
}

int runtime_open(struct runtime *rt, const char *id, enum runtime_reach how, struct error *err)
{
	*rt = (struct runtime){.lock_fd = -1, .dir_fd = -1};
	bool missing;
	char *base = reach_user_base(how, &missing, err);
	if (!base)
		return -1;
	rt->dir = xasprintf("%s/%s", base, id);
	free(base);
	int rc = missing ? 1 : secure_dir(rt->dir, how, err);
	if (rc == 0) {
		rc = open_dir(rt, err);
	} else if (rc == 1) {
		set_paths(rt); /* where it will be: nothing there runs */
		rc = 0;
	}
	if (rc < 0)
		runtime_close(rt);
	else if (runtime_state(rt, NULL) == RUNTIME_STOPPED)
		adopt_legacy(rt, id);
	return rc;
}

static void record_holder(int fd, const char *who, pid_t pid)
{
	char text[64];
	int len = snprintf(text, sizeof(text), "%s %d\n", who, (int)pid);
	/* Written over the old record, then cut to size: never empty, so a
	 * reader never takes it for an earlier version's lock (no record); the
	 * rest of a longer old record would follow a newline and is not read. */
	if (pwrite(fd, text, (size_t)len, 0) == len)
		(void)!ftruncate(fd, len);
}

/* The directory of a runtime opened with RUNTIME_FIND, made now. */
static int make_dir(struct runtime *rt, struct error *err)
{
	if (rt->dir_fd >= 0)
		return 0;
	bool missing;
	char *base = reach_user_base(RUNTIME_MAKE, &missing, err);
	if (!base)
		return -1;
	free(base);
	if (secure_dir(rt->dir, RUNTIME_MAKE, err) < 0)
		return -1;
	return open_dir(rt, err);
}

int runtime_lock(struct runtime *rt, struct error *err)
{
	if (make_dir(rt, err) < 0)
		return -1;
	int fd = open(rt->lock_file, O_RDWR | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0600);
	if (fd < 0)
		return error_errno(err, "cannot open lock %s", rt->lock_file);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int saved = errno;
		close(fd);
		if (saved == EWOULDBLOCK)
			return runtime_held_error(rt, "the machine", err);
		errno = saved;
		return error_errno(err, "cannot lock %s", rt->lock_file);
	}
	record_holder(fd, "vm", getpid());
	rt->lock_fd = fd;
	return 0;
}

size_t runtime_emulator_fds(const struct runtime *rt, int fds[2])
{
	size_t n = 0;
	if (rt->lock_fd >= 0)
		fds[n++] = rt->lock_fd;
	if (rt->sockets_via_fd && rt->dir_fd >= 0)
		fds[n++] = rt->dir_fd;
	return n;
}

void runtime_hand_over(const struct runtime *rt, pid_t pid)
{
	if (rt->lock_fd < 0)
		return;
	record_holder(rt->lock_fd, "emulator", pid);
	if (pid != getpid())
		return;
	/* This process is about to become the emulator (exec). */
	int fds[2];
	size_t n = runtime_emulator_fds(rt, fds);
	for (size_t i = 0; i < n; i++)
		fcntl(fds[i], F_SETFD, 0);
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
		if (fscanf(f, "%ld", &pid) != 1 || pid <= 0 || pid > INT_MAX)
			pid = 0;
		fclose(f);
	}
	return (pid_t)pid;
}

static bool process_exists(pid_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

enum runtime_state runtime_state(const struct runtime *rt, pid_t *pid)
{
	pid_t unused;
	if (!pid)
		pid = &unused;
	*pid = 0;
	int fd = open(rt->lock_file, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return RUNTIME_STOPPED;
	bool held = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	char text[64] = "";
	ssize_t len = held ? pread(fd, text, sizeof(text) - 1, 0) : 0;
	close(fd);
	if (!held)
		return RUNTIME_STOPPED;
	text[len > 0 ? len : 0] = '\0';
	char who[16] = "";
	int holder = 0;
	/* Earlier versions recorded nothing: then only the pid file tells. */
	if (sscanf(text, "%15s %d", who, &holder) != 2 || holder <= 0)
		holder = 0;
	if (!strcmp(who, "vm") && process_exists(holder)) {
		*pid = holder;
		return RUNTIME_BUSY;
	}
	pid_t emulator = read_pid(rt->pid_file);
	*pid = emulator ? emulator : !strcmp(who, "emulator") ? holder : 0;
	return RUNTIME_RUNNING;
}

bool runtime_is_running(const struct runtime *rt, pid_t *pid)
{
	pid_t found;
	bool running = runtime_state(rt, &found) == RUNTIME_RUNNING;
	if (pid)
		*pid = running ? found : 0;
	return running;
}

int runtime_held_error(const struct runtime *rt, const char *name, struct error *err)
{
	pid_t pid;
	switch (runtime_state(rt, &pid)) {
	case RUNTIME_BUSY:
		return error_set(err,
				 "another vm command is working on %s (pid %d): wait for it to "
				 "finish, or stop it",
				 name, (int)pid);
	case RUNTIME_RUNNING:
		if (pid)
			return error_set(err, "%s is already running (pid %d)", name, (int)pid);
		return error_set(err, "%s is already running (its lock %s is held)", name,
				 rt->lock_file);
	default:
		return error_set(err, "%s was busy a moment ago (lock %s): try again", name,
				 rt->lock_file);
	}
}

void runtime_close(struct runtime *rt)
{
	runtime_unlock(rt);
	if (rt->dir_fd >= 0)
		close(rt->dir_fd);
	free(rt->dir);
	free_paths(rt);
	*rt = (struct runtime){.lock_fd = -1, .dir_fd = -1};
}

int runtime_check_owner(const struct runtime *rt, const char *id, const char *name,
			const char *home, const char *vmrc, struct error *err)
{
	pid_t pid;
	struct runtime_info other;
	struct error unread;
	if (runtime_state(rt, &pid) != RUNTIME_RUNNING ||
	    runtime_read_info(rt, &other, &unread) < 0)
		return 0;
	struct stat here, there;
	int rc = 0;
	if (stat(home, &here) == 0 && stat(other.home, &there) == 0 &&
	    (here.st_dev != there.st_dev || here.st_ino != there.st_ino))
		rc = error_set(err,
			       "ID %s is taken by the machine %s in %s, which is running (pid %d): "
			       "give %s an ID of its own (VM_MACHINE_ID in %s/%s; 'vm list' shows "
			       "the IDs in use)",
			       id, other.name, other.home, (int)pid, name, home, vmrc);
	runtime_info_free(&other);
	return rc;
}

int runtime_lock_stopped(struct runtime *rt, const char *id, const char *name, const char *home,
			 const char *vmrc, const char *why, struct error *err)
{
	if (runtime_open(rt, id, RUNTIME_FIND, err) < 0)
		return -1;
	if (runtime_state(rt, NULL) == RUNTIME_STOPPED && runtime_lock(rt, err) == 0)
		return 0;
	if (runtime_check_owner(rt, id, name, home, vmrc, err) < 0)
		return -1;
	pid_t pid;
	switch (runtime_state(rt, &pid)) {
	case RUNTIME_BUSY:
		return error_set(err,
				 "another vm command is working on %s (pid %d); wait for it: %s",
				 name, (int)pid, why);
	case RUNTIME_RUNNING: {
		char pid_text[32] = "";
		if (pid)
			snprintf(pid_text, sizeof(pid_text), " (pid %d)", (int)pid);
		return error_set(err, "%s is running%s; stop it first (vm stop, or vm kill): %s",
				 name, pid_text, why);
	}
	default:
		return -1; /* not held: the lock itself failed, err says why */
	}
}
int runtime_write_info(const struct runtime *rt, const struct runtime_info *info, struct error *err)
{
	struct tempfile tf;
	if (tempfile_create(&tf, rt->info_file, err) < 0)
		return -1;
	if (fchmod(tf.fd, 0600) < 0 ||
	    dprintf(tf.fd, "name=%s\nhome=%s\nnetwork=%s\nssh_port=%d\ndisk=%s\n", info->name,
		    info->home, info->network, info->ssh_port, info->disk ? info->disk : "") < 0) {
		error_errno(err, "cannot write %s", rt->info_file);
		tempfile_discard(&tf);
		return -1;
	}
	return tempfile_commit(&tf, TEMPFILE_REPLACE, err);
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

static bool is_id(const char *name)
{
	return strlen(name) == 2 && name[0] >= '0' && name[0] <= '9' && name[1] >= '0' &&
	       name[1] <= '9';
}

static void add_ids_in(struct strv *ids, const char *base)
{
	DIR *dir = opendir(base);
	if (!dir)
		return;
	struct dirent *entry;
	while ((entry = readdir(dir)))
		if (is_id(entry->d_name) && !strv_contains(ids, entry->d_name))
			strv_add(ids, entry->d_name);
	closedir(dir);
}

int runtime_list_ids(struct strv *ids, struct error *err)
{
	bool missing;
	char *base = reach_user_base(RUNTIME_FIND, &missing, err);
	if (!base)
		return -1;
	if (!missing)
		add_ids_in(ids, base);
	free(base);
	struct strv bases = STRV_INIT;
	legacy_bases(&bases);
	for (size_t i = 0; i < bases.n; i++)
		if (private_dir_exists(bases.v[i]))
			add_ids_in(ids, bases.v[i]);
	strv_free(&bases);
	if (ids->n)
		qsort(ids->v, ids->n, sizeof(*ids->v), compare_strings);
	return 0;
}
