#include "audit.h"

#include <criterion/criterion.h>
#include <string.h>

Test(audit, every_field_in_order)
{
	char buf[512];
	struct audit_record r = {
	    .time = 0,
	    .uid = 1001,
	    .user = "alice",
	    .op = "tap",
	    .machine = 7,
	    .bridge = "br0",
	    .tap = "vm07t0",
	    .queues = 4,
	    .result = "granted",
	    .rule = "/etc/vm/netd.conf:12",
	    .reason = "tap vm07t0 on br0",
	};
	audit_format(buf, sizeof(buf), &r);
	cr_expect_str_eq(buf,
			 "1970-01-01T00:00:00Z uid=1001 user=alice op=tap machine=07 "
			 "bridge=br0 tap=vm07t0 queues=4 result=granted rule=/etc/vm/netd.conf:12 "
			 "reason=\"tap vm07t0 on br0\"");
}

Test(audit, missing_fields_are_dashes)
{
	char buf[512];
	struct audit_record r = {
	    .time = 86400, .uid = 0, .op = "-", .machine = -1, .result = "denied-bad-request"};
	audit_format(buf, sizeof(buf), &r);
	cr_expect_str_eq(buf, "1970-01-02T00:00:00Z uid=0 user=- op=- machine=- bridge=- tap=- "
			      "queues=- result=denied-bad-request rule=- reason=\"-\"");
}

Test(audit, caller_bytes_are_escaped_to_one_line)
{
	char buf[512];
	struct audit_record r = {.time = 0,
				 .uid = 1,
				 .user = "u",
				 .op = "tap",
				 .machine = 1,
				 .bridge = "br 0\n\"x",
				 .tap = "-",
				 .result = "denied",
				 .reason = "a \"quoted\" reason\nsecond line\\"};
	audit_format(buf, sizeof(buf), &r);
	cr_expect(strstr(buf, "bridge=br\\x200\\x0a\\x22x "), "%s", buf);
	cr_expect(strstr(buf, "reason=\"a \\x22quoted\\x22 reason\\x0asecond line\\x5c\""), "%s",
		  buf);
	cr_expect(!strchr(buf, '\n'));
}

Test(audit, a_small_buffer_is_never_overrun)
{
	char buf[40];
	memset(buf, 'Z', sizeof(buf));
	struct audit_record r = {.time = 0,
				 .uid = 1,
				 .user = "someone",
				 .op = "tap",
				 .machine = 1,
				 .bridge = "br0",
				 .tap = "vm01t0",
				 .result = "granted",
				 .reason = "long reason text"};
	size_t len = audit_format(buf, 32, &r);
	cr_expect_eq(len, 31);
	cr_expect_eq(buf[31], '\0');
	cr_expect_eq(buf[32], 'Z');
}
