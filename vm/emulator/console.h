/* The guest's serial console: the emulator's first serial port, on a unix
 * socket in the runtime directory (qemu.c), with what the guest writes
 * there kept in a log beside it. One vm console attaches at a time. */
#pragma once

#include "emulator/runtime.h"
#include "error.h"

#include <stddef.h>

/* The log is trimmed to its last CONSOLE_LOG_KEEP bytes whenever vm reads
 * it and finds it past CONSOLE_LOG_MAX. */
#define CONSOLE_LOG_MAX (1024 * 1024)
#define CONSOLE_LOG_KEEP (256 * 1024)

/* The byte that detaches: Ctrl-], as with telnet and virsh console. */
#define CONSOLE_DETACH_KEY 0x1d

struct console {
	int fd;	     /* the connection to the serial port */
	int lock_fd; /* held while attached */
};

/* Takes the console (refusing, with its pid, when another vm console has
 * it) and connects to the serial port. */
int console_attach(const struct runtime *rt, struct console *c, struct error *err);
void console_detach(struct console *c);

enum console_end {
	CONSOLE_DETACHED,	/* the user typed the detach key */
	CONSOLE_INPUT_ENDED,	/* end of input (not a terminal) */
	CONSOLE_EMULATOR_ENDED, /* the emulator closed the serial port */
};
/* Copies in to the serial port and the serial port to out until one of
 * the ends above (returned) or an error (-1). */
int console_relay(struct console *c, int in, int out, struct error *err);

/* What the console log holds (NULL when there is none), trimming it first
 * when it has grown too large; the caller frees it. */
char *console_log_read(const struct runtime *rt);
