/* The seccomp allow-list, apart from the steps so that tests can install it
 * in a child of their own and watch what it kills.
 *
 * The fds the sandboxed steps use sit at fixed numbers (resources.c puts
 * them there), so that the filter is built once, at build time
 * (gen-filter.c), and loading it is one system call. */
#pragma once

#include <stdbool.h>

/* The syslog socket has the lowest number: any fd limit the loader
 * survives (it needs fd 4 for a moment) leaves room for the record of a
 * request that the limit fails. */
#define SANDBOX_FD_REQUEST 3	/* the request socket */
#define SANDBOX_FD_SYSLOG 4	/* the syslog socket */
#define SANDBOX_FD_NETLINK 5	/* rtnetlink */
#define SANDBOX_FD_TUN 6	/* /dev/net/tun */
#define SANDBOX_FD_LOG 7	/* the audit log, O_APPEND */
#define SANDBOX_FD_LOG_REPAIR 8 /* the same file, to blank a record cut short */
/* /dev/net/tun again, for a multi-queue tap's other queues: 9 up to 15
 * (at most NETD_MAX_QUEUES - 1 of them; opened before the drop, since the
 * sandbox allows no open()). */
#define SANDBOX_FD_TUN_QUEUES 9
#define SANDBOX_TUN_QUEUES 7

/* Installs the filter (no_new_privs must be set, or CAP_SYS_ADMIN held).
 * Returns 0 or -1. */
int sandbox_install(void);

/* What to do when the kernel refuses no_new_privs or the filter with ERROR:
 * a filter of the caller's forbids it (UNDER_FILTER), or the kernel has no
 * seccomp filters (EINVAL); NULL when neither explains it. */
const char *sandbox_refusal_advice(int error, bool under_filter);
