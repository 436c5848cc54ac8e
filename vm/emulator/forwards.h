/* Port forwards of a NAT machine (VM_NET_FORWARD="8080:80 5353:53/udp"):
 * read from the configuration, checked on the host before the emulator
 * starts, put on QEMU's user network, and read back from a running one. */
#pragma once

#include "error.h"
#include "strv.h"

#include <stdbool.h>
#include <stddef.h>

struct config;
struct json_object;
struct qmp;

struct forward {
	bool udp;
	unsigned host_port;
	unsigned guest_port;
	char host_addr[64]; /* of a running forward; "" in a parsed one */
};

struct forwards {
	struct forward *v;
	size_t n;
};

/* Parses words of HOST:GUEST[/tcp|/udp] (ports 1-65535). A NULL or empty
 * spec gives no forwards. */
int forwards_parse(const char *spec, struct forwards *out, struct error *err);
void forwards_free(struct forwards *fw);
/* The machine's forwards (VM_NET_FORWARD) and the host address they
 * listen on (VM_NET_FORWARD_ADDR). */
int forwards_from_config(const struct config *cfg, struct forwards *out, const char **addr,
			 struct error *err);
/* Whether each host port can still be bound on addr, so that a port in use
 * is named before the emulator starts (QEMU would only say that a rule
 * failed). */
int forwards_check_free(const struct forwards *fw, const char *addr, struct error *err);
/* Before a NAT machine starts: ssh's forward and the machine's own can
 * be bound, else an error that names the port in use. */
int forwards_check_machine(const struct config *cfg, int ssh_port, struct error *err);
/* The ",hostfwd=..." options of -netdev user for these forwards. */
void forwards_add_hostfwd(const struct forwards *fw, const char *addr, struct strv *opts);
/* What the running emulator forwards, read from its user network, ssh's
 * forward included (none for a bridged machine). */
int forwards_query(struct qmp *q, struct forwards *out, struct error *err);
/* "127.0.0.1:8080->80/tcp, ..." of running forwards (the caller frees it). */
char *forwards_describe(const struct forwards *fw);
/* The same as a JSON array of {address, host_port, guest_port, protocol}. */
struct json_object *forwards_json(const struct forwards *fw);
/* Whether addr is a loopback address (127.0.0.0/8, ::1, localhost). */
bool forwards_addr_is_loopback(const char *addr);
