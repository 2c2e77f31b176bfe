/* fuzz_imap_fetch - imap_fetch_parse() and imap_fetch_render().
 *
 * Input: byte 0 picks UID FETCH (bit 0), a small output max (bit 1), small
 * MIME limits (bit 2) and \Seen set (bit 3); then the FETCH attributes as
 * a client sends them after "a FETCH 1 " (literals allowed, LITERAL+), up
 * to the first NUL; the rest is the message file.
 * Properties:
 * - a refusal has a reason; a plan stays within its bounds and needs
 *   HEADER whenever it needs BODY;
 * - render answers 0, IMAP_FETCH_ERR_NOMEM or IMAP_FETCH_ERR_CTE, and
 *   leaves the buffer as it was on error; the answer is within the
 *   buffer's max, starts "* 7 FETCH (" and ends ")\r\n";
 * - imap_fetch_part_decode() of every part of the message answers 0 or
 *   UNKNOWN-CTE, and copies the body as it is when it says identity;
 * - the answer is valid IMAP syntax: given to the command parser as
 *   "t X (...)" it is one command whose one argument is a list, with no
 *   NUL outside literal8 and literal counts that match (the parser checks
 *   both) — so sizes and partial windows were counted right.
 */
#include <string.h>

#include "../common/mail/imap_fetch.h"
#include "../common/proto/imap_parse.h"
#include "fuzz.h"

/* A parser for commands of max bytes: nodes are allocated up front, so
 * their number follows the size (an answer has at most one per 2 bytes). */
static struct imap_parser *
parser_for(size_t max)
{
	struct imap_limits lim;

	imap_limits_default(&lim);
	lim.max_line = max + 64;
	lim.max_command = max + 64;
	lim.max_literal = (uint32_t)max + 64;
	lim.max_buffered = 4096;
	lim.max_literals = (unsigned)max / 4 + 16;
	lim.max_args = (unsigned)max / 2 + 16;
	lim.max_depth = 255;
	return imap_parser_new(&lim, IMAP_PF_LITERAL_PLUS);
}

/* Feed what is left of the line so that a failed command ends. */
static int
feed_all(struct imap_parser *p, const uint8_t *in, size_t n, const struct imap_cmd **cmd_r)
{
	size_t off = 0, used;
	int commands = 0;

	*cmd_r = NULL;
	while (off < n) {
		struct imap_event ev;
		imap_parser_feed(p, in + off, n - off, &used, &ev);
		off += used;
		if (ev.type == IMAP_EV_CONTINUE)
			imap_parser_accept(p);
		if (ev.type == IMAP_EV_ERROR)
			return -1;
		if (ev.type == IMAP_EV_COMMAND) {
			commands++;
			*cmd_r = imap_parser_cmd(p);
		}
	}
	return commands;
}

static void
check_plan(const struct imap_fetch_plan *p)
{
	unsigned i;

	CHECK(p->nitems <= IMAP_FETCH_MAX_ITEMS && p->nsections <= IMAP_FETCH_MAX_SECTIONS);
	CHECK(!(p->need & IMAP_FETCH_NEED_BODY) || (p->need & IMAP_FETCH_NEED_HEADER));
	for (i = 0; i < p->nitems; i++)
		CHECK(p->item[i].att != IMAP_FA_SECTION || p->item[i].sec < p->nsections);
	for (i = 0; i < p->nsections; i++)
		CHECK(p->section[i].nfields <= IMAP_FETCH_MAX_FIELDS);
}

/* Copy the answer after its head to o with a space put between ")(":
 * BODYSTRUCTURE's "1*body" has none (RFC 9051 9), command arguments
 * need one.  Quoted strings and literals are copied as they are. */
static void
spaced(const uint8_t *s, size_t len, struct buf *o)
{
	size_t i = 0, k, n;

	while (i < len) {
		if (s[i] == '"') {
			for (k = i + 1; k < len && s[k] != '"'; k++)
				k += s[k] == '\\';
			k = k < len ? k + 1 : len;
		} else if (s[i] == '{' || (s[i] == '~' && i + 1 < len && s[i + 1] == '{')) {
			for (k = i + 1 + (s[i] == '~'), n = 0; k < len && s[k] >= '0' && s[k] <= '9'; k++)
				n = n * 10 + (size_t)(s[k] - '0');
			CHECK(k + 2 < len && s[k] == '}' && s[k + 1] == '\r' && s[k + 2] == '\n');
			CHECK(n <= len - k - 3);
			k += 3 + n;
		} else {
			k = i + 1;
		}
		CHECK(buf_append(o, s + i, k - i) == 0);
		if (s[i] == ')' && k < len && s[k] == '(')
			CHECK(buf_append(o, " ", 1) == 0);
		i = k;
	}
}

/* The answer, as "t X (...)\r\n", is one command with one list argument. */
static void
check_syntax(const struct buf *out)
{
	static const char head[] = "* 7 FETCH ";
	struct imap_parser *p;
	const struct imap_cmd *cmd;
	struct buf o;

	CHECK(out->len > sizeof(head) + 3 && memcmp(out->data, head, sizeof(head) - 1) == 0);
	CHECK(memcmp(out->data + out->len - 3, ")\r\n", 3) == 0);
	buf_init(&o, 2 * out->len + 16);
	CHECK(buf_append(&o, "t X ", 4) == 0);
	spaced(out->data + sizeof(head) - 1, out->len - (sizeof(head) - 1), &o);
	p = parser_for(o.len);
	CHECK(p != NULL);
	CHECK(feed_all(p, o.data, o.len, &cmd) == 1);
	CHECK(cmd->nargs == 1 && cmd->args->type == IMAP_ARG_LIST);
	imap_parser_free(p);
	buf_free(&o, 0);
}

static void
check_decode(const uint8_t *msg, size_t len)
{
	struct mime_msg mm;
	struct buf b;
	size_t i;
	int id, r;

	mime_init(&mm, 64, 8);
	CHECK(mime_parse(&mm, msg, len) == 0);
	for (i = 0; i < mm.n; i++) {
		buf_init(&b, len + 16);
		r = imap_fetch_part_decode(&mm, (uint32_t)i, &b, &id);
		CHECK(r == 0 || r == IMAP_FETCH_ERR_CTE);
		CHECK(r == 0 || !id);
		if (r == 0 && id)
			CHECK(b.len == mm.parts[i].body_len &&
			    (b.len == 0 || memcmp(b.data, msg + mm.parts[i].body_off, b.len) == 0));
		buf_free(&b, 0);
	}
	mime_free(&mm);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char prefix_uid[] = "a UID FETCH 1 ", prefix[] = "a FETCH 1 ";
	struct imap_parser *p;
	const struct imap_cmd *cmd;
	struct imap_fetch_plan plan;
	struct imap_fetch_msg m = { .seq = 7, .uid = 9, .modseq = 3, .size = 100, .date = 1e9,
	    .flags = "(\\Seen $Junk)" };
	const uint8_t *nul;
	const char *err = NULL;
	struct buf out;
	size_t cmd_len;
	int uid, rc;

	if (size < 1)
		return 0;
	uid = data[0] & 1;
	nul = memchr(data + 1, 0, size - 1);
	cmd_len = nul != NULL ? (size_t)(nul - data - 1) : size - 1;
	p = parser_for(size + 64);
	CHECK(p != NULL);
	feed_all(p, (const uint8_t *)(uid ? prefix_uid : prefix),
	    strlen(uid ? prefix_uid : prefix), &cmd);
	feed_all(p, data + 1, cmd_len, &cmd);
	if (feed_all(p, (const uint8_t *)"\r\n", 2, &cmd) != 1 || cmd->nargs < 2) {
		imap_parser_free(p);
		return 0;
	}
	rc = imap_fetch_parse(cmd->args->next, cmd->args->next->next, uid, &plan, &err);
	CHECK(rc == 0 || (rc == -1 && err != NULL && err[0] != '\0'));
	if (rc == 0) {
		check_plan(&plan);
		if (data[0] & 4) {
			plan.mime_max_parts = 8;
			plan.mime_max_depth = 3;
		}
		if (nul != NULL) {
			m.msg = nul + 1;
			m.len = size - (size_t)(nul + 1 - data);
		} else {
			m.msg = (const uint8_t *)"";
		}
		m.add_flags = (data[0] & 8) != 0;
		buf_init(&out, (data[0] & 2) ? 300 : 1 << 22);
		buf_append(&out, "x", 1);
		out.len = 0;
		rc = imap_fetch_render(&plan, &m, &out);
		CHECK(rc == 0 || rc == IMAP_FETCH_ERR_NOMEM || rc == IMAP_FETCH_ERR_CTE);
		CHECK(out.len <= out.max && (rc == 0 || out.len == 0));
		if (rc == 0)
			check_syntax(&out);
		buf_free(&out, 0);
		check_decode(m.msg, m.len);
	}
	imap_parser_free(p);
	return 0;
}
