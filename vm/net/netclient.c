#include "net/netclient.h"

#include "build-config.h"
#include "config/config.h"
#include "fdpass.h"
#include "sys/clock.h"
#include "sys/spawn.h"

#include <errno.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* fdpass_recv fills up to FDPASS_MAX_FDS: a tap's queues exactly. */
_Static_assert(NETD_MAX_QUEUES == FDPASS_MAX_FDS, "one message carries a tap's every queue");

/* The helper's own time-out for the request is 5 s; on a loaded machine
 * starting it can take longer. */
#define HELPER_TIMEOUT_MS 60000

const char *netclient_helper_path(void)
{
	const char *path = getenv("VM_NETD");
	return path && path[0] ? path : VM_NETD_PATH;
}

/* vm-netd's words say what is wrong; that a machine can do without a tap
 * (--nat) is vm's to add, for a tap's request and not for vm net's. */
static const char *nat_advice(enum netd_op op)
{
	return op == NETD_OP_TAP ? "; or use --nat" : "";
}

static int start_helper(int sock, enum netd_op op, pid_t *pid, struct error *err)
{
	const char *helper = netclient_helper_path();
	char *argv[] = {(char *)helper, NULL};
	char *envp[] = {NULL};
	struct spawn_start_options opts = {.envp = envp, .pass_fd3 = sock};
	if (access(helper, X_OK) < 0)
		return error_set(err,
				 "vm-netd (%s) cannot be run: %s; install vm with 'meson install' "
				 "(it installs vm-netd setuid root)%s",
				 helper, strerror(errno), nat_advice(op));
	return spawn_start(argv, &opts, pid, err);
}

/* Until the reply is there or the helper has gone (its end of the socket
 * closes with it); false when the deadline passes first. */
static bool wait_for_answer(int sock, long long deadline)
{
	for (;;) {
		long long left = deadline - clock_now_ms();
		struct pollfd pfd = {sock, POLLIN, 0};
		int n = poll(&pfd, 1, left > 0 ? (int)left : 0);
		if (n > 0)
			return true;
		if (n == 0 || errno != EINTR)
			return false;
	}
}

/* How the helper ended, for a message: "exit status 1", "killed by signal
 * 31, Bad system call". */
static void describe_end(int status, char *buf, size_t size)
{
	if (status > 128)
		snprintf(buf, size, "killed by signal %d, %s", status - 128,
			 strsignal(status - 128));
	else
		snprintf(buf, size, "exit status %d", status);
}

static void close_fds(int *fds, size_t *nfds)
{
	for (size_t i = 0; i < *nfds; i++)
		close(fds[i]);
	*nfds = 0;
}

/* 0 with the reply, -1 with err set, and ENOMSG when the helper sent none. */
static int receive_reply(int sock, struct netd_reply *reply, int fds[NETD_MAX_QUEUES], size_t *nfds,
			 struct error *err)
{
	char raw[sizeof(*reply) + 1]; /* one byte more shows as MSG_TRUNC */
	int msg_flags;
	int flags = MSG_DONTWAIT | MSG_CMSG_CLOEXEC;
	ssize_t n = fdpass_recv(sock, raw, sizeof(raw), fds, nfds, flags, &msg_flags);
	/* A helper that ended without reading the request leaves ECONNRESET
	 * pending, reported once before what it sent. */
	if (n < 0 && errno == ECONNRESET)
		n = fdpass_recv(sock, raw, sizeof(raw), fds, nfds, flags, &msg_flags);
	if (n <= 0) { /* 0: the helper closed its end without a word */
		errno = ENOMSG;
		return -1;
	}
	int version = netd_message_version(raw, (size_t)n);
	if (version >= 0 && version != NETD_VERSION) {
		close_fds(fds, nfds);
		errno = EPROTO;
		return error_set(err,
				 "vm-netd at %s speaks protocol %d, vm speaks %u: install matching "
				 "versions",
				 netclient_helper_path(), version, NETD_VERSION);
	}
	if ((msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    netd_reply_decode(raw, (size_t)n, reply, err) < 0) {
		close_fds(fds, nfds);
		errno = EPROTO;
		return error_prefix(err,
				    "vm-netd (%s) answered wrongly (is it the same version "
				    "as vm?)",
				    netclient_helper_path());
	}
	return 0;
}

/* The reply is taken as soon as it is there, not when the helper has
 * exited. A helper that answered may still be ending: with a place for its
 * pid (unreaped), the caller goes on at once and reaps it later
 * (netclient_reap_helper); otherwise, and whenever there is no answer, it is
 * reaped here, and how it ended is told when it did not answer. */
static int await_reply(int sock, pid_t pid, struct netd_reply *reply, int fds[NETD_MAX_QUEUES],
		       size_t *nfds, pid_t *unreaped, struct error *err)
{
	const char *helper = netclient_helper_path();
	long long deadline = clock_now_ms() + HELPER_TIMEOUT_MS;
	if (!wait_for_answer(sock, deadline)) {
		spawn_reap(pid, 0);
		return error_set(err, "vm-netd (%s) did not answer within %d s", helper,
				 HELPER_TIMEOUT_MS / 1000);
	}
	int rc = receive_reply(sock, reply, fds, nfds, err);
	if (rc == 0 && unreaped) {
		*unreaped = pid;
		return 0;
	}
	bool silent = rc < 0 && errno == ENOMSG;
	long long left = deadline - clock_now_ms();
	int status = spawn_reap(pid, left > 0 ? (int)left : 0);
	if (silent) {
		char end[96];
		describe_end(status, end, sizeof(end));
		return error_set(err, "vm-netd (%s) exited without an answer (%s)", helper, end);
	}
	return rc;
}

int netclient_exchange(const struct netd_request *req, struct netd_reply *reply,
		       int fds[NETD_MAX_QUEUES], size_t *nfds, pid_t *unreaped, struct error *err)
{
	int sv[2];
	pid_t pid;
	*nfds = 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return error_errno(err, "cannot talk to vm-netd");
	/* Queued before the helper starts, so it never waits for us. */
	int rc = send(sv[0], req, sizeof(*req), MSG_NOSIGNAL) == (ssize_t)sizeof(*req)
		     ? 0
		     : error_errno(err, "cannot talk to vm-netd");
	if (rc == 0)
		rc = start_helper(sv[1], (enum netd_op)req->op, &pid, err);
	/* Only the helper holds its end now: it closes when the helper ends. */
	close(sv[1]);
	if (rc == 0)
		rc = await_reply(sv[0], pid, reply, fds, nfds, unreaped, err);
	close(sv[0]);
	return rc;
}

/* vm net asked what vm-netd grants: there is no bridge, machine or quota
 * to speak of. */
static void explain_query(const struct netd_reply *reply, struct error *err)
{
	switch ((enum netd_status)reply->status) {
	case NETD_DENIED: /* the reason is the audit record's alone */
		error_set(err, "vm-netd denied the query of what it grants you: ask your admin why "
			       "(vm-netd's audit record says)");
		break;
	case NETD_POLICY_BROKEN:
		error_set(err,
			  "vm-netd's policy %s is unusable, so it grants nothing: ask your admin "
			  "to run 'vm-netd --check'",
			  reply->policy);
		break;
	default:
		errno = reply->error;
		error_set(err, "vm-netd could not answer what it grants: %s", reply->message);
		break;
	}
}

void netclient_explain(const struct netd_request *req, const struct netd_reply *reply,
		       struct error *err)
{
	enum netd_status status = reply->status;
	if (req->op == NETD_OP_QUERY && status != NETD_BAD_REQUEST &&
	    status != NETD_NOT_PRIVILEGED) {
		explain_query(reply, err);
		return;
	}
	const char *user = reply->user, *bridge = req->bridge, *policy = reply->policy;
	switch (status) {
	case NETD_DENIED:
		error_set(
		    err,
		    "vm-netd denied a tap on %s for %s: ask your admin to add 'allow %s %s 1' "
		    "to %s (if it is there, %s must exist and be a bridge, or be declared "
		    "'create' and asked for with --bridge); or use --nat",
		    bridge, user, user, bridge, policy, bridge);
		break;
	case NETD_QUOTA:
		error_set(err,
			  "%s already has %u taps on %s, the policy's quota: stop a machine, or "
			  "ask your admin to raise the quota in 'allow %s %s %u' in %s",
			  user, reply->quota, bridge, user, bridge, reply->quota, policy);
		break;
	case NETD_MACHINE_IN_USE:
		error_set(err,
			  "machine ID %02u already has taps of another user on this host: choose "
			  "another VM_MACHINE_ID in .vmrc (the MAC address " CONFIG_MAC_FORMAT
			  " must be unique)",
			  req->machine_id, req->machine_id);
		break;
	case NETD_POLICY_BROKEN:
		error_set(err,
			  "vm-netd's policy %s is unusable, so every tap is denied: ask your admin "
			  "to run 'vm-netd --check'",
			  policy);
		break;
	case NETD_BAD_REQUEST:
		error_set(err,
			  "vm-netd refused the request: %s (is vm-netd the same version as vm?)",
			  reply->message);
		break;
	case NETD_NOT_PRIVILEGED:
		error_set(err, "%s%s", reply->message, nat_advice((enum netd_op)req->op));
		break;
	case NETD_FAILED:
	case NETD_GRANTED:
		errno = reply->error;
		error_set(err, "vm-netd could not make a tap on %s: %s%s", bridge, reply->message,
			  nat_advice((enum netd_op)req->op));
		break;
	}
}

/* Each fd must be a queue of the tap the reply names, multi-queue when
 * there are several: trust, but check. */
static int check_tap_fd(int fd, const char *name, bool multi_queue, struct error *err)
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(fd, TUNGETIFF, &ifr) < 0)
		return error_errno(err, "vm-netd passed an fd that is not a tap");
	if (strncmp(ifr.ifr_name, name, sizeof(ifr.ifr_name)) || !(ifr.ifr_flags & IFF_TAP))
		return error_set(err, "vm-netd passed tap %.16s, not %s", ifr.ifr_name, name);
	if (multi_queue && !(ifr.ifr_flags & IFF_MULTI_QUEUE))
		return error_set(err, "vm-netd passed tap %s without multiple queues", name);
	return 0;
}

static int check_tap(const struct netclient_tap *tap, unsigned queues, const char *name,
		     struct error *err)
{
	if (tap->nfds != queues)
		return error_set(err, "vm-netd passed %zu queues of tap %s, not %u", tap->nfds,
				 name, queues);
	for (size_t i = 0; i < tap->nfds; i++)
		if (check_tap_fd(tap->fds[i], name, queues > 1, err) < 0)
			return -1;
	return 0;
}

int netclient_open_tap(const char *bridge, unsigned machine_id, bool create_bridge, unsigned queues,
		       struct netclient_tap *tap, struct error *err)
{
	struct netd_request req;
	struct netd_reply reply;
	uint32_t flags = create_bridge ? NETD_FLAG_CREATE_BRIDGE : 0;
	tap->nfds = 0;
	tap->helper = 0;
	if (netd_request_init(&req, NETD_OP_TAP, machine_id, bridge, flags, queues, err) < 0)
		return error_prefix(err, "VM_NET_BRIDGE");
	if (netclient_exchange(&req, &reply, tap->fds, &tap->nfds, &tap->helper, err) < 0)
		return -1;
	if (reply.status != NETD_GRANTED || !tap->nfds) {
		netclient_close_tap(tap);
		netclient_explain(&req, &reply, err);
		return -1;
	}
	if (check_tap(tap, queues, reply.tap, err) < 0) {
		netclient_close_tap(tap);
		return -1;
	}
	memcpy(tap->name, reply.tap, sizeof(tap->name));
	return 0;
}

/* It has answered: its end is a matter of microseconds, unless it was
 * stopped (then it is killed: the tap is ours already). */
#define HELPER_END_TIMEOUT_MS 5000

void netclient_reap_helper(struct netclient_tap *tap)
{
	if (tap->helper > 0)
		spawn_reap(tap->helper, HELPER_END_TIMEOUT_MS);
	tap->helper = 0;
}

void netclient_close_tap(struct netclient_tap *tap)
{
	close_fds(tap->fds, &tap->nfds);
	netclient_reap_helper(tap);
}

int netclient_query(struct netd_reply *reply, struct error *err)
{
	struct netd_request req;
	int fds[NETD_MAX_QUEUES];
	size_t nfds;
	netd_request_init(&req, NETD_OP_QUERY, 0, "", 0, 0, err);
	if (netclient_exchange(&req, reply, fds, &nfds, NULL, err) < 0)
		return -1;
	close_fds(fds, &nfds);
	if (reply->status != NETD_GRANTED) {
		netclient_explain(&req, reply, err);
		return -1;
	}
	return 0;
}
