#include "ifname.h"

#include <criterion/criterion.h>

static bool valid(const char *name)
{
	struct error err;
	return ifname_valid(name, &err);
}

Test(ifname, kernel_rules)
{
	cr_expect(valid("br0"));
	cr_expect(valid("abcdefghijklmno"), "15 bytes fit");
	cr_expect(!valid(""), "empty");
	cr_expect(!valid("abcdefghijklmnop"), "16 bytes do not fit");
	cr_expect(!valid("br/0"));
	cr_expect(!valid("br 0"));
	cr_expect(!valid("br\t0"));
	cr_expect(!valid("br\n0"));
	cr_expect(!valid("."));
	cr_expect(!valid(".."));
}

Test(ifname, project_rules)
{
	cr_expect(valid("br-lan_1.100"));
	cr_expect(!valid("br%d"), "the kernel would expand %%d");
	cr_expect(!valid("br..0"));
	cr_expect(!valid("br\xc3\xbc"), "non-ASCII");
	cr_expect(!valid("br:0"));
	cr_expect(!valid("br*"));
}

Test(ifname, error_shows_the_name_escaped)
{
	struct error err;
	cr_assert(!ifname_valid("br\n0", &err));
	cr_expect_str_eq(err.msg, "interface name 'br\\x0a0' may hold only letters, digits, "
				  "'_', '-' and '.'");
	cr_assert(!ifname_valid("abcdefghijklmnopq", &err));
	cr_expect(strstr(err.msg, "longer than 15 bytes"));
}

Test(ifname, tap_names)
{
	char buf[16];
	ifname_tap(buf, 7, 0);
	cr_expect_str_eq(buf, "vm07t0");
	ifname_tap(buf, 99, 99);
	cr_expect_str_eq(buf, "vm99t99");
	unsigned id, n;
	cr_expect(ifname_is_tap("vm42t3", &id, &n));
	cr_expect_eq(id, 42);
	cr_expect_eq(n, 3);
	cr_expect(!ifname_is_tap("vm4t3", NULL, NULL));
	cr_expect(!ifname_is_tap("vm42t", NULL, NULL));
	cr_expect(!ifname_is_tap("vm42t03", NULL, NULL), "one spelling per tap");
	cr_expect(!ifname_is_tap("vm42t100", NULL, NULL));
	cr_expect(!ifname_is_tap("vm42t1x", NULL, NULL));
	cr_expect(!ifname_is_tap("xvm42t1", NULL, NULL));
}
