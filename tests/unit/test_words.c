/* Splitting VM_QEMU_EXTRA and VM_SSH_OPTS into words like a shell would,
 * without running anything. */
#include "config/words.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static struct strv split(const char *text)
{
	struct strv words = STRV_INIT;
	struct error err;
	cr_assert_eq(words_split(text, &words, &err), 0, "%s: %s", text, err.msg);
	return words;
}

static void assert_words(const char *text, const char *const *expected)
{
	struct strv words = split(text);
	size_t n = 0;
	for (; expected[n]; n++) {
		cr_assert(n < words.n, "%s: only %zu words", text, words.n);
		cr_assert_str_eq(words.v[n], expected[n], "%s: word %zu", text, n);
	}
	cr_assert_eq(words.n, n, "%s: %zu words, expected %zu", text, words.n, n);
	strv_free(&words);
}

Test(words, blanks_separate_words)
{
	assert_words("  -m 256\t-smp  2\n", (const char *[]){"-m", "256", "-smp", "2", NULL});
	assert_words("", (const char *[]){NULL});
	assert_words("   ", (const char *[]){NULL});
}

Test(words, single_quotes_keep_everything)
{
	assert_words("-append 'console=ttyS0 root=/dev/vda $HOME \\n'",
		     (const char *[]){"-append", "console=ttyS0 root=/dev/vda $HOME \\n", NULL});
}

Test(words, double_quotes_honour_their_escapes_only)
{
	assert_words("\"a \\\"b\\\" \\$c \\d\"", (const char *[]){"a \"b\" $c \\d", NULL});
}

Test(words, quotes_join_with_their_neighbours)
{
	assert_words("-o'UserKnownHostsFile=/tmp/a b'x \"\"",
		     (const char *[]){"-oUserKnownHostsFile=/tmp/a bx", "", NULL});
}

Test(words, backslash_escapes_a_blank)
{
	assert_words("a\\ b c\\\nd", (const char *[]){"a b", "cd", NULL});
}

Test(words, nothing_is_expanded_or_run)
{
	assert_words("$(touch /tmp/words-pwned) `id` ; | &",
		     (const char *[]){"$(touch", "/tmp/words-pwned)", "`id`", ";", "|", "&", NULL});
}

Test(words, unterminated_quotes_fail_and_add_nothing)
{
	const char *bad[] = {"-append 'open", "\"open", "trailing\\"};
	for (size_t i = 0; i < 3; i++) {
		struct strv words = STRV_INIT;
		strv_add(&words, "kept");
		struct error err;
		cr_assert_eq(words_split(bad[i], &words, &err), -1, "%s", bad[i]);
		cr_assert(strstr(err.msg, bad[i]), "%s: %s", bad[i], err.msg);
		cr_assert_eq(words.n, 1);
		strv_free(&words);
	}
}

Test(words, quoted_lines_split_back_into_the_same_words)
{
	const char *words[] = {
	    "qemu", "-append", "console=ttyS0 root=/dev/vda", "it's", "", "$HOME", "a\"b", "-m",
	    "256",  NULL};
	char *line = words_join_quoted((char *const *)words);
	cr_assert_str_eq(line, "qemu -append 'console=ttyS0 root=/dev/vda' 'it'\\''s' '' '$HOME' "
			       "'a\"b' -m 256");
	struct strv back = split(line);
	for (size_t i = 0; words[i]; i++)
		cr_assert_str_eq(back.v[i], words[i]);
	cr_assert_eq(back.n, 9);
	strv_free(&back);
	free(line);
}
