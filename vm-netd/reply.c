/* Step 9: the answer, with the tap's fds when granted, sent without waiting:
 * a caller that fills or never reads its socket only loses its own answer
 * (and its tap, which vanishes when we exit). The exit status says the
 * same: 0 granted, 1 denied or failed. */
#include "fdpass.h"
#include "netd.h"

#include <string.h>
#include <sys/socket.h>

/* What the caller sees of a denial. The reason stays in the audit record:
 * a missing bridge and a forbidden one must look the same here. */
static const char *public_message(const struct netd_state *s)
{
	if (s->status == NETD_DENIED)
		return "the policy grants no tap on this bridge";
	if (s->status == NETD_POLICY_BROKEN)
		return "the policy file is unusable, so everything is denied; "
		       "ask your admin to run 'vm-netd --check'";
	return s->reason;
}

static void fill_reply(const struct netd_state *s, struct netd_reply *r)
{
	enum netd_op op = s->have_request ? (enum netd_op)s->req.op : NETD_OP_TAP;
	struct netd_reply grants = s->reply;
	netd_reply_init(r, op);
	r->status = s->status;
	r->error = s->status == NETD_GRANTED ? 0 : s->error;
	r->quota = s->status == NETD_QUOTA ? s->quota : 0;
	if (s->status == NETD_GRANTED && op == NETD_OP_TAP)
		netd_field_set(r->tap, sizeof(r->tap), s->tap);
	netd_field_set(r->user, sizeof(r->user), s->user);
	netd_field_set(r->policy, sizeof(r->policy), s->policy_path);
	netd_field_set(r->message, sizeof(r->message), public_message(s));
	if (s->status == NETD_GRANTED && op == NETD_OP_QUERY) {
		r->ngrants = grants.ngrants;
		memcpy(r->grants, grants.grants, sizeof(r->grants));
	}
}

int reply(struct netd_state *s)
{
	static struct netd_reply r;
	fill_reply(s, &r);
	if (s->sock < 0)
		return 1;
	/* All the tap's queues in this one message, the first first. */
	int fds[NETD_MAX_QUEUES] = {s->tun_fd};
	size_t nfds = s->status == NETD_GRANTED && s->req.op == NETD_OP_TAP ? s->req.queues : 0;
	for (size_t i = 1; i < nfds; i++)
		fds[i] = s->queue_fds[i - 1];
	if (fdpass_send(s->sock, &r, sizeof(r), fds, nfds, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		return 1;
	return s->status == NETD_GRANTED ? 0 : 1;
}
