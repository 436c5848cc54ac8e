/* The seccomp allow-list, apart from the steps so that tests can install it
 * in a child of their own and watch what it kills. */
#pragma once

/* The fds the sandboxed steps use; -1 for one that is not open. */
struct sandbox_fds {
	int request;
	int netlink;
	int syslog;
	int log;
	int lock;
	int tun;
};

/* Installs the filter (no_new_privs must be set, or CAP_SYS_ADMIN held).
 * Returns 0 or -1. */
int sandbox_install(const struct sandbox_fds *fds);
