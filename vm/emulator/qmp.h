/* The QEMU Machine Protocol client: the one way vm talks to the emulator.
 * One connection at a time (QEMU serves one QMP client per socket); every
 * command carries an id; events that arrive while waiting for a reply are
 * kept for qmp_wait_event; every read has a time-out. */
#pragma once

#include "emulator/jsonstream.h"
#include "error.h"

#include <stdbool.h>

/* Events kept at most, the oldest dropped first: a guest that keeps QEMU
 * talking cannot make vm's memory grow. */
#define QMP_EVENTS_KEPT 64

/* A zeroed struct qmp is closed (qmp_close is then a no-op). */
struct qmp {
	bool open;
	struct json_stream stream;
	int timeout_ms; /* for each reply */
	unsigned long next_id;
	struct json_object *events; /* events seen while waiting for replies */
};

/* Connects to the socket, reads the greeting and negotiates capabilities.
 * errno is kept from connect() when the socket is not there (yet). */
int qmp_connect(struct qmp *q, const char *socket_path, int timeout_ms, struct error *err);
/* The same on a connected fd (taken over, closed by qmp_close). */
int qmp_open_fd(struct qmp *q, int fd, int timeout_ms, struct error *err);
/* Closes the connection; a no-op when it is not open. */
void qmp_close(struct qmp *q);

/* Runs command with args (taken over; NULL for none). On success *result
 * (when result is not NULL) is the "return" value, which the caller puts.
 * A QMP error reply fails with its description. */
int qmp_execute(struct qmp *q, const char *command, struct json_object *args,
		struct json_object **result, struct error *err);
/* Sends a command without waiting for its reply; *id names it for
 * qmp_receive. Commands sent back to back reach the emulator together. */
int qmp_send(struct qmp *q, const char *command, struct json_object *args, char id[32],
	     struct error *err);
/* The reply to the command sent as id, as qmp_execute hands it back. */
int qmp_receive(struct qmp *q, const char *command, const char *id, struct json_object **result,
		struct error *err);
/* Sends a request object as given (taken over; an id is added when it has
 * none) and hands back the whole reply, error replies included. */
int qmp_execute_raw(struct qmp *q, struct json_object *request, struct json_object **reply,
		    struct error *err);
/* A human monitor command through human-monitor-command; *output is its
 * text (the caller frees it). */
int qmp_hmp(struct qmp *q, const char *command_line, char **output, struct error *err);
/* Waits for the event called name (one already received counts). *event,
 * when not NULL, gets it (the caller puts it). */
int qmp_wait_event(struct qmp *q, const char *name, int timeout_ms, struct json_object **event,
		   struct error *err);
/* Forgets the events received so far. */
void qmp_clear_events(struct qmp *q);
/* Whether the emulator closed the monitor: it has ended (what it sent
 * before, events included, has been read). */
bool qmp_emulator_ended(const struct qmp *q);
/* The guest's run state as query-status reports it ("running", "paused",
 * "suspended", ...); the caller frees it. */
int qmp_query_status(struct qmp *q, char **status, struct error *err);
/* The string member key of a QMP object (a reply's return value, an
 * event's data), or NULL when it has none. */
const char *qmp_string(struct json_object *obj, const char *key);
