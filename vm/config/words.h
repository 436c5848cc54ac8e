/* Splitting a variable's value into words the way a shell would (quotes and
 * backslashes honoured), without running or expanding anything: used for
 * VM_QEMU_EXTRA and VM_SSH_OPTS. */
#pragma once

#include "error.h"
#include "strv.h"

/* Appends the words of text to words. Fails, naming what is wrong, on an
 * unterminated quote or a trailing backslash; words is then left as it was. */
int words_split(const char *text, struct strv *words, struct error *err);
/* The words as one line a shell (and words_split) reads back as the same
 * words: any word with characters a shell treats specially is quoted. For
 * showing command lines that users can copy. The caller frees it. */
char *words_join_quoted(char *const words[]);
/* The n words joined with single spaces, as they are (no quoting): how
 * VM_PARAMS and a monitor command line are told. */
char *words_join(int n, char *const words[]);
