#include "policy.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char example[] = "log /var/log/vm-netd.log         # optional audit file\n"
			      "bridge br0                        # managed elsewhere\n"
			      "bridge vmlab create 10.77.0.1/24  # vm-netd may create it\n"
			      "allow daniel br0 2\n"
			      "allow @kvm vmlab 4\n";

static int parse(struct policy *p, const char *text, struct error *err)
{
	return policy_parse_text(p, "netd.conf", text, strlen(text), err);
}

/* The error for text, which must fail to parse. */
static const char *parse_error(const char *text)
{
	static struct error err;
	struct policy p;
	cr_assert(parse(&p, text, &err) < 0, "'%s' should not parse", text);
	cr_expect_eq(p.nrules, 0, "a failed parse leaves nothing that grants");
	return err.msg;
}

static unsigned quota(const struct policy *p, const char *user, const char *group,
		      const char *bridge)
{
	const char *groups[] = {group};
	struct policy_subject who = {user, groups, group ? 1 : 0};
	return policy_quota(p, &who, bridge, NULL);
}

Test(policy, the_design_example)
{
	struct policy p;
	struct error err;
	cr_assert(parse(&p, example, &err) == 0, "%s", err.msg);
	cr_expect_str_eq(p.log, "/var/log/vm-netd.log");
	cr_assert_eq(p.nbridges, 2);
	cr_expect(!policy_find_bridge(&p, "br0")->create);
	cr_expect(policy_find_bridge(&p, "vmlab")->create);
	cr_expect_str_eq(policy_find_bridge(&p, "vmlab")->address, "10.77.0.1/24");
	cr_expect_eq(quota(&p, "daniel", NULL, "br0"), 2);
	cr_expect_eq(quota(&p, "someone", "kvm", "vmlab"), 4);
	policy_free(&p);
}

Test(policy, default_deny)
{
	struct policy p;
	struct error err;
	cr_assert(parse(&p, example, &err) == 0);
	cr_expect_eq(quota(&p, "eve", NULL, "br0"), 0, "no rule");
	cr_expect_eq(quota(&p, "daniel", NULL, "vmlab"), 0, "a rule for another bridge");
	cr_expect_eq(quota(&p, "daniel", NULL, "br1"), 0, "an undeclared bridge");
	cr_expect_eq(quota(&p, "kvm", NULL, "vmlab"), 0, "a user named like the group");
	cr_expect_eq(quota(&p, NULL, NULL, "br0"), 0);
	policy_free(&p);
	cr_assert(parse(&p, "", &err) == 0);
	cr_expect_eq(quota(&p, "daniel", NULL, "br0"), 0, "an empty policy");
	policy_free(&p);
}

Test(policy, names_that_are_prefixes_of_each_other)
{
	struct policy p;
	struct error err;
	cr_assert(parse(&p, "bridge br0\nallow bob br0 1\nallow @lab br0 3\n", &err) == 0);
	cr_expect_eq(quota(&p, "bob", NULL, "br0"), 1);
	cr_expect_eq(quota(&p, "bobby", NULL, "br0"), 0);
	cr_expect_eq(quota(&p, "bo", NULL, "br0"), 0);
	cr_expect_eq(quota(&p, "x", "labs", "br0"), 0);
	cr_expect_eq(quota(&p, "x", "la", "br0"), 0);
	policy_free(&p);
}

Test(policy, the_largest_quota_wins)
{
	struct policy p;
	struct error err;
	const struct policy_rule *rule;
	cr_assert(parse(&p, "bridge br0\nallow ann br0 2\nallow @lab br0 5\nallow @ops br0 3\n",
			&err) == 0);
	const char *groups[] = {"ops", "lab"};
	struct policy_subject who = {"ann", groups, 2};
	cr_expect_eq(policy_quota(&p, &who, "br0", &rule), 5);
	cr_expect_eq(rule->origin.line, 3);
	policy_free(&p);
}

Test(policy, errors_carry_file_and_line)
{
	cr_expect_str_eq(parse_error("bridge br0\n\nfrobnicate br0\n"),
			 "netd.conf:3: unknown keyword 'frobnicate' (expected log, bridge, allow "
			 "or include)");
	cr_expect_str_eq(parse_error("bridge br0\nbridge br0\n"),
			 "netd.conf:2: bridge br0 is already declared at netd.conf:1");
	cr_expect_str_eq(parse_error("log /a\nlog /b\n"),
			 "netd.conf:2: a second 'log' line; there can be only one");
	cr_expect_str_eq(parse_error("bridge br0\nallow a br1 1\n"),
			 "netd.conf:2: bridge br1 is not declared; add 'bridge br1'");
}

Test(policy, bad_numbers)
{
	const char *bad[] = {"0", "100", "-1", "2x", "", "+1", "0x1", "1.5", "99999999999"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[128];
		snprintf(text, sizeof(text), "bridge br0\nallow a br0 %s\n", bad[i]);
		cr_expect(strstr(parse_error(text), "netd.conf:2:"), "quota '%s'", bad[i]);
	}
	struct policy p;
	struct error err;
	cr_expect(parse(&p, "bridge br0\nallow a br0 99\n", &err) == 0);
	policy_free(&p);
}

Test(policy, bad_names_and_shapes)
{
	cr_expect(strstr(parse_error("bridge abcdefghijklmnop\n"), "longer than 15 bytes"));
	cr_expect(strstr(parse_error("bridge br%d\n"), "netd.conf:1:"));
	cr_expect(strstr(parse_error("bridge br0\nallow abcdefghijklmnopqrstuvwxyzabcdefg br0 1\n"),
			 "not a valid user name"));
	cr_expect(strstr(parse_error("bridge br0\nallow @ br0 1\n"), "not a valid group name"));
	cr_expect(strstr(parse_error("bridge br0\nallow a br0\n"), "expected 'allow"));
	cr_expect(strstr(parse_error("bridge br0 extra\n"), "expected 'bridge"));
	cr_expect(strstr(parse_error("bridge br0 create 10.0.0.300/24\n"), "ADDRESS/PREFIX"));
	cr_expect(strstr(parse_error("bridge br0 create 10.0.0.1/33\n"), "ADDRESS/PREFIX"));
	cr_expect(strstr(parse_error("bridge br0 create 10.0.0.1\n"), "ADDRESS/PREFIX"));
	cr_expect(strstr(parse_error("log relative.log\n"), "absolute"));
	cr_expect(strstr(parse_error("bridge br0\nallow a br0 1\nallow a br0 2\n"),
			 "already has a rule"));
	cr_expect(strstr(parse_error("include /etc/x.conf\n"), "netd.conf:1: include"));
}

Test(policy, ipv6_and_comments)
{
	struct policy p;
	struct error err;
	cr_assert(parse(&p, "# c\n\tbridge v6 create fd00::1/64 # c\nallow @g v6 1 #c\n", &err) ==
		      0,
		  "%s", err.msg);
	cr_expect_str_eq(policy_find_bridge(&p, "v6")->address, "fd00::1/64");
	policy_free(&p);
}

/* ---- files ---- */

static char dir[] = "/tmp/vm-policy-test-XXXXXX";

static void make_dir(void)
{
	cr_assert(mkdtemp(dir));
}

static void remove_dir(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_expect(system(cmd) == 0);
}

static char *path_of(const char *name)
{
	static char paths[8][256];
	static int next;
	char *p = paths[next++ % 8];
	snprintf(p, 256, "%s/%s", dir, name);
	return p;
}

static void write_file(const char *name, mode_t mode, const char *text)
{
	char *path = path_of(name);
	FILE *f = fopen(path, "w");
	cr_assert(f);
	fputs(text, f);
	fclose(f);
	cr_assert(chmod(path, mode) == 0);
}

static const char *load_error(const char *name)
{
	static struct error err;
	struct policy p;
	cr_assert(policy_load(&p, path_of(name), getuid(), &err) < 0, "%s should not load", name);
	cr_expect_eq(p.nrules, 0);
	return err.msg;
}

TestSuite(policy_files, .init = make_dir, .fini = remove_dir);

Test(policy_files, a_good_file_with_drop_ins)
{
	char text[512];
	cr_assert(mkdir(path_of("netd.d"), 0755) == 0);
	write_file("netd.d/a.conf", 0644, "bridge br1\nallow x br1 1\n");
	write_file("netd.d/b.conf", 0644, "allow y br0 1\n");
	write_file("netd.d/ignored.txt", 0666, "garbage\n");
	snprintf(text, sizeof(text), "bridge br0\ninclude %s/netd.d/*.conf\n", dir);
	write_file("netd.conf", 0644, text);
	struct policy p;
	struct error err;
	cr_assert(policy_load(&p, path_of("netd.conf"), getuid(), &err) == 0, "%s", err.msg);
	cr_expect_eq(p.nbridges, 2);
	cr_expect_eq(p.nrules, 2);
	cr_expect_eq(quota(&p, "y", NULL, "br0"), 1);
	policy_free(&p);
}

Test(policy_files, an_empty_drop_in_directory_is_fine)
{
	char text[512];
	cr_assert(mkdir(path_of("netd.d"), 0755) == 0);
	snprintf(text, sizeof(text), "include %s/netd.d/*.conf\n", dir);
	write_file("netd.conf", 0644, text);
	struct policy p;
	struct error err;
	cr_expect(policy_load(&p, path_of("netd.conf"), getuid(), &err) == 0, "%s", err.msg);
	policy_free(&p);
}

Test(policy_files, unsafe_files_are_refused)
{
	write_file("gw.conf", 0664, "");
	cr_expect(strstr(load_error("gw.conf"), "writable by its group"));
	write_file("ow.conf", 0646, "");
	cr_expect(strstr(load_error("ow.conf"), "writable by others"));
	write_file("real.conf", 0644, "");
	cr_assert(symlink(path_of("real.conf"), path_of("link.conf")) == 0);
	cr_expect(strstr(load_error("link.conf"), "is a symbolic link"));
	cr_expect(strstr(load_error("missing.conf"), "No such file"));
	cr_assert(mkdir(path_of("dir.conf"), 0755) == 0);
	cr_expect(strstr(load_error("dir.conf"), "not a regular file"));
	struct policy p;
	struct error err;
	cr_expect(policy_load(&p, path_of("real.conf"), getuid() + 1, &err) < 0);
	cr_expect(strstr(err.msg, "must be owned by uid"), "%s", err.msg);
}

Test(policy_files, includes_fail_closed)
{
	char text[512];
	snprintf(text, sizeof(text), "bridge br0\nallow a br0 1\ninclude %s/missing.conf\n", dir);
	write_file("netd.conf", 0644, text);
	const char *msg = load_error("netd.conf");
	cr_expect(strstr(msg, "netd.conf:3: ") && strstr(msg, "missing.conf"), "%s", msg);
	write_file("bad.conf", 0664, "");
	snprintf(text, sizeof(text), "include %s/bad.conf\n", dir);
	write_file("netd.conf", 0644, text);
	cr_expect(strstr(load_error("netd.conf"), "writable by its group"));
	snprintf(text, sizeof(text), "include %s/nodir/*.conf\n", dir);
	write_file("netd.conf", 0644, text);
	cr_expect(strstr(load_error("netd.conf"), "nodir"));
	write_file("syntax.conf", 0644, "\n\nbridge\n");
	snprintf(text, sizeof(text), "include %s/syntax.conf\n", dir);
	write_file("netd.conf", 0644, text);
	cr_expect(strstr(load_error("netd.conf"), "syntax.conf:3: expected 'bridge"));
}

Test(policy_files, includes_cannot_loop)
{
	char text[512];
	snprintf(text, sizeof(text), "include %s/b.conf\n", dir);
	write_file("a.conf", 0644, text);
	snprintf(text, sizeof(text), "include %s/a.conf\n", dir);
	write_file("b.conf", 0644, text);
	cr_expect(strstr(load_error("a.conf"), "include loop"));
}

Test(policy_files, includes_have_a_depth_limit)
{
	char text[512];
	for (int i = 0; i < POLICY_INCLUDE_DEPTH + 2; i++) {
		char name[32];
		snprintf(name, sizeof(name), "d%d.conf", i);
		snprintf(text, sizeof(text), "include %s/d%d.conf\n", dir, i + 1);
		write_file(name, 0644, text);
	}
	write_file("d6.conf", 0644, "");
	cr_expect(strstr(load_error("d0.conf"), "nested deeper"));
	struct policy p;
	struct error err;
	snprintf(text, sizeof(text), "%s/d%d.conf", dir, 6 - POLICY_INCLUDE_DEPTH);
	cr_expect(policy_load(&p, text, getuid(), &err) == 0, "%s", err.msg);
	policy_free(&p);
}
