/* One message over a unix socket with file descriptors riding along
 * (SCM_RIGHTS): how vm-netd hands a tap's queues back, and how vm (and the
 * tests) take them. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#define FDPASS_MAX_FDS 8 /* the most one message carries */

/* Sends buf (len may be 0) as one message, with the nfds fds attached (at
 * most FDPASS_MAX_FDS). flags go to sendmsg (e.g. MSG_NOSIGNAL). */
ssize_t fdpass_send(int sock, const void *buf, size_t len, const int *fds, size_t nfds, int flags);
/* Receives one message of at most len bytes; fds[0..*nfds) are the
 * descriptors sent with it (at most FDPASS_MAX_FDS; more shows as
 * MSG_CTRUNC, and the kernel closes the rest). flags go to recvmsg (e.g.
 * MSG_DONTWAIT | MSG_CMSG_CLOEXEC); *msg_flags gets the message's flags
 * (MSG_TRUNC, MSG_CTRUNC). */
ssize_t fdpass_recv(int sock, void *buf, size_t len, int fds[FDPASS_MAX_FDS], size_t *nfds,
		    int flags, int *msg_flags);
