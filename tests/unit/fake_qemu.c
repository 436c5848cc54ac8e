#include "fake_qemu.h"

#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

const struct step fake_qemu_handshake[2] = {
    {NULL, FAKE_QEMU_GREETING}, {"qmp_capabilities", "{\"return\": {}, \"id\": @ID}\r\n"}};

static char *read_line(int fd)
{
	char *line = calloc(1, 4096);
	size_t n = 0;
	while (n < 4095 && read(fd, line + n, 1) == 1) {
		if (line[n] == '\n')
			break;
		n++;
	}
	line[n] = '\0';
	return line;
}

static void write_reply(int fd, const char *reply, const char *id)
{
	char out[4096] = "";
	for (const char *p = reply; *p;) {
		if (!strncmp(p, "@ID", 3)) {
			strcat(out, id);
			p += 3;
		} else {
			strncat(out, p++, 1);
		}
	}
	cr_assert_eq(write(fd, out, strlen(out)), (ssize_t)strlen(out));
}

static void *peer_main(void *arg)
{
	struct peer *p = arg;
	for (const struct step *s = p->steps; s->expect || s->reply; s++) {
		char id[64] = "";
		if (s->expect) {
			char *line = read_line(p->fd);
			struct json_object *req = json_tokener_parse(line), *value;
			free(p->last_request);
			p->last_request = line;
			if (!req)
				break;
			if (json_object_object_get_ex(req, "execute", &value))
				snprintf(p->seen[p->n_seen++], 64, "%s",
					 json_object_get_string(value));
			if (json_object_object_get_ex(req, "id", &value))
				snprintf(id, sizeof(id), "%s", json_object_to_json_string(value));
			json_object_put(req);
		}
		if (s->reply)
			write_reply(p->fd, s->reply, id);
	}
	if (p->hang_up)
		shutdown(p->fd, SHUT_RDWR);
	return NULL;
}

static int start(struct peer *p, const struct step *steps, bool hang_up)
{
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	*p = (struct peer){.fd = sv[1], .steps = steps, .hang_up = hang_up};
	pthread_create(&p->thread, NULL, peer_main, p);
	return sv[0];
}

int start_peer(struct peer *p, const struct step *steps)
{
	return start(p, steps, false);
}

int start_peer_hanging_up(struct peer *p, const struct step *steps)
{
	return start(p, steps, true);
}

void stop_peer(struct peer *p)
{
	shutdown(p->fd, SHUT_RDWR);
	pthread_join(p->thread, NULL);
	close(p->fd);
	free(p->last_request);
}
