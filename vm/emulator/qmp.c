#include "emulator/qmp.h"
#include "sys/clock.h"

#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *string_member(struct json_object *obj, const char *key)
{
	struct json_object *value;
	if (!json_object_object_get_ex(obj, key, &value) ||
	    !json_object_is_type(value, json_type_string))
		return NULL;
	return json_object_get_string(value);
}

static bool is_event(struct json_object *msg)
{
	return json_object_object_get_ex(msg, "event", NULL);
}

static bool has_id(struct json_object *msg, const char *id)
{
	const char *got = string_member(msg, "id");
	return got && !strcmp(got, id);
}

static void keep_event(struct qmp *q, struct json_object *event)
{
	if (json_object_array_length(q->events) >= QMP_EVENTS_KEPT)
		json_object_array_del_idx(q->events, 0, 1);
	json_object_array_add(q->events, event);
}

/* Reads messages until the reply carrying id; events met on the way are kept. */
static int read_reply(struct qmp *q, const char *id, struct json_object **reply, struct error *err)
{
	for (;;) {
		struct json_object *msg;
		if (json_stream_read(&q->stream, q->timeout_ms, &msg, err) < 0)
			return -1;
		if (!json_object_is_type(msg, json_type_object)) {
			json_object_put(msg);
			return error_set(err,
					 "the monitor sent something that is not a QMP message");
		}
		if (is_event(msg)) {
			keep_event(q, msg);
			continue;
		}
		if (id && !has_id(msg, id)) {
			json_object_put(msg); /* a late reply to an earlier, abandoned command */
			continue;
		}
		*reply = msg;
		return 0;
	}
}

static int reply_error(struct json_object *reply, struct error *err)
{
	struct json_object *error;
	if (!json_object_object_get_ex(reply, "error", &error))
		return 0;
	const char *desc = string_member(error, "desc");
	const char *class = string_member(error, "class");
	return error_set(err, "%s%s%s", desc ? desc : "unknown error", class ? " - " : "",
			 class ? class : "");
}

static int handshake(struct qmp *q, struct error *err)
{
	struct json_object *greeting;
	if (json_stream_read(&q->stream, q->timeout_ms, &greeting, err) < 0)
		return error_prefix(err, "no greeting from the monitor (another client may be "
					 "connected to it)");
	bool ok = json_object_object_get_ex(greeting, "QMP", NULL);
	json_object_put(greeting);
	if (!ok)
		return error_set(err, "the monitor's greeting is not QMP");
	return qmp_execute(q, "qmp_capabilities", NULL, NULL, err);
}

int qmp_open_fd(struct qmp *q, int fd, int timeout_ms, struct error *err)
{
	*q = (struct qmp){.open = true,
			  .timeout_ms = timeout_ms,
			  .next_id = 1,
			  .events = json_object_new_array()};
	json_stream_init(&q->stream, fd);
	if (handshake(q, err) < 0) {
		qmp_close(q);
		return -1;
	}
	return 0;
}

int qmp_connect(struct qmp *q, const char *socket_path, int timeout_ms, struct error *err)
{
	*q = (struct qmp){0};
	int fd = json_stream_connect(socket_path);
	if (fd < 0)
		return error_errno(err, "cannot connect to the monitor %s", socket_path);
	return qmp_open_fd(q, fd, timeout_ms, err);
}

void qmp_close(struct qmp *q)
{
	if (!q->open)
		return;
	json_stream_close(&q->stream);
	json_object_put(q->events);
	*q = (struct qmp){0};
}

int qmp_execute_raw(struct qmp *q, struct json_object *request, struct json_object **reply,
		    struct error *err)
{
	char id[32];
	struct json_object *given;
	if (json_object_object_get_ex(request, "id", &given)) {
		snprintf(id, sizeof(id), "%s", json_object_get_string(given));
	} else {
		snprintf(id, sizeof(id), "vm-%lu", q->next_id++);
		json_object_object_add(request, "id", json_object_new_string(id));
	}
	bool string_id = !given || json_object_is_type(given, json_type_string);
	int rc = json_stream_write(&q->stream, request, err);
	json_object_put(request);
	if (rc < 0)
		return error_prefix(err, "cannot send to the monitor");
	if (read_reply(q, string_id ? id : NULL, reply, err) < 0)
		return error_prefix(err, "monitor");
	return 0;
}

int qmp_send(struct qmp *q, const char *command, struct json_object *args, char id[32],
	     struct error *err)
{
	snprintf(id, 32, "vm-%lu", q->next_id++);
	struct json_object *request = json_object_new_object();
	json_object_object_add(request, "execute", json_object_new_string(command));
	if (args)
		json_object_object_add(request, "arguments", args);
	json_object_object_add(request, "id", json_object_new_string(id));
	int rc = json_stream_write(&q->stream, request, err);
	json_object_put(request);
	if (rc < 0)
		return error_prefix(err, "%s: cannot send to the monitor", command);
	return 0;
}

int qmp_receive(struct qmp *q, const char *command, const char *id, struct json_object **result,
		struct error *err)
{
	struct json_object *reply;
	if (read_reply(q, id, &reply, err) < 0)
		return error_prefix(err, "%s: monitor", command);
	if (reply_error(reply, err) < 0) {
		json_object_put(reply);
		return error_prefix(err, "%s", command);
	}
	if (result) {
		struct json_object *ret = NULL;
		json_object_object_get_ex(reply, "return", &ret);
		*result = json_object_get(ret);
	}
	json_object_put(reply);
	return 0;
}

int qmp_execute(struct qmp *q, const char *command, struct json_object *args,
		struct json_object **result, struct error *err)
{
	char id[32];
	if (qmp_send(q, command, args, id, err) < 0)
		return -1;
	return qmp_receive(q, command, id, result, err);
}

int qmp_hmp(struct qmp *q, const char *command_line, char **output, struct error *err)
{
	struct json_object *args = json_object_new_object();
	json_object_object_add(args, "command-line", json_object_new_string(command_line));
	struct json_object *ret;
	if (qmp_execute(q, "human-monitor-command", args, &ret, err) < 0)
		return -1;
	const char *text =
	    json_object_is_type(ret, json_type_string) ? json_object_get_string(ret) : "";
	*output = xstrdup(text);
	json_object_put(ret);
	return 0;
}

/* Takes the first kept event called name out of the list. */
static struct json_object *take_event(struct qmp *q, const char *name)
{
	size_t n = json_object_array_length(q->events);
	for (size_t i = 0; i < n; i++) {
		struct json_object *event = json_object_array_get_idx(q->events, i);
		const char *got = string_member(event, "event");
		if (got && !strcmp(got, name)) {
			json_object_get(event);
			json_object_array_del_idx(q->events, i, 1);
			return event;
		}
	}
	return NULL;
}

int qmp_wait_event(struct qmp *q, const char *name, int timeout_ms, struct json_object **event,
		   struct error *err)
{
	long long deadline = clock_now_ms() + timeout_ms;
	for (;;) {
		struct json_object *found = take_event(q, name);
		if (found) {
			if (event)
				*event = found;
			else
				json_object_put(found);
			return 0;
		}
		long long left = deadline - clock_now_ms();
		if (left <= 0)
			return error_set(err, "the emulator did not report %s within %d s", name,
					 timeout_ms / 1000);
		struct json_object *msg;
		if (json_stream_read(&q->stream, (int)left, &msg, err) < 0)
			return error_prefix(err, "waiting for %s", name);
		if (is_event(msg))
			keep_event(q, msg);
		else
			json_object_put(msg);
	}
}

void qmp_clear_events(struct qmp *q)
{
	size_t n = json_object_array_length(q->events);
	if (n)
		json_object_array_del_idx(q->events, 0, n);
}

bool qmp_emulator_ended(const struct qmp *q)
{
	return q->stream.closed;
}

int qmp_query_status(struct qmp *q, char **status, struct error *err)
{
	struct json_object *ret;
	if (qmp_execute(q, "query-status", NULL, &ret, err) < 0)
		return -1;
	const char *value = string_member(ret, "status");
	*status = xstrdup(value ? value : "unknown");
	json_object_put(ret);
	return 0;
}

const char *qmp_string(struct json_object *obj, const char *key)
{
	return string_member(obj, key);
}
