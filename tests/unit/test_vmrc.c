/* The .vmrc reader: what real users write is accepted; anything that would
 * run a command is refused with FILE:LINE and nothing runs. */
#include "config/vmrc.h"
#include "strbuf.h"
#include "vmtest.h"
#include "xalloc.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct vars vars;
static struct error err;

static void setup(void)
{
	vars = (struct vars)VARS_INIT;
	vars_set(&vars, "HOME", "/home/daniel");
	vars_set(&vars, "X", "ex");
	err.msg[0] = '\0';
}

static void teardown(void)
{
	vars_free(&vars);
}

static int parse(const char *text)
{
	return vmrc_parse(".vmrc", text, strlen(text), &vars, &err);
}

static const char *get(const char *name)
{
	return vars_get(&vars, name);
}

TestSuite(vmrc, .init = setup, .fini = teardown);

Test(vmrc, accepts_the_three_kinds_of_quoting)
{
	cr_assert_eq(parse("A=plain\nB='single $X \"q\"'\nC=\"double $X 'q'\"\n"), 0, "%s",
		     err.msg);
	cr_assert_str_eq(get("A"), "plain");
	cr_assert_str_eq(get("B"), "single $X \"q\"");
	cr_assert_str_eq(get("C"), "double ex 'q'");
}

Test(vmrc, accepts_comments_blank_lines_and_export)
{
	cr_assert_eq(parse("# a comment\n\n   \nexport A=1 # trailing comment\n"
			   "\texport B=2 C=3\nexport A\nD=x#not-a-comment\n"),
		     0, "%s", err.msg);
	cr_assert_str_eq(get("A"), "1");
	cr_assert_str_eq(get("B"), "2");
	cr_assert_str_eq(get("C"), "3");
	cr_assert_str_eq(get("D"), "x#not-a-comment");
}

Test(vmrc, expands_dollar_name_and_braces_from_earlier_values)
{
	cr_assert_eq(parse("VM_MACHINE_NAME=guix\nA=$VM_MACHINE_NAME-x\nB=${VM_MACHINE_NAME}x\n"
			   "C=\"${X}/$X\"\nD=$UNSET.\nE=${UNSET:-dflt}\nF=${X:-dflt}\n"
			   "G=${EMPTY-set}\nEMPTY=\nH=${EMPTY-unset}${EMPTY:-empty}\n"
			   "I=${UNSET:-two words}\nJ=cost\\$5\nK=\"a\\\"b\"\n"),
		     0, "%s", err.msg);
	cr_assert_str_eq(get("A"), "guix-x");
	cr_assert_str_eq(get("B"), "guixx");
	cr_assert_str_eq(get("C"), "ex/ex");
	cr_assert_str_eq(get("D"), ".");
	cr_assert_str_eq(get("E"), "dflt");
	cr_assert_str_eq(get("F"), "ex");
	cr_assert_str_eq(get("G"), "set");
	cr_assert_str_eq(get("H"), "empty");
	cr_assert_str_eq(get("I"), "two words");
	cr_assert_str_eq(get("J"), "cost$5");
	cr_assert_str_eq(get("K"), "a\"b");
}

Test(vmrc, accepts_user_defined_variables_and_tilde)
{
	cr_assert_eq(parse("MY_BACKUP_HOST=nas.local\nlower_case=1\nDIR=~/vms\n"), 0, "%s",
		     err.msg);
	cr_assert_str_eq(get("MY_BACKUP_HOST"), "nas.local");
	cr_assert_str_eq(get("lower_case"), "1");
	cr_assert_str_eq(get("DIR"), "/home/daniel/vms");
}

Test(vmrc, accepts_crlf_line_endings)
{
	cr_assert_eq(parse("A=1\r\nB=\"two\"\r\n# c\r\nC='3'\r\n"), 0, "%s", err.msg);
	cr_assert_str_eq(get("A"), "1");
	cr_assert_str_eq(get("B"), "two");
	cr_assert_str_eq(get("C"), "3");
}

Test(vmrc, accepts_continuations_and_multi_line_quotes)
{
	cr_assert_eq(parse("VM_QEMU_EXTRA=\"-kernel k \\\n -append 'x y'\"\nB='a\nb'\nC=3\n"), 0,
		     "%s", err.msg);
	cr_assert_str_eq(get("VM_QEMU_EXTRA"), "-kernel k  -append 'x y'");
	cr_assert_str_eq(get("B"), "a\nb");
	cr_assert_str_eq(get("C"), "3");
}

/* Refusals: the message names the file and line, and nothing was run. */
static void assert_refused(const char *text, int line, const char *reason_part)
{
	char prefix[64];
	snprintf(prefix, sizeof(prefix), ".vmrc:%d: ", line);
	cr_assert_eq(parse(text), -1, "accepted: %s", text);
	cr_assert(strncmp(err.msg, prefix, strlen(prefix)) == 0, "'%s' does not start with '%s'",
		  err.msg, prefix);
	cr_assert(strstr(err.msg, reason_part), "'%s' does not mention '%s'", err.msg, reason_part);
}

/* Found by fuzz_vmrc: "J=L\n\x01\xff" was refused on line 2 with J set. */
Test(vmrc, a_refused_text_changes_no_variable)
{
	assert_refused("NEW=1\nX=changed\nA=1; B=2\n", 3, "';'");
	cr_assert_null(get("NEW"));
	cr_assert_str_eq(get("X"), "ex");
	cr_assert_str_eq(get("HOME"), "/home/daniel");
	cr_assert_eq(vars.n, 2);
}

Test(vmrc, refuses_command_substitution_and_runs_nothing)
{
	char *marker = xasprintf("%s/ran", vt_tmpdir());
	char *text = xasprintf("A=1\nB=$(touch %s)\n", marker);
	assert_refused(text, 2, "command substitution");
	free(text);
	text = xasprintf("A=\"$(touch %s)\"\n", marker);
	assert_refused(text, 1, "command substitution");
	free(text);
	text = xasprintf("\n\n$(touch %s)\n", marker);
	assert_refused(text, 3, "command substitution");
	free(text);
	cr_assert_not(access(marker, F_OK) == 0, "%s was created: something ran", marker);
	free(marker);
}

Test(vmrc, refuses_backticks)
{
	assert_refused("A=`id`\n", 1, "backtick");
	assert_refused("# ok\nA=\"`id`\"\n", 2, "backtick");
}

Test(vmrc, refuses_semicolon_pipe_and_and)
{
	assert_refused("A=1; B=2\n", 1, "';'");
	assert_refused("A=1\nB=2 | cat\n", 2, "'|'");
	assert_refused("A=1 && B=2\n", 1, "'&'");
	assert_refused("A=1 > /tmp/x\n", 1, "redirection");
	assert_refused("A=(1 2)\n", 1, "parentheses");
}

Test(vmrc, refuses_commands_and_keywords)
{
	assert_refused("echo hi\n", 1, "'echo' is a command");
	assert_refused("A=1\nif true; then A=2; fi\n", 2, "'if' is a command");
	assert_refused(". /etc/profile\n", 1, "not an assignment");
	assert_refused("A=1 rm -rf /\n", 1, "'rm' is a command");
	assert_refused("A=$1\n", 1, "special parameters");
	assert_refused("A=${X/e/f}\n", 1, "unsupported expansion");
}

Test(vmrc, refuses_unterminated_quotes_naming_the_opening_line)
{
	assert_refused("A=1\nB=\"open\nC=2\n", 2, "unterminated \" quote");
	assert_refused("A='open\n", 1, "unterminated ' quote");
	assert_refused("A=${X\n", 1, "unterminated ${");
}

Test(vmrc, refuses_a_nul_byte)
{
	const char text[] = "A=1\nB=2\0C=3\n";
	cr_assert_eq(vmrc_parse(".vmrc", text, sizeof(text) - 1, &vars, &err), -1);
	cr_assert_str_eq(err.msg, ".vmrc:2: contains a NUL byte: not a text file");
}

Test(vmrc, refuses_a_one_mebibyte_line)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_adds(&sb, "A=1\nB=");
	for (int i = 0; i < 1024 * 1024; i++)
		strbuf_addc(&sb, 'x');
	strbuf_addc(&sb, '\n');
	cr_assert_eq(vmrc_parse(".vmrc", sb.s, sb.len, &vars, &err), -1);
	cr_assert_str_eq(err.msg, ".vmrc:2: line too long (at most 8192 bytes)");
	strbuf_free(&sb);
}

Test(vmrc, refuses_ten_thousand_lines)
{
	struct strbuf sb = STRBUF_INIT;
	for (int i = 0; i < 10000; i++)
		strbuf_adds(&sb, "A=1\n");
	cr_assert_eq(vmrc_parse(".vmrc", sb.s, sb.len, &vars, &err), -1);
	cr_assert_str_eq(err.msg, ".vmrc:4097: too many lines (at most 4096)");
	strbuf_free(&sb);
}

/* Twenty lines of A=$A$A$A$A would make 16 TiB of A: refused, quickly. */
Test(vmrc, refuses_expansions_that_grow_without_bound)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_adds(&sb, "A=0123456789abcdef\n");
	for (int i = 0; i < 20; i++)
		strbuf_adds(&sb, "A=$A$A${A}${A:-x}\n");
	cr_assert_eq(vmrc_parse(".vmrc", sb.s, sb.len, &vars, &err), -1);
	cr_assert(strstr(err.msg, ".vmrc:9: the expansions add up to more than 1 MiB"), "%s",
		  err.msg);
	cr_assert_null(get("A"));
	strbuf_free(&sb);
}

Test(vmrc, load_reads_a_file_and_names_it_in_errors)
{
	char *path = vt_write(vt_tmpdir(), ".vmrc", "A=1\nB=`x`\n");
	cr_assert_eq(vmrc_load(path, &vars, &err), -1);
	char *expected = xasprintf("%s:2: ", path);
	cr_assert(strncmp(err.msg, expected, strlen(expected)) == 0, "%s", err.msg);
	free(path);
	free(expected);
	cr_assert_eq(vmrc_load("/nonexistent/.vmrc", &vars, &err), -1);
	cr_assert_str_eq(err.msg, "/nonexistent/.vmrc: No such file or directory");
}

/* A shell reads $'a\tb' as "a<TAB>b": refused, never read as "$a\tb". */
Test(vmrc, refuses_ansi_c_and_locale_quoting)
{
	assert_refused("A=1\nB=$'a\\tb'\n", 2, "$'...' and $\"...\" quoting is not supported");
	cr_assert_null(get("B"));
	assert_refused("B=x$\"y\"\n", 1, "quoting is not supported");
	/* Inside double quotes the shell keeps them literally, and so does vm. */
	cr_assert_eq(parse("C=\"$'a'\"\nD='$\"b\"'\n"), 0, "%s", err.msg);
	cr_assert_str_eq(get("C"), "$'a'");
	cr_assert_str_eq(get("D"), "$\"b\"");
}

/* What a shell would export: the environment's variables and those marked
 * export, by an assignment or alone. */
Test(vmrc, marks_what_a_shell_would_export)
{
	char *env[] = {"FROM_ENV=1", NULL};
	vars_import_environ(&vars, env);
	cr_assert_eq(parse("FROM_ENV=2\nexport SHOWN=a\nLOCAL=b\nLATER=c\nexport LATER\n"), 0, "%s",
		     err.msg);
	const char *exported[] = {"FROM_ENV", "SHOWN", "LATER"};
	for (size_t i = 0; i < 3; i++)
		for (size_t j = 0; j < vars.n; j++)
			if (!strcmp(vars.v[j].name, exported[i]))
				cr_assert(vars.v[j].exported, "%s not exported", exported[i]);
	for (size_t j = 0; j < vars.n; j++)
		if (!strcmp(vars.v[j].name, "LOCAL") || !strcmp(vars.v[j].name, "X"))
			cr_assert_not(vars.v[j].exported, "%s exported", vars.v[j].name);
	cr_assert_str_eq(get("FROM_ENV"), "2");
}

/* vmrc(5): at most 4096 lines; the newline that ends the last one is fine. */
Test(vmrc, reads_4096_lines_and_refuses_the_4097th)
{
	struct strbuf text = STRBUF_INIT;
	for (int i = 1; i < 4096; i++)
		strbuf_addf(&text, "# %d\n", i);
	strbuf_adds(&text, "A=1\n");
	cr_assert_eq(parse(strbuf_str(&text)), 0, "%s", err.msg);
	cr_assert_str_eq(get("A"), "1");
	strbuf_adds(&text, "B=2\n");
	cr_assert_eq(parse(strbuf_str(&text)), -1);
	cr_assert_str_eq(err.msg, ".vmrc:4097: too many lines (at most 4096)");
	strbuf_free(&text);
}
