/* fuzz_smtp_parse.c - smtp_parse() on one line, and the session machine on
 * a client's byte stream, driven the way a worker drives it.
 *
 * Byte 0: bits 0-1 pick the mode (SMTP, LMTP, submission, or 3: the rest is
 * one line for smtp_parse() alone, bit 2 then meaning SMTPUTF8); bit 2
 * offers STARTTLS, bit 3 starts under TLS, bit 4 offers BINARYMIME, bit 5
 * uses small limits.  The rest is cut with smtp_line_end() and fed to
 * smtp_session_input(); DATA goes through dotstuff_decode(), BDAT chunks
 * are skipped, RCPT and AUTH verdicts come from the command's bytes, and
 * after STARTTLS the stream is dropped up to a "\xff\xfe" marker (the
 * handshake).  Properties:
 * - a parsed path and parameters obey the grammar's limits, UTF-8 only
 *   with SMTPUTF8, decoded xtext printable;
 * - every reply formats, and smtp_reply_parse() reads back its code and
 *   enhanced code; enhanced codes match the code's class;
 * - the worker is never refused (the machine asks only for what it can
 *   take), recipients stay within max_rcpt, BDAT within max_size, MAIL is
 *   accepted in submission only after AUTH, and a closed session stays so.
 */
#include <string.h>

#include "../common/proto/dotstuff.h"
#include "../common/proto/smtp_session.h"
#include "fuzz.h"

#define MAXIN 65536

static uint8_t dataout[MAXIN + 2];

static void
check_text(const char *s, int utf8)
{
	for (; *s; s++) {
		CHECK((uint8_t)*s >= 0x20 && *s != 0x7f);
		CHECK(utf8 || (uint8_t)*s < 0x80);
	}
}

static void
check_path(const struct smtp_path *p, int utf8)
{
	size_t n = strlen(p->addr);

	check_text(p->addr, utf8);
	CHECK(smtp_utf8_valid((const uint8_t *)p->addr, n));
	CHECK(n <= SMTP_MAILBOX_MAX);
	if (p->flags & (SMTP_PATH_NULL | SMTP_PATH_POSTMASTER))
		return;
	CHECK(p->local_len >= 1 && p->local_len <= SMTP_LOCAL_MAX);
	CHECK(p->addr[p->local_len] == '@');
	CHECK(n - p->local_len - 1 >= 1 && n - p->local_len - 1 <= SMTP_DOMAIN_MAX);
}

/* A command smtp_parse() accepted. */
static void
check_cmd(const struct smtp_cmd *c, unsigned flags)
{
	const struct smtp_params *p = &c->params;

	CHECK(c->verb > SMTP_V_UNKNOWN && c->verb < SMTP_V_COUNT);
	if (c->verb == SMTP_V_MAIL || c->verb == SMTP_V_RCPT) {
		int utf8 = c->verb == SMTP_V_MAIL ? (p->seen & SMTP_P_SMTPUTF8) != 0 :
		    (flags & SMTP_PARSE_UTF8) != 0;
		check_path(&c->path, utf8);
		CHECK((p->seen & ~(c->verb == SMTP_V_MAIL ? SMTP_P_MAIL : SMTP_P_RCPT)) == 0);
		CHECK(c->verb == SMTP_V_MAIL || !(c->path.flags & SMTP_PATH_NULL));
	}
	check_text(p->envid, 0);
	check_text(p->auth, 0);
	check_text(p->orcpt, 0);
	check_text(c->domain, 0);
	CHECK(!(p->notify & SMTP_NOTIFY_NEVER) || p->notify == SMTP_NOTIFY_NEVER);
	CHECK(strlen(c->mech) <= SMTP_MECH_MAX);
}

/* Every reply goes on the wire and reads back the same. */
static void
check_reply(const struct smtp_reply *r)
{
	static char out[SMTP_REPLY_TEXT_MAX * 2];
	struct smtp_reply_parser p;
	struct smtp_reply back;
	enum smtp_reply_result res = SMTP_REPLY_ERR;
	const char *line = out;
	long n;

	CHECK(r->code >= 200 && r->code <= 599);
	CHECK(r->esc[0] == '\0' || smtp_esc_valid(r->esc, strlen(r->esc), (char)('0' + r->code / 100)));
	n = smtp_reply_format(r, out, sizeof(out));
	CHECK(n > 0);
	smtp_reply_parser_init(&p);
	while (line < out + n) {
		const char *crlf = strstr(line, "\r\n");
		CHECK(crlf != NULL);
		res = smtp_reply_parse(&p, (const uint8_t *)line, (size_t)(crlf - line), &back);
		CHECK(res != SMTP_REPLY_ERR);
		line = crlf + 2;
	}
	CHECK(res == SMTP_REPLY_DONE);
	CHECK(back.code == r->code && strcmp(back.esc, r->esc) == 0);
}

struct drv {
	struct smtp_session s;
	const uint8_t *in;
	size_t len, off;
};

static void
check_step(struct drv *d, const struct smtp_step *st)
{
	/* RCPT, AUTH and an accepted BDAT wait for the worker: no reply yet */
	if (st->action == SMTP_ACT_RCPT || st->action == SMTP_ACT_AUTH || st->action == SMTP_ACT_BDAT)
		CHECK(st->reply.code == 0);
	else if (st->action != SMTP_ACT_NONE)
		check_reply(&st->reply);
	CHECK(d->s.nrcpt <= d->s.cfg.lim.max_rcpt);
	CHECK(d->s.bdat_total <= d->s.cfg.lim.max_size);
	if (st->reply.code == 250 && strcmp(st->reply.esc, "2.1.0") == 0)
		CHECK(d->s.cfg.mode != SMTP_MODE_SUBMISSION || d->s.authed);
	if (st->action == SMTP_ACT_CLOSE) {
		CHECK(d->s.state == SMTP_ST_CLOSED);
		CHECK(smtp_session_input(&d->s, (const uint8_t *)"NOOP\r\n", 6, NULL) == -1);
	}
}

static size_t
left(const struct drv *d)
{
	return d->len - d->off;
}

static void act(struct drv *d, struct smtp_step *st);

static void
read_data(struct drv *d)
{
	struct dotstuff_dec dec;
	struct smtp_step st;
	size_t c, p;

	dotstuff_dec_init(&dec, 1000, d->s.cfg.lim.max_size, DOTSTUFF_BARE_REFUSE);
	if (dotstuff_decode(&dec, d->in + d->off, left(d), dataout, &c, &p) != DOTSTUFF_DONE) {
		d->off = d->len;	/* the client never ended the data */
		return;
	}
	d->off += c;
	CHECK(smtp_session_data_end(&d->s, dec.flags, &st) == 0);
	act(d, &st);
}

static void
read_chunk(struct drv *d, const struct smtp_step *st)
{
	struct smtp_step next;

	if (st->chunk > left(d)) {
		d->off = d->len;
		return;
	}
	d->off += (size_t)st->chunk;
	if (st->action == SMTP_ACT_BDAT_DISCARD)
		return;
	CHECK(smtp_session_bdat_end(&d->s, &next) == 0);
	act(d, &next);
}

static void
handshake(struct drv *d)
{
	const uint8_t *m = memmem(d->in + d->off, left(d), "\xff\xfe", 2);

	d->off = m ? (size_t)(m - d->in) + 2 : d->len;
	CHECK(smtp_session_tls_started(&d->s) == 0);
	CHECK(d->s.state == SMTP_ST_GREETING && d->s.tls && !d->s.authed);
}

/* The worker's part of an action. */
static void
act(struct drv *d, struct smtp_step *st)
{
	struct smtp_step next;
	size_t k;

	check_step(d, st);
	switch (st->action) {
	case SMTP_ACT_RCPT:
		CHECK(st->cmd->verb == SMTP_V_RCPT);
		check_path(&st->cmd->path, (d->s.mail_params.seen & SMTP_P_SMTPUTF8) != 0);
		/* half the addresses are accepted, the rest get each refusal */
		k = strlen(st->cmd->path.addr) % 8;
		CHECK(smtp_session_rcpt_done(&d->s, k < 4 ? SMTP_RCPT_OK : (enum smtp_rcpt_verdict)(k - 3),
		    &next) == 0);
		act(d, &next);
		break;
	case SMTP_ACT_AUTH:
		CHECK(smtp_session_auth_done(&d->s, (enum smtp_auth_result)(st->cmd->irlen % 5), &next) == 0);
		act(d, &next);
		break;
	case SMTP_ACT_DATA:
		read_data(d);
		break;
	case SMTP_ACT_BDAT:
	case SMTP_ACT_BDAT_DISCARD:
		read_chunk(d, st);
		break;
	case SMTP_ACT_STARTTLS:
		handshake(d);
		break;
	case SMTP_ACT_DELIVER:
		CHECK(st->nreplies >= 1 && d->s.nrcpt == 0);
		break;
	default:
		break;
	}
}

static void
session(const uint8_t *in, size_t len, unsigned opt)
{
	static struct drv d;
	struct smtp_config c;
	struct smtp_step st;

	smtp_config_default(&c, (enum smtp_mode)(opt & 3), "mx.example.org");
	if (opt & 0x04)
		c.offer |= SMTP_OFFER_STARTTLS;
	if (opt & 0x10)
		c.offer |= SMTP_OFFER_BINARYMIME;
	if (opt & 0x20) {
		struct smtp_limits l = { 64, 128, 3, 64, 5, 5 };
		c.lim = l;
	}
	memset(&d, 0, sizeof(d));
	smtp_session_init(&d.s, &c, (opt & 0x08) != 0);
	smtp_session_greeting(&d.s, &st.reply);
	check_reply(&st.reply);
	d.in = in;
	d.len = len;
	while (d.off < d.len && d.s.state != SMTP_ST_CLOSED) {
		size_t n = smtp_line_end(d.in + d.off, left(&d), smtp_session_line_max(&d.s));
		if (n == 0)
			break;
		CHECK(n <= smtp_session_line_max(&d.s));
		CHECK(smtp_session_input(&d.s, d.in + d.off, n, &st) == 0);
		d.off += n;
		/* a command the machine went on with parsed cleanly */
		if (st.action == SMTP_ACT_RCPT || st.action == SMTP_ACT_AUTH ||
		    (st.reply.code >= 200 && st.reply.code < 400 && st.action != SMTP_ACT_NONE))
			check_cmd(st.cmd, (d.s.mail_params.seen & SMTP_P_SMTPUTF8) ? SMTP_PARSE_UTF8 : 0);
		act(&d, &st);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_limits lim;
	struct smtp_cmd cmd;
	struct smtp_reply err;
	unsigned flags;

	if (size < 1 || size > MAXIN)
		return 0;
	if ((data[0] & 3) != 3) {
		session(data + 1, size - 1, data[0]);
		return 0;
	}
	smtp_limits_default(&lim);
	flags = (data[0] & 0x04) ? SMTP_PARSE_UTF8 : 0;
	if (smtp_parse(data + 1, size - 1, &lim, flags, &cmd, &err) == 0)
		check_cmd(&cmd, flags);
	else
		check_reply(&err);
	return 0;
}
