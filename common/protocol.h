/* The wire protocol between vm and vm-netd.
 *
 * vm starts vm-netd with one end of a socketpair(AF_UNIX, SOCK_SEQPACKET) as
 * fd 3, sends exactly one request and receives exactly one reply, with the
 * tap's fds attached (SCM_RIGHTS, one per queue, all in the one message)
 * when granted. Both messages have a fixed
 * layout in host byte order (both ends run on the same host) and are decoded
 * strictly: exact size, magic, version, known op and flags, NUL-terminated
 * names with nothing after the NUL. */
#pragma once

#include "error.h"

#include <stddef.h>
#include <stdint.h>

#define NETD_MAGIC 0x564d4e44u /* "VMND" */
/* 2: the request's queues field (multi-queue taps). A message of another
 * version is refused, and netd_message_version() lets either side say which
 * version the other speaks. */
#define NETD_VERSION 2u
#define NETD_NAME_SIZE 16 /* IFNAMSIZ: 15 bytes and the NUL */
#define NETD_MAX_QUEUES 8 /* a tap's queues: VM_NET_QUEUES's limit, and the helper's */

enum netd_op {
	NETD_OP_TAP = 1,   /* a tap on a bridge, for a machine */
	NETD_OP_QUERY = 2, /* what the policy grants the caller (vm net) */
};

/* Request flags. */
#define NETD_FLAG_CREATE_BRIDGE 0x1u /* create the bridge if the policy lets us */
#define NETD_FLAGS_KNOWN NETD_FLAG_CREATE_BRIDGE

struct netd_request {
	uint32_t magic;
	uint16_t version;
	uint16_t op;
	uint32_t flags;
	uint32_t machine_id; /* 0-99 */
	char bridge[NETD_NAME_SIZE];
	uint32_t queues; /* a tap's queues (fds), 1-NETD_MAX_QUEUES; 0 for a query */
};

enum netd_status {
	NETD_GRANTED = 0,
	NETD_DENIED = 1,	 /* no grant, or no such bridge: the same answer */
	NETD_QUOTA = 2,		 /* granted, but the quota of taps is used up */
	NETD_MACHINE_IN_USE = 3, /* another user has taps for this machine ID */
	NETD_BAD_REQUEST = 4,	 /* the request broke the protocol */
	NETD_POLICY_BROKEN = 5,	 /* the policy file is unusable: everything is denied */
	NETD_NOT_PRIVILEGED = 6, /* vm-netd lacks its privilege (install, no_new_privs) */
	NETD_FAILED = 7,	 /* the system refused; error holds errno */
};
#define NETD_STATUS_MAX NETD_FAILED

/* One grant of the policy to the caller, in a query's reply. */
#define NETD_GRANT_EXISTS 0x1u /* the bridge exists and is a bridge */
#define NETD_GRANT_CREATE 0x2u /* vm-netd may create it */
struct netd_grant {
	char bridge[NETD_NAME_SIZE];
	uint32_t quota;
	uint32_t used; /* the caller's taps on it now */
	uint32_t flags;
};

#define NETD_MAX_GRANTS 16
#define NETD_USER_SIZE 33
#define NETD_POLICY_SIZE 128
#define NETD_MESSAGE_SIZE 256

struct netd_reply {
	uint32_t magic;
	uint16_t version;
	uint16_t op;
	uint32_t status; /* enum netd_status */
	int32_t error;	 /* errno for NETD_FAILED, else 0 */
	uint32_t quota;	 /* for NETD_QUOTA: the quota that is used up */
	char tap[NETD_NAME_SIZE];
	char user[NETD_USER_SIZE]; /* the caller as vm-netd sees it */
	char policy[NETD_POLICY_SIZE];
	char message[NETD_MESSAGE_SIZE];
	uint32_t ngrants;
	struct netd_grant grants[NETD_MAX_GRANTS];
};

/* Fills req (a query gets no queues, whatever queues says); fails when the
 * bridge name does not fit or is not a valid name. */
int netd_request_init(struct netd_request *req, enum netd_op op, unsigned machine_id,
		      const char *bridge, uint32_t flags, unsigned queues, struct error *err);
/* Strict decoding of exactly one request of len bytes. */
int netd_request_decode(const void *buf, size_t len, struct netd_request *req, struct error *err);

void netd_reply_init(struct netd_reply *reply, enum netd_op op);
/* Strict decoding of exactly one reply of len bytes. */
int netd_reply_decode(const void *buf, size_t len, struct netd_reply *reply, struct error *err);

/* The protocol version of a message that starts with our magic, or -1: so
 * that a mismatch can be told as one, whatever the other version's layout. */
int netd_message_version(const void *buf, size_t len);

const char *netd_op_name(unsigned op);
const char *netd_status_name(unsigned status);
/* Copies s into a fixed field, always NUL-terminated, the rest zeroed. */
void netd_field_set(char *field, size_t size, const char *s);
