/* Step 8: the audit record, to syslog (authpriv) and to the policy's log
 * file. Nothing here may allocate: the sandbox allows no brk or mmap. */
#include "netd.h"

#include "audit.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

/* Printable ASCII without quote or backslash, and spaces only inside the
 * quoted reason; anything else as \xHH, so that a record is one line. */
static void escape(char *buf, size_t size, const char *s, bool quoted)
{
	size_t len = 0;
	if (!s || !s[0])
		s = "-";
	for (; *s && len + 5 < size; s++) {
		unsigned char c = (unsigned char)*s;
		bool plain = c > ' ' && c < 0x7f && c != '"' && c != '\\';
		if (plain || (quoted && c == ' '))
			buf[len++] = (char)c;
		else
			len += (size_t)snprintf(buf + len, size - len, "\\x%02x", c);
	}
	buf[len] = '\0';
}

size_t audit_format(char *buf, size_t size, const struct audit_record *r)
{
	char stamp[32] = "-", user[4 * 32 + 1], bridge[4 * 16 + 1], tap[4 * 16 + 1];
	char reason[4 * 256 + 1], machine[16] = "-";
	struct tm tm;
	if (gmtime_r(&r->time, &tm))
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (r->machine >= 0)
		snprintf(machine, sizeof(machine), "%02d", r->machine);
	escape(user, sizeof(user), r->user, false);
	escape(bridge, sizeof(bridge), r->bridge, false);
	escape(tap, sizeof(tap), r->tap, false);
	escape(reason, sizeof(reason), r->reason, true);
	int n = snprintf(buf, size,
			 "%s uid=%u user=%s op=%s machine=%s bridge=%s tap=%s result=%s "
			 "reason=\"%s\"",
			 stamp, r->uid, user, r->op, machine, bridge, tap, r->result, reason);
	if (n < 0)
		n = 0;
	return (size_t)n < size ? (size_t)n : size - 1;
}

static void to_syslog(const struct netd_state *s, const char *record)
{
	if (s->syslog_fd < 0)
		return;
	char line[2048];
	int priority = LOG_AUTHPRIV | (s->status == NETD_GRANTED ? LOG_INFO : LOG_WARNING);
	int n = snprintf(line, sizeof(line), "<%d>vm-netd[%d]: %s", priority, (int)s->pid, record);
	if (n > 0)
		send(s->syslog_fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1,
		     MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void to_log_file(const struct netd_state *s, const char *record, size_t len)
{
	if (s->log_fd < 0)
		return;
	char line[2048];
	memcpy(line, record, len);
	line[len] = '\n';
	/* One write, O_APPEND: records of parallel helpers never interleave. */
	ssize_t ignored = write(s->log_fd, line, len + 1);
	(void)ignored;
}

void audit(struct netd_state *s)
{
	bool tap_op = !s->have_request || s->req.op == NETD_OP_TAP;
	struct audit_record record = {
	    .time = time(NULL),
	    .uid = (unsigned)s->uid,
	    .user = s->user,
	    .op = s->have_request ? netd_op_name(s->req.op) : "-",
	    .machine = s->have_request ? (int)s->req.machine_id : -1,
	    .bridge = tap_op ? s->req.bridge : "-",
	    .tap = s->status == NETD_GRANTED && tap_op ? s->tap : "-",
	    .result = netd_status_name(s->status),
	    .reason = s->reason,
	};
	char line[2047];
	size_t len = audit_format(line, sizeof(line), &record);
	to_syslog(s, line);
	to_log_file(s, line, len);
}
