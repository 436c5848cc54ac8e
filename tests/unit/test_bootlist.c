/* The machine list for boot: each line's fields, the refusals and their
 * FILE:LINE, and that one refused line leaves the others in force. */
#include "boot/bootlist.h"
#include "vmtest.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct boot_entry parse_ok(const char *line)
{
	struct boot_entry e;
	struct error err;
	int rc = bootlist_parse_line(line, &e, &err);
	cr_assert_eq(rc, 1, "'%s' refused: %s", line, err.msg);
	return e;
}

static const char *parse_refused(const char *line)
{
	static struct error err;
	struct boot_entry e;
	cr_assert_eq(bootlist_parse_line(line, &e, &err), -1, "'%s' accepted", line);
	return err.msg;
}

Test(bootlist, save_with_default_timeout)
{
	struct boot_entry e = parse_ok("/srv/vm/guix  daniel  save:boot\n");
	cr_assert_str_eq(e.dir, "/srv/vm/guix");
	cr_assert_str_eq(e.owner, "daniel");
	cr_assert_eq(e.shutdown, BOOT_SHUTDOWN_SAVE);
	cr_assert_str_eq(e.save_name, "boot");
	cr_assert_eq(e.timeout_s, BOOT_TIMEOUT_DEFAULT_S);
	boot_entry_free(&e);
}

Test(bootlist, poweroff_with_timeout_and_comment)
{
	struct boot_entry e = parse_ok("/home/a/vm/// alice poweroff 120 # the lab");
	cr_assert_str_eq(e.dir, "/home/a/vm");
	cr_assert_eq(e.shutdown, BOOT_SHUTDOWN_POWEROFF);
	cr_assert_null(e.save_name);
	cr_assert_eq(e.timeout_s, 120);
	boot_entry_free(&e);
}

Test(bootlist, timeout_units)
{
	struct boot_entry e = parse_ok("/m a poweroff 5m");
	cr_assert_eq(e.timeout_s, 300);
	boot_entry_free(&e);
	e = parse_ok("/m a poweroff 45s");
	cr_assert_eq(e.timeout_s, 45);
	boot_entry_free(&e);
	e = parse_ok("/m a poweroff 900");
	cr_assert_eq(e.timeout_s, BOOT_TIMEOUT_MAX_S);
	boot_entry_free(&e);
}

Test(bootlist, nat_in_either_order)
{
	struct boot_entry e = parse_ok("/m a poweroff nat");
	cr_assert(e.nat);
	cr_assert_eq(e.timeout_s, BOOT_TIMEOUT_DEFAULT_S);
	boot_entry_free(&e);
	e = parse_ok("/m a save:x nat 60");
	cr_assert(e.nat);
	cr_assert_eq(e.timeout_s, 60);
	boot_entry_free(&e);
	e = parse_ok("/m a save:x 60");
	cr_assert_not(e.nat);
	boot_entry_free(&e);
}

Test(bootlist, blank_and_comment_lines)
{
	struct boot_entry e;
	struct error err;
	cr_assert_eq(bootlist_parse_line("\n", &e, &err), 0);
	cr_assert_eq(bootlist_parse_line("   # /srv/vm/x alice poweroff\n", &e, &err), 0);
}

Test(bootlist, refusals_say_why)
{
	cr_assert(strstr(parse_refused("srv/vm alice poweroff"), "not an absolute path"));
	cr_assert(strstr(parse_refused("/srv/../etc alice poweroff"), "'..'"));
	cr_assert(strstr(parse_refused("/srv/vm root poweroff"), "root"));
	cr_assert(strstr(parse_refused("/srv/vm al/ce poweroff"), "not a user name"));
	cr_assert(strstr(parse_refused("/srv/vm alice freeze"), "save:NAME or poweroff"));
	cr_assert(strstr(parse_refused("/srv/vm alice save:"), "state's name"));
	cr_assert(strstr(parse_refused("/srv/vm alice save:a;b"), "state's name"));
	cr_assert(strstr(parse_refused("/srv/vm alice poweroff 0"), "out of range"));
	cr_assert(strstr(parse_refused("/srv/vm alice poweroff 901"), "out of range"));
	cr_assert(strstr(parse_refused("/srv/vm alice poweroff soon"), "neither a time-out"));
	cr_assert(strstr(parse_refused("/srv/vm alice poweroff 5x"), "seconds"));
	cr_assert(strstr(parse_refused("/srv/vm alice"), "found 2 fields"));
	cr_assert(strstr(parse_refused("/srv/vm alice poweroff 5 extra"), "neither a time-out"));
	cr_assert(strstr(parse_refused("/srv/vm alice poweroff 5 nat 6"), "found 6 fields"));
	cr_assert(strstr(parse_refused("/srv/vm alice poweroff 5 6"), "time-out given twice"));
	cr_assert(strstr(parse_refused("/srv/vm alice poweroff nat nat"), "'nat' given twice"));
}

static char *write_list(const char *text, mode_t mode)
{
	char *path = vt_write(vt_tmpdir(), "machines", text);
	cr_assert_eq(chmod(path, mode), 0);
	return path;
}

Test(bootlist, refused_lines_leave_the_others)
{
	if (geteuid() != 0)
		cr_skip_test("the list must belong to root: run as root");
	char *path = write_list("# machines\n"
				"/srv/vm/a alice save:boot\n"
				"/srv/vm/b bob freeze\n"
				"\n"
				"/srv/vm/a/ carol poweroff\n"
				"/srv/vm/c carol poweroff 60\n",
				0644);
	struct boot_list list;
	struct error err;
	cr_assert_eq(bootlist_load(path, &list, &err), 0, "%s", err.msg);
	cr_assert_eq(list.count, 2);
	cr_assert_str_eq(list.entries[0].dir, "/srv/vm/a");
	cr_assert_eq(list.entries[0].line, 2);
	cr_assert_str_eq(list.entries[1].dir, "/srv/vm/c");
	cr_assert_eq(list.entries[1].line, 6);
	cr_assert_eq(list.problem_count, 2);
	char where[256];
	snprintf(where, sizeof(where), "%s:3: ", path);
	cr_assert(strstr(list.problems[0], where), "%s", list.problems[0]);
	snprintf(where, sizeof(where), "%s:5: ", path);
	cr_assert(strstr(list.problems[1], where), "%s", list.problems[1]);
	cr_assert(strstr(list.problems[1], "already listed on line 2"), "%s", list.problems[1]);
	cr_assert_not_null(bootlist_find(&list, "/srv/vm/c/"));
	cr_assert_null(bootlist_find(&list, "/srv/vm/b"));
	bootlist_free(&list);
	unlink(path);
	free(path);
}

Test(bootlist, a_list_others_can_write_is_refused)
{
	if (geteuid() != 0)
		cr_skip_test("the list must belong to root: run as root");
	char *path = write_list("/srv/vm/a alice poweroff\n", 0664);
	struct boot_list list;
	struct error err;
	cr_assert_eq(bootlist_load(path, &list, &err), -1);
	cr_assert(strstr(err.msg, "writable by root only"), "%s", err.msg);
	bootlist_free(&list);
	unlink(path);
	free(path);
}

Test(bootlist, a_missing_list_is_an_error)
{
	struct boot_list list;
	struct error err;
	cr_assert_eq(bootlist_load("/nonexistent/machines", &list, &err), -1);
	cr_assert(strstr(err.msg, "/nonexistent/machines"), "%s", err.msg);
	bootlist_free(&list);
}
