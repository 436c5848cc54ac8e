/* vm's side of the exchange with vm-netd, against stand-in helpers
 * ($VM_NETD): the reply is taken, the helper reaped, and a helper that
 * ends without answering is told with how it ended. The real helper is
 * tested by the root tests (netd-root). */
#include "net/netclient.h"
#include "sys/spawn.h"

#include "vmtest.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* A stand-in helper: a shell script (it runs with an empty environment). */
static char *fake_helper(const char *dir, const char *body)
{
	char *text = NULL;
	cr_assert_neq(asprintf(&text, "#!/bin/sh\n%s\n", body), -1);
	char *path = vt_write(dir, "vm-netd", text);
	cr_assert_eq(chmod(path, 0755), 0);
	free(text);
	setenv("VM_NETD", path, 1);
	return path;
}

static int exchange(struct netd_reply *reply, size_t *nfds, struct error *err)
{
	struct netd_request req;
	int fds[NETD_MAX_QUEUES];
	cr_assert_eq(netd_request_init(&req, NETD_OP_TAP, 7, "br0", 0, 1, err), 0);
	int rc = netclient_exchange(&req, reply, fds, nfds, NULL, err);
	for (size_t i = 0; i < *nfds; i++)
		close(fds[i]);
	return rc;
}

/* No child of ours is left behind, not even a zombie. */
static void assert_no_children(void)
{
	cr_assert_eq(waitpid(-1, NULL, WNOHANG), -1, "a helper was left unreaped");
}

/* The body of a stand-in helper that sends reply, as it is, in one write
 * (one message on the seqpacket socket), then fails. */
static char *helper_sending(const char *dir, const struct netd_reply *reply)
{
	char *reply_file = vt_write(dir, "reply", "");
	FILE *f = fopen(reply_file, "w");
	cr_assert(f);
	cr_assert_eq(fwrite(reply, sizeof(*reply), 1, f), 1);
	fclose(f);
	char *body = NULL;
	cr_assert_neq(asprintf(&body, "/bin/cat %s >&3\nexit 1", reply_file), -1);
	return body;
}

Test(netclient, takes_the_reply_the_helper_sends)
{
	char *dir = vt_tmpdir();
	struct netd_reply sent;
	netd_reply_init(&sent, NETD_OP_TAP);
	sent.status = NETD_DENIED;
	netd_field_set(sent.message, sizeof(sent.message), "not for you");
	char *body = helper_sending(dir, &sent);
	fake_helper(dir, body);
	struct netd_reply reply;
	struct error err;
	size_t nfds;
	cr_assert_eq(exchange(&reply, &nfds, &err), 0, "%s", err.msg);
	cr_assert_eq(reply.status, NETD_DENIED);
	cr_assert_str_eq(reply.message, "not for you");
	cr_assert_eq(nfds, 0);
	assert_no_children();
	free(body);
}

/* vm goes on as soon as the answer is there: the helper, still ending, is
 * reaped later. This one ends only when the test lets it. */
Test(netclient, the_answer_is_taken_before_the_helper_has_ended)
{
	char *dir = vt_tmpdir();
	char *gate = NULL;
	cr_assert_neq(asprintf(&gate, "%s/gate", dir), -1);
	cr_assert_eq(mkfifo(gate, 0600), 0);
	struct netd_reply sent;
	netd_reply_init(&sent, NETD_OP_TAP);
	sent.status = NETD_DENIED;
	char *sends = helper_sending(dir, &sent), *body = NULL;
	*strstr(sends, "\nexit 1") = '\0';
	cr_assert_neq(asprintf(&body, "%s\nread x < %s\nexit 4", sends, gate), -1);
	fake_helper(dir, body);
	struct netd_request req;
	struct netd_reply reply;
	struct error err;
	int fds[NETD_MAX_QUEUES];
	size_t nfds;
	pid_t helper = 0;
	cr_assert_eq(netd_request_init(&req, NETD_OP_TAP, 7, "br0", 0, 1, &err), 0);
	cr_assert_eq(netclient_exchange(&req, &reply, fds, &nfds, &helper, &err), 0, "%s", err.msg);
	cr_assert_eq(reply.status, NETD_DENIED);
	cr_assert_gt(helper, 0);
	cr_assert_eq(waitpid(helper, NULL, WNOHANG), 0, "the helper had ended already");
	FILE *open_gate = fopen(gate, "w");
	cr_assert(open_gate);
	fclose(open_gate);
	cr_assert_eq(spawn_reap(helper, 10000), 4);
	assert_no_children();
	free(body);
	free(sends);
	free(gate);
}

/* A helper of another protocol version answers in its own: the reply
 * says so (vm-netd of version 1 refused version 2's longer request). */
static char *reply_of_version(const char *dir, unsigned version)
{
	struct netd_reply sent;
	netd_reply_init(&sent, NETD_OP_TAP);
	sent.version = (uint16_t)version;
	sent.status = NETD_BAD_REQUEST;
	netd_field_set(sent.message, sizeof(sent.message), "request larger than 32 bytes");
	return helper_sending(dir, &sent);
}

/* The message of an exchange with a helper that runs body; "%s" in want
 * stands for the helper's path. */
static void assert_exchange_fails(const char *body, const char *want, bool whole)
{
	char *path = fake_helper(vt_tmpdir(), body);
	struct netd_reply reply;
	struct error err;
	size_t nfds;
	cr_assert_eq(exchange(&reply, &nfds, &err), -1);
	char *expected = NULL;
	cr_assert_neq(asprintf(&expected, want, path), -1);
	if (whole)
		cr_assert_str_eq(err.msg, expected);
	else
		cr_assert(!strncmp(err.msg, expected, strlen(expected)), "%s", err.msg);
	assert_no_children();
	free(expected);
}

Test(netclient, a_helper_that_exits_without_an_answer_is_told_with_its_status)
{
	assert_exchange_fails("exit 3", "vm-netd (%s) exited without an answer (exit status 3)",
			      true);
}

Test(netclient, a_helper_killed_before_it_answers_is_told_with_the_signal)
{
	char want[256];
	snprintf(want, sizeof(want),
		 "vm-netd (%%s) exited without an answer (killed by signal 15, %s)",
		 strsignal(SIGTERM));
	assert_exchange_fails("kill -TERM $$", want, true);
}

Test(netclient, a_garbled_answer_is_a_version_mismatch)
{
	assert_exchange_fails("echo hello >&3",
			      "vm-netd (%s) answered wrongly (is it the same version as vm?)",
			      false);
}

Test(netclient, a_helper_of_another_protocol_version_says_to_install_matching_ones)
{
	char *dir = vt_tmpdir();
	char *body = reply_of_version(dir, 1);
	assert_exchange_fails(body,
			      "vm-netd at %s speaks protocol 1, vm speaks 2: install "
			      "matching versions",
			      true);
	free(body);
	body = reply_of_version(vt_tmpdir(), 3);
	assert_exchange_fails(body,
			      "vm-netd at %s speaks protocol 3, vm speaks 2: install "
			      "matching versions",
			      true);
	free(body);
}

Test(netclient, a_helper_that_cannot_be_run_says_what_to_install)
{
	setenv("VM_NETD", "/nonexistent/vm-netd", 1);
	struct netd_reply reply;
	struct error err;
	size_t nfds;
	cr_assert_eq(exchange(&reply, &nfds, &err), -1);
	cr_assert(strstr(err.msg, "vm-netd (/nonexistent/vm-netd) cannot be run: No such file"),
		  "%s", err.msg);
	cr_assert(strstr(err.msg, "; or use --nat"), "%s", err.msg);
	/* vm net asks for no tap: --nat is no way out for it. */
	struct netd_request query;
	int fds[NETD_MAX_QUEUES];
	cr_assert_eq(netd_request_init(&query, NETD_OP_QUERY, 0, "", 0, 1, &err), 0);
	cr_assert_eq(netclient_exchange(&query, &reply, fds, &nfds, NULL, &err), -1);
	cr_assert(strstr(err.msg, "cannot be run: No such file"), "%s", err.msg);
	cr_assert(!strstr(err.msg, "--nat"), "%s", err.msg);
}

/* What vm says of a reply that is not a grant, for the request it made. */
static void explain(enum netd_op op, enum netd_status status, const char *message,
		    struct error *err)
{
	struct netd_request req;
	struct netd_reply reply;
	cr_assert_eq(netd_request_init(&req, op, 7, op == NETD_OP_TAP ? "br0" : "", 0, 1, err), 0);
	netd_reply_init(&reply, op);
	reply.status = status;
	netd_field_set(reply.user, sizeof(reply.user), "alice");
	netd_field_set(reply.policy, sizeof(reply.policy), "/etc/vm-netd.conf");
	netd_field_set(reply.message, sizeof(reply.message), message);
	netclient_explain(&req, &reply, err);
}

#define NO_SYSLOG                                                                                  \
	"syslog did not take the audit record and the policy names no log file, so nothing "       \
	"was granted"

Test(netclient, a_failed_tap_request_names_the_bridge)
{
	struct error err;
	explain(NETD_OP_TAP, NETD_FAILED, NO_SYSLOG, &err);
	cr_assert_str_eq(err.msg,
			 "vm-netd could not make a tap on br0: " NO_SYSLOG "; or use --nat");
}

/* --nat is vm's advice, for a machine's tap: vm-netd's words lack it, and
 * vm net, which asks for no tap, does not get it. */
#define NO_TUN "cannot open /dev/net/tun (No such file or directory): ask your admin"

Test(netclient, only_a_tap_request_is_told_to_use_nat)
{
	struct error err;
	explain(NETD_OP_TAP, NETD_NOT_PRIVILEGED, "vm-netd lacks CAP_NET_ADMIN", &err);
	cr_assert_str_eq(err.msg, "vm-netd lacks CAP_NET_ADMIN; or use --nat");
	explain(NETD_OP_QUERY, NETD_NOT_PRIVILEGED, "vm-netd lacks CAP_NET_ADMIN", &err);
	cr_assert_str_eq(err.msg, "vm-netd lacks CAP_NET_ADMIN");
	explain(NETD_OP_QUERY, NETD_FAILED, NO_TUN, &err);
	cr_assert_str_eq(err.msg, "vm-netd could not answer what it grants: " NO_TUN);
}

/* vm net asks what vm-netd grants: its failures are told as a query's,
 * never as a tap on a bridge with no name. */
Test(netclient, a_failed_query_is_told_as_a_query)
{
	struct error err;
	explain(NETD_OP_QUERY, NETD_FAILED, NO_SYSLOG, &err);
	cr_assert_str_eq(err.msg, "vm-netd could not answer what it grants: " NO_SYSLOG);
}

Test(netclient, a_denied_query_is_told_as_a_query)
{
	struct error err;
	explain(NETD_OP_QUERY, NETD_DENIED, "the policy grants no tap on this bridge", &err);
	cr_assert(strstr(err.msg, "vm-netd denied the query of what it grants"), "%s", err.msg);
	cr_assert(!strstr(err.msg, "tap on"), "%s", err.msg);
	cr_assert(!strstr(err.msg, "allow"), "%s", err.msg);
}

Test(netclient, a_broken_policy_is_told_as_a_query_grants_nothing)
{
	struct error err;
	explain(NETD_OP_QUERY, NETD_POLICY_BROKEN, "", &err);
	cr_assert_str_eq(err.msg,
			 "vm-netd's policy /etc/vm-netd.conf is unusable, so it grants nothing: "
			 "ask your admin to run 'vm-netd --check'");
}

/* A reply a query cannot get (a stray helper's) still reads as a query's. */
Test(netclient, a_query_answered_with_a_tap_status_is_told_as_a_query)
{
	struct error err;
	explain(NETD_OP_QUERY, NETD_QUOTA, "2 of 2 taps on br0 in use", &err);
	cr_assert_str_eq(err.msg,
			 "vm-netd could not answer what it grants: 2 of 2 taps on br0 in use");
	explain(NETD_OP_QUERY, NETD_MACHINE_IN_USE, "machine 07 has taps of another user", &err);
	cr_assert_str_eq(
	    err.msg,
	    "vm-netd could not answer what it grants: machine 07 has taps of another user");
}
