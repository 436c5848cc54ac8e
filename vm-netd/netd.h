/* vm-netd's state as it goes through the steps of DESIGN.md, and the steps.
 *
 * Every step looks at the outcome first: once a step has decided (denied or
 * failed), later steps skip their work, but audit and reply always run, so
 * that every request gets exactly one audit record and, when the socket is
 * usable, exactly one reply. */
#pragma once

#include "policy.h"
#include "protocol.h"

#include <stdbool.h>
#include <sys/types.h>

#define NETD_REQUEST_FD 3
#define NETD_REQUEST_TIMEOUT_S 5
#define NETD_MAX_GROUPS 64
#define NETD_LOCK_WAIT_S 20
#define NETD_LOCK_POLL_MS 5

/* Compiled into main.c; a test build compiles other paths. */
struct netd_paths {
	const char *policy; /* the policy file, never from the caller */
	const char *lock;   /* serializes counting and creating taps */
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
	char group_storage[NETD_MAX_GROUPS][POLICY_NAME_MAX + 1];
	const char *groups[NETD_MAX_GROUPS];
	size_t ngroups;
	/* 3. policy */
	const char *policy_path;
	struct policy policy;
	/* resources opened while still privileged */
	int tun_fd;
	struct netlink *nl;
	int lock_fd;
	int log_fd;
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
	char reason[256];
	bool create_bridge;
	char tap[NETD_NAME_SIZE];
	struct netd_reply reply; /* grants, for a query */
};

void netd_state_init(struct netd_state *s);
/* Records the outcome once; later calls keep the first. */
void netd_decide(struct netd_state *s, enum netd_status status, int error, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The steps, in order. */
void hygiene(struct netd_state *s);
void identify_caller(struct netd_state *s);
void load_policy(struct netd_state *s, const char *path);
void open_resources(struct netd_state *s, const struct netd_paths *paths);
void drop_privileges(struct netd_state *s);
void set_no_new_privs(struct netd_state *s);
void apply_seccomp(struct netd_state *s);
void read_request(struct netd_state *s);
void decide(struct netd_state *s);
void act(struct netd_state *s);
void audit(struct netd_state *s);
int reply(struct netd_state *s);

/* Root's modes: --check [FILE], --setup, --list. */
int admin_main(int argc, char **argv, const struct netd_paths *paths);
