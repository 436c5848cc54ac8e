/* vm's side of vm-netd: start the helper, send one request, take the reply
 * and, when granted, the tap's fd. */
#pragma once

#include "error.h"
#include "protocol.h"

#include <stdbool.h>

struct netclient_tap {
	int fd; /* the tap's queue, to hand to QEMU as -netdev tap,fd=N */
	char name[NETD_NAME_SIZE];
};

/* A tap on bridge for machine_id (00-99); with create_bridge vm-netd also
 * creates the bridge if the policy declares it 'create'. A denial becomes a
 * message that says which policy line the admin must add. */
int netclient_open_tap(const char *bridge, unsigned machine_id, bool create_bridge,
		       struct netclient_tap *tap, struct error *err);
/* What the policy grants the caller: reply->grants. */
int netclient_query(struct netd_reply *reply, struct error *err);

/* The helper: $VM_NETD when set, else the installed one. */
const char *netclient_helper_path(void);
/* One exchange, no interpretation: fd is the passed fd or -1. For tests. */
int netclient_exchange(const struct netd_request *req, struct netd_reply *reply, int *fd,
		       struct error *err);
/* The user's words for a reply that is not a grant. */
void netclient_explain(const struct netd_request *req, const struct netd_reply *reply,
		       struct error *err);
