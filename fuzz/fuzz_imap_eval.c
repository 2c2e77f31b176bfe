/* fuzz_imap_eval - imap_eval_match() of a parsed SEARCH against a message.
 *
 * Input: byte 0 picks a small scratch max (bit 0), the message's flags
 * (bits 1-3: \Seen, \Flagged, keyword slot 0) and the search charset (bits
 * 4-5: UTF-8, ISO-8859-1, Windows-1252); byte 1 the message's sequence
 * number and UID (1..16, the folder holding 8 messages with UIDs up to 12);
 * then the search keys as a client sends them after "a SEARCH " (literals,
 * LITERAL+), up to the first NUL; the rest is the message file.
 * Properties:
 * - the answer is 1, 0 or -1 with the message, and the same again with the
 *   same scratch (the cache is reset per message) and with a fresh one;
 * - without the message it is IMAP_EVAL_UNKNOWN or the answer with it,
 *   and never unknown when imap_eval_needs() asks for neither header nor
 *   body;
 * - NOT of the search answers the opposite (when neither is an error);
 * - a CHARSET is taken exactly when decode.h knows it, and is then used
 *   for the search strings (no NOT property: "NOT (CHARSET ...)" is no
 *   search).
 */
#include <string.h>

#include "../common/mail/imap_eval.h"
#include "../common/mail/mindex.h"
#include "../common/proto/imap_parse.h"
#include "../common/proto/imap_search.h"
#include "fuzz.h"

static const uint32_t saved[] = { 2, 5, 9, 12 };

static int
keyword(void *arg, const uint8_t *name, size_t len, uint32_t *bit_r)
{
	(void)arg;
	if (len == 5 && strncasecmp((const char *)name, "$junk", 5) == 0) {
		*bit_r = MINDEX_KEYWORD0;
		return 1;
	}
	return 0;
}

/* Feed everything (after an error the parser skips to the line end); the
 * last command seen, or NULL. */
static const struct imap_cmd *
feed(struct imap_parser *p, const uint8_t *in, size_t n)
{
	const struct imap_cmd *cmd = NULL;
	size_t off = 0, used;

	while (off < n) {
		struct imap_event ev;
		imap_parser_feed(p, in + off, n - off, &used, &ev);
		off += used;
		if (ev.type == IMAP_EV_COMMAND)
			cmd = imap_parser_cmd(p);
	}
	return cmd;
}

static void
check(const struct imap_search *s, const struct imap_search *neg, struct imap_eval_ctx *c,
    struct imap_eval_msg *m, size_t max_text)
{
	struct imap_eval_scratch *fresh = imap_eval_scratch_new(max_text), *keep = c->scratch;
	const uint8_t *msg = m->msg;
	unsigned need = imap_eval_needs(s);
	int r = imap_eval_match(s, c, m), rn, ru;

	CHECK(fresh != NULL);
	CHECK(r == 1 || r == 0 || r == -1);
	CHECK(imap_eval_match(s, c, m) == r);
	c->scratch = fresh;
	CHECK(imap_eval_match(s, c, m) == r);
	c->scratch = keep;
	if (neg != NULL) {
		rn = imap_eval_match(neg, c, m);
		CHECK(rn == 1 || rn == 0 || rn == -1);
		if (r >= 0 && rn >= 0)
			CHECK(rn == !r);
	}
	m->msg = NULL;
	ru = imap_eval_match(s, c, m);
	CHECK(r == -1 || ru == r || ru == IMAP_EVAL_UNKNOWN);
	if (!(need & (IMAP_FETCH_NEED_HEADER | IMAP_FETCH_NEED_BODY)))
		CHECK(ru == r);
	m->msg = msg;
	imap_eval_scratch_free(fresh);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum decode_charset cs[] = { DECODE_CS_UTF8, DECODE_CS_LATIN1,
	    DECODE_CS_CP1252, DECODE_CS_UTF8 };
	struct imap_limits plim;
	struct imap_search_limits slim;
	struct imap_parser *p, *p2;	/* one per command: each tree stays valid */
	struct imap_search s, neg;
	const struct imap_cmd *cmd;
	const uint8_t *nul;
	size_t klen, max_text;
	int ok;
	struct imap_eval_ctx c = { .max_seq = 8, .max_uid = 12, .keyword = keyword,
	    .saved = saved, .nsaved = 4 };
	struct imap_eval_msg m = { .modseq = 5, .size = 300, .date = 1000000000 };

	if (size < 2)
		return 0;
	imap_limits_default(&plim);
	plim.max_args = 2048;
	plim.max_command = 16384;
	imap_search_limits_default(&slim);
	slim.max_keys = 256;
	max_text = (data[0] & 1) ? 64 : 1 << 20;
	m.flags = ((data[0] & 2) ? MINDEX_SEEN : 0) | ((data[0] & 4) ? MINDEX_FLAGGED : 0) |
	    ((data[0] & 8) ? MINDEX_KEYWORD0 : 0);
	c.charset = cs[(data[0] >> 4) & 3];
	m.seq = (uint32_t)(data[1] & 15) + 1;
	m.uid = (uint32_t)(data[1] >> 4) + 1;
	nul = memchr(data + 2, 0, size - 2);
	klen = nul != NULL ? (size_t)(nul - data - 2) : size - 2;
	m.msg = nul != NULL ? nul + 1 : (const uint8_t *)"";
	m.len = nul != NULL ? size - (size_t)(nul + 1 - data) : 0;
	p = imap_parser_new(&plim, IMAP_PF_LITERAL_PLUS);
	p2 = imap_parser_new(&plim, IMAP_PF_LITERAL_PLUS);
	CHECK(p != NULL && p2 != NULL && imap_search_init(&s, &slim) == 0 && imap_search_init(&neg, &slim) == 0);
	c.scratch = imap_eval_scratch_new(max_text);
	CHECK(c.scratch != NULL);
	/* the keys, and NOT (keys) as a second command */
	feed(p, (const uint8_t *)"a SEARCH ", 9);
	feed(p, data + 2, klen);
	cmd = feed(p, (const uint8_t *)"\r\n", 2);
	ok = cmd != NULL && imap_search_parse(&s, cmd->args) == IMAP_SEARCH_OK;
	if (ok && s.charset != NULL) {
		enum decode_charset k = decode_charset_lookup(s.charset, s.charset_len);
		CHECK((imap_eval_charset(s.charset, s.charset_len) == 0) == (k != DECODE_CS_UNKNOWN));
		CHECK(imap_eval_charsets()[0] != '\0');
		c.charset = k;
		if (k != DECODE_CS_UNKNOWN)
			check(&s, NULL, &c, &m, max_text);
	} else if (ok && !s.esearch) {
		feed(p2, (const uint8_t *)"b SEARCH NOT (", 14);
		feed(p2, data + 2, klen);
		cmd = feed(p2, (const uint8_t *)")\r\n", 3);
		if (cmd != NULL && imap_search_parse(&neg, cmd->args) == IMAP_SEARCH_OK)
			check(&s, &neg, &c, &m, max_text);
	}
	imap_eval_scratch_free(c.scratch);
	imap_search_free(&neg);
	imap_search_free(&s);
	imap_parser_free(p2);
	imap_parser_free(p);
	return 0;
}
