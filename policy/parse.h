/* Inside the policy library: the line parser and the file loader meet here. */
#pragma once

#include "policy.h"

#include <sys/types.h>

struct parse_context;
typedef int (*policy_include_fn)(struct policy *policy, struct parse_context *ctx,
				 const char *pattern, struct error *err);

struct parse_context {
	policy_include_fn include; /* NULL: include lines are refused */
	uid_t owner;
	unsigned depth;
	struct {
		dev_t dev;
		ino_t ino;
	} open_files[POLICY_INCLUDE_DEPTH + 1]; /* the chain of includes, for loops */
};

int policy_parse_lines(struct policy *policy, struct parse_context *ctx, const char *name,
		       const char *text, size_t len, struct error *err);
int policy_check_rules(const struct policy *policy, struct error *err);
/* Keeps a copy of a file name for origins; returns the copy. */
const char *policy_keep_file(struct policy *policy, const char *file);
