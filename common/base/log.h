/* log.h - one line per event, key=value, with the process name and session id.
 *
 * Lines go to stderr (journald, containers, the master's log) as
 *   ts=2026-11-21T10:00:00Z proc=pop3d pid=123 sid=5f2a... level=info event=login ...
 * Values with spaces or quotes are quoted by log_kv(); callers format the rest.
 * Passwords and hashes must never be passed to these functions.
 */
#ifndef POSTERN_LOG_H
#define POSTERN_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERR };

/* Set the process name (static string) used in every line. */
void log_init(const char *proc);

/* Set the session id for the following lines (copied; NULL clears). */
void log_set_session(const char *sid);

/* Emit one line: level, event name, then printf-style key=value text. */
void log_event(enum log_level level, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The master only: write one line on behalf of a child, with the child's
 * name, pid and (for a single-session child) session id stamped from the
 * master's own table; rest[0..len) is the child's text after its prefix. */
void log_relay(const char *proc, long pid, const char *sid, const char *rest, size_t len);

/* The master: drop lines below min_level (its own and relayed ones, by
 * their level= field), write to stderr or not, and send each line to a
 * connected syslog datagram socket (-1: none) without waiting. */
void log_set_outputs(int min_level, int to_stderr, int syslog_fd);

/* Log a broken invariant (IPC violation, failed privilege drop) and exit(1). */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* The value of key (e.g. "event=") in a log line's text[0..len): the key
 * at the start or after a space, the value up to the next space, or
 * between quotes when it starts with one (up to the closing quote or the
 * end).  Returns a pointer into text and its length, or NULL.  Pure: the
 * master reads children's lines with it (a worker writes what it likes). */
const char *log_field(const char *text, size_t len, const char *key, size_t *vlen_r);

/* Make a printable, quoted copy of untrusted text for a log value: at most
 * outlen-1 bytes, controls and non-ASCII escaped as \xNN.  Returns out. */
char *log_quote(char *out, unsigned outlen, const void *in, unsigned inlen);

#endif
