#include "guest/agent.h"

#include "emulator/jsonstream.h"
#include "sys/clock.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define AGENT_TIMEOUT_MS 5000

static int agent_open(struct json_stream *s, const char *path, struct error *err)
{
	int fd = json_stream_connect(path);
	if (fd < 0)
		return error_errno(err,
				   "cannot reach the guest agent at %s (is VM_GUEST_AGENT=yes set "
				   "since the machine started?)",
				   path);
	json_stream_init(s, fd);
	return 0;
}

static struct json_object *request(const char *command, struct json_object *args)
{
	struct json_object *req = json_object_new_object();
	json_object_object_add(req, "execute", json_object_new_string(command));
	if (args)
		json_object_object_add(req, "arguments", args);
	return req;
}

static int send_request(struct json_stream *s, struct json_object *req, struct error *err)
{
	int rc = json_stream_write(s, req, err);
	json_object_put(req);
	return rc;
}

/* Reads until a reply ("return" or "error"); hands back its return value. */
static int read_reply(struct json_stream *s, int timeout_ms, struct json_object **ret,
		      struct error *err)
{
	for (;;) {
		struct json_object *msg, *value;
		if (json_stream_read(s, timeout_ms, &msg, err) < 0)
			return error_prefix(err, "guest agent");
		if (json_object_object_get_ex(msg, "error", &value)) {
			struct json_object *desc = NULL;
			json_object_object_get_ex(value, "desc", &desc);
			error_set(err, "guest agent: %s",
				  desc ? json_object_get_string(desc) : "error");
			json_object_put(msg);
			return -1;
		}
		if (json_object_object_get_ex(msg, "return", &value)) {
			*ret = json_object_get(value);
			json_object_put(msg);
			return 0;
		}
		json_object_put(msg);
	}
}

/* guest-sync-delimited: a 0xFF byte flushes the agent's parser; its reply
 * starts with 0xFF, and everything before it is stale. */
static int agent_sync_delimited(struct json_stream *s, int timeout_ms, struct error *err)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	long id = (long)(ts.tv_nsec ^ (ts.tv_sec << 10)) & 0x7fffffff;
	static const unsigned char flush = 0xff;
	struct json_object *args = json_object_new_object();
	json_object_object_add(args, "id", json_object_new_int64(id));
	if (json_stream_write_raw(s, &flush, 1, err) < 0 ||
	    send_request(s, request("guest-sync-delimited", args), err) < 0)
		return error_prefix(err, "guest agent");
	long long deadline = clock_now_ms() + timeout_ms;
	for (;;) {
		int left = (int)(deadline - clock_now_ms());
		if (left <= 0)
			return error_set(err, "the guest agent did not answer (is qemu-guest-agent "
					      "running in the guest?)");
		if (json_stream_skip_to(s, 0xff, left, err) < 0)
			return error_prefix(err, "the guest agent did not answer (is "
						 "qemu-guest-agent running in the guest?)");
		struct json_object *ret;
		if (read_reply(s, left, &ret, err) < 0)
			return -1;
		bool ours = json_object_get_int64(ret) == id;
		json_object_put(ret);
		if (ours)
			return 0;
	}
}

static int agent_begin(struct json_stream *s, const char *path, int timeout_ms, struct error *err)
{
	if (agent_open(s, path, err) < 0)
		return -1;
	if (agent_sync_delimited(s, timeout_ms, err) < 0) {
		json_stream_close(s);
		return -1;
	}
	return 0;
}

int agent_ping(const char *socket_path, int timeout_ms, struct error *err)
{
	struct json_stream s;
	if (agent_begin(&s, socket_path, timeout_ms, err) < 0)
		return -1;
	json_stream_close(&s);
	return 0;
}

/* A command the agent does not answer when it works. */
static int send_unanswered(const char *path, struct json_object *req, struct error *err)
{
	struct json_stream s;
	if (agent_begin(&s, path, AGENT_TIMEOUT_MS, err) < 0) {
		json_object_put(req);
		return -1;
	}
	int rc = send_request(&s, req, err);
	json_stream_close(&s);
	return rc;
}

int agent_suspend(const char *socket_path, struct error *err)
{
	return send_unanswered(socket_path, request("guest-suspend-ram", NULL), err);
}

int agent_shutdown(const char *socket_path, const char *mode, struct error *err)
{
	struct json_object *args = json_object_new_object();
	json_object_object_add(args, "mode", json_object_new_string(mode));
	return send_unanswered(socket_path, request("guest-shutdown", args), err);
}

static int exec_status(struct json_stream *s, int64_t pid, bool *exited, int *code,
		       struct error *err)
{
	struct json_object *args = json_object_new_object(), *ret, *value;
	json_object_object_add(args, "pid", json_object_new_int64(pid));
	if (send_request(s, request("guest-exec-status", args), err) < 0 ||
	    read_reply(s, AGENT_TIMEOUT_MS, &ret, err) < 0)
		return -1;
	*exited =
	    json_object_object_get_ex(ret, "exited", &value) && json_object_get_boolean(value);
	*code = json_object_object_get_ex(ret, "exitcode", &value) ? json_object_get_int(value) : 0;
	json_object_put(ret);
	return 0;
}

int agent_sync(const char *socket_path, int timeout_ms, struct error *err)
{
	struct json_stream s;
	if (agent_begin(&s, socket_path, AGENT_TIMEOUT_MS, err) < 0)
		return -1;
	struct json_object *args = json_object_new_object(), *ret, *pid_value;
	json_object_object_add(args, "path", json_object_new_string("sync"));
	int rc = -1;
	if (send_request(&s, request("guest-exec", args), err) < 0 ||
	    read_reply(&s, AGENT_TIMEOUT_MS, &ret, err) < 0)
		goto out;
	int64_t pid = json_object_object_get_ex(ret, "pid", &pid_value)
			  ? json_object_get_int64(pid_value)
			  : -1;
	json_object_put(ret);
	long long deadline = clock_now_ms() + timeout_ms;
	for (;;) {
		bool exited;
		int code;
		if (exec_status(&s, pid, &exited, &code, err) < 0)
			goto out;
		if (exited) {
			rc = code ? error_set(err, "sync in the guest failed (exit %d)", code) : 0;
			goto out;
		}
		if (clock_now_ms() > deadline) {
			error_set(err, "sync in the guest did not finish within %d s",
				  timeout_ms / 1000);
			goto out;
		}
		/* The agent offers no completion event for guest-exec: poll it. */
		struct timespec pause = {0, 50 * 1000 * 1000};
		nanosleep(&pause, NULL);
	}
out:
	json_stream_close(&s);
	return rc;
}
