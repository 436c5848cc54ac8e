#include "log.h"

#include "strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* date(1)'s default output in the C locale. */
#define DATE_DEFAULT_FORMAT "%a %b %e %H:%M:%S %Z %Y"

static struct {
	const char *prog;
	const char *command;
	bool verbose;
	char datefmt[256];
	char progress_log[4096];
	char error_log[4096];
	bool write_failed_reported;
} state = {.prog = "vm", .command = "", .datefmt = "%F %T"};

void log_setup(const char *prog)
{
	state.prog = prog;
}

void log_set_command(const char *command)
{
	state.command = command ? command : "";
}

void log_set_verbose(bool verbose)
{
	state.verbose = verbose;
}

bool log_is_verbose(void)
{
	return state.verbose;
}

static void copy_setting(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

void log_set_datefmt(const char *fmt)
{
	copy_setting(state.datefmt, sizeof(state.datefmt), fmt);
}

void log_set_files(const char *progress_log, const char *error_log)
{
	copy_setting(state.progress_log, sizeof(state.progress_log), progress_log);
	copy_setting(state.error_log, sizeof(state.error_log), error_log);
}

void log_timestamp(char *buf, size_t size)
{
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	const char *fmt = state.datefmt[0] ? state.datefmt : DATE_DEFAULT_FORMAT;
	if (strftime(buf, size, fmt, &tm) == 0 && size)
		buf[0] = '\0';
}

/* Appends "[TIMESTAMP COMMAND] message" to path if it exists and is writable. */
static void append_to_log(const char *path, const char *message)
{
	if (!path[0])
		return;
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	if (fd < 0)
		return; /* missing or not ours to write: the log is simply not in use */
	char stamp[256];
	log_timestamp(stamp, sizeof(stamp));
	char *line = NULL;
	int n = asprintf(&line, "[%s %s] %s\n", stamp, state.command, message);
	if (n >= 0 && write(fd, line, (size_t)n) != n && !state.write_failed_reported) {
		state.write_failed_reported = true;
		fprintf(stderr, "%s: cannot write to log %s: %s (continuing without it)\n",
			state.prog, path, strerror(errno ? errno : EIO));
	}
	free(line);
	close(fd);
}

enum level { LEVEL_ERROR, LEVEL_WARN, LEVEL_PROGRESS, LEVEL_DEBUG };

static void print_progress(const char *msg)
{
	char stamp[256];
	log_timestamp(stamp, sizeof(stamp));
	printf("[%s] %s\n", stamp, msg);
	fflush(stdout);
}

/* A message of several lines (every problem of a configuration, or each
 * machine's outcome at boot) is told line by line, each as a message of its
 * own, and in one write, so that processes working in parallel keep their
 * lines together. */
static void tell_lines(enum level level, char *msg)
{
	struct strbuf out = STRBUF_INIT;
	for (char *save, *line = strtok_r(msg, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		strbuf_addf(&out, "%s: %s%s%s%s\n", state.prog, state.command,
			    state.command[0] ? ": " : "", level == LEVEL_WARN ? "warning: " : "",
			    line);
		append_to_log(level == LEVEL_ERROR ? state.error_log : state.progress_log, line);
	}
	fflush(stdout);
	fputs(strbuf_str(&out), stderr);
	strbuf_free(&out);
}

/* Where each kind of message goes: the terminal and which log. */
static void emit(enum level level, const char *fmt, va_list ap)
{
	if (level == LEVEL_DEBUG && !state.verbose)
		return;
	char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		return;
	switch (level) {
	case LEVEL_ERROR:
	case LEVEL_WARN:
		tell_lines(level, msg);
		break;
	case LEVEL_PROGRESS:
		if (state.verbose)
			print_progress(msg);
		append_to_log(state.progress_log, msg);
		break;
	case LEVEL_DEBUG:
		print_progress(msg);
		break;
	}
	free(msg);
}

#define DEFINE_LOG_FUNCTION(name, level)                                                           \
	void name(const char *fmt, ...)                                                            \
	{                                                                                          \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		emit(level, fmt, ap);                                                              \
		va_end(ap);                                                                        \
	}

DEFINE_LOG_FUNCTION(log_error, LEVEL_ERROR)
DEFINE_LOG_FUNCTION(log_warn, LEVEL_WARN)
DEFINE_LOG_FUNCTION(log_progress, LEVEL_PROGRESS)
DEFINE_LOG_FUNCTION(log_debug, LEVEL_DEBUG)
