/* libFuzzer: vm's QMP client in a whole session (greeting, capabilities,
 * query-status, a human monitor command, waiting for an event, a raw
 * request) against a monitor that sends arbitrary bytes.
 * Properties: no crash or leak whatever the monitor says; what succeeds
 * hands back a value; everything vm sends is a well-formed QMP command with
 * an id, one per line. */
#include "emulator/qmp.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
	if (!ok)
		__builtin_trap();
}

static void session(int fd)
{
	struct qmp q;
	struct error err;
	if (qmp_open_fd(&q, fd, 1000, &err) < 0)
		return;
	char *status = NULL;
	if (qmp_query_status(&q, &status, &err) == 0)
		check(status != NULL);
	free(status);
	char *output = NULL;
	if (qmp_hmp(&q, "info status", &output, &err) == 0)
		check(output != NULL);
	free(output);
	struct json_object *event = NULL;
	if (qmp_wait_event(&q, "STOP", 1000, &event, &err) == 0)
		check(event != NULL);
	json_object_put(event);
	struct json_object *request = json_tokener_parse("{\"execute\":\"cont\"}");
	struct json_object *reply = NULL;
	if (qmp_execute_raw(&q, request, &reply, &err) == 0)
		check(reply != NULL);
	json_object_put(reply);
	qmp_close(&q);
}

/* What the client sent: one JSON object per line, each a command with an id. */
static void check_sent(int fd)
{
	char buf[64 * 1024];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	if (n <= 0)
		return;
	buf[n] = '\0';
	check(buf[n - 1] == '\n');
	char *save = NULL;
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct json_object *cmd = json_tokener_parse(line);
		struct json_object *execute, *id;
		check(cmd && json_object_object_get_ex(cmd, "execute", &execute) &&
		      json_object_is_type(execute, json_type_string) &&
		      json_object_object_get_ex(cmd, "id", &id));
		json_object_put(cmd);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 64 * 1024)
		return 0;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		__builtin_trap();
	if (write(sv[1], data, size) != (ssize_t)size)
		__builtin_trap();
	/* The monitor has said all it says, and still reads what vm sends. */
	shutdown(sv[1], SHUT_WR);
	session(sv[0]);
	check_sent(sv[1]);
	close(sv[1]);
	return 0;
}
