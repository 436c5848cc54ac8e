/* Step 4a: down to CAP_NET_ADMIN, as the caller.
 *
 * As root, the saved gid stays one the caller does not have: the kernel
 * lets a process prlimit() another only when all its ids are the caller's,
 * and a caller that could lower our RLIMIT_FSIZE after the drop could cut
 * the audit record short. The gid opens nothing here (the sandbox allows no
 * open and no set*id), and the caller can still signal its own helper,
 * which only ever ends its own request. */
#include "netd.h"

#include <cap-ng.h>
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* 0, or, for a caller whose group is 0, the overflow gid. */
static gid_t saved_gid_for(gid_t caller)
{
	return caller != 0 ? 0 : 65534;
}

static bool ids_are_callers(const struct netd_state *s, bool was_root)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
		return false;
	gid_t saved = was_root ? saved_gid_for(s->gid) : s->gid;
	if (ru != s->uid || eu != s->uid || su != s->uid || rg != s->gid || eg != s->gid ||
	    sg != saved)
		return false;
	/* As root we drop the supplementary groups; with file capabilities they
	 * are the caller's own already. */
	return !was_root || getgroups(0, NULL) == 0;
}

/* Calls each on every line of /proc/self/status, the kernel's own account
 * of our credentials, until it returns false; false when the file cannot be
 * read or each stopped. */
static bool for_each_status_line(bool (*each)(const char *line, void *arg), void *arg)
{
	FILE *f = fopen("/proc/self/status", "re");
	if (!f)
		return false;
	char *line = NULL;
	size_t size = 0;
	bool ok = true;
	while (ok && getline(&line, &size, f) > 0)
		ok = each(line, arg);
	free(line);
	fclose(f);
	return ok;
}

/* One line, "CapXxx:\t<hex>": true when it is one of the five sets and
 * holds what it must; seen (an unsigned) counts the sets checked. */
static bool cap_line_as_wanted(const char *line, void *seen)
{
	static const char *const sets[] = {"CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:"};
	static const unsigned long long want[] = {0, 1ULL << CAP_NET_ADMIN, 1ULL << CAP_NET_ADMIN,
						  0, 0};
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		if (strncmp(line, sets[i], strlen(sets[i])))
			continue;
		char *end;
		errno = 0;
		unsigned long long value = strtoull(line + strlen(sets[i]), &end, 16);
		(*(unsigned *)seen)++;
		return !errno && *end == '\n' && value == want[i];
	}
	return true;
}

/* The capability sets as the kernel reports them, all five from one read
 * of /proc/self/status (what the root tests read from outside, too). */
static bool only_net_admin_left(void)
{
	unsigned seen = 0;
	return for_each_status_line(cap_line_as_wanted, &seen) && seen == 5;
}

/* "TracerPid:\t<pid>": the pid goes to tracer (a long); the search ends. */
static bool read_tracer(const char *line, void *tracer)
{
	static const char field[] = "TracerPid:";
	if (strncmp(line, field, sizeof(field) - 1))
		return true;
	*(long *)tracer = strtol(line + sizeof(field) - 1, NULL, 10);
	return false;
}

bool is_traced(void)
{
	long tracer = 0;
	for_each_status_line(read_tracer, &tracer);
	return tracer > 0;
}

bool has_net_admin(void)
{
	struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	return syscall(SYS_capget, &header, data) == 0 &&
	       (data[CAP_TO_INDEX(CAP_NET_ADMIN)].effective & CAP_TO_MASK(CAP_NET_ADMIN));
}

/* Every capability out of the bounding set, while CAP_SETPCAP is still
 * ours; the kernel says EINVAL past its last one. Not libcap-ng's
 * CAPNG_CLEAR_BOUNDING: it makes the same drops but reads /proc/self/status
 * three times around them (a tenth of a millisecond per request), and
 * only_net_admin_left reads it once anyway, to see that they took. */
static void clear_bounding_set(void)
{
	for (int cap = 0; prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0; cap++)
		;
}

void drop_privileges(struct netd_state *s)
{
	bool was_root = geteuid() == 0;
	clear_bounding_set();
	capng_clear(CAPNG_SELECT_ALL);
	capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_NET_ADMIN);
	int flags = CAPNG_CLEAR_AMBIENT;
	int rc = -1;
	if (!was_root)
		rc = capng_change_id(-1, -1, flags);
	else if (setgroups(0, NULL) == 0 && setresgid(s->gid, s->gid, saved_gid_for(s->gid)) == 0)
		rc = capng_change_id((int)s->uid, -1, flags);
	/* Check the result rather than trust the calls. */
	s->dropped = rc == 0 && ids_are_callers(s, was_root) && only_net_admin_left();
	if (!s->dropped)
		netd_decide(s, NETD_FAILED, EPERM,
			    "cannot drop privileges to CAP_NET_ADMIN as uid %u (libcap-ng: %d)",
			    (unsigned)s->uid, rc);
	/* A change of credentials may have made us dumpable again. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}
