/* logs.c - every child's log lines reach the operator through the master.
 *
 * Each child gets a pipe of its own on fd 2.  The master reads it, stamps
 * the line with the name, pid and (for a one-session child) session id from
 * its own table, caps the line length and, for network workers and stored,
 * the rate, and writes it to its stderr.  A compromised worker can therefore
 * neither rewrite the log (it never holds the log's file description) nor
 * write lines that claim another process or another session: the first
 * proc=, pid= and sid= of every line are the master's.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../common/base/ev.h"
#include "../../common/base/log.h"
#include "master.h"

struct logsrc {
	struct logsrc *next;
	int fd;
	pid_t pid;
	const char *proc;	/* static: the policy row's name */
	char sid[25];		/* "" for brokers, which serve many sessions */
	int limited;		/* rate-capped: network workers and stored */
	uint64_t window_ms;	/* start of the current one-second window */
	unsigned lines;		/* lines relayed in this window */
	unsigned long dropped;	/* lines dropped since the last report */
};

static struct master *M;
static struct logsrc *sources;

/* Skip the child's own "ts=... proc=... pid=..." (and, when the master
 * stamps the session, "sid=...") so that the master's values stand alone. */
static size_t
skip_prefix(const char *p, size_t len, int with_sid)
{
	static const char *const keys[] = { "ts=", "proc=", "pid=", "sid=" };
	size_t off = 0, k, n = with_sid ? 4 : 3;

	for (k = 0; k < n; k++) {
		size_t kl = strlen(keys[k]);
		const char *sp;
		if (len - off < kl || memcmp(p + off, keys[k], kl) != 0)
			break;
		sp = memchr(p + off, ' ', len - off);
		if (sp == NULL)
			break;
		off = (size_t)(sp - p) + 1;
	}
	return off;
}

static void
report_dropped(struct logsrc *s)
{
	char text[160];
	int n;

	if (s->dropped == 0)
		return;
	n = snprintf(text, sizeof(text), "level=warn event=log_dropped lines=%lu "
	    "reason=\"over log_max_lines_per_second\"", s->dropped);
	if (n > 0 && (size_t)n < sizeof(text))
		log_relay(s->proc, (long)s->pid, s->sid[0] ? s->sid : NULL, text, (size_t)n);
	s->dropped = 0;
}

static void
relay_line(struct logsrc *s, char *p, size_t len)
{
	uint64_t now = ev_now_ms();
	size_t i, off;

	while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == ' '))
		len--;
	if (len == 0)
		return;
	if (s->limited) {
		if (now - s->window_ms >= 1000) {
			report_dropped(s);
			s->window_ms = now;
			s->lines = 0;
		}
		if (s->lines >= M->cfg.log_max_lines_per_second) {
			s->dropped++;
			return;
		}
		s->lines++;
	}
	for (i = 0; i < len; i++)	/* one line stays one line */
		if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] == 0x7f)
			p[i] = '?';
	off = skip_prefix(p, len, s->sid[0] != '\0');
	/* a network worker's TLS events are counted (stored runs no TLS) */
	if (s->limited && s->proc != policy_table[POLICY_STORED].name)
		metrics_log_line(M, p + off, len - off);
	log_relay(s->proc, (long)s->pid, s->sid[0] ? s->sid : NULL, p + off, len - off);
}

/* Read what is there; returns 0 at EOF or on a hard error, 1 otherwise.
 * One read takes a whole pipe's worth, and a child writes each line with
 * one write(2) of at most PIPE_BUF bytes, so lines are never split; a tail
 * without a newline (a hostile child) is relayed as a line of its own. */
static int
drain(struct logsrc *s, int max_reads)
{
	static char buf[65536];
	ssize_t n;
	char *p, *nl;

	/* bounded: a child writing without pause cannot hold the master here */
	while (max_reads-- > 0) {
		n = read(s->fd, buf, sizeof(buf));
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			return 0;
		if (n < 0)
			return errno == EAGAIN;
		for (p = buf; p < buf + n; p = nl + 1) {
			nl = memchr(p, '\n', (size_t)(buf + n - p));
			if (nl == NULL)
				nl = buf + n;
			relay_line(s, p, (size_t)(nl - p));
		}
	}
	return 1;
}

static void
detach(struct logsrc *s)
{
	struct logsrc **pp;

	report_dropped(s);
	for (pp = &sources; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	ev_del_fd(s->fd);
	close(s->fd);
	free(s);
}

static void
on_log(int fd, short revents, void *ctx)
{
	(void)fd;
	(void)revents;
	if (drain(ctx, 4) == 0)
		detach(ctx);
}

void
logs_init(struct master *m)
{
	M = m;
}

/* log_level and log_output (at start and at each reload).  A syslog
 * socket that cannot be reached keeps stderr on, with one warning. */
void
logs_configure(struct master *m)
{
	static char path[CONFIG_PATH_MAX];
	static int fd = -1;
	int out = config_log_output(&m->cfg);
	struct sockaddr_un sun;

	if (fd >= 0 && (out == CONFIG_LOG_STDERR || strcmp(path, m->cfg.log_syslog_socket) != 0)) {
		close(fd);
		fd = -1;
	}
	if (out != CONFIG_LOG_STDERR && fd < 0) {
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		snprintf(path, sizeof(path), "%s", m->cfg.log_syslog_socket);
		fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd >= 0 && (strlen(path) >= sizeof(sun.sun_path) ||
		    (memcpy(sun.sun_path, path, strlen(path)),
		    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0))) {
			close(fd);
			fd = -1;
		}
		if (fd < 0)
			log_event(LOG_LEVEL_WARN, "syslog_unavailable", "path=%s errno=%d "
			    "reason=\"logging to stderr instead\"", path, errno);
	}
	log_set_outputs(config_log_level(&m->cfg), out != CONFIG_LOG_SYSLOG || fd < 0, fd);
}

int
logs_pipe(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	if (fcntl(fds[0], F_SETFL, O_NONBLOCK) < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	return 0;
}

void
logs_attach(int rfd, pid_t pid, const char *proc, const char *sid, int limited)
{
	struct logsrc *s = calloc(1, sizeof(*s));

	if (s == NULL || ev_add_fd(rfd, POLLIN, on_log, s) < 0) {
		log_event(LOG_LEVEL_ERR, "log_pipe", "child=%s pid=%ld reason=\"cannot watch its log\"",
		    proc, (long)pid);
		free(s);
		close(rfd);
		return;
	}
	s->fd = rfd;
	s->pid = pid;
	s->proc = proc;
	snprintf(s->sid, sizeof(s->sid), "%s", sid ? sid : "");
	s->limited = limited;
	s->window_ms = ev_now_ms();
	s->next = sources;
	sources = s;
}

void
logs_child_exited(pid_t pid)
{
	struct logsrc *s;

	for (s = sources; s != NULL; s = s->next)
		if (s->pid == pid) {
			(void)drain(s, 64);	/* what it wrote before it died */
			detach(s);
			return;
		}
}
