/* Step 8: the audit record, to syslog (authpriv) and to the policy's log
 * file. Nothing here may allocate: the sandbox allows no brk or mmap. */
#include "netd.h"

#include "audit.h"

#include <errno.h>
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

/* YYYY-MM-DDTHH:MM:SSZ, computed here: gmtime_r would first load the
 * local time zone (a read of /etc/localtime) that a UTC stamp does not
 * need. Days to a civil date as in Howard Hinnant's civil_from_days: a
 * year that starts on 1 March, in 400-year eras of 146097 days. */
static void utc_stamp(char *buf, size_t size, time_t t)
{
	long long days = (long long)t / 86400, secs = (long long)t % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	days += 719468; /* from 1970-01-01 to 0000-03-01 */
	long long era = (days >= 0 ? days : days - 146096) / 146097;
	long long day_of_era = days - era * 146097;
	long long year_of_era =
	    (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
	long long day_of_year =
	    day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
	long long month_from_march = (5 * day_of_year + 2) / 153;
	long long day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
	long long month = month_from_march < 10 ? month_from_march + 3 : month_from_march - 9;
	long long year = year_of_era + era * 400 + (month <= 2);
	snprintf(buf, size, "%04lld-%02d-%02dT%02d:%02d:%02dZ", year, (int)month, (int)day,
		 (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
}

size_t audit_format(char *buf, size_t size, const struct audit_record *r)
{
	char stamp[48], user[4 * 32 + 1], bridge[4 * 16 + 1], tap[4 * 16 + 1];
	char reason[4 * 256 + 1], rule[4 * 128 + 1], machine[16] = "-", queues[16] = "-";
	utc_stamp(stamp, sizeof(stamp), r->time);
	if (r->machine >= 0)
		snprintf(machine, sizeof(machine), "%02d", r->machine);
	if (r->queues)
		snprintf(queues, sizeof(queues), "%u", r->queues);
	escape(user, sizeof(user), r->user, false);
	escape(bridge, sizeof(bridge), r->bridge, false);
	escape(tap, sizeof(tap), r->tap, false);
	escape(reason, sizeof(reason), r->reason, true);
	escape(rule, sizeof(rule), r->rule, false);
	int n = snprintf(buf, size,
			 "%s uid=%u user=%s op=%s machine=%s bridge=%s tap=%s queues=%s result=%s "
			 "rule=%s reason=\"%s\"",
			 stamp, r->uid, user, r->op, machine, bridge, tap, queues, r->result, rule,
			 reason);
	if (n < 0)
		n = 0;
	return (size_t)n < size ? (size_t)n : size - 1;
}

/* Sent whole or not at all (a datagram). Without waiting when the log file
 * holds the record; when syslog is the only place for it, a daemon that is
 * behind (a boot's burst, a journal being flushed, many helpers at once:
 * the kernel queues only max_dgram_qlen datagrams, 10 by default) is waited
 * for, up to the socket's NETD_SYSLOG_WAIT_MS, rather than the grant lost. */
static bool to_syslog(const struct netd_state *s, const char *record)
{
	if (s->syslog_fd < 0)
		return false;
	static char line[AUDIT_RECORD_MAX + 64]; /* static: see audit() */
	int priority = LOG_AUTHPRIV | (s->status == NETD_GRANTED ? LOG_INFO : LOG_WARNING);
	int n = snprintf(line, sizeof(line), "<%d>vm-netd[%d]: %s", priority, (int)s->pid, record);
	size_t len = n < 0 ? 0 : (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
	int flags = (s->log_fd >= 0 ? MSG_DONTWAIT : 0) | MSG_NOSIGNAL;
	return send(s->syslog_fd, line, len, flags) == (ssize_t)len;
}

/* A record a full disk cut short becomes a line of '#' in place (its bytes
 * are on disk already, so this needs no room), so that the next record
 * never continues it. The caller cannot lower our RLIMIT_FSIZE in between:
 * caps.c keeps a saved gid that makes prlimit() refuse. */
static void blank_cut_record(const struct netd_state *s, size_t written)
{
	static char hashes[AUDIT_RECORD_MAX + 1]; /* static: see audit() */
	off_t end = lseek(s->log_fd, 0, SEEK_CUR);
	if (end < (off_t)written || s->log_repair_fd < 0)
		return;
	memset(hashes, '#', written);
	hashes[written - 1] = '\n';
	ssize_t ignored = pwrite(s->log_repair_fd, hashes, written, end - (off_t)written);
	(void)ignored;
}

/* One write, O_APPEND: records of parallel helpers never interleave. The
 * newline goes in place of the record's NUL for the write (record has the
 * room), then the NUL is put back. */
static bool to_log_file(const struct netd_state *s, char *record, size_t len)
{
	record[len] = '\n';
	ssize_t n = write(s->log_fd, record, len + 1);
	record[len] = '\0';
	if (n == (ssize_t)len + 1)
		return true;
	if (n > 0)
		blank_cut_record(s, (size_t)n);
	return false;
}

static size_t format_record(const struct netd_state *s, char *line, size_t size)
{
	bool tap_op = !s->have_request || s->req.op == NETD_OP_TAP;
	char rule[4 * 128 + 1] = ""; /* no longer than audit_format keeps of it */
	if (s->status == NETD_GRANTED && s->rule)
		snprintf(rule, sizeof(rule), "%s:%u", s->rule->origin.file, s->rule->origin.line);
	struct audit_record record = {
	    .time = time(NULL),
	    .uid = (unsigned)s->uid,
	    .user = s->user,
	    .op = s->have_request ? netd_op_name(s->req.op) : "-",
	    .machine = s->have_request ? (int)s->req.machine_id : -1,
	    .bridge = tap_op ? s->req.bridge : "-",
	    .tap = s->status == NETD_GRANTED && tap_op ? s->tap : "-",
	    .queues = tap_op ? s->req.queues : 0,
	    .result = netd_status_name(s->status),
	    .rule = rule,
	    .reason = s->reason,
	};
	return audit_format(line, size, &record);
}

/* The record goes to the policy's log file, when it names one, and to
 * syslog; the grant stands only if the record that must hold it was
 * written whole: the log file, or syslog when there is none. Else the grant
 * is undone and the answer is a failure, recorded where it can be. */
void audit(struct netd_state *s)
{
	/* Static, as the other record buffers here: the stack of a helper whose
	 * caller set a small RLIMIT_STACK must not end between the grant and
	 * its record (the helper is single-threaded). */
	static char line[AUDIT_RECORD_MAX + 1]; /* and the log file's newline */
	size_t len = format_record(s, line, AUDIT_RECORD_MAX);
	bool has_log = s->log_fd >= 0;
	bool in_log = has_log && to_log_file(s, line, len);
	bool granted = s->status == NETD_GRANTED;
	if (granted && has_log && !in_log) {
		undo_grant(s);
		netd_revoke(s, EIO,
			    "the audit record could not be written whole to the log file; "
			    "nothing was granted");
		len = format_record(s, line, AUDIT_RECORD_MAX);
	}
	bool in_syslog = to_syslog(s, line);
	if (granted && !has_log && !in_syslog) {
		undo_grant(s);
		netd_revoke(s, EIO,
			    "syslog did not take the audit record and the policy names no "
			    "log file, so nothing was granted: ask your admin to run a syslog "
			    "daemon (one that listens on /dev/log) or to name a 'log' file in the "
			    "policy");
	}
}
