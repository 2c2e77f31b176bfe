/* http_req.c - the head of one HTTP/1.x request (see http_req.h). */
#include "http_req.h"

#include <string.h>
#include <strings.h>

/* tchar, RFC 9110 5.6.2 */
static int
is_tchar(uint8_t c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* A field value's bytes (RFC 9110 5.5): VCHAR, SP, HTAB, obs-text. */
static int
is_field_byte(uint8_t c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* The line at buf[pos..n): 1 with its end (before CR LF or LF) in *end_r
 * and the next line's start in *next_r; 0 when no line end is there yet;
 * -1 for a CR that is not followed by LF. */
static int
line_at(const uint8_t *buf, size_t n, size_t pos, size_t *end_r, size_t *next_r)
{
	size_t i;

	for (i = pos; i < n; i++) {
		if (buf[i] == '\n') {
			*end_r = i;
			*next_r = i + 1;
			return 1;
		}
		if (buf[i] == '\r') {
			if (i + 1 == n)
				return 0;
			if (buf[i + 1] != '\n')
				return -1;
			*end_r = i;
			*next_r = i + 2;
			return 1;
		}
	}
	return 0;
}

/* "HTTP/1.1" and the like: 0 with the minor version, else a status. */
static int
parse_version(const uint8_t *p, size_t len, unsigned *minor_r)
{
	if (len != 8 || memcmp(p, "HTTP/", 5) != 0 || p[6] != '.' ||
	    p[5] < '0' || p[5] > '9' || p[7] < '0' || p[7] > '9')
		return 400;
	if (p[5] != '1')
		return 505;
	/* 1.2 and later minors are answered as 1.1 (RFC 9110 6.2) */
	*minor_r = p[7] == '0' ? 0 : 1;
	return 0;
}

/* The request-target's path into r->path: origin-form "/p?q", or
 * absolute-form "http://authority/p?q" (RFC 9112 3.2.2, which a server
 * must accept).  0, or a status. */
static int
parse_target(const uint8_t *p, size_t len, struct http_req *r)
{
	size_t i, start = 0, end;

	if (len > HTTP_REQ_TARGET_MAX)
		return 414;
	if (len >= 7 && strncasecmp((const char *)p, "http://", 7) == 0)
		start = 7;
	else if (len >= 8 && strncasecmp((const char *)p, "https://", 8) == 0)
		start = 8;
	if (start > 0) {
		for (i = start; i < len && p[i] != '/' && p[i] != '?'; i++)
			;
		if (i == start)
			return 400;	/* no authority */
		start = i;
	} else if (len == 0 || p[0] != '/') {
		return 400;		/* asterisk-form, authority-form, garbage */
	}
	for (end = start; end < len && p[end] != '?'; end++)
		;
	if (end == start) {		/* "http://host" or "http://host?q" */
		memcpy(r->path, "/", 2);
		return 0;
	}
	if (p[start] != '/')
		return 400;
	memcpy(r->path, p + start, end - start);
	r->path[end - start] = '\0';
	return 0;
}

/* method SP request-target SP HTTP-version (RFC 9112 3): 0, or a status. */
static int
parse_request_line(const uint8_t *p, size_t len, struct http_req *r)
{
	size_t i, m, t0, t1;
	int rc;

	for (i = 0; i < len; i++)
		if (p[i] < 0x21 && p[i] != ' ')
			return 400;	/* a control, or a tab as a separator */
	for (m = 0; m < len && is_tchar(p[m]); m++)
		;
	if (m == 0 || m == len || p[m] != ' ')
		return 400;
	if (m == 3 && memcmp(p, "GET", 3) == 0)
		r->method = HTTP_METHOD_GET;
	else if (m == 4 && memcmp(p, "HEAD", 4) == 0)
		r->method = HTTP_METHOD_HEAD;
	else
		r->method = HTTP_METHOD_OTHER;
	t0 = m + 1;
	for (t1 = t0; t1 < len && p[t1] != ' '; t1++)
		if (p[t1] >= 0x7f)
			return 400;	/* the target is ASCII (RFC 9112 3.2) */
	if (t1 == len)
		return t1 - t0 > HTTP_REQ_TARGET_MAX ? 414 : 400;
	if ((rc = parse_target(p + t0, t1 - t0, r)) != 0)
		return rc;
	return parse_version(p + t1 + 1, len - t1 - 1, &r->minor);
}

/* A qvalue (RFC 9110 12.4.2) in thousandths, or -1. */
static int
parse_qvalue(const char *v, size_t len)
{
	int q, scale = 100;
	size_t i;

	if (len == 0 || (v[0] != '0' && v[0] != '1') || (len > 1 && v[1] != '.') || len > 5)
		return -1;
	q = (v[0] - '0') * 1000;
	for (i = 2; i < len; i++, scale /= 10) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		q += (v[i] - '0') * scale;
	}
	return q > 1000 ? -1 : q;
}

static size_t
trim_left(const char *p, size_t len)
{
	size_t i = 0;

	while (i < len && (p[i] == ' ' || p[i] == '\t'))
		i++;
	return i;
}

static size_t
trim_right(const char *p, size_t len)
{
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	return len;
}

/* One element of Accept: a media range and its parameters; the quality
 * goes to the kind it names (ranges we do not serve are ignored, and so
 * is an element whose q is not a qvalue). */
static void
accept_element(const char *p, size_t len, struct http_req *r)
{
	size_t l = trim_left(p, len), semi, mlen;
	int q = 1000;

	p += l;
	len -= l;
	for (semi = 0; semi < len && p[semi] != ';'; semi++)
		;
	mlen = trim_right(p, semi);
	while (semi < len) {		/* the parameters: ";" name "=" value */
		const char *a = p + semi + 1;
		size_t alen, end, eq;
		for (end = semi + 1; end < len && p[end] != ';'; end++)
			;
		alen = end - semi - 1;
		l = trim_left(a, alen);
		a += l;
		alen = trim_right(a, alen - l);
		for (eq = 0; eq < alen && a[eq] != '='; eq++)
			;
		if (eq == 1 && eq < alen && (a[0] == 'q' || a[0] == 'Q'))
			q = parse_qvalue(a + 2, alen - 2);
		semi = end;
	}
	if (q < 0)
		return;
	if (mlen == 28 && strncasecmp(p, "application/openmetrics-text", 28) == 0) {
		if (q > r->q_openmetrics)
			r->q_openmetrics = q;
	} else if ((mlen == 10 && strncasecmp(p, "text/plain", 10) == 0) ||
	    (mlen == 6 && strncasecmp(p, "text/*", 6) == 0) ||
	    (mlen == 3 && memcmp(p, "*/*", 3) == 0)) {
		if (q > r->q_text)
			r->q_text = q;
	}
}

static void
parse_accept(const char *v, size_t len, struct http_req *r)
{
	size_t start = 0, i;
	int quoted = 0;

	for (i = 0; i <= len; i++) {
		if (i < len && v[i] == '"')
			quoted = !quoted;
		if (i == len || (v[i] == ',' && !quoted)) {
			accept_element(v + start, i - start, r);
			start = i + 1;
		}
	}
}

/* name ":" OWS value OWS (RFC 9112 5): 0, or a status.  *host_r counts
 * Host fields. */
static int
parse_field(const uint8_t *p, size_t len, struct http_req *r, unsigned *host_r)
{
	size_t n, v0, vlen, i;

	if (len > 0 && (p[0] == ' ' || p[0] == '\t'))
		return 400;	/* obsolete line folding (5.2) */
	for (n = 0; n < len && is_tchar(p[n]); n++)
		;
	if (n == 0 || n == len || p[n] != ':')
		return 400;	/* no name, no colon, or space before it (5.1) */
	for (i = n + 1; i < len; i++)
		if (!is_field_byte(p[i]))
			return 400;
	v0 = n + 1 + trim_left((const char *)p + n + 1, len - n - 1);
	vlen = trim_right((const char *)p + v0, len - v0);
	if (n == 4 && strncasecmp((const char *)p, "host", 4) == 0)
		(*host_r)++;
	else if (n == 6 && strncasecmp((const char *)p, "accept", 6) == 0)
		parse_accept((const char *)p + v0, vlen, r);
	return 0;
}

static void
reset(struct http_req *r)
{
	memset(r, 0, sizeof(*r));
	r->method = HTTP_METHOD_OTHER;
	r->q_openmetrics = -1;
	r->q_text = -1;
}

static enum http_req_result
bad(struct http_req *r, int status)
{
	r->status = status;
	return HTTP_REQ_BAD;
}

enum http_req_result
http_req_parse(const uint8_t *buf, size_t len, const struct http_req_limits *lim,
    struct http_req *r, size_t *consumed_r)
{
	size_t n = len < lim->max_bytes ? len : lim->max_bytes, pos = 0, end, next;
	unsigned hosts = 0;
	int have_line = 0, rc, st;

	reset(r);
	*consumed_r = 0;
	while ((rc = line_at(buf, n, pos, &end, &next)) == 1) {
		if (!have_line) {
			if (end > pos) {	/* empty lines before it are ignored */
				if ((st = parse_request_line(buf + pos, end - pos, r)) != 0)
					return bad(r, st);
				have_line = 1;
			}
		} else if (end == pos) {	/* the end of the head */
			if (hosts > 1 || (r->minor == 1 && hosts == 0))
				return bad(r, 400);
			*consumed_r = next;
			return HTTP_REQ_DONE;
		} else {
			if (++r->nheaders > lim->max_headers)
				return bad(r, 431);
			if ((st = parse_field(buf + pos, end - pos, r, &hosts)) != 0)
				return bad(r, st);
		}
		pos = next;
	}
	/* an unfinished line is judged once it ends (or the head is too big):
	 * the verdict must not depend on where the reads split the bytes */
	if (rc < 0)
		return bad(r, 400);
	if (len >= lim->max_bytes)
		return bad(r, have_line ? 431 : 414);
	return HTTP_REQ_NEED_MORE;
}

int
http_req_wants_openmetrics(const struct http_req *r)
{
	return r->q_openmetrics > 0 && r->q_openmetrics >= r->q_text;
}
