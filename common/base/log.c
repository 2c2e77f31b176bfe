/* log.c - key=value event lines on stderr. */
#include "log.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *log_proc = "postern";
static char log_sid[40];

static const char *const log_level_names[] = { "debug", "info", "warn", "error" };

/* The master's outputs (children write stderr, a pipe to the master). */
static int log_min = LOG_LEVEL_DEBUG;
static int log_stderr = 1;
static int log_syslog_fd = -1;

void
log_set_outputs(int min_level, int to_stderr, int syslog_fd)
{
	log_min = min_level;
	log_stderr = to_stderr;
	log_syslog_fd = syslog_fd;
}

const char *
log_field(const char *text, size_t len, const char *key, size_t *vlen_r)
{
	size_t kl = strlen(key), i, j;

	for (i = 0; kl > 0 && i + kl < len; i++) {
		if ((i > 0 && text[i - 1] != ' ') || memcmp(text + i, key, kl) != 0)
			continue;
		i += kl;
		if (text[i] == '"') {
			for (j = ++i; j < len && text[j] != '"'; j++)
				;
		} else {
			for (j = i; j < len && text[j] != ' '; j++)
				;
		}
		*vlen_r = j - i;
		return text + i;
	}
	*vlen_r = 0;
	return NULL;
}

/* The level a relayed line names ("level=warn"), or info. */
static int
level_of(const char *text, size_t len)
{
	size_t vl, k;
	const char *v = log_field(text, len, "level=", &vl);

	for (k = 0; v != NULL && k < 4; k++)
		if (strlen(log_level_names[k]) == vl && memcmp(v, log_level_names[k], vl) == 0)
			return (int)k;
	return LOG_LEVEL_INFO;
}

/* One finished line (newline included) to the outputs.  syslog gets it
 * as facility mail with the line's severity, never waiting: a syslog
 * daemon that does not read loses lines, it never stalls the master. */
static void
emit(const char *line, size_t n, int level)
{
	static const int severity[] = { 7, 6, 4, 3 };
	char msg[2100];
	int m;

	/* One write(2) per line so lines from many processes never interleave. */
	if (log_stderr)
		(void)!write(STDERR_FILENO, line, n);
	if (log_syslog_fd < 0 || n == 0)
		return;
	m = snprintf(msg, sizeof(msg), "<%d>postern[%ld]: %.*s", 2 * 8 + severity[level],
	    (long)getpid(), (int)(n - 1), line);
	if (m > 0)
		(void)!send(log_syslog_fd, msg, (size_t)m < sizeof(msg) ? (size_t)m : sizeof(msg) - 1,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
}

void
log_init(const char *proc)
{
	log_proc = proc;
}

void
log_set_session(const char *sid)
{
	if (sid == NULL) {
		log_sid[0] = '\0';
		return;
	}
	snprintf(log_sid, sizeof(log_sid), "%s", sid);
}

/* UTC time by arithmetic: glibc's gmtime_r() loads /etc/localtime on first
 * use, a file a sandboxed process cannot open.  Days to civil date after
 * the well-known era algorithm (proleptic Gregorian calendar). */
static void
utc_format(time_t t, char *out, size_t len)
{
	long long days = (long long)t / 86400, secs = (long long)t % 86400;
	int64_t y;
	unsigned m, d;

	if (secs < 0) {
		secs += 86400;
		days--;
	}
	util_civil_from_days(days, &y, &m, &d);
	snprintf(out, len, "%04lld-%02u-%02uT%02lld:%02lld:%02lld", (long long)y, m, d,
	    secs / 3600, secs / 60 % 60, secs % 60);
}

static void
log_vline(enum log_level level, const char *event, const char *fmt, va_list ap)
{
	char line[2048], ts[96];
	struct timespec now;
	int n, m;

	if ((int)level < log_min)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	utc_format(now.tv_sec, ts, sizeof(ts));
	n = snprintf(line, sizeof(line), "ts=%s.%03ldZ proc=%s pid=%ld%s%s level=%s event=%s ",
	    ts, now.tv_nsec / 1000000, log_proc, (long)getpid(),
	    log_sid[0] ? " sid=" : "", log_sid, log_level_names[level], event);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	while (n > 0 && line[n - 1] == ' ')
		n--;
	line[n++] = '\n';
	emit(line, (size_t)n, (int)level);
}

void
log_relay(const char *proc, long pid, const char *sid, const char *rest, size_t len)
{
	char line[2048], ts[96];
	struct timespec now;
	int n, level = level_of(rest, len);

	if (level < log_min)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	utc_format(now.tv_sec, ts, sizeof(ts));
	n = snprintf(line, sizeof(line), "ts=%s.%03ldZ proc=%s pid=%ld%s%s ", ts,
	    now.tv_nsec / 1000000, proc, pid, sid ? " sid=" : "", sid ? sid : "");
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	if (len > sizeof(line) - 1 - (size_t)n)
		len = sizeof(line) - 1 - (size_t)n;
	memcpy(line + n, rest, len);
	n += (int)len;
	line[n++] = '\n';
	emit(line, (size_t)n, level);
}

void
log_event(enum log_level level, const char *event, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vline(level, event, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vline(LOG_LEVEL_ERR, "fatal", fmt, ap);
	va_end(ap);
	exit(1);
}

char *
log_quote(char *out, unsigned outlen, const void *in, unsigned inlen)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = in;
	unsigned i, o = 0;

	if (outlen == 0)
		return out;
	for (i = 0; i < inlen; i++) {
		unsigned char c = p[i];
		if (c >= 0x21 && c < 0x7f && c != '"' && c != '\\' && c != '=') {
			if (o + 1 >= outlen)
				break;
			out[o++] = (char)c;
		} else {
			if (o + 4 >= outlen)
				break;
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return out;
}
