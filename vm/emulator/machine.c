#include "emulator/machine.h"

#include "emulator/forwards.h"
#include "log.h"
#include "strbuf.h"
#include "strv.h"
#include "sys/progress.h"
#include "sys/spawn.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Saving a large guest to a slow disk can take minutes. */
#define SAVEVM_TIMEOUT_MS 600000

#define UNASKED_EXIT_MS 3000

int machine_open(struct machine *m, struct error *err)
{
	*m = (struct machine){.rt.lock_fd = -1, .rt.dir_fd = -1};
	if (config_load(&m->cfg, environ, err) < 0) {
		config_free(&m->cfg);
		return -1;
	}
	if (runtime_open(&m->rt, config_get(&m->cfg, "VM_MACHINE_ID"), err) < 0) {
		config_free(&m->cfg);
		return -1;
	}
	return 0;
}

void machine_close(struct machine *m)
{
	runtime_close(&m->rt);
	config_free(&m->cfg);
}

const char *machine_name(const struct machine *m)
{
	return config_get(&m->cfg, "VM_MACHINE_NAME");
}

int machine_claim(struct machine *m, const struct qemu_launch *launch, struct error *err)
{
	if (runtime_lock(&m->rt, err) < 0) {
		pid_t pid;
		enum runtime_state state = runtime_state(&m->rt, &pid);
		if (state == RUNTIME_RUNNING)
			return error_set(
			    err,
			    "the machine %s is already running (pid %d): use 'vm stop' "
			    "or 'vm kill' first",
			    machine_name(m), (int)pid);
		if (state == RUNTIME_BUSY)
			return error_set(
			    err,
			    "another vm command is working on the machine %s (pid %d): "
			    "wait for it to finish, or stop it",
			    machine_name(m), (int)pid);
		return -1;
	}
	if (launch->network == QEMU_NET_NAT &&
	    forwards_check_machine(&m->cfg, qemu_nat_ssh_port(&m->cfg), err) < 0) {
		runtime_unlock(&m->rt);
		return -1;
	}
	unlink(m->rt.qmp_socket);
	unlink(m->rt.ga_socket);
	unlink(m->rt.pid_file);
	unlink(m->rt.console_socket);
	unlink(m->rt.console_log); /* a new run, a new console log */
	char *disk = qemu_disk_image(&m->cfg, launch->base_only);
	char *disk_path = xasprintf("%s/%s", m->cfg.home, disk);
	struct runtime_info info = {
	    .name = (char *)machine_name(m),
	    .home = m->cfg.home,
	    .network = launch->network == QEMU_NET_NAT ? "nat" : "bridge",
	    .ssh_port = launch->network == QEMU_NET_NAT ? qemu_nat_ssh_port(&m->cfg) : 0,
	    .disk = disk_path,
	};
	int rc = runtime_write_info(&m->rt, &info, err);
	free(disk);
	free(disk_path);
	if (rc < 0)
		runtime_unlock(&m->rt);
	return rc;
}

bool machine_running(struct machine *m, pid_t *pid)
{
	pid_t found = 0;
	bool running = runtime_is_running(&m->rt, &found);
	if (found > 0)
		m->pid = found;
	if (pid)
		*pid = running ? (found > 0 ? found : m->pid) : 0;
	return running;
}

int machine_connect(struct machine *m, struct qmp *q, int timeout_ms, struct error *err)
{
	if (!machine_running(m, NULL))
		return error_set(err, "the machine %s is not running", machine_name(m));
	if (qmp_connect(q, m->rt.qmp_socket, timeout_ms, err) < 0)
		return error_prefix(err,
				    "cannot reach the monitor of %s (try 'vm kill' if it "
				    "hangs)",
				    machine_name(m));
	return 0;
}

bool machine_wait_exit(struct machine *m, int timeout_ms)
{
	pid_t pid;
	if (!machine_running(m, &pid))
		return true;
	if (pid > 0 && spawn_wait_exit(pid, timeout_ms))
		return true;
	return !machine_running(m, NULL);
}

int machine_quit(struct machine *m, struct qmp *q, int timeout_ms, bool *forced, struct error *err)
{
	*forced = false;
	pid_t pid;
	if (!machine_running(m, &pid))
		return 0;
	struct qmp own;
	struct error why;
	bool asked = false;
	if (q) {
		asked = qmp_execute(q, "quit", NULL, NULL, &why) == 0;
	} else if (qmp_connect(&own, m->rt.qmp_socket, 3000, &why) == 0) {
		asked = qmp_execute(&own, "quit", NULL, NULL, &why) == 0;
		qmp_close(&own);
	}
	if (!asked)
		log_debug("the monitor did not take 'quit' (%s)", why.msg);
	/* Without a monitor it may be on its way out already (after a shutdown). */
	if (machine_wait_exit(m, asked ? timeout_ms : UNASKED_EXIT_MS))
		return 0;
	/* The lock proves the pid is this machine's emulator: only then kill. */
	if (!machine_running(m, &pid))
		return 0;
	if (pid <= 0)
		return error_set(err,
				 "the emulator of %s holds its lock but its pid file %s is "
				 "missing: stop it by hand",
				 machine_name(m), m->rt.pid_file);
	log_debug("the emulator (pid %d) does not quit: killing it", (int)pid);
	*forced = true;
	if (kill(pid, SIGKILL) < 0 && errno != ESRCH)
		return error_errno(err, "cannot kill the emulator (pid %d)", (int)pid);
	if (!machine_wait_exit(m, 10000))
		return error_set(err, "the emulator (pid %d) is still there after SIGKILL",
				 (int)pid);
	return 0;
}

char *machine_stderr_tail(const struct machine *m, int lines)
{
	FILE *f = fopen(m->rt.stderr_log, "re");
	if (!f)
		return xstrdup("");
	struct strbuf all = STRBUF_INIT;
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		strbuf_add(&all, chunk, n);
	fclose(f);
	char *tail = spawn_last_lines(strbuf_str(&all), (size_t)lines);
	strbuf_free(&all);
	return tail;
}

void machine_sync_host(const struct machine *m)
{
	int fd = open(m->cfg.home, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0 && syncfs(fd) == 0)
		log_debug("synced the file system of %s", m->cfg.home);
	else
		sync();
	if (fd >= 0)
		close(fd);
}

int machine_savevm(struct qmp *q, const char *name, struct error *err)
{
	char *command = xasprintf("savevm %s", name), *output = NULL;
	int saved_timeout = q->timeout_ms;
	q->timeout_ms = SAVEVM_TIMEOUT_MS;
	struct progress *spinner = log_is_verbose() ? NULL : progress_start("saving the state", 0);
	int rc = qmp_hmp(q, command, &output, err);
	progress_finish(spinner);
	q->timeout_ms = saved_timeout;
	free(command);
	if (rc == 0 && output[0]) {
		size_t len = strlen(output);
		while (len && (output[len - 1] == '\n' || output[len - 1] == '\r'))
			output[--len] = '\0';
		rc = len ? error_set(err, "%s", output) : 0;
	}
	free(output);
	return rc;
}
