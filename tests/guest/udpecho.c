/*
 * udpecho.c — answer every UDP datagram on a port with the same bytes, for
 * the vm test guest: busybox 1.35's nc has no UDP mode, and the tests of
 * vm's UDP port forwards need something in the guest that answers.
 *
 * Usage: udpecho PORT   (runs until killed; prints nothing)
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: udpecho PORT\n");
		return 2;
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in addr = {.sin_family = AF_INET,
				   .sin_port = htons((unsigned short)atoi(argv[1])),
				   .sin_addr.s_addr = htonl(INADDR_ANY)};
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		perror("udpecho");
		return 1;
	}
	for (;;) {
		char buf[2048];
		struct sockaddr_in from;
		socklen_t len = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len);
		if (n >= 0)
			sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, len);
	}
}
