#include "protocol.h"

#include "ifname.h"

#include <string.h>

_Static_assert(sizeof(struct netd_request) == 36, "the request layout is fixed");
_Static_assert(sizeof(struct netd_grant) == 28, "the grant layout is fixed");

/* A field holds a NUL-terminated string and nothing after the NUL. */
static int check_field(const char *field, size_t size, const char *what, struct error *err)
{
	size_t len = strnlen(field, size);
	if (len == size)
		return error_set(err, "%s is not NUL-terminated", what);
	for (size_t i = len; i < size; i++)
		if (field[i])
			return error_set(err, "%s has bytes after its end", what);
	return 0;
}

void netd_field_set(char *field, size_t size, const char *s)
{
	memset(field, 0, size);
	if (s)
		strncpy(field, s, size - 1);
}

/* Every version's messages start with the magic and the version. */
#define HEADER_SIZE (sizeof(uint32_t) + sizeof(uint16_t))

int netd_message_version(const void *buf, size_t len)
{
	uint32_t magic;
	uint16_t version;
	if (len < HEADER_SIZE)
		return -1;
	memcpy(&magic, buf, sizeof(magic));
	memcpy(&version, (const char *)buf + sizeof(magic), sizeof(version));
	return magic == NETD_MAGIC ? version : -1;
}

/* Magic and version before the size: a message of another version has
 * another size, and saying so is the useful answer. */
static int check_version(const void *buf, size_t len, struct error *err)
{
	int version = netd_message_version(buf, len);
	if (version < 0 && len >= HEADER_SIZE)
		return error_set(err, "not a vm-netd message (bad magic)");
	if (version >= 0 && version != NETD_VERSION)
		return error_set(err, "protocol version %d, expected %u", version, NETD_VERSION);
	return 0;
}

static int check_op(uint16_t op, struct error *err)
{
	if (op != NETD_OP_TAP && op != NETD_OP_QUERY)
		return error_set(err, "unknown operation %u", op);
	return 0;
}

int netd_request_init(struct netd_request *req, enum netd_op op, unsigned machine_id,
		      const char *bridge, uint32_t flags, unsigned queues, struct error *err)
{
	memset(req, 0, sizeof(*req));
	req->magic = NETD_MAGIC;
	req->version = NETD_VERSION;
	req->op = (uint16_t)op;
	req->flags = flags;
	req->machine_id = machine_id;
	req->queues = op == NETD_OP_TAP ? queues : 0;
	if (op == NETD_OP_TAP && !ifname_valid(bridge, err))
		return -1;
	netd_field_set(req->bridge, sizeof(req->bridge), bridge);
	return 0;
}

int netd_request_decode(const void *buf, size_t len, struct netd_request *req, struct error *err)
{
	if (check_version(buf, len, err) < 0)
		return -1;
	if (len != sizeof(*req))
		return error_set(err, "request of %zu bytes, expected %zu", len, sizeof(*req));
	memcpy(req, buf, sizeof(*req));
	if (check_op(req->op, err) < 0)
		return -1;
	if (req->flags & ~NETD_FLAGS_KNOWN)
		return error_set(err, "unknown flags 0x%x", req->flags & ~NETD_FLAGS_KNOWN);
	if (req->machine_id > 99)
		return error_set(err, "machine ID %u is not in 00-99", req->machine_id);
	if (check_field(req->bridge, sizeof(req->bridge), "the bridge name", err) < 0)
		return -1;
	if (req->op == NETD_OP_QUERY) {
		if (req->bridge[0] || req->flags || req->queues)
			return error_set(err, "a query takes no bridge, no flags and no queues");
		return 0;
	}
	if (req->queues < 1 || req->queues > NETD_MAX_QUEUES)
		return error_set(err, "%u queues, expected 1-%d", req->queues, NETD_MAX_QUEUES);
	return ifname_valid(req->bridge, err) ? 0 : -1;
}

void netd_reply_init(struct netd_reply *reply, enum netd_op op)
{
	memset(reply, 0, sizeof(*reply));
	reply->magic = NETD_MAGIC;
	reply->version = NETD_VERSION;
	reply->op = (uint16_t)op;
}

int netd_reply_decode(const void *buf, size_t len, struct netd_reply *reply, struct error *err)
{
	if (check_version(buf, len, err) < 0)
		return -1;
	if (len != sizeof(*reply))
		return error_set(err, "reply of %zu bytes, expected %zu", len, sizeof(*reply));
	memcpy(reply, buf, sizeof(*reply));
	if (check_op(reply->op, err) < 0)
		return -1;
	if (reply->status > NETD_STATUS_MAX)
		return error_set(err, "unknown status %u", reply->status);
	if (check_field(reply->tap, sizeof(reply->tap), "the tap name", err) < 0 ||
	    check_field(reply->user, sizeof(reply->user), "the user name", err) < 0 ||
	    check_field(reply->policy, sizeof(reply->policy), "the policy path", err) < 0 ||
	    check_field(reply->message, sizeof(reply->message), "the message", err) < 0)
		return -1;
	if (reply->ngrants > NETD_MAX_GRANTS)
		return error_set(err, "%u grants, at most %d", reply->ngrants, NETD_MAX_GRANTS);
	for (uint32_t i = 0; i < reply->ngrants; i++)
		if (check_field(reply->grants[i].bridge, NETD_NAME_SIZE, "a granted bridge", err) <
		    0)
			return -1;
	return 0;
}

const char *netd_op_name(unsigned op)
{
	switch (op) {
	case NETD_OP_TAP:
		return "tap";
	case NETD_OP_QUERY:
		return "query";
	default:
		return "-";
	}
}

const char *netd_status_name(unsigned status)
{
	static const char *const names[] = {
	    [NETD_GRANTED] = "granted",
	    [NETD_DENIED] = "denied",
	    [NETD_QUOTA] = "denied-quota",
	    [NETD_MACHINE_IN_USE] = "denied-machine-in-use",
	    [NETD_BAD_REQUEST] = "denied-bad-request",
	    [NETD_POLICY_BROKEN] = "denied-policy-broken",
	    [NETD_NOT_PRIVILEGED] = "failed-not-privileged",
	    [NETD_FAILED] = "failed",
	};
	return status <= NETD_STATUS_MAX ? names[status] : "unknown";
}
