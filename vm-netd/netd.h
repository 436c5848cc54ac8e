/* vm-netd's state as it goes through the steps of DESIGN.md, and the steps.
 *
 * Every step looks at the outcome first: once a step has decided (denied or
 * failed), later steps skip their work, but audit and reply always run, so
 * that every request gets exactly one audit record and, when the socket is
 * usable, exactly one reply. */
#pragma once

#include "netlink.h"
#include "policy.h"
#include "protocol.h"
#include "sandbox.h"

#include <stdbool.h>
#include <sys/types.h>

#define NETD_REQUEST_FD SANDBOX_FD_REQUEST
#define NETD_REQUEST_TIMEOUT_S 5
/* How long a record may wait for a syslog daemon whose queue is full, when
 * syslog is the only place it can go (audit.c). */
#define NETD_SYSLOG_WAIT_MS 500

/* Compiled into main.c; a test build compiles other paths. */
struct netd_paths {
	const char *policy; /* the policy file, never from the caller */
	const char *syslog; /* the syslog socket */
};

struct netd_state {
	/* 1. hygiene */
	int sock; /* the request socket, or -1 when fd 3 is not one */
	pid_t pid;
	/* 2. identity */
	uid_t uid;
	gid_t gid;
	char user[NETD_USER_SIZE];
	gid_t *gids; /* all the caller's groups, its gid first */
	size_t ngids;
	const char **groups; /* those of them the policy's rules name, by name */
	size_t ngroups;
	/* 3. policy */
	const char *policy_path;
	struct policy policy;
	/* resources opened while still privileged, at sandbox.h's numbers */
	int tun_fd;			    /* the tap's first queue */
	int queue_fds[NETD_MAX_QUEUES - 1]; /* its other queues, when asked for */
	int queue_open_error;		    /* errno of the first that did not open */
	struct netlink *nl;
	int log_fd;
	int log_repair_fd;
	int syslog_fd;
	bool dropped;	/* privileges are down to CAP_NET_ADMIN as the caller */
	bool sandboxed; /* no_new_privs and seccomp are in place */
	/* 5. the request */
	bool have_request;
	struct netd_request req;
	/* 6. the decision */
	bool decided;
	enum netd_status status;
	int error;
	unsigned quota;
	const struct policy_rule *rule; /* the rule that grants, for the record */
	char reason[256];
	struct link_info bridge; /* as decide found it (act uses it as it is) */
	bool create_bridge;	 /* the bridge is missing, and we may make it */
	int made_bridge;	 /* the index of the bridge this request made, or 0 */
	int tap_index;		 /* the tap this request made (pending until act), or 0 */
	char tap[NETD_NAME_SIZE];
	bool names_taken[100];	 /* vm<ID>t<n> in use, by n */
	struct netd_reply reply; /* grants, for a query */
};

void netd_state_init(struct netd_state *s);
/* Records the outcome once; later calls keep the first. */
void netd_decide(struct netd_state *s, enum netd_status status, int error, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Turns a grant into a failure (audit: its record could not be written). */
void netd_revoke(struct netd_state *s, int error, const char *reason);

/* The steps, in order. */
void hygiene(struct netd_state *s);
void identify_caller(struct netd_state *s);
void load_policy(struct netd_state *s, const char *path);
void name_callers_groups(struct netd_state *s);
void open_resources(struct netd_state *s, const struct netd_paths *paths);
/* The syslog socket at PATH, connected, or -1. */
int syslog_connect(const char *path);
void drop_privileges(struct netd_state *s);
/* CAP_NET_ADMIN is in the effective set (one capget). */
bool has_net_admin(void);
/* A process traces us (strace, gdb): the kernel then started us without
 * our setuid bit or file capabilities, unless the tracer was privileged. */
bool is_traced(void);
/* Closes every fd above the request socket; false when it cannot tell that
 * it did (no close_range and no /proc/self/fd). */
bool close_fds_above_request(void);
void set_no_new_privs(struct netd_state *s);
void apply_seccomp(struct netd_state *s);
void read_request(struct netd_state *s);
void decide(struct netd_state *s);
void act(struct netd_state *s);
void audit(struct netd_state *s);
/* Takes back a grant (the tap, a bridge this request made): act on
 * failure, audit when the record could not be written. */
void undo_grant(struct netd_state *s);
/* In decide: counts the taps vm-netd made, as census.c says, before the
 * request makes its tap and after. */
int census_before_claim(struct netd_state *s);
int take_census(struct netd_state *s);
int reply(struct netd_state *s);

/* Memory the caller's limits leave (memory.c). Whether they leave the
 * helper room: */
bool memory_room(void);
/* The request fails: too little memory, with the caller's limits. */
void decide_out_of_memory(struct netd_state *s);
/* An allocation failed before the drop: the request fails, recorded and
 * answered, and the helper exits. Allocates nothing; the request is not
 * read (it is decoded only in the sandbox). */
void fail_out_of_memory(struct netd_state *s, const char *syslog_path) __attribute__((noreturn));

/* Root's modes: --check [FILE], --setup, --list. */
int admin_main(int argc, char **argv, const struct netd_paths *paths);
/* The file st describes is root's and setuid (as vm-netd's own
 * executable is, installed the usual way). */
struct stat;
bool is_setuid_root(const struct stat *st);
/* vm-netd's own executable (/proc/self/exe) has file capabilities. */
bool exe_has_file_capabilities(void);
/* Installed with file capabilities and not setuid root: vm-netd works with
 * its caller's ids. */
bool works_as_its_caller(void);
/* --check: warns of the rules' users and groups this host does not know;
 * as_callers (see works_as_its_caller), also tells on stderr what each of
 * them would fail at. How many would fail. */
int check_subjects(const struct policy *policy, const char *path, bool as_callers);
