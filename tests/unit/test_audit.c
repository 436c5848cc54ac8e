#include "audit.h"

#include <criterion/criterion.h>
#include <string.h>
#include <time.h>

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

/* The stamp is computed without the C library's time zone code: it must
 * be what gmtime_r and strftime give, leap days and centuries included. */
static void assert_stamp_is_gmtimes(time_t t)
{
	char buf[512], want[32];
	struct tm tm;
	struct audit_record r = {.time = t, .op = "-", .machine = -1, .result = "granted"};
	audit_format(buf, sizeof(buf), &r);
	cr_assert(gmtime_r(&t, &tm));
	strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm);
	cr_assert(!strncmp(buf, want, strlen(want)) && buf[strlen(want)] == ' ',
		  "time %lld: %.20s, gmtime_r says %s", (long long)t, buf, want);
}

Test(audit, the_time_is_utc_as_gmtime_has_it)
{
	const time_t edges[] = {
	    -1,		/* 1969-12-31T23:59:59Z */
	    951782399,	/* 2000-02-28T23:59:59Z */
	    951782400,	/* 2000-02-29, a leap day of a century divisible by 400 */
	    951868800,	/* 2000-03-01 */
	    4107542399, /* 2100-02-28T23:59:59Z, no leap day that century */
	    4107542400, /* 2100-03-01 */
	    1798761599, /* 2026-12-31T23:59:59Z */
	    2147483647, /* 2038-01-19T03:14:07Z, past 32 bits */
	    2147483648,
	};
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		assert_stamp_is_gmtimes(edges[i]);
	/* Every day of 1970-2200 at a time of day that moves through the day. */
	for (time_t t = 0; t < 7258118400; t += 86400 + 37)
		assert_stamp_is_gmtimes(t);
}
