/* A scripted fake QEMU monitor on the other end of a socketpair, for the
 * QMP client and what drives it: each step reads a command (its name is
 * recorded) and writes a reply, in a thread of its own. */
#pragma once

#include <pthread.h>
#include <stdbool.h>

#define FAKE_QEMU_GREETING "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n"

/* One step: read a command (expect: its name; NULL reads nothing), then
 * write reply (NULL: nothing), where every "@ID" becomes the command's id. */
struct step {
	const char *expect;
	const char *reply;
};

struct peer {
	int fd;
	const struct step *steps;
	bool hang_up; /* closes its end after the last step, as an emulator that ends */
	pthread_t thread;
	char seen[16][64]; /* the commands received */
	int n_seen;
	char *last_request;
};

/* The greeting and the capabilities' reply: a script's first two steps. */
extern const struct step fake_qemu_handshake[2];

/* Starts the fake on steps (an all-NULL step ends them); vm's end of the
 * socketpair. */
int start_peer(struct peer *p, const struct step *steps);
/* The same, hanging up after the last step. */
int start_peer_hanging_up(struct peer *p, const struct step *steps);
void stop_peer(struct peer *p);
