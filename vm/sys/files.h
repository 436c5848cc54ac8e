/* What the system says about paths, for any part. */
#pragma once

#include <stdbool.h>

/* Whether a and b name the same file (same device and inode, links
 * followed); false when either cannot be reached. */
bool files_same(const char *a, const char *b);
