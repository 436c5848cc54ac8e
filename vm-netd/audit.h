/* One audit record per request, granted or denied:
 *   TIME uid=UID user=USER op=OP machine=ID bridge=NAME tap=NAME queues=N
 *   result=RESULT rule=FILE:LINE reason="..."
 * (one line; queues is what a tap request asked for; rule is the policy
 * line that granted, or "-")
 * TIME is UTC (ISO 8601); a missing field is "-"; anything the caller sent
 * is escaped, so that a record is always one line of printable ASCII. */
#pragma once

#include <stddef.h>
#include <time.h>

struct audit_record {
	time_t time;
	unsigned uid;
	const char *user;
	const char *op;
	int machine; /* -1: none */
	const char *bridge;
	const char *tap;
	unsigned queues; /* 0: none */
	const char *result;
	const char *rule; /* "FILE:LINE", or NULL */
	const char *reason;
};

/* Writes the record (without a newline) into buf; returns its length. Each
 * field is cut to its own bound, so that a buffer of AUDIT_RECORD_MAX
 * bytes always holds a whole record. */
#define AUDIT_RECORD_MAX 4096
size_t audit_format(char *buf, size_t size, const struct audit_record *record);
