/* NAT port forwards: VM_NET_FORWARD's words, the command line they give,
 * and the check that names a host port already in use. */
#include "emulator/forwards.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct forwards parsed(const char *spec)
{
	struct forwards fw;
	struct error err;
	cr_assert_eq(forwards_parse(spec, &fw, &err), 0, "%s: %s", spec, err.msg);
	return fw;
}

static void assert_refused(const char *spec, const char *message)
{
	struct forwards fw;
	struct error err;
	cr_assert_eq(forwards_parse(spec, &fw, &err), -1, "'%s' was accepted", spec);
	cr_assert(strstr(err.msg, message), "'%s': '%s' lacks '%s'", spec, err.msg, message);
	cr_assert_eq(fw.n, 0);
}

Test(forwards, words_of_host_guest_and_protocol)
{
	struct forwards fw = parsed("8080:80  5353:53/udp\t9000:9000/tcp");
	cr_assert_eq(fw.n, 3);
	cr_assert(fw.v[0].host_port == 8080 && fw.v[0].guest_port == 80 && !fw.v[0].udp);
	cr_assert(fw.v[1].host_port == 5353 && fw.v[1].guest_port == 53 && fw.v[1].udp);
	cr_assert(fw.v[2].host_port == 9000 && !fw.v[2].udp);
	forwards_free(&fw);
	fw = parsed(NULL);
	cr_assert_eq(fw.n, 0);
	fw = parsed("  ");
	cr_assert_eq(fw.n, 0);
}

Test(forwards, bad_words_are_refused_with_the_form)
{
	assert_refused("8080", "'8080' is not HOST:GUEST[/udp]");
	assert_refused("8080:", "'8080:' is not HOST:GUEST[/udp]");
	assert_refused(":80", "is not HOST:GUEST");
	assert_refused("0:80", "ports from 1 to 65535");
	assert_refused("65536:80", "ports from 1 to 65535");
	assert_refused("80:8x", "'80:8x' is not");
	assert_refused("8080:80/sctp", "the protocol is tcp or udp");
	assert_refused("8080/udp:80", "is not HOST:GUEST");
	assert_refused("8080:80 8080:81", "host port 8080/tcp is forwarded twice");
	/* The same port number for tcp and udp is two forwards. */
	struct forwards fw = parsed("5353:53 5353:53/udp");
	cr_assert_eq(fw.n, 2);
	forwards_free(&fw);
}

Test(forwards, hostfwd_options_on_the_address_given)
{
	struct forwards fw = parsed("8080:80 5353:53/udp");
	struct strv opts = STRV_INIT;
	forwards_add_hostfwd(&fw, "localhost", &opts);
	char *line = strv_join(&opts, ",");
	cr_assert_str_eq(line, "hostfwd=tcp:127.0.0.1:8080-:80,hostfwd=udp:127.0.0.1:5353-:53");
	free(line);
	strv_free(&opts);
	forwards_free(&fw);
}

static int listen_on_loopback(int type, unsigned *port)
{
	int fd = socket(AF_INET, type, 0);
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(in);
	cr_assert_eq(bind(fd, (struct sockaddr *)&in, sizeof(in)), 0);
	if (type == SOCK_STREAM)
		cr_assert_eq(listen(fd, 1), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&in, &len), 0);
	*port = ntohs(in.sin_port);
	return fd;
}

Test(forwards, a_port_in_use_is_named)
{
	unsigned tcp_port, udp_port;
	int tcp = listen_on_loopback(SOCK_STREAM, &tcp_port);
	int udp = listen_on_loopback(SOCK_DGRAM, &udp_port);
	char spec[64], expected[96];
	struct error err;
	struct forwards fw;

	snprintf(spec, sizeof(spec), "%u:80", tcp_port);
	fw = parsed(spec);
	cr_assert_eq(forwards_check_free(&fw, "127.0.0.1", &err), -1);
	snprintf(expected, sizeof(expected), "host port %u/tcp on 127.0.0.1 is already in use",
		 tcp_port);
	cr_assert(strstr(err.msg, expected), "%s", err.msg);
	forwards_free(&fw);

	snprintf(spec, sizeof(spec), "%u:53/udp", udp_port);
	fw = parsed(spec);
	cr_assert_eq(forwards_check_free(&fw, "127.0.0.1", &err), -1);
	snprintf(expected, sizeof(expected), "host port %u/udp on 127.0.0.1 is already in use",
		 udp_port);
	cr_assert(strstr(err.msg, expected), "%s", err.msg);
	forwards_free(&fw);

	close(tcp);
	close(udp);
	/* Once they are free, the same forwards pass. */
	snprintf(spec, sizeof(spec), "%u:80 %u:53/udp", tcp_port, udp_port);
	fw = parsed(spec);
	cr_assert_eq(forwards_check_free(&fw, "127.0.0.1", &err), 0, "%s", err.msg);
	cr_assert_eq(forwards_check_free(&fw, "not-an-address", &err), -1);
	cr_assert(strstr(err.msg, "VM_NET_FORWARD_ADDR: 'not-an-address'"), "%s", err.msg);
	forwards_free(&fw);
}

Test(forwards, loopback_addresses)
{
	cr_assert(forwards_addr_is_loopback("127.0.0.1"));
	cr_assert(forwards_addr_is_loopback("127.1.2.3"));
	cr_assert(forwards_addr_is_loopback("localhost"));
	cr_assert(forwards_addr_is_loopback("::1"));
	cr_assert_not(forwards_addr_is_loopback("0.0.0.0"));
	cr_assert_not(forwards_addr_is_loopback("192.0.2.1"));
}
