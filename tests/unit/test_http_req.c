/* test_http_req.c - HTTP/1.x request heads: each case is fed whole and in
 * every split, and must give the same verdict (NEED_MORE on every proper
 * prefix that is not already final, the whole input's verdict otherwise). */
#include <stdio.h>
#include <string.h>

#include "../../common/proto/http_req.h"
#include "tap.h"

static const struct http_req_limits LIM = { .max_bytes = 512, .max_headers = 8 };

struct want {
	const char *in;
	int rc;			/* HTTP_REQ_* */
	int status;		/* on BAD */
	enum http_method method;
	const char *path;	/* on DONE */
	int openmetrics;	/* on DONE: http_req_wants_openmetrics */
};

static const struct want cases[] = {
	{ "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_REQ_DONE, 0, HTTP_METHOD_GET, "/metrics", 0 },
	{ "HEAD /healthz HTTP/1.0\r\n\r\n", HTTP_REQ_DONE, 0, HTTP_METHOD_HEAD, "/healthz", 0 },
	{ "GET /metrics?x=1 HTTP/1.1\nHost: a\n\n", HTTP_REQ_DONE, 0, HTTP_METHOD_GET, "/metrics", 0 },
	{ "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_REQ_DONE, 0, HTTP_METHOD_GET, "/", 0 },
	{ "GET http://h:1/metrics HTTP/1.1\r\nHost: h\r\n\r\n", HTTP_REQ_DONE, 0, HTTP_METHOD_GET,
	  "/metrics", 0 },
	{ "GET http://h HTTP/1.1\r\nHost: h\r\n\r\n", HTTP_REQ_DONE, 0, HTTP_METHOD_GET, "/", 0 },
	{ "DELETE /metrics HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_REQ_DONE, 0, HTTP_METHOD_OTHER,
	  "/metrics", 0 },
	{ "get /metrics HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_REQ_DONE, 0, HTTP_METHOD_OTHER,
	  "/metrics", 0 },
	{ "GET /metrics HTTP/1.9\r\nHost: a\r\n\r\n", HTTP_REQ_DONE, 0, HTTP_METHOD_GET, "/metrics", 0 },
	/* Accept: Prometheus's, curl's, quality ordering, q=0 */
	{ "GET /metrics HTTP/1.1\r\nHost: a\r\nAccept: application/openmetrics-text;version=1.0.0,"
	  "application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
	  "\r\n\r\n", HTTP_REQ_DONE, 0, HTTP_METHOD_GET, "/metrics", 1 },
	{ "GET /metrics HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n", HTTP_REQ_DONE, 0,
	  HTTP_METHOD_GET, "/metrics", 0 },
	{ "GET /metrics HTTP/1.1\r\nHost: a\r\nAccept: text/plain, application/openmetrics-text;q=0.5"
	  "\r\n\r\n", HTTP_REQ_DONE, 0, HTTP_METHOD_GET, "/metrics", 0 },
	{ "GET /metrics HTTP/1.1\r\nHost: a\r\nAccept: Application/OpenMetrics-Text ; Q=0.9 , "
	  "text/plain;q=0.8\r\n\r\n", HTTP_REQ_DONE, 0, HTTP_METHOD_GET, "/metrics", 1 },
	{ "GET /metrics HTTP/1.1\r\nHost: a\r\nAccept: application/openmetrics-text;q=0\r\n\r\n",
	  HTTP_REQ_DONE, 0, HTTP_METHOD_GET, "/metrics", 0 },
	{ "GET /metrics HTTP/1.1\r\nHost: a\r\nAccept: text/plain;q=0.3\r\n"
	  "Accept: application/openmetrics-text\r\n\r\n", HTTP_REQ_DONE, 0, HTTP_METHOD_GET,
	  "/metrics", 1 },
	{ "GET /metrics HTTP/1.1\r\nHost: a\r\nAccept: application/openmetrics-text;q=2\r\n\r\n",
	  HTTP_REQ_DONE, 0, HTTP_METHOD_GET, "/metrics", 0 },
	/* malformed: 400 */
	{ "GET /metrics HTTP/1.1\r\n\r\n", HTTP_REQ_BAD, 400, 0, NULL, 0 },
	{ "GET /metrics HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", HTTP_REQ_BAD, 400, 0, NULL, 0 },
	{ "GET /metrics HTTP/1.1\r\nHost : a\r\n\r\n", HTTP_REQ_BAD, 400, 0, NULL, 0 },
	{ "GET /metrics HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", HTTP_REQ_BAD, 400, 0, NULL, 0 },
	{ "GET /metrics HTTP/1.1\r\nNoColon\r\n\r\n", HTTP_REQ_BAD, 400, 0, NULL, 0 },
	{ "GET /metrics HTTP/1.1\rHost: a\r\n\r\n", HTTP_REQ_BAD, 400, 0, NULL, 0 },
	{ "GET  /metrics HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_REQ_BAD, 400, 0, NULL, 0 },
	{ "GET\t/metrics HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_REQ_BAD, 400, 0, NULL, 0 },
	{ "GET metrics HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_REQ_BAD, 400, 0, NULL, 0 },
	{ "GET * HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_REQ_BAD, 400, 0, NULL, 0 },
	{ "GET /metrics\r\n\r\n", HTTP_REQ_BAD, 400, 0, NULL, 0 },
	{ "GET /metrics HTTP/1.1 x\r\nHost: a\r\n\r\n", HTTP_REQ_BAD, 400, 0, NULL, 0 },
	{ "GET /metrics FTP/1.1\r\nHost: a\r\n\r\n", HTTP_REQ_BAD, 400, 0, NULL, 0 },
	{ "GET /m\x01 HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_REQ_BAD, 400, 0, NULL, 0 },
	{ "GET /m\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_REQ_BAD, 400, 0, NULL, 0 },
	{ "GET /metrics HTTP/1.1\r\nHost: a\x01\r\n\r\n", HTTP_REQ_BAD, 400, 0, NULL, 0 },
	{ "GET /metrics HTTP/1.1\r\nHost: a\r\nX: \x7f\r\n\r\n", HTTP_REQ_BAD, 400, 0, NULL, 0 },
	/* versions */
	{ "GET /metrics HTTP/2.0\r\nHost: a\r\n\r\n", HTTP_REQ_BAD, 505, 0, NULL, 0 },
	{ "GET /metrics HTTP/0.9\r\n\r\n", HTTP_REQ_BAD, 505, 0, NULL, 0 },
	/* limits */
	{ "GET / HTTP/1.1\r\nHost: a\r\n1: 1\r\n2: 2\r\n3: 3\r\n4: 4\r\n5: 5\r\n6: 6\r\n7: 7\r\n8: 8\r\n\r\n",
	  HTTP_REQ_BAD, 431, 0, NULL, 0 },
	{ "GET / HTTP/1.1\r\nHost: a\r\n1: 1\r\n2: 2\r\n3: 3\r\n4: 4\r\n5: 5\r\n6: 6\r\n7: 7\r\n\r\n",
	  HTTP_REQ_DONE, 0, HTTP_METHOD_GET, "/", 0 },
	/* incomplete */
	{ "GET /metrics HTTP/1.1\r\nHost: a\r\n", HTTP_REQ_NEED_MORE, 0, 0, NULL, 0 },
	{ "GET /metrics HTTP/1.1\r", HTTP_REQ_NEED_MORE, 0, 0, NULL, 0 },
	{ "", HTTP_REQ_NEED_MORE, 0, 0, NULL, 0 },
};

/* The input for a test name: controls shown as '.', cut at 60. */
static const char *
label(const char *in)
{
	static char out[64];
	size_t i;

	for (i = 0; in[i] != '\0' && i < 60; i++)
		out[i] = (unsigned char)in[i] < 0x20 || (unsigned char)in[i] >= 0x7f ? '.' : in[i];
	out[i] = '\0';
	return out;
}

static int
same(enum http_req_result a, const struct http_req *ra, size_t ua, enum http_req_result b,
    const struct http_req *rb, size_t ub)
{
	if (a != b)
		return 0;
	if (a == HTTP_REQ_BAD)
		return ra->status == rb->status;
	if (a == HTTP_REQ_DONE)
		return ua == ub && ra->method == rb->method && strcmp(ra->path, rb->path) == 0 &&
		    ra->q_openmetrics == rb->q_openmetrics && ra->q_text == rb->q_text;
	return 1;
}

static void
run_case(const struct want *w)
{
	static struct http_req r, p;
	size_t len = strlen(w->in), used = 0, pused, k;
	enum http_req_result rc = http_req_parse((const uint8_t *)w->in, len, &LIM, &r, &used), prc;
	char name[160];
	int ok = 1;

	snprintf(name, sizeof(name), "%s: verdict %d", label(w->in), w->rc);
	CHECK(rc == (enum http_req_result)w->rc, name);
	if (rc == HTTP_REQ_BAD) {
		snprintf(name, sizeof(name), "%s: status %d", label(w->in), w->status);
		CHECK(r.status == w->status, name);
	}
	if (rc == HTTP_REQ_DONE) {
		snprintf(name, sizeof(name), "%s: method, path, format", label(w->in));
		CHECK(w->path != NULL && r.method == w->method && strcmp(r.path, w->path) == 0 && used == len &&
		    http_req_wants_openmetrics(&r) == w->openmetrics, name);
	}
	for (k = 0; k < len; k++) {
		prc = http_req_parse((const uint8_t *)w->in, k, &LIM, &p, &pused);
		if (prc != HTTP_REQ_NEED_MORE && !same(prc, &p, pused, rc, &r, used))
			ok = 0;
	}
	snprintf(name, sizeof(name), "%s: every prefix agrees", label(w->in));
	CHECK(ok, name);
}

/* A head that does not end within max_bytes: 414 in the request line, 431
 * after it; exactly max_bytes is still taken. */
static void
test_sizes(void)
{
	static char buf[2048];
	static struct http_req r;
	struct http_req_limits lim = { .max_bytes = 256, .max_headers = 8 };
	size_t used, n;

	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "GET /", 5);
	CHECK(http_req_parse((const uint8_t *)buf, 256, &lim, &r, &used) == HTTP_REQ_BAD &&
	    r.status == 414, "request line over max_bytes: 414");
	CHECK(http_req_parse((const uint8_t *)buf, 255, &lim, &r, &used) == HTTP_REQ_NEED_MORE,
	    "request line just under max_bytes: need more");
	lim.max_bytes = 4096;
	n = (size_t)snprintf(buf, sizeof(buf), "GET /%01100d HTTP/1.1\r\nHost: a\r\n\r\n", 0);
	CHECK(http_req_parse((const uint8_t *)buf, n, &lim, &r, &used) == HTTP_REQ_BAD &&
	    r.status == 414, "target over HTTP_REQ_TARGET_MAX: 414");
	lim.max_bytes = 256;
	n = (size_t)snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nHost: a\r\nX: ");
	memset(buf + n, 'b', sizeof(buf) - n);
	CHECK(http_req_parse((const uint8_t *)buf, 300, &lim, &r, &used) == HTTP_REQ_BAD &&
	    r.status == 431, "header block over max_bytes: 431");
	n = (size_t)snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nHost: a\r\nX: ");
	memset(buf + n, 'b', 256 - n - 4);
	memcpy(buf + 256 - 4, "\r\n\r\n", 4);
	CHECK(http_req_parse((const uint8_t *)buf, 256, &lim, &r, &used) == HTTP_REQ_DONE &&
	    used == 256, "a head of exactly max_bytes is taken");
}

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
	test_sizes();
	return tap_done();
}
