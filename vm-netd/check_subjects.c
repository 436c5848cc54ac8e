/* vm-netd --check, past the policy's syntax: what each subject of the
 * rules would meet.
 *
 * - A user or group this host does not know is warned of: the rule grants
 *   nothing (often a typo).
 * - With file capabilities vm-netd is not root but its caller with
 *   CAP_NET_ADMIN, and opens the policy, /dev/net/tun and the log file with
 *   its caller's ids: a policy that root can read may still deny every
 *   request. So each subject tries what its requests would do, in a child
 *   with that subject's ids: a user with its own groups, a group as a
 *   member with no other group. */
#include "netd.h"

#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* A member of a group, and nothing else: the overflow uid (nobody). */
#define MEMBER_UID 65534

struct subject_ids {
	char label[POLICY_NAME_MAX + 32]; /* "user alice", "a member of group kvm" */
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	int ngroups;
};

bool works_as_its_caller(void)
{
	struct stat st;
	return stat("/proc/self/exe", &st) == 0 && !is_setuid_root(&st) &&
	       exe_has_file_capabilities();
}

/* False when the rule's subject does not exist on this host (then no
 * request is its). */
static bool ids_of(const struct policy_rule *rule, struct subject_ids *ids)
{
	*ids = (struct subject_ids){0};
	if (rule->group) {
		struct group *gr = getgrnam(rule->subject);
		if (!gr)
			return false;
		snprintf(ids->label, sizeof(ids->label), "a member of group %s", rule->subject);
		ids->uid = MEMBER_UID;
		ids->gid = gr->gr_gid;
		ids->groups = xcalloc(1, sizeof(gid_t));
		ids->groups[0] = gr->gr_gid;
		ids->ngroups = 1;
		return true;
	}
	struct passwd *pw = getpwnam(rule->subject);
	if (!pw)
		return false;
	snprintf(ids->label, sizeof(ids->label), "user %s", rule->subject);
	ids->uid = pw->pw_uid;
	ids->gid = pw->pw_gid;
	int n = 0;
	getgrouplist(rule->subject, pw->pw_gid, NULL, &n);
	ids->groups = xcalloc((size_t)n + 1, sizeof(gid_t));
	if (getgrouplist(rule->subject, pw->pw_gid, ids->groups, &n) < 0)
		n = 0;
	ids->ngroups = n;
	return true;
}

static void tun_problem(char *problem, size_t size)
{
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd >= 0)
		close(fd);
	else
		snprintf(problem, size,
			 "cannot open /dev/net/tun (%s): make it 0666 (udev's usual), or install "
			 "vm-netd setuid root",
			 strerror(errno));
}

static void log_problem(const char *log, char *problem, size_t size)
{
	int fd = open(log, O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0)
		close(fd);
	else
		snprintf(problem, size,
			 "cannot write the log file %s (%s): remove the 'log' line from the "
			 "policy (records then go to syslog), or install vm-netd setuid root",
			 log, strerror(errno));
}

/* In the child, as the subject: the first thing its requests would fail
 * at, in the admin's words, or "" when none. */
static void try_as_subject(const char *path, char *problem, size_t size)
{
	struct policy policy;
	struct error err;
	problem[0] = '\0';
	if (policy_load(&policy, path, 0, &err) < 0) {
		snprintf(problem, size,
			 "cannot read the policy: %s: make the policy, its includes and their "
			 "directories readable by the users it names (chmod 0644), or install "
			 "vm-netd setuid root",
			 err.msg);
		return;
	}
	tun_problem(problem, size);
	if (!problem[0] && policy.log)
		log_problem(policy.log, problem, size);
	policy_free(&policy);
}

/* The problem the subject meets, through a pipe from a child with its ids;
 * false when there is none. */
static bool problem_as(const struct subject_ids *ids, const char *path, char *problem, size_t size)
{
	int report[2];
	if (pipe2(report, O_CLOEXEC) < 0) {
		snprintf(problem, size, "cannot try it: %s", strerror(errno));
		return true;
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(report[0]);
		if (setgroups((size_t)ids->ngroups, ids->groups) < 0 ||
		    setresgid(ids->gid, ids->gid, ids->gid) < 0 ||
		    setresuid(ids->uid, ids->uid, ids->uid) < 0)
			snprintf(problem, size, "cannot take its ids: %s", strerror(errno));
		else
			try_as_subject(path, problem, size);
		ssize_t ignored = write(report[1], problem, strlen(problem));
		(void)ignored;
		_exit(0);
	}
	close(report[1]);
	ssize_t n = pid < 0 ? -1 : read(report[0], problem, size - 1);
	close(report[0]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	if (n < 0)
		snprintf(problem, size, "cannot try it: %s", strerror(errno));
	else
		problem[n] = '\0';
	return problem[0] != '\0';
}

static bool seen_before(const struct policy *policy, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (policy->rules[j].group == policy->rules[i].group &&
		    !strcmp(policy->rules[j].subject, policy->rules[i].subject))
			return true;
	return false;
}

int check_subjects(const struct policy *policy, const char *path, bool as_callers)
{
	int problems = 0;
	for (size_t i = 0; i < policy->nrules; i++) {
		const struct policy_rule *rule = &policy->rules[i];
		struct subject_ids ids;
		char problem[2048];
		if (seen_before(policy, i))
			continue;
		if (!ids_of(rule, &ids)) {
			fprintf(
			    stderr,
			    "vm-netd: %s:%u: warning: %s %s is unknown on this host, so the rule "
			    "grants nothing\n",
			    rule->origin.file, rule->origin.line, rule->group ? "group" : "user",
			    rule->subject);
			continue;
		}
		if (as_callers && problem_as(&ids, path, problem, sizeof(problem))) {
			fprintf(stderr,
				"vm-netd: %s: vm-netd has file capabilities, so it works as its "
				"caller, and as %s it %s\n",
				path, ids.label, problem);
			problems++;
		}
		free(ids.groups);
	}
	return problems;
}
