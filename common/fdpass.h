/* One message over a unix socket with a file descriptor riding along
 * (SCM_RIGHTS): how vm-netd hands a tap back, and how vm (and the tests)
 * take it. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Sends buf (len may be 0) as one message, with fd attached when fd >= 0.
 * flags go to sendmsg (e.g. MSG_NOSIGNAL). */
ssize_t fdpass_send(int sock, const void *buf, size_t len, int fd, int flags);
/* Receives one message of at most len bytes; *fd is the one descriptor sent
 * with it, or -1. flags go to recvmsg (e.g. MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
 * *msg_flags gets the message's flags (MSG_TRUNC, MSG_CTRUNC). */
ssize_t fdpass_recv(int sock, void *buf, size_t len, int *fd, int flags, int *msg_flags);
