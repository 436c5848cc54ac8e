/* vm-netd's policy: which users and groups may have how many taps on which
 * bridges, and which bridges vm-netd may create.
 *
 *   log /var/log/vm-netd.log          optional audit file
 *   bridge br0                        a bridge someone else manages
 *   bridge vmlab create 10.77.0.1/24  vm-netd may create it (address optional)
 *   allow daniel br0 2                user daniel: at most 2 taps on br0
 *   allow @kvm vmlab 4                members of group kvm: at most 4 taps
 *   include /etc/vm/netd.d/NAME.conf  drop-ins (wildcards allowed) (root-owned, not group/other
 * writable)
 *
 * Default deny. Any error in any file denies everything. */
#pragma once

#include "error.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define POLICY_NAME_MAX 32     /* user and group names */
#define POLICY_QUOTA_MAX 99    /* taps per rule (tap names have a two-digit index) */
#define POLICY_INCLUDE_DEPTH 4 /* files included from included files, and so on */
#define POLICY_FILE_MAX 65536  /* bytes in one file */

struct policy_origin {
	const char *file; /* owned by the policy */
	unsigned line;
};

struct policy_bridge {
	char name[16];
	bool create;
	char address[64]; /* "ADDR/PREFIX" for a created bridge, or "" */
	struct policy_origin origin;
};

struct policy_rule {
	char subject[POLICY_NAME_MAX + 1]; /* a user name, or a group name when group */
	bool group;
	char bridge[16];
	unsigned quota;
	struct policy_origin origin;
};

struct policy {
	char *log; /* the audit file, or NULL */
	struct policy_bridge *bridges;
	size_t nbridges;
	struct policy_rule *rules;
	size_t nrules;
	char **files; /* every file read, for origins */
	size_t nfiles;
};

#define POLICY_INIT                                                                                \
	{                                                                                          \
		0                                                                                  \
	}

/* Who asks: a user and the names of its groups (primary and supplementary). */
struct policy_subject {
	const char *user;
	const char *const *groups;
	size_t ngroups;
};

/* Reads path and every file it includes. Each must be a regular file (not a
 * symlink) owned by owner (root for vm-netd) that neither group nor others
 * can write. Errors say FILE:LINE: reason. On error the policy is left
 * empty, so that it denies everything. */
int policy_load(struct policy *policy, const char *path, uid_t owner, struct error *err);
/* Parses text as if it were the file name (include lines are refused);
 * for --check of text, tests and fuzzing. */
int policy_parse_text(struct policy *policy, const char *name, const char *text, size_t len,
		      struct error *err);
void policy_free(struct policy *policy);
/* path is absolute, and each directory above it is owned by root (or
 * owner) and not writable by others (unless sticky): for the policy's
 * files and the audit log. */
int policy_check_parents(const char *path, uid_t owner, struct error *err);

const struct policy_bridge *policy_find_bridge(const struct policy *policy, const char *name);
/* The largest quota the rules give subject on bridge (0: none). When rule is
 * not NULL it points to the rule that gave it. */
unsigned policy_quota(const struct policy *policy, const struct policy_subject *subject,
		      const char *bridge, const struct policy_rule **rule);
