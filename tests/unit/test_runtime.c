/* Where a running machine's handle lives: below the user's home (from the
 * password database, never the environment), private, and refused when any
 * part of it could be another user's (a symlink, someone else's, open to
 * others, under a directory others can write). Running is decided by the
 * lock. Runs in a private home (private-home.sh). */
#include "emulator/runtime.h"
#include "vmtest.h"
#include "xalloc.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

TestSuite(runtime, .init = vt_private_home);

static char *home_dir(void)
{
	struct passwd *pw = getpwuid(geteuid());
	cr_assert_not_null(pw);
	char *home = realpath(pw->pw_dir, NULL);
	cr_assert_not_null(home, "%s", pw->pw_dir);
	return home;
}

static char *host(void)
{
	struct utsname u;
	cr_assert_eq(uname(&u), 0);
	return xstrdup(u.nodename);
}

/* <home>/.local/state/vm/<host>[/<id>] */
static char *place(const char *id)
{
	char *home = home_dir(), *h = host();
	char *path = id ? xasprintf("%s/.local/state/vm/%s/%s", home, h, id)
			: xasprintf("%s/.local/state/vm/%s", home, h);
	free(home);
	free(h);
	return path;
}

static mode_t mode_of(const char *path)
{
	struct stat st;
	cr_assert_eq(lstat(path, &st), 0, "%s", path);
	return st.st_mode & 07777;
}

static char *opened_dir(const char *id)
{
	struct runtime rt;
	struct error err;
	cr_assert_eq(runtime_open(&rt, id, RUNTIME_MAKE, &err), 0, "%s", err.msg);
	char *dir = xstrdup(rt.dir);
	runtime_close(&rt);
	return dir;
}

Test(runtime, lives_below_the_home_in_private_directories)
{
	struct runtime rt;
	struct error err;
	umask(0);
	cr_assert_eq(runtime_open(&rt, "42", RUNTIME_MAKE, &err), 0, "%s", err.msg);
	char *expected = place("42");
	cr_assert_str_eq(rt.dir, expected);
	char *base = place(NULL), *vm = xasprintf("%s/..", base);
	cr_assert_eq(mode_of(vm), 0700);
	cr_assert_eq(mode_of(base), 0700);
	cr_assert_eq(mode_of(expected), 0700);
	char *socket = xasprintf("%s/qmp.sock", expected);
	cr_assert_str_eq(rt.qmp_socket, socket);
	cr_assert_not(rt.sockets_via_fd);
	runtime_close(&rt);
}

Test(runtime, a_query_creates_nothing_and_the_lock_makes_the_place)
{
	struct runtime rt;
	struct error err;
	char *home = home_dir(), *local = xasprintf("%s/.local", home);
	cr_assert_eq(runtime_open(&rt, "41", RUNTIME_FIND, &err), 0, "%s", err.msg);
	cr_assert_str_eq(rt.dir, place("41"));
	cr_assert_eq(rt.dir_fd, -1);
	cr_assert_eq(runtime_state(&rt, NULL), RUNTIME_STOPPED);
	cr_assert_eq(access(local, F_OK), -1, "a query made %s", local);
	umask(0);
	cr_assert_eq(runtime_lock(&rt, &err), 0, "%s", err.msg);
	cr_assert_eq(mode_of(place("41")), 0700);
	cr_assert_eq(mode_of(place(NULL)), 0700);
	cr_assert_geq(rt.dir_fd, 0);
	runtime_close(&rt);
	/* What is there is checked all the same. */
	cr_assert_eq(chmod(place("41"), 0755), 0);
	cr_assert_eq(runtime_open(&rt, "41", RUNTIME_FIND, &err), -1);
	cr_assert(strstr(err.msg, "is open to other users (mode 755)"), "%s", err.msg);
}

Test(runtime, is_the_same_place_whatever_the_environment)
{
	char *expected = place("43");
	char *session = vt_tmpdir();
	setenv("XDG_RUNTIME_DIR", session, 1);
	cr_assert_str_eq(opened_dir("43"), expected, "in a session");
	unsetenv("XDG_RUNTIME_DIR");
	cr_assert_str_eq(opened_dir("43"), expected, "without XDG_RUNTIME_DIR (cron)");
	setenv("HOME", "/nonexistent", 1);
	setenv("XDG_STATE_HOME", session, 1);
	cr_assert_str_eq(opened_dir("43"), expected, "with another HOME (su, sudo)");
}

static void assert_refused(const char *id, const char *path, const char *reason)
{
	struct runtime rt;
	struct error err;
	cr_assert_eq(runtime_open(&rt, id, RUNTIME_MAKE, &err), -1, "accepted %s", path);
	cr_assert(strstr(err.msg, path), "'%s' does not name %s", err.msg, path);
	cr_assert(strstr(err.msg, reason), "'%s' lacks '%s'", err.msg, reason);
	runtime_close(&rt);
}

static void make_base(void)
{
	free(opened_dir("40"));
}

Test(runtime, refuses_a_symlink_planted_in_its_place)
{
	make_base();
	char *link = place("44");
	cr_assert_eq(symlink(vt_tmpdir(), link), 0);
	assert_refused("44", link,
		       "is not a directory (a symlink or file there could be another user's trap)");
}

Test(runtime, refuses_a_symlink_above_it)
{
	make_base();
	char *base = place(NULL);
	char *moved = xasprintf("%s.moved", base);
	cr_assert_eq(rename(base, moved), 0);
	cr_assert_eq(symlink(moved, base), 0);
	assert_refused("44", base, "is not a directory (a symlink");
}

Test(runtime, refuses_a_directory_open_to_the_group)
{
	char *dir = place("45");
	free(opened_dir("45"));
	cr_assert_eq(chmod(dir, 0750), 0);
	assert_refused("45", dir, "is open to other users (mode 750)");
}

Test(runtime, refuses_a_directory_open_to_others)
{
	char *dir = place("45");
	free(opened_dir("45"));
	cr_assert_eq(chmod(dir, 0705), 0);
	assert_refused("45", dir, "is open to other users (mode 705)");
	cr_assert_eq(chmod(dir, 0700), 0);
	char *base = place(NULL);
	cr_assert_eq(chmod(base, 0711), 0);
	assert_refused("45", base, "is open to other users (mode 711)");
}

Test(runtime, refuses_a_directory_another_user_made)
{
	if (geteuid() != 0)
		cr_skip_test("needs root to give a directory to another user");
	char *dir = place("46");
	free(opened_dir("46"));
	cr_assert_eq(chown(dir, 65534, 65534), 0);
	assert_refused("46", dir, "belongs to uid 65534, not to you");
}

Test(runtime, refuses_a_parent_that_others_can_write)
{
	make_base();
	char *home = home_dir();
	char *state = xasprintf("%s/.local/state", home);
	cr_assert_eq(chmod(state, 0777), 0);
	assert_refused("46", state, "is writable by other users (mode 777)");
	/* The group's write access counts unless the group is the user's own. */
	if (geteuid() == 0)
		cr_assert_eq(chown(state, (uid_t)-1, 65534), 0);
	cr_assert_eq(chmod(state, 0775), 0);
	if (geteuid() == 0)
		assert_refused("46", state, "is writable by other users (mode 775)");
	cr_assert_eq(chmod(state, 0755), 0);
	free(opened_dir("46")); /* readable by others is fine above the place */
}

Test(runtime, refuses_a_parent_another_user_owns)
{
	if (geteuid() != 0)
		cr_skip_test("needs root to give a directory to another user");
	make_base();
	char *home = home_dir();
	char *local = xasprintf("%s/.local", home);
	cr_assert_eq(chown(local, 65534, 65534), 0);
	assert_refused("46", local, "belongs to uid 65534, who could swap");
}

Test(runtime, accepts_a_home_under_a_sticky_directory)
{
	char *shared = vt_tmpdir();
	cr_assert_eq(chmod(shared, 01777), 0);
	char *home = xasprintf("%s/me", shared);
	cr_assert_eq(mkdir(home, 0755), 0);
	struct error err;
	char *base = runtime_base_in(home, &err);
	cr_assert_not_null(base, "%s", err.msg);
	cr_assert_eq(chmod(shared, 0777), 0);
	cr_assert_null(runtime_base_in(home, &err));
	cr_assert(strstr(err.msg, "is writable by other users (mode 777)"), "%s", err.msg);
}

/* A child holding path's lock as the emulator of an earlier version would
 * (nothing recorded in it), with pid file; returns its pid. */
static pid_t hold_legacy_lock(const char *dir)
{
	int ready[2];
	cr_assert_eq(pipe(ready), 0);
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		char *lock = xasprintf("%s/lock", dir);
		int fd = open(lock, O_RDWR | O_CREAT, 0600);
		if (fd < 0 || flock(fd, LOCK_EX) < 0)
			_exit(1);
		(void)!write(ready[1], "x", 1);
		pause();
		_exit(0);
	}
	char c;
	cr_assert_eq(read(ready[0], &c, 1), 1);
	char *pid_file = xasprintf("%s/qemu.pid", dir);
	FILE *f = fopen(pid_file, "w");
	fprintf(f, "%d\n", (int)pid);
	fclose(f);
	return pid;
}

static void assert_found_in(const char *legacy_base, const char *id)
{
	char *dir = xasprintf("%s/%s", legacy_base, id);
	mkdir(legacy_base, 0700);
	cr_assert_eq(mkdir(dir, 0700), 0);
	pid_t holder = hold_legacy_lock(dir);
	struct runtime rt;
	struct error err;
	cr_assert_eq(runtime_open(&rt, id, RUNTIME_MAKE, &err), 0, "%s", err.msg);
	cr_assert_str_eq(rt.dir, dir);
	pid_t pid;
	cr_assert(runtime_is_running(&rt, &pid));
	cr_assert_eq(pid, holder);
	struct strv ids = STRV_INIT;
	cr_assert_eq(runtime_list_ids(&ids, &err), 0, "%s", err.msg);
	bool listed = false;
	for (size_t i = 0; i < ids.n; i++)
		listed |= !strcmp(ids.v[i], id);
	cr_assert(listed, "vm list would miss %s", dir);
	kill(holder, SIGKILL);
	waitpid(holder, NULL, 0);
	runtime_close(&rt);
	/* Once it has stopped, the current place is used again. */
	cr_assert_str_eq(opened_dir(id), place(id));
}

Test(runtime, finds_a_machine_started_in_a_session_by_an_earlier_version)
{
	char *session = vt_tmpdir();
	setenv("XDG_RUNTIME_DIR", session, 1);
	char *base = xasprintf("%s/vm", session);
	assert_found_in(base, "47");
}

Test(runtime, finds_a_machine_started_without_a_session_by_an_earlier_version)
{
	unsetenv("XDG_RUNTIME_DIR");
	char *base = xasprintf("/tmp/vm-%u", (unsigned)geteuid());
	char *dir = xasprintf("%s/97", base);
	assert_found_in(base, "97");
	char *files[] = {xasprintf("%s/lock", dir), xasprintf("%s/qemu.pid", dir)};
	for (size_t i = 0; i < 2; i++)
		unlink(files[i]);
	rmdir(dir);
	rmdir(base); /* unless other machines are there */
}

Test(runtime, the_lock_decides_whether_the_machine_runs)
{
	struct runtime holder, observer;
	struct error err;
	cr_assert_eq(runtime_open(&holder, "48", RUNTIME_MAKE, &err), 0, "%s", err.msg);
	cr_assert_eq(runtime_open(&observer, "48", RUNTIME_MAKE, &err), 0, "%s", err.msg);
	cr_assert_eq(runtime_state(&observer, NULL), RUNTIME_STOPPED);
	cr_assert_eq(runtime_lock(&holder, &err), 0, "%s", err.msg);
	/* The lock fd is inherited by nothing but the emulator (explicitly). */
	cr_assert(fcntl(holder.lock_fd, F_GETFD) & FD_CLOEXEC);
	pid_t pid;
	cr_assert_eq(runtime_state(&observer, &pid), RUNTIME_BUSY);
	cr_assert_eq(pid, getpid());
	cr_assert_eq(runtime_lock(&observer, &err), -1);
	char *busy =
	    xasprintf("another vm command is working on the machine (pid %d)", (int)getpid());
	cr_assert(strstr(err.msg, busy), "%s", err.msg);
	/* A start hands the lock to its emulator (here: a child). */
	pid_t emulator = fork();
	if (emulator == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		pause();
		_exit(0);
	}
	runtime_hand_over(&holder, emulator);
	cr_assert(runtime_is_running(&observer, &pid));
	cr_assert_eq(pid, emulator, "the lock's record names the emulator");
	FILE *pid_file = fopen(holder.pid_file, "w");
	fprintf(pid_file, "%d\n", 4242);
	fclose(pid_file);
	cr_assert(runtime_is_running(&observer, &pid));
	cr_assert_eq(pid, 4242, "the emulator's own pid file comes first");
	cr_assert_eq(runtime_lock(&observer, &err), -1);
	cr_assert(strstr(err.msg, "already running (pid 4242)"), "%s", err.msg);
	/* The emulator's copy of the lock (here fork's) decides. */
	runtime_unlock(&holder);
	cr_assert(runtime_is_running(&observer, NULL));
	kill(emulator, SIGKILL);
	waitpid(emulator, NULL, 0);
	cr_assert_not(runtime_is_running(&observer, NULL));
	runtime_close(&holder);
	runtime_close(&observer);
}
