/* Messages for the user and the log files.
 *
 * Errors go to stderr as "PROG: COMMAND: message" (the command set by
 * log_set_command, so no caller types it) and are appended to the error log;
 * progress goes to stdout as "[TIMESTAMP] message" only when verbose, and is
 * always appended to the progress log. A log is used only when the file
 * already exists and is writable; a failed write is reported once and is
 * not fatal. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

void log_setup(const char *prog);
void log_set_command(const char *command);
void log_set_verbose(bool verbose);
bool log_is_verbose(void);
/* strftime format for timestamps; NULL or "" means date(1)'s default. */
void log_set_datefmt(const char *fmt);
/* Paths of the progress and error logs; NULL or "" for none. */
void log_set_files(const char *progress_log, const char *error_log);

/* An error (or warning) of several lines is told as one message per line. */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A step worth a line in the log: shown with -v, always logged. */
void log_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Detail for -v only (command lines, retries); never logged. */
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The current time in the configured format. */
void log_timestamp(char *buf, size_t size);
