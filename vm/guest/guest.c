#include "guest/guest.h"

#include "config/words.h"
#include "guest/agent.h"
#include "log.h"
#include "sys/clock.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SSH_CONNECT_TIMEOUT_S 5
#define GUEST_COMMAND_TIMEOUT_MS 30000
/* Exit codes of the control script below, so that vm can say what is wrong. */
#define NO_CONTROL_METHOD 93
#define NO_SUDO 94

int guest_open(struct guest *g, const struct config *cfg, const struct runtime *rt,
	       struct error *err)
{
	*g = (struct guest){.options = STRV_INIT};
	if (config_words(cfg, "VM_SSH_OPTS", &g->options, err) < 0)
		return -1;
	struct runtime_info info;
	struct error ignored;
	if (rt && runtime_read_info(rt, &info, &ignored) == 0 && !strcmp(info.network, "nat") &&
	    info.ssh_port > 0) {
		g->host = xstrdup("127.0.0.1");
		g->port = info.ssh_port;
	} else {
		g->host = xstrdup(config_get(cfg, "VM_NET_GUEST"));
		g->port = 22;
	}
	if (rt)
		runtime_info_free(&info);
	g->user = xstrdup(config_get(cfg, "VM_MACHINE_USER"));
	if (config_bool(cfg, "VM_GUEST_AGENT") && rt)
		g->agent_socket = xstrdup(rt->ga_socket);
	return 0;
}

void guest_close(struct guest *g)
{
	free(g->host);
	free(g->user);
	free(g->agent_socket);
	strv_free(&g->options);
	*g = (struct guest){.options = STRV_INIT};
}

char *guest_address(const struct guest *g)
{
	if (g->port == 22)
		return xasprintf("%s@%s", g->user, g->host);
	return xasprintf("%s@%s:%d", g->user, g->host, g->port);
}

void guest_ssh_argv(const struct guest *g, int connect_timeout_s, bool tty, char *const command[],
		    struct strv *argv)
{
	strv_add(argv, "ssh");
	strv_add(argv, tty ? "-t" : "-T");
	strv_add(argv, "-o");
	strv_add(argv, "BatchMode=yes");
	strv_add(argv, "-o");
	strv_addf(argv, "ConnectTimeout=%d", connect_timeout_s);
	strv_add(argv, "-o");
	strv_add(argv, "StrictHostKeyChecking=accept-new");
	strv_add(argv, "-o");
	strv_add(argv, "LogLevel=ERROR");
	strv_add(argv, "-p");
	strv_addf(argv, "%d", g->port);
	for (size_t i = 0; i < g->options.n; i++)
		strv_add(argv, g->options.v[i]);
	strv_add(argv, "-l");
	strv_add(argv, g->user);
	strv_add(argv, g->host);
	if (command && command[0]) {
		strv_add(argv, "--");
		for (size_t i = 0; command[i]; i++)
			strv_add(argv, command[i]);
	}
}

static int connect_with_timeout(const struct addrinfo *ai, long long deadline)
{
	int fd =
	    socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
	if (fd < 0)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS)
		goto fail;
	struct pollfd pfd = {fd, POLLOUT, 0};
	long long left = deadline - clock_now_ms();
	if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
		goto fail;
	int soerr = 0;
	socklen_t len = sizeof(soerr);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0 || soerr)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

static bool read_banner(int fd, long long deadline)
{
	char buf[8];
	size_t have = 0;
	while (have < 4) {
		struct pollfd pfd = {fd, POLLIN, 0};
		long long left = deadline - clock_now_ms();
		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return false;
		ssize_t r = read(fd, buf + have, 4 - have);
		if (r <= 0)
			return false;
		have += (size_t)r;
	}
	return memcmp(buf, "SSH-", 4) == 0;
}

bool guest_ssh_banner(const struct guest *g, int timeout_ms)
{
	long long deadline = clock_now_ms() + timeout_ms;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
	char port[16];
	snprintf(port, sizeof(port), "%d", g->port);
	if (getaddrinfo(g->host, port, &hints, &res) != 0)
		return false;
	bool found = false;
	for (struct addrinfo *ai = res; ai && !found; ai = ai->ai_next) {
		int fd = connect_with_timeout(ai, deadline);
		if (fd >= 0) {
			found = read_banner(fd, deadline);
			close(fd);
		}
	}
	freeaddrinfo(res);
	return found;
}

int guest_run(const struct guest *g, const char *command, int timeout_ms,
	      struct spawn_result *result, struct error *err)
{
	struct strv argv = STRV_INIT;
	char *const cmd[] = {(char *)command, NULL};
	guest_ssh_argv(g, SSH_CONNECT_TIMEOUT_S, false, cmd, &argv);
	struct spawn_options opts = {
	    .capture_stdout = true, .capture_stderr = true, .timeout_ms = timeout_ms};
	int rc = spawn_run(strv_argv(&argv), &opts, result, err);
	strv_free(&argv);
	if (rc == 0 && result->timed_out) {
		spawn_result_free(result);
		char *address = guest_address(g);
		error_set(err, "ssh %s did not finish within %d s", address, timeout_ms / 1000);
		free(address);
		return -1;
	}
	return rc;
}

static int ssh_failure(const struct guest *g, struct spawn_result *r, struct error *err)
{
	char *address = guest_address(g);
	char *reason = spawn_last_lines(r->err, 1);
	error_set(err, "ssh %s failed: %s", address, reason[0] ? reason : "no reason given");
	free(reason);
	free(address);
	return -1;
}

int guest_login(const struct guest *g, int timeout_ms, struct error *err)
{
	struct spawn_result r;
	if (guest_run(g, "true", timeout_ms, &r, err) < 0)
		return -1;
	int rc = r.status == 0 ? 0 : ssh_failure(g, &r, err);
	spawn_result_free(&r);
	return rc;
}

int guest_control_method(const struct guest *g, char **method, struct error *err)
{
	struct spawn_result r;
	if (guest_run(g, "command -v systemctl || command -v loginctl", GUEST_COMMAND_TIMEOUT_MS,
		      &r, err) < 0)
		return -1;
	int rc = 0;
	if (r.status == 255)
		rc = ssh_failure(g, &r, err);
	else if (r.status != 0 || !r.out[0])
		rc = error_set(err, "the guest has neither systemctl nor loginctl");
	else {
		char *path = spawn_last_lines(r.out, 1);
		const char *base = strrchr(path, '/');
		*method = xstrdup(base ? base + 1 : path);
		free(path);
	}
	spawn_result_free(&r);
	return rc;
}

/* Runs systemctl/loginctl ACTION as root in the guest, detached so that a
 * guest that suspends while the command runs does not leave ssh hanging.
 * sudo is checked first so that a missing sudo rule is reported. */
static int control(const struct guest *g, const char *action, struct error *err)
{
	bool root = !strcmp(g->user, "root");
	const char *sudo = root ? "" : "sudo -n ";
	char *check_sudo = root ? xstrdup("") : xasprintf("sudo -n true || exit %d; ", NO_SUDO);
	char *script = xasprintf("m=$(command -v systemctl || command -v loginctl) || exit %d; "
				 "%s(%s\"$m\" %s </dev/null >/dev/null 2>&1 &)",
				 NO_CONTROL_METHOD, check_sudo, sudo, action);
	free(check_sudo);
	struct spawn_result r;
	int rc = guest_run(g, script, GUEST_COMMAND_TIMEOUT_MS, &r, err);
	free(script);
	if (rc < 0)
		return error_prefix(err, "cannot %s the guest", action);
	if (r.status == NO_CONTROL_METHOD)
		rc = error_set(err, "cannot %s the guest: it has neither systemctl nor loginctl",
			       action);
	else if (r.status == NO_SUDO)
		rc = error_set(err,
			       "cannot %s the guest: 'sudo -n' does not work for %s there; allow "
			       "%s to run systemctl or loginctl without a password",
			       action, g->user, g->user);
	else if (r.status != 0) {
		ssh_failure(g, &r, err);
		rc = error_prefix(err, "cannot %s the guest", action);
	}
	spawn_result_free(&r);
	return rc;
}

const char *guest_control_channel(const struct guest *g)
{
	return g->agent_socket ? "the guest agent" : "ssh";
}

int guest_suspend(const struct guest *g, struct error *err)
{
	if (g->agent_socket)
		return agent_suspend(g->agent_socket, err);
	return control(g, "suspend", err);
}

int guest_poweroff(const struct guest *g, struct error *err)
{
	if (g->agent_socket)
		return agent_shutdown(g->agent_socket, "powerdown", err);
	return control(g, "poweroff", err);
}

int guest_reboot(const struct guest *g, struct error *err)
{
	if (g->agent_socket)
		return agent_shutdown(g->agent_socket, "reboot", err);
	return control(g, "reboot", err);
}

int guest_sync(const struct guest *g, struct error *err)
{
	if (g->agent_socket)
		return agent_sync(g->agent_socket, GUEST_COMMAND_TIMEOUT_MS, err);
	struct spawn_result r;
	const char *command = strcmp(g->user, "root") ? "sudo -n sync" : "sync";
	if (guest_run(g, command, GUEST_COMMAND_TIMEOUT_MS, &r, err) < 0)
		return error_prefix(err, "cannot sync the guest");
	int rc = 0;
	if (r.status != 0) {
		ssh_failure(g, &r, err);
		rc = error_prefix(err, "cannot sync the guest");
	}
	spawn_result_free(&r);
	return rc;
}
