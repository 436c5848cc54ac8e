/* vm's side of vm-netd: start the helper, send one request, take the reply
 * and, when granted, the tap's fds (one per queue). */
#pragma once

#include "error.h"
#include "protocol.h"

#include <stdbool.h>
#include <sys/types.h>

struct netclient_tap {
	/* the tap's queues, to hand to QEMU as -netdev tap,fd=N (one) or
	 * fds=N:M:... (several, a multi-queue tap) */
	int fds[NETD_MAX_QUEUES];
	size_t nfds; /* 0: none held */
	char name[NETD_NAME_SIZE];
	/* The helper that gave it, still ending after its answer (0: reaped):
	 * vm goes on with the tap at once instead of waiting for the exit. */
	pid_t helper;
};

/* A tap with queues queues (1-NETD_MAX_QUEUES) on bridge for machine_id
 * (00-99); with create_bridge vm-netd also creates the bridge if the policy
 * declares it 'create'. A denial becomes a message that says which policy
 * line the admin must add. */
int netclient_open_tap(const char *bridge, unsigned machine_id, bool create_bridge, unsigned queues,
		       struct netclient_tap *tap, struct error *err);
/* Reaps the helper that gave the tap (before exec, so that the emulator
 * does not inherit it as a child); the fds stay. */
void netclient_reap_helper(struct netclient_tap *tap);
/* Closes the fds still held (the tap goes when the last holder closes) and
 * reaps the helper. */
void netclient_close_tap(struct netclient_tap *tap);
/* What the policy grants the caller: reply->grants. */
int netclient_query(struct netd_reply *reply, struct error *err);

/* The helper: $VM_NETD when set, else the installed one. */
const char *netclient_helper_path(void);
/* One exchange, no interpretation: fds[0..*nfds) are the passed fds. With
 * unreaped, a helper that answered is left to end on its own and *unreaped
 * is its pid (reap it with spawn_reap); without, or when it did not
 * answer, it has been reaped. */
int netclient_exchange(const struct netd_request *req, struct netd_reply *reply,
		       int fds[NETD_MAX_QUEUES], size_t *nfds, pid_t *unreaped, struct error *err);
/* The user's words for a reply that is not a grant. */
void netclient_explain(const struct netd_request *req, const struct netd_reply *reply,
		       struct error *err);
