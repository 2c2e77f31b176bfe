/* postern-metricsd: one connection to the metrics listener.  fd 3 is the
 * client, fd 4 the sealed snapshot the master rendered at accept (the
 * Prometheus and OpenMetrics bodies and the /healthz answer), fd 5 the
 * config.  It enters its sandbox (worker uid, empty root, no
 * capabilities, no_new_privs, a seccomp list of read, poll, write,
 * shutdown) before it reads a byte, answers one HTTP/1.x request
 * (common/proto/http_req.c) from the snapshot, and exits.  It holds no
 * channel to anyone: the master never hears from it, and what it serves
 * is what it was given.  Plaintext only (docs/METRICS.md). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "../../common/base/ev.h"
#include "../../common/base/log.h"
#include "../../common/ipc/counters.h"
#include "../../common/ipc/proto.h"
#include "../../common/proto/http_req.h"
#include "../../common/worker/wk_boot.h"
#include "../../sandbox/sandbox.h"

#define DRAIN_MAX	65536	/* bytes read and dropped after the answer */

static struct wk_boot B;

struct snapshot {
	const char *text, *openmetrics, *health;
	size_t text_len, openmetrics_len, health_len;
	unsigned health_status;
};

/* The master's snapshot: its header's lengths must add up to its size. */
static void
snapshot_map(struct snapshot *s)
{
	const struct metrics_snapshot_hdr *h;
	struct stat st;
	const char *p;

	if (fstat(METRICS_SNAPSHOT_FD, &st) < 0 || (size_t)st.st_size < sizeof(*h))
		fatal("reason=\"no metrics snapshot\"");
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, METRICS_SNAPSHOT_FD, 0);
	if (p == MAP_FAILED)
		fatal("reason=\"cannot map the metrics snapshot\" errno=%d", errno);
	h = (const void *)p;
	if (h->magic != METRICS_SNAPSHOT_MAGIC || h->text_len > (uint64_t)st.st_size ||
	    h->openmetrics_len > (uint64_t)st.st_size || h->health_len > (uint64_t)st.st_size ||
	    sizeof(*h) + h->text_len + h->openmetrics_len + h->health_len != (uint64_t)st.st_size)
		fatal("reason=\"malformed metrics snapshot\"");
	s->text = p + sizeof(*h);
	s->text_len = (size_t)h->text_len;
	s->openmetrics = s->text + s->text_len;
	s->openmetrics_len = (size_t)h->openmetrics_len;
	s->health = s->openmetrics + s->openmetrics_len;
	s->health_len = (size_t)h->health_len;
	s->health_status = h->health_status == 200 ? 200 : 503;
}

static uint64_t
left_ms(uint64_t deadline)
{
	uint64_t now = ev_now_ms();

	return now >= deadline ? 0 : deadline - now;
}

/* The request head, until it is complete, bad, or the deadline passes.
 * Returns the parser's verdict, or HTTP_REQ_NEED_MORE for a client that
 * went away or ran out of time (*timed_out_r says which). */
static enum http_req_result
read_request(struct http_req *r, uint64_t deadline, int *timed_out_r)
{
	const struct http_req_limits lim = { .max_bytes = (size_t)B.cfg->metrics_max_request,
	    .max_headers = (size_t)B.cfg->metrics_max_headers };
	static uint8_t buf[65536];	/* >= metrics_max_request's maximum */
	struct pollfd pfd = { FD_CLIENT, POLLIN, 0 };
	enum http_req_result rc = HTTP_REQ_NEED_MORE;
	size_t len = 0, used;
	ssize_t n;

	*timed_out_r = 0;
	while (rc == HTTP_REQ_NEED_MORE && len < lim.max_bytes) {
		int pr = poll(&pfd, 1, (int)left_ms(deadline));
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0) {
			*timed_out_r = pr == 0;
			return HTTP_REQ_NEED_MORE;
		}
		n = read(FD_CLIENT, buf + len, lim.max_bytes - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return HTTP_REQ_NEED_MORE;
		len += (size_t)n;
		rc = http_req_parse(buf, len, &lim, r, &used);
	}
	return rc;
}

static const char *
reason_phrase(unsigned status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

static void
write_all(const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(FD_CLIENT, p, len);	/* bounded by SO_SNDTIMEO */
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

/* One answer; head_only for HEAD (the length of the body it would have). */
static void
answer(unsigned status, const char *type, const char *body, size_t len, int head_only,
    const char *extra)
{
	char head[512];
	int n = snprintf(head, sizeof(head), "HTTP/1.1 %u %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nCache-Control: no-store\r\n%sConnection: close\r\n\r\n",
	    status, reason_phrase(status), type, len, extra);

	if (n < 0 || (size_t)n >= sizeof(head))
		return;
	write_all(head, (size_t)n);
	if (!head_only)
		write_all(body, len);
	log_event(LOG_LEVEL_INFO, "http", "ip=%s status=%u bytes=%zu", B.ip, status,
	    head_only ? 0 : len);
}

/* An error with a one-line body (none for HEAD, RFC 9110 9.3.2). */
static void
answer_error(unsigned status, int head_only)
{
	char body[64];
	int n = snprintf(body, sizeof(body), "%u %s\n", status, reason_phrase(status));

	answer(status, "text/plain; charset=utf-8", body, n > 0 ? (size_t)n : 0, head_only,
	    status == 405 ? "Allow: GET, HEAD\r\n" : "");
}

static void
serve(const struct snapshot *s, const struct http_req *r)
{
	int head = r->method == HTTP_METHOD_HEAD;

	if (r->method == HTTP_METHOD_OTHER)
		answer_error(405, 0);
	else if (strcmp(r->path, "/metrics") == 0 && http_req_wants_openmetrics(r))
		answer(200, "application/openmetrics-text; version=1.0.0; charset=utf-8",
		    s->openmetrics, s->openmetrics_len, head, "");
	else if (strcmp(r->path, "/metrics") == 0)
		answer(200, "text/plain; version=0.0.4; charset=utf-8", s->text, s->text_len, head, "");
	else if (strcmp(r->path, "/healthz") == 0)
		answer(s->health_status, "text/plain; charset=utf-8", s->health, s->health_len, head, "");
	else
		answer_error(404, head);
}

/* After the answer: FIN, then read what the client still sends (a body,
 * a second request) until it closes, so that closing with unread input
 * does not reset the connection under the answer. */
static void
finish(uint64_t deadline)
{
	struct pollfd pfd = { FD_CLIENT, POLLIN, 0 };
	uint8_t sink[4096];
	size_t total = 0;
	ssize_t n;

	(void)shutdown(FD_CLIENT, SHUT_WR);
	while (total < DRAIN_MAX && poll(&pfd, 1, (int)left_ms(deadline)) > 0 &&
	    (n = read(FD_CLIENT, sink, sizeof(sink))) > 0)
		total += (size_t)n;
}

int
main(int argc, char **argv)
{
	struct sandbox_spec spec;
	struct snapshot snap;
	struct http_req req;
	struct timeval tv;
	uint64_t deadline;
	enum http_req_result rc;
	int timed_out;

	B.name = "metricsd";
	B.policy = POLICY_METRICSD;
	wk_boot_config(&B, argc, argv);
	/* the worker kit's wk_boot_enter() expects broker channels this
	 * worker does not have: its own few steps instead */
	tv.tv_sec = (time_t)B.cfg->metrics_idle_timeout;
	tv.tv_usec = 0;
	if (setsockopt(FD_CLIENT, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		fatal("reason=\"client fd missing\"");
	policy_spec(POLICY_METRICSD, B.cfg, &spec);
	sandbox_confine(&spec);
	sandbox_lock(&spec);
	snapshot_map(&snap);
	deadline = ev_now_ms() + B.cfg->metrics_idle_timeout * 1000;
	rc = read_request(&req, deadline, &timed_out);
	if (rc == HTTP_REQ_DONE)
		serve(&snap, &req);
	else if (rc == HTTP_REQ_BAD)
		answer_error((unsigned)req.status, 0);
	else if (timed_out)
		answer_error(408, 0);
	finish(ev_now_ms() + 1000 < deadline ? ev_now_ms() + 1000 : deadline);
	return 0;
}
