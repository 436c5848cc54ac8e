#include "emulator/forwards.h"

#include "config/config.h"
#include "emulator/qmp.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int parse_port(const char *text, size_t len, const char *word, unsigned *port,
		      struct error *err)
{
	unsigned value = 0;
	if (len == 0 || len > 5)
		goto bad;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			goto bad;
		value = value * 10 + (unsigned)(text[i] - '0');
	}
	if (value < 1 || value > 65535)
		goto bad;
	*port = value;
	return 0;
bad:
	return error_set(err,
			 "VM_NET_FORWARD: '%s' is not HOST:GUEST[/udp] with ports from 1 to 65535 "
			 "(for example 8080:80 or 5353:53/udp)",
			 word);
}

static int parse_word(const char *word, struct forward *fw, struct error *err)
{
	*fw = (struct forward){0};
	const char *colon = strchr(word, ':');
	const char *slash = strchr(word, '/');
	if (!colon || (slash && slash < colon))
		return parse_port(word, 0, word, &fw->host_port, err);
	if (slash) {
		if (!strcmp(slash, "/udp"))
			fw->udp = true;
		else if (strcmp(slash, "/tcp"))
			return error_set(err, "VM_NET_FORWARD: '%s': the protocol is tcp or udp",
					 word);
	}
	const char *guest = colon + 1;
	size_t guest_len = slash ? (size_t)(slash - guest) : strlen(guest);
	if (parse_port(word, (size_t)(colon - word), word, &fw->host_port, err) < 0 ||
	    parse_port(guest, guest_len, word, &fw->guest_port, err) < 0)
		return -1;
	return 0;
}

int forwards_parse(const char *spec, struct forwards *out, struct error *err)
{
	*out = (struct forwards){0};
	char *copy = xstrdup(spec ? spec : "");
	char *save = NULL;
	for (char *word = strtok_r(copy, " \t\n", &save); word;
	     word = strtok_r(NULL, " \t\n", &save)) {
		struct forward fw;
		if (parse_word(word, &fw, err) < 0)
			goto fail;
		for (size_t i = 0; i < out->n; i++)
			if (out->v[i].host_port == fw.host_port && out->v[i].udp == fw.udp) {
				error_set(err, "VM_NET_FORWARD: host port %u/%s is forwarded twice",
					  fw.host_port, fw.udp ? "udp" : "tcp");
				goto fail;
			}
		out->v = xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
		out->v[out->n++] = fw;
	}
	free(copy);
	return 0;
fail:
	free(copy);
	forwards_free(out);
	return -1;
}

void forwards_free(struct forwards *fw)
{
	free(fw->v);
	*fw = (struct forwards){0};
}

/* Binds a socket like QEMU's forward would, then lets it go. */
static int probe_port(const struct forward *fw, const char *addr, struct error *err)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	const char *numeric = strcmp(addr, "localhost") ? addr : "127.0.0.1";
	if (inet_pton(AF_INET, numeric, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)fw->host_port);
		len = sizeof(*in4);
	} else if (inet_pton(AF_INET6, numeric, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)fw->host_port);
		len = sizeof(*in6);
	} else {
		return error_set(err, "VM_NET_FORWARD_ADDR: '%s' is not an IPv4 or IPv6 address",
				 addr);
	}
	int fd = socket(ss.ss_family, (fw->udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return error_errno(err, "cannot check the forwarded ports: socket");
	int one = 1;
	/* QEMU sets it on its listeners too: a port in TIME_WAIT is free. */
	if (!fw->udp)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	int rc = bind(fd, (struct sockaddr *)&ss, len);
	int saved = errno;
	close(fd);
	if (rc == 0)
		return 0;
	const char *proto = fw->udp ? "udp" : "tcp";
	if (saved == EADDRINUSE)
		return error_set(err,
				 "host port %u/%s on %s is already in use: stop what listens there "
				 "or forward another port in VM_NET_FORWARD",
				 fw->host_port, proto, addr);
	if (saved == EACCES)
		return error_set(err,
				 "host port %u/%s on %s: only root may use ports below 1024; "
				 "forward a higher port in VM_NET_FORWARD",
				 fw->host_port, proto, addr);
	errno = saved;
	return error_errno(err, "cannot forward host port %u/%s on %s", fw->host_port, proto, addr);
}

int forwards_check_free(const struct forwards *fw, const char *addr, struct error *err)
{
	for (size_t i = 0; i < fw->n; i++)
		if (probe_port(&fw->v[i], addr, err) < 0)
			return -1;
	return 0;
}

int forwards_from_config(const struct config *cfg, struct forwards *out, const char **addr,
			 struct error *err)
{
	*addr = config_get(cfg, "VM_NET_FORWARD_ADDR"); /* the table's default when missing */
	return forwards_parse(config_get(cfg, "VM_NET_FORWARD"), out, err);
}

int forwards_check_machine(const struct config *cfg, int ssh_port, struct error *err)
{
	struct forward ssh = {.host_port = (unsigned)ssh_port, .guest_port = 22};
	struct forwards fw;
	const char *addr;
	if (probe_port(&ssh, "127.0.0.1", err) < 0)
		return error_prefix(err, "the guest's ssh forward (port 2200 + VM_MACHINE_ID)");
	if (forwards_from_config(cfg, &fw, &addr, err) < 0)
		return -1;
	int rc = forwards_check_free(&fw, addr, err);
	forwards_free(&fw);
	return rc;
}

void forwards_add_hostfwd(const struct forwards *fw, const char *addr, struct strv *opts)
{
	/* QEMU's hostfwd takes IPv4 only; localhost is written as its address. */
	const char *host = strcmp(addr, "localhost") ? addr : "127.0.0.1";
	for (size_t i = 0; i < fw->n; i++)
		strv_addf(opts, "hostfwd=%s:%s:%u-:%u", fw->v[i].udp ? "udp" : "tcp", host,
			  fw->v[i].host_port, fw->v[i].guest_port);
}

bool forwards_addr_is_loopback(const char *addr)
{
	struct in_addr in4;
	if (!strcmp(addr, "localhost") || !strcmp(addr, "::1"))
		return true;
	return inet_pton(AF_INET, addr, &in4) == 1 && (ntohl(in4.s_addr) >> 24) == 127;
}

/* One line of "info usernet":
 *   TCP[HOST_FORWARD]  13  127.0.0.1  8080  10.0.2.15  80  0  0 */
static bool parse_usernet_line(const char *line, struct forward *fw)
{
	char proto[8], dst[64];
	int fd;
	*fw = (struct forward){0};
	if (sscanf(line, " %7[A-Z][HOST_FORWARD] %d %63s %u %63s %u", proto, &fd, fw->host_addr,
		   &fw->host_port, dst, &fw->guest_port) != 6)
		return false;
	fw->udp = !strcmp(proto, "UDP");
	return true;
}

int forwards_query(struct qmp *q, struct forwards *out, struct error *err)
{
	*out = (struct forwards){0};
	char *text;
	if (qmp_hmp(q, "info usernet", &text, err) < 0)
		return -1;
	char *save = NULL;
	for (char *line = strtok_r(text, "\r\n", &save); line;
	     line = strtok_r(NULL, "\r\n", &save)) {
		struct forward fw;
		if (!parse_usernet_line(line, &fw))
			continue;
		out->v = xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
		out->v[out->n++] = fw;
	}
	free(text);
	return 0;
}

char *forwards_describe(const struct forwards *fw)
{
	struct strv words = STRV_INIT;
	for (size_t i = 0; i < fw->n; i++)
		strv_addf(&words, "%s:%u->%u/%s", fw->v[i].host_addr, fw->v[i].host_port,
			  fw->v[i].guest_port, fw->v[i].udp ? "udp" : "tcp");
	char *text = strv_join(&words, ", ");
	strv_free(&words);
	return text;
}

struct json_object *forwards_json(const struct forwards *fw)
{
	struct json_object *array = json_object_new_array();
	for (size_t i = 0; i < fw->n; i++) {
		struct json_object *obj = json_object_new_object();
		json_object_object_add(obj, "address", json_object_new_string(fw->v[i].host_addr));
		json_object_object_add(obj, "host_port",
				       json_object_new_int((int)fw->v[i].host_port));
		json_object_object_add(obj, "guest_port",
				       json_object_new_int((int)fw->v[i].guest_port));
		json_object_object_add(obj, "protocol",
				       json_object_new_string(fw->v[i].udp ? "udp" : "tcp"));
		json_object_array_add(array, obj);
	}
	return array;
}
