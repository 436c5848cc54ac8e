/* libFuzzer: words_split, as vm splits VM_QEMU_EXTRA and VM_SSH_OPTS, and
 * its inverse words_join_quoted, on arbitrary text.
 * Properties: what splits, joined and split again, gives the same words; any
 * list of words (the input cut at NUL bytes), joined and split, gives itself
 * back; a refused text leaves the word list as it was. */
#include "config/words.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void assert_same(const struct strv *a, const struct strv *b)
{
	if (a->n != b->n)
		__builtin_trap();
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]))
			__builtin_trap();
}

/* Joins words and splits the line again: the same words must come back. */
static void assert_round_trip(struct strv *words)
{
	char *line = words_join_quoted(strv_argv(words));
	struct strv again = STRV_INIT;
	struct error err;
	if (words_split(line, &again, &err) < 0)
		__builtin_trap();
	assert_same(words, &again);
	strv_free(&again);
	free(line);
}

/* The input as a NUL-terminated text, split as vm splits a variable. */
static void split_text(const uint8_t *data, size_t size)
{
	char *text = strndup((const char *)data, size);
	struct strv words = STRV_INIT;
	strv_add(&words, "kept");
	struct error err;
	if (words_split(text, &words, &err) < 0) {
		if (words.n != 1 || strcmp(words.v[0], "kept"))
			__builtin_trap();
	} else {
		assert_round_trip(&words);
	}
	strv_free(&words);
	free(text);
}

/* The input as a list of words, cut at its NUL bytes. */
static void join_words(const uint8_t *data, size_t size)
{
	struct strv words = STRV_INIT;
	for (size_t start = 0, i = 0; i <= size; i++) {
		if (i == size || data[i] == '\0') {
			char *word = strndup((const char *)data + start, i - start);
			strv_push(&words, word);
			start = i + 1;
		}
	}
	assert_round_trip(&words);
	strv_free(&words);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	split_text(data, size);
	join_words(data, size);
	return 0;
}
