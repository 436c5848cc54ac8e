/* The guest agent client against a fake agent on a unix socket: the
 * guest-sync-delimited handshake (stale replies before the 0xFF delimiter
 * are dropped), commands without replies, and guest-exec of sync. */
#include "guest/agent.h"

#include <criterion/criterion.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct fake {
	int listen_fd;
	char path[108];
	pthread_t thread;
	int exec_polls; /* guest-exec-status answers "not exited" this often */
	char commands[8][64];
	int n_commands;
};

static struct json_object *read_request(int fd)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *obj = NULL;
	char c;
	while (!obj && read(fd, &c, 1) == 1) {
		if ((unsigned char)c == 0xff) {
			json_tokener_reset(tok);
			continue;
		}
		obj = json_tokener_parse_ex(tok, &c, 1);
		if (!obj && json_tokener_get_error(tok) != json_tokener_continue)
			break;
	}
	json_tokener_free(tok);
	return obj;
}

static void say(int fd, const char *text)
{
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
}

static void *fake_main(void *arg)
{
	struct fake *f = arg;
	int fd = accept(f->listen_fd, NULL, NULL);
	struct json_object *req, *value;
	/* A reply left over from an earlier client, before the delimiter. */
	say(fd, "{\"return\": 12345}\n");
	while ((req = read_request(fd))) {
		const char *cmd = json_object_object_get_ex(req, "execute", &value)
				      ? json_object_get_string(value)
				      : "?";
		snprintf(f->commands[f->n_commands++], 64, "%s", cmd);
		char reply[256] = "";
		if (!strcmp(cmd, "guest-sync-delimited")) {
			struct json_object *args, *id;
			json_object_object_get_ex(req, "arguments", &args);
			json_object_object_get_ex(args, "id", &id);
			snprintf(reply, sizeof(reply), "\xff{\"return\": %lld}\n",
				 (long long)json_object_get_int64(id));
		} else if (!strcmp(cmd, "guest-exec")) {
			snprintf(reply, sizeof(reply), "{\"return\": {\"pid\": 77}}\n");
		} else if (!strcmp(cmd, "guest-exec-status")) {
			snprintf(reply, sizeof(reply),
				 "{\"return\": {\"exited\": %s, \"exitcode\": 0}}\n",
				 f->exec_polls-- > 0 ? "false" : "true");
		}
		json_object_put(req);
		if (reply[0])
			say(fd, reply);
	}
	close(fd);
	return NULL;
}

static void start_fake(struct fake *f)
{
	*f = (struct fake){.exec_polls = 2};
	snprintf(f->path, sizeof(f->path), "/tmp/vm-agent-test.%d.sock", getpid());
	unlink(f->path);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	strcpy(addr.sun_path, f->path);
	f->listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_eq(bind(f->listen_fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	cr_assert_eq(listen(f->listen_fd, 1), 0);
	pthread_create(&f->thread, NULL, fake_main, f);
}

static void stop_fake(struct fake *f)
{
	pthread_join(f->thread, NULL);
	close(f->listen_fd);
	unlink(f->path);
}

Test(agent, suspend_syncs_first_then_sends_without_waiting)
{
	struct fake f;
	start_fake(&f);
	struct error err;
	cr_assert_eq(agent_suspend(f.path, &err), 0, "%s", err.msg);
	stop_fake(&f);
	cr_assert_eq(f.n_commands, 2);
	cr_assert_str_eq(f.commands[0], "guest-sync-delimited");
	cr_assert_str_eq(f.commands[1], "guest-suspend-ram");
}

Test(agent, shutdown_names_its_mode)
{
	struct fake f;
	start_fake(&f);
	struct error err;
	cr_assert_eq(agent_shutdown(f.path, "powerdown", &err), 0, "%s", err.msg);
	stop_fake(&f);
	cr_assert_str_eq(f.commands[1], "guest-shutdown");
}

Test(agent, sync_runs_sync_and_waits_until_it_exits)
{
	struct fake f;
	start_fake(&f);
	struct error err;
	cr_assert_eq(agent_sync(f.path, 5000, &err), 0, "%s", err.msg);
	stop_fake(&f);
	cr_assert_str_eq(f.commands[1], "guest-exec");
	cr_assert_str_eq(f.commands[2], "guest-exec-status");
	cr_assert_str_eq(f.commands[4], "guest-exec-status");
	cr_assert_eq(f.n_commands, 5);
}

Test(agent, a_missing_agent_says_what_to_check)
{
	struct error err;
	cr_assert_eq(agent_suspend("/nonexistent/agent.sock", &err), -1);
	cr_assert(strstr(err.msg, "VM_GUEST_AGENT=yes"), "%s", err.msg);
}
