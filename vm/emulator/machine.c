#include "emulator/machine.h"

#include "emulator/forwards.h"
#include "log.h"
#include "strbuf.h"
#include "strv.h"
#include "sys/spawn.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* Saving a large guest to a slow disk can take minutes. */
#define SAVEVM_TIMEOUT_MS 600000

#define UNASKED_EXIT_MS 3000
#define DEATH_WAIT_MS 1000

int machine_open(struct machine *m, enum runtime_reach how, struct error *err)
{
	*m = (struct machine){.rt.lock_fd = -1, .rt.dir_fd = -1};
	if (config_load(&m->cfg, environ, err) < 0) {
		config_free(&m->cfg);
		return -1;
	}
	if (runtime_open(&m->rt, config_get(&m->cfg, "VM_MACHINE_ID"), how, err) < 0) {
		config_free(&m->cfg);
		return -1;
	}
	if (runtime_check_owner(&m->rt, config_get(&m->cfg, "VM_MACHINE_ID"), machine_name(m),
				m->cfg.home, config_get(&m->cfg, "VM_CONFIG"), err) < 0) {
		machine_close(m);
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

char *machine_disk(struct machine *m, struct error *err)
{
	struct runtime_info info;
	if (runtime_read_info(&m->rt, &info, err) < 0)
		return NULL;
	char *disk = info.disk && info.disk[0] ? xstrdup(info.disk) : NULL;
	runtime_info_free(&info);
	return disk ? disk : qemu_disk_image(&m->cfg, false);
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

/* QEMU's notice that it created an image (an archive's overlay, by
 * blockdev-snapshot-sync): never why it failed or died. */
static bool image_created_notice(const char *line)
{
	return !strncmp(line, "Formatting '", strlen("Formatting '"));
}

char *machine_stderr_tail(const struct machine *m, int lines)
{
	FILE *f = fopen(m->rt.stderr_log, "re");
	if (!f)
		return xstrdup("");
	struct strbuf all = STRBUF_INIT;
	char *line = NULL;
	size_t size = 0;
	ssize_t len;
	while ((len = getline(&line, &size, f)) > 0)
		if (!image_created_notice(line))
			strbuf_add(&all, line, (size_t)len);
	free(line);
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

static char *save_lock_path(const struct machine *m)
{
	return xasprintf("%s/saving", m->rt.dir);
}

/* The save lock: a file in the runtime directory that the saving process
 * holds locked (flock) for as long as it saves; it dies with the process. */
static int take_save_lock(const struct machine *m)
{
	char *path = save_lock_path(m);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	free(path);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return -1;
	}
	char pid[32];
	int len = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || write(fd, pid, (size_t)len) != len)
		log_debug("cannot write the save lock's pid");
	return fd;
}

bool machine_saving(const struct machine *m, pid_t *pid)
{
	*pid = 0;
	char *path = save_lock_path(m);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	free(path);
	if (fd < 0)
		return false;
	bool saving = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	char text[32] = "";
	if (saving && read(fd, text, sizeof(text) - 1) > 0)
		*pid = (pid_t)atoi(text);
	close(fd);
	return saving;
}

bool machine_wait_saved(const struct machine *m, int timeout_ms)
{
	pid_t pid;
	for (int waited = 0; machine_saving(m, &pid); waited += 100) {
		if (waited >= timeout_ms)
			return false;
		usleep(100000);
	}
	return true;
}

unsigned long machine_ram_mib(const struct machine *m)
{
	const char *mem = config_get(&m->cfg, "VM_MACHINE_MEM");
	unsigned long mib = mem ? strtoul(mem, NULL, 10) : 0;
	return mib ? mib : 128;
}

bool machine_report_full_disk(const char *file, unsigned long need_mib, struct error *err)
{
	struct statvfs fs;
	if (statvfs(file, &fs) < 0)
		return false;
	unsigned long free_mib =
	    (unsigned long)((unsigned long long)fs.f_bavail * fs.f_frsize >> 20);
	if (free_mib >= need_mib)
		return false;
	error_set(err,
		  "the disk holding %s is full (%lu MiB free; about %lu MiB needed): free "
		  "space there, then try again",
		  file, free_mib, need_mib);
	return true;
}

/* The image the emulator runs on, as recorded when it started. */
static char *running_disk(struct machine *m)
{
	struct runtime_info info;
	struct error ignored;
	if (runtime_read_info(&m->rt, &info, &ignored) < 0)
		return NULL;
	char *disk = info.disk && info.disk[0] ? xstrdup(info.disk) : NULL;
	runtime_info_free(&info);
	return disk;
}

char *machine_io_error_advice(struct machine *m)
{
	char *disk = running_disk(m);
	struct statvfs fs;
	char *advice;
	if (disk && statvfs(disk, &fs) == 0)
		advice = xasprintf("the emulator paused the guest: it could not write to %s "
				   "(%llu MiB free on its disk): free space there, then resume "
				   "the guest with 'vm cmd cont'",
				   disk, (unsigned long long)fs.f_bavail * fs.f_frsize >> 20);
	else
		advice = xstrdup("the emulator paused the guest on a disk write error: free space "
				 "on the disk of its image, then resume the guest with 'vm cmd "
				 "cont'");
	free(disk);
	return advice;
}

int machine_savevm(struct machine *m, struct qmp *q, const char *name, struct error *err)
{
	char *command = xasprintf("savevm %s", name), *output = NULL;
	int saved_timeout = q->timeout_ms;
	q->timeout_ms = SAVEVM_TIMEOUT_MS;
	int lock = take_save_lock(m);
	int rc = qmp_hmp(q, command, &output, err);
	if (lock >= 0)
		close(lock);
	q->timeout_ms = saved_timeout;
	free(command);
	if (rc == 0 && output[0]) {
		size_t len = strlen(output);
		while (len && (output[len - 1] == '\n' || output[len - 1] == '\r'))
			output[--len] = '\0';
		rc = len ? error_set(err, "%s", output) : 0;
	}
	free(output);
	if (rc < 0 && !machine_report_death(m, err)) {
		/* QEMU says "Input/output error" when the image cannot grow. */
		char *disk = running_disk(m);
		if (disk)
			machine_report_full_disk(disk, machine_ram_mib(m), err);
		free(disk);
	}
	return rc;
}

/* QEMU's last words when a signal ended it: "terminating on signal N". */
static int signal_in(const char *tail)
{
	const char *said = strstr(tail, "terminating on signal ");
	return said ? atoi(said + strlen("terminating on signal ")) : 0;
}

bool machine_report_death(struct machine *m, struct error *err)
{
	/* One that was told to end (SIGTERM) may still be on its way out. */
	if (!machine_wait_exit(m, DEATH_WAIT_MS))
		return false;
	char *tail = machine_stderr_tail(m, 3);
	int sig = signal_in(tail);
	char how[64] = "";
	if (sig)
		snprintf(how, sizeof(how), " (signal %d, %s)", sig, strsignal(sig));
	error_set(err, "the emulator of %s died%s%s%s; 'vm start' starts the machine again",
		  machine_name(m), how,
		  tail[0] ? ": " : " (killed, or it crashed: it wrote nothing to stderr)", tail);
	free(tail);
	return true;
}
