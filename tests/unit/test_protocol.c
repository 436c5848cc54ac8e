#include "protocol.h"

#include <criterion/criterion.h>
#include <string.h>

static struct netd_request good_request(void)
{
	struct netd_request req;
	struct error err;
	cr_assert(
	    netd_request_init(&req, NETD_OP_TAP, 42, "br0", NETD_FLAG_CREATE_BRIDGE, 1, &err) == 0);
	return req;
}

static int decode(const struct netd_request *req, size_t len)
{
	struct netd_request out;
	struct error err;
	return netd_request_decode(req, len, &out, &err);
}

Test(protocol, request_round_trip)
{
	struct netd_request req = good_request(), out;
	struct error err;
	cr_assert(netd_request_decode(&req, sizeof(req), &out, &err) == 0, "%s", err.msg);
	cr_expect_eq(out.op, NETD_OP_TAP);
	cr_expect_eq(out.machine_id, 42);
	cr_expect_eq(out.flags, NETD_FLAG_CREATE_BRIDGE);
	cr_expect_str_eq(out.bridge, "br0");
}

Test(protocol, request_size_is_exact)
{
	unsigned char buf[2 * sizeof(struct netd_request)];
	struct netd_request req = good_request();
	memcpy(buf, &req, sizeof(req));
	memcpy(buf + sizeof(req), &req, sizeof(req));
	cr_expect(decode((void *)buf, sizeof(req) - 1) < 0, "truncated");
	cr_expect(decode((void *)buf, sizeof(req) + 1) < 0, "oversized");
	cr_expect(decode((void *)buf, 2 * sizeof(req)) < 0, "two requests");
	cr_expect(decode((void *)buf, 0) < 0, "empty");
}

Test(protocol, request_header_fields)
{
	struct netd_request req = good_request();
	req.magic ^= 1;
	cr_expect(decode(&req, sizeof(req)) < 0, "magic");
	req = good_request();
	req.version = NETD_VERSION + 1;
	cr_expect(decode(&req, sizeof(req)) < 0, "version");
	req = good_request();
	req.op = 0;
	cr_expect(decode(&req, sizeof(req)) < 0, "op 0");
	req.op = 3;
	cr_expect(decode(&req, sizeof(req)) < 0, "op 3");
	req = good_request();
	req.flags = 0x2;
	cr_expect(decode(&req, sizeof(req)) < 0, "unknown flag");
	req = good_request();
	req.machine_id = 100;
	cr_expect(decode(&req, sizeof(req)) < 0, "machine 100");
}

Test(protocol, request_names)
{
	struct netd_request req = good_request();
	memset(req.bridge, 'a', sizeof(req.bridge));
	cr_expect(decode(&req, sizeof(req)) < 0, "no NUL in 16 bytes");
	req = good_request();
	req.bridge[5] = 'x';
	cr_expect(decode(&req, sizeof(req)) < 0, "bytes after the NUL");
	req = good_request();
	strcpy(req.bridge, "br%d");
	cr_expect(decode(&req, sizeof(req)) < 0, "invalid name");
	req = good_request();
	memset(req.bridge, 0, sizeof(req.bridge));
	cr_expect(decode(&req, sizeof(req)) < 0, "empty name");
	struct error err;
	cr_expect(netd_request_init(&req, NETD_OP_TAP, 1, "abcdefghijklmnop", 0, 1, &err) < 0,
		  "the encoder refuses 16 bytes");
}

Test(protocol, query_takes_no_bridge)
{
	struct netd_request req;
	struct error err;
	cr_assert(netd_request_init(&req, NETD_OP_QUERY, 0, "", 0, 4, &err) == 0);
	cr_expect_eq(req.queues, 0, "a query has no queues, whatever it is given");
	cr_expect(decode(&req, sizeof(req)) == 0);
	strcpy(req.bridge, "br0");
	cr_expect(decode(&req, sizeof(req)) < 0);
	memset(req.bridge, 0, sizeof(req.bridge));
	req.queues = 1;
	cr_expect(decode(&req, sizeof(req)) < 0, "a query with queues");
}

/* Version 2's field: the tap's queues, 1-8, encoded and decoded as is. */
Test(protocol, request_queues)
{
	struct netd_request req, out;
	struct error err;
	for (unsigned n = 1; n <= NETD_MAX_QUEUES; n++) {
		cr_assert(netd_request_init(&req, NETD_OP_TAP, 7, "br0", 0, n, &err) == 0);
		cr_assert(netd_request_decode(&req, sizeof(req), &out, &err) == 0, "%u: %s", n,
			  err.msg);
		cr_expect_eq(out.queues, n);
	}
	unsigned bad[] = {0, NETD_MAX_QUEUES + 1, 256, 0x7fffffffu, 0xffffffffu};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		req.queues = bad[i];
		cr_expect(netd_request_decode(&req, sizeof(req), &out, &err) < 0, "%u queues",
			  bad[i]);
		cr_expect(strstr(err.msg, "queues, expected 1-8"), "%s", err.msg);
	}
}

/* A message of another version is told as such, whatever its size: that
 * is what vm and vm-netd say when their versions differ. */
Test(protocol, another_version_is_named)
{
	struct netd_request req;
	struct error err;
	cr_assert(netd_request_init(&req, NETD_OP_TAP, 7, "br0", 0, 1, &err) == 0);
	cr_expect_eq(netd_message_version(&req, sizeof(req)), NETD_VERSION);
	cr_expect_eq(NETD_VERSION, 2);
	req.version = 1;
	/* A version 1 request was 32 bytes: the version is the answer, not the size. */
	cr_expect_eq(netd_message_version(&req, 32), 1);
	cr_expect(decode(&req, 32) < 0);
	struct netd_request out;
	netd_request_decode(&req, 32, &out, &err);
	cr_expect_str_eq(err.msg, "protocol version 1, expected 2");
	struct netd_reply reply, rout;
	netd_reply_init(&reply, NETD_OP_TAP);
	reply.version = 3;
	cr_expect_eq(netd_message_version(&reply, sizeof(reply) + 40), 3);
	cr_expect(netd_reply_decode(&reply, sizeof(reply), &rout, &err) < 0);
	cr_expect_str_eq(err.msg, "protocol version 3, expected 2");
	reply.magic ^= 1;
	cr_expect_eq(netd_message_version(&reply, sizeof(reply)), -1);
	cr_expect_eq(netd_message_version(&reply, 3), -1, "too short for a header");
}

Test(protocol, reply_decoding)
{
	struct netd_reply reply, out;
	struct error err;
	netd_reply_init(&reply, NETD_OP_TAP);
	netd_field_set(reply.tap, sizeof(reply.tap), "vm42t0");
	netd_field_set(reply.message, sizeof(reply.message), "ok");
	cr_assert(netd_reply_decode(&reply, sizeof(reply), &out, &err) == 0, "%s", err.msg);
	cr_expect_str_eq(out.tap, "vm42t0");
	cr_expect(netd_reply_decode(&reply, sizeof(reply) - 1, &out, &err) < 0);
	reply.status = NETD_STATUS_MAX + 1;
	cr_expect(netd_reply_decode(&reply, sizeof(reply), &out, &err) < 0);
	reply.status = 0;
	reply.ngrants = NETD_MAX_GRANTS + 1;
	cr_expect(netd_reply_decode(&reply, sizeof(reply), &out, &err) < 0);
	reply.ngrants = 0;
	memset(reply.message, 'x', sizeof(reply.message));
	cr_expect(netd_reply_decode(&reply, sizeof(reply), &out, &err) < 0);
}

Test(protocol, names_of_statuses)
{
	cr_expect_str_eq(netd_status_name(NETD_GRANTED), "granted");
	cr_expect_str_eq(netd_status_name(NETD_DENIED), "denied");
	cr_expect_str_eq(netd_status_name(99), "unknown");
	cr_expect_str_eq(netd_op_name(NETD_OP_QUERY), "query");
}
