/* fuzz_rfc5322_addr - address lists, ENVELOPE, HEADER.FIELDS and dates.
 *
 * The input is an address-list (byte 0 picks the list's max, 1..64 or
 * RFC5322_ADDR_MAX) and, the same bytes, a header and a date.  Properties:
 * - every span is inside the list's text, a mailbox never has a NIL
 *   mailbox or host (that would read as a group marker), group markers
 *   alternate start/end and never nest, n <= max (+1 for an end marker);
 * - the written list and the ENVELOPE are balanced, one list each;
 * - HEADER.FIELDS and .NOT of the same names partition the fields: their
 *   sizes add up to the CRLF size of all fields plus the two blank lines,
 *   and every LF comes after a CR;
 * - a date that parses, written back as "d Mon yyyy hh:mm:ss +0000",
 *   parses to the same time.
 */
#include <string.h>

#include "../common/mail/imapstr.h"
#include "../common/mail/rfc5322.h"
#include "fuzz.h"
#include "imapcheck.h"

static void
span_ok(const struct rfc5322_addrs *l, struct rfc5322_span s)
{
	CHECK(s.off == RFC5322_NIL || (s.off <= l->text.len && s.len <= l->text.len - s.off));
}

static void
addresses(const uint8_t *data, size_t size, size_t max)
{
	struct rfc5322_addrs l;
	struct buf out;
	size_t i;
	int in_group = 0;

	rfc5322_addrs_init(&l, max, 1 << 22);
	CHECK(rfc5322_addr_parse(data, size, &l) == 0);
	CHECK(l.n <= max + 1);
	for (i = 0; i < l.n; i++) {
		const struct rfc5322_addr *x = &l.v[i];
		span_ok(&l, x->name);
		span_ok(&l, x->adl);
		span_ok(&l, x->mailbox);
		span_ok(&l, x->host);
		if (x->kind == RFC5322_ADDR_MAILBOX)
			CHECK(x->mailbox.off != RFC5322_NIL && x->host.off != RFC5322_NIL);
		if (x->kind == RFC5322_ADDR_GROUP_START) {
			CHECK(!in_group && x->host.off == RFC5322_NIL);
			in_group = 1;
		}
		if (x->kind == RFC5322_ADDR_GROUP_END) {
			CHECK(in_group && x->mailbox.off == RFC5322_NIL);
			in_group = 0;
		}
	}
	CHECK(!in_group);
	buf_init(&out, 1 << 24);
	CHECK(rfc5322_addrs_write(&l, &out) == 0 && imapcheck_list(out.data, out.len, 1));
	buf_free(&out, 0);
	rfc5322_addrs_free(&l);
}

static int
crlf_only(const struct buf *b)
{
	size_t i;

	for (i = 0; i < b->len; i++)
		if (b->data[i] == '\n' && (i == 0 || b->data[i - 1] != '\r'))
			return 0;
	return 1;
}

static void
header(const uint8_t *data, size_t size)
{
	static const struct rfc5322_name names[] = {
		{ (const uint8_t *)"From", 4 }, { (const uint8_t *)"to", 2 },
		{ (const uint8_t *)"SUBJECT", 7 },
	};
	struct rfc5322_iter it;
	struct rfc5322_field f;
	struct buf env, in, out;
	size_t hl, bo;
	uint64_t all = 0;

	rfc5322_split(data, size, &hl, &bo);
	CHECK(hl <= bo && bo <= size);
	buf_init(&env, 1 << 24);
	CHECK(rfc5322_envelope_write(data, hl, &env) == 0 && imapcheck_list(env.data, env.len, 0));
	CHECK(env.len > 0 && env.data[0] == '(');
	rfc5322_iter_init(&it, data, hl);
	while (rfc5322_iter_next(&it, &f)) {
		CHECK(f.off + f.len <= hl && f.name == data + f.off && f.name_len > 0);
		CHECK(f.value >= f.name + f.name_len && f.value + f.value_len <= data + f.off + f.len);
		all += imap_crlf_size(data + f.off, f.len) + (data[f.off + f.len - 1] != '\n') * 2;
	}
	buf_init(&in, 1 << 24);
	buf_init(&out, 1 << 24);
	CHECK(rfc5322_header_fields(data, hl, names, 3, 0, &in) == 0 && crlf_only(&in));
	CHECK(rfc5322_header_fields(data, hl, names, 3, 1, &out) == 0 && crlf_only(&out));
	CHECK(in.len + out.len == all + 4);
	buf_free(&env, 0);
	buf_free(&in, 0);
	buf_free(&out, 0);
}

static void
date(const uint8_t *data, size_t size)
{
	static const char mon[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	struct tm tm;
	time_t t, t2;
	char s[64];
	int n;

	if (rfc5322_date_parse(data, size, &t) < 0)
		return;
	CHECK(gmtime_r(&t, &tm) != NULL);
	n = snprintf(s, sizeof(s), "%d %.3s %04d %02d:%02d:%02d +0000", tm.tm_mday,
	    mon + 3 * tm.tm_mon, tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	CHECK(n > 0 && (size_t)n < sizeof(s));
	/* a zone moves the time at most a day off the years we accept */
	if (tm.tm_year + 1900 < 1000 || tm.tm_year + 1900 > 9999)
		return;
	CHECK(rfc5322_date_parse((const uint8_t *)s, (size_t)n, &t2) == 0 && t2 == t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t max;

	if (size < 1 || size > 1 << 20)
		return 0;
	max = data[0] ? (data[0] & 63) + 1u : RFC5322_ADDR_MAX;
	data++;
	size--;
	addresses(data, size, max);
	header(data, size);
	date(data, size);
	return 0;
}
