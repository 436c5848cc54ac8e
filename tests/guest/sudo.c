/*
 * sudo.c — a minimal `sudo` for the vm test guest.
 *
 * The test guest has no PAM and no real sudo; vm runs `sudo -n COMMAND...`
 * in the guest as its ordinary user (see SPEC.md, "Guest access"). This
 * program is installed setuid root in the guest and runs COMMAND as root
 * for root and for the one test user, and for nobody else. It is built
 * statically on the host by tests/guest/build-guest.sh, so it needs nothing
 * from the guest's libraries.
 *
 * Supported: `sudo [-n] [-u root] [--] COMMAND [ARG...]`, `sudo -v`,
 * `sudo -k`. -n is accepted and always honoured: this sudo never prompts.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef SUDO_ALLOWED_UID
#define SUDO_ALLOWED_UID 1000
#endif

/* What root's environment holds after sudo: env_reset, as the real sudo does. */
static const char root_path[] =
	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

static void usage(void)
{
	fputs("usage: sudo [-n] [-u root] [--] command [arg...]\n"
	      "       sudo -v | -k\n",
	      stderr);
	exit(1);
}

/* Only root and the test user may use it: the guest's one sudoers line. */
static int caller_allowed(uid_t uid)
{
	return uid == 0 || uid == SUDO_ALLOWED_UID;
}

static void set_env(const char *name, const char *value)
{
	if (setenv(name, value, 1) != 0) {
		perror("sudo: setenv");
		exit(1);
	}
}

/* Replace the caller's environment with root's, keeping TERM. */
static void reset_environment(uid_t uid, gid_t gid)
{
	char *term = getenv("TERM");
	char termbuf[64] = "";
	char num[32];

	if (term && strlen(term) < sizeof(termbuf) && !strchr(term, '/'))
		strcpy(termbuf, term);
	if (clearenv() != 0) {
		fputs("sudo: cannot clear the environment\n", stderr);
		exit(1);
	}
	set_env("PATH", root_path);
	set_env("HOME", "/root");
	set_env("USER", "root");
	set_env("LOGNAME", "root");
	set_env("SHELL", "/bin/sh");
	if (termbuf[0])
		set_env("TERM", termbuf);
	snprintf(num, sizeof(num), "%u", (unsigned)uid);
	set_env("SUDO_UID", num);
	snprintf(num, sizeof(num), "%u", (unsigned)gid);
	set_env("SUDO_GID", num);
}

static void become_root(void)
{
	if (setgroups(0, NULL) != 0 || setresgid(0, 0, 0) != 0 ||
	    setresuid(0, 0, 0) != 0) {
		fprintf(stderr, "sudo: cannot become root: %s "
				"(is /usr/bin/sudo setuid root?)\n",
			strerror(errno));
		exit(1);
	}
}

int main(int argc, char **argv)
{
	uid_t uid = getuid();
	gid_t gid = getgid();
	int i;

	if (!caller_allowed(uid)) {
		fprintf(stderr, "sudo: uid %u is not allowed to run sudo "
				"in the test guest\n",
			(unsigned)uid);
		return 1;
	}
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *opt = argv[i];

		if (strcmp(opt, "--") == 0) {
			i++;
			break;
		} else if (strcmp(opt, "-n") == 0) {
			continue; /* never prompts anyway */
		} else if (strcmp(opt, "-v") == 0 || strcmp(opt, "-k") == 0) {
			return 0; /* no credential cache to validate or drop */
		} else if (strcmp(opt, "-u") == 0 && i + 1 < argc &&
			   (strcmp(argv[i + 1], "root") == 0 ||
			    strcmp(argv[i + 1], "#0") == 0)) {
			i++;
		} else {
			fprintf(stderr, "sudo: unsupported option %s\n", opt);
			usage();
		}
	}
	if (i >= argc)
		usage();

	become_root();
	reset_environment(uid, gid);
	execvp(argv[i], &argv[i]);
	fprintf(stderr, "sudo: %s: %s\n", argv[i], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}
