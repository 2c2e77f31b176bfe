/* fuzz_http_req.c - http_req_parse() over a client's request head, whole
 * and in every prefix.
 *
 * Input: byte 0 picks max_bytes (256 << (b & 7), capped at 65536 by the
 * parser's caller; here 256..32768) and byte 1 max_headers (1..256); the
 * rest is what the client sent.  Properties: the verdict on the whole
 * input is final (DONE or BAD) or NEED_MORE only below max_bytes; every
 * prefix gives NEED_MORE or exactly the whole input's verdict (the answer
 * does not depend on how the bytes were split into reads); DONE consumes a
 * head that ends in an empty line, within max_bytes, with a path that
 * starts with '/' and holds no '?', space or control; BAD carries one of
 * the status codes the worker answers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../common/proto/http_req.h"
#include "fuzz.h"

static void
check_result(enum http_req_result rc, const struct http_req *r, const uint8_t *buf, size_t len,
    size_t used, const struct http_req_limits *lim)
{
	size_t i, pl;

	switch (rc) {
	case HTTP_REQ_DONE:
		CHECK(used >= 2 && used <= len && used <= lim->max_bytes);
		CHECK(buf[used - 1] == '\n');
		CHECK(r->nheaders <= lim->max_headers);
		CHECK(r->minor <= 1);
		CHECK(r->method == HTTP_METHOD_GET || r->method == HTTP_METHOD_HEAD ||
		    r->method == HTTP_METHOD_OTHER);
		pl = strnlen(r->path, sizeof(r->path));
		CHECK(pl >= 1 && pl <= HTTP_REQ_TARGET_MAX && r->path[0] == '/');
		for (i = 0; i < pl; i++)
			CHECK(r->path[i] > 0x20 && r->path[i] != 0x7f && r->path[i] != '?');
		CHECK(r->q_openmetrics >= -1 && r->q_openmetrics <= 1000);
		CHECK(r->q_text >= -1 && r->q_text <= 1000);
		break;
	case HTTP_REQ_BAD:
		CHECK(r->status == 400 || r->status == 414 || r->status == 431 || r->status == 505);
		break;
	case HTTP_REQ_NEED_MORE:
		CHECK(len < lim->max_bytes);
		break;
	default:
		CHECK(0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_req_limits lim;
	static struct http_req whole, part;
	enum http_req_result rc, prc;
	size_t used, pused, k, step;

	if (size < 2)
		return 0;
	lim.max_bytes = (size_t)256 << (data[0] & 7);
	lim.max_headers = 1 + (size_t)data[1];
	data += 2;
	size -= 2;
	rc = http_req_parse(data, size, &lim, &whole, &used);
	check_result(rc, &whole, data, size, used, &lim);
	/* every prefix for short inputs, a stride of them for long ones */
	step = size > 2048 ? size / 512 : 1;
	for (k = 0; k < size; k += step) {
		prc = http_req_parse(data, k, &lim, &part, &pused);
		check_result(prc, &part, data, k, pused, &lim);
		if (prc == HTTP_REQ_NEED_MORE)
			continue;
		CHECK(prc == rc);
		if (rc == HTTP_REQ_DONE) {
			CHECK(pused == used && part.method == whole.method && part.minor == whole.minor &&
			    part.nheaders == whole.nheaders && strcmp(part.path, whole.path) == 0 &&
			    part.q_openmetrics == whole.q_openmetrics && part.q_text == whole.q_text);
		} else {
			CHECK(part.status == whole.status);
		}
	}
	return 0;
}
