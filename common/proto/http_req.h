/* http_req.h - the head of one HTTP/1.x request (pure), for the metrics
 * endpoint (daemons/metricsd).
 *
 * http_req_parse() looks at everything the client has sent so far and
 * says whether the request head (request line and header fields, RFC 9112
 * sections 3 and 5) is complete, incomplete, or bad, with the status code
 * to answer.  It keeps no state between calls (the head is bounded by
 * max_bytes, so parsing it again is cheap) and does no I/O: the same bytes
 * give the same answer however they were split into reads.
 *
 * What it takes: HTTP/1.0 and HTTP/1.1, origin-form targets ("/path?q"),
 * lines ending in CRLF or a bare LF (RFC 9112 2.2), empty lines before the
 * request line (ignored, 2.2).  What it refuses: a bare CR, a NUL or other
 * control in the line or a field, whitespace before a field's colon (5.1),
 * obsolete line folding (5.2), an HTTP/1.1 request without exactly one
 * Host field (3.2), any other target form (400); a target over
 * HTTP_REQ_TARGET_MAX (414); more than max_headers fields, or a head over
 * max_bytes (431; 414 while still in the request line); another major
 * version (505).  The method is any token: the caller answers 405 to the
 * ones it does not serve.
 */
#ifndef POSTERN_HTTP_REQ_H
#define POSTERN_HTTP_REQ_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_REQ_METHOD_MAX	16	/* longer tokens are no method we know: 405 */
#define HTTP_REQ_TARGET_MAX	1024	/* the request-target, query included */

enum http_method {
	HTTP_METHOD_GET,
	HTTP_METHOD_HEAD,
	HTTP_METHOD_OTHER,	/* a valid token: answered 405 */
};

struct http_req_limits {
	size_t max_bytes;	/* the whole head, final empty line included */
	size_t max_headers;	/* header fields */
};

struct http_req {
	enum http_method method;
	char path[HTTP_REQ_TARGET_MAX + 1];	/* the target up to '?' or its end */
	unsigned minor;				/* HTTP/1.minor: 0 or 1 */
	size_t nheaders;
	/* Accept (RFC 9110 12.5.1): the best quality of each kind we serve,
	 * in thousandths; -1 when no range names it (an absent Accept field
	 * means anything: both -1) */
	int q_openmetrics;	/* application/openmetrics-text */
	int q_text;		/* text/plain, text/ and star-star ranges */
	int status;		/* on HTTP_REQ_BAD: the status code to answer */
};

enum http_req_result {
	HTTP_REQ_NEED_MORE = 0,
	HTTP_REQ_DONE = 1,	/* r is filled; *consumed_r = the head's length */
	HTTP_REQ_BAD = -1,	/* r->status: 400, 414, 431 or 505 */
};

/* Examine buf[0..len), everything received so far.  Returns HTTP_REQ_DONE
 * with r filled and *consumed_r set, HTTP_REQ_NEED_MORE (nothing final yet,
 * and len is within the limits), or HTTP_REQ_BAD with r->status. */
enum http_req_result http_req_parse(const uint8_t *buf, size_t len,
    const struct http_req_limits *lim, struct http_req *r, size_t *consumed_r);

/* Whether r asks for OpenMetrics rather than the Prometheus text format:
 * the client named application/openmetrics-text with a quality above 0
 * and not below that of any text form. */
int http_req_wants_openmetrics(const struct http_req *r);

#endif
