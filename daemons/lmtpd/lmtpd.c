/* lmtpd.c - the LMTP session: the worker loop smtp_session.h describes,
 * on the kit's event loop (common/worker/wk_session.c).
 *
 * Input is taken in one of three ways: command lines cut by
 * smtp_line_end(), DATA bytes through the dotstuff decoder (only
 * CRLF "." CRLF ends the data: a bare LF never does, CVE-2023-51764), and
 * BDAT chunks counted by length (RFC 3030).  Replies are queued as they
 * are made and pushed when the machine says flush, and whenever the
 * buffered input runs out (RFC 2920 3.1).
 */
#include <string.h>

#include "../../common/base/log.h"
#include "../../common/ipc/proto.h"
#include "lmtpd.h"

#define DATA_PIECE	16384	/* decoded per call (the decoder adds at most 2) */

/* RFC 5321 4.5.3.1.6: a text line of 1000 octets, CRLF included. */
#define DATA_LINE_MAX	1000

void
lmtp_reply(struct lmtp *p, const struct smtp_reply *r, unsigned n)
{
	char wire[SMTP_REPLY_TEXT_MAX + SMTP_REPLY_LINES_MAX * 16];
	long len = smtp_reply_format(r, wire, sizeof(wire));

	if (len < 0)
		fatal("reason=\"reply does not format\" code=%u", r->code);
	while (n-- > 0)
		wk_client_write(&p->c, (const uint8_t *)wire, (size_t)len);
}

static void act(struct lmtp *p, const struct smtp_step *st);

/* A chunk of n bytes (0 allowed: "BDAT 0 LAST") is announced. */
static void
chunk_start(struct lmtp *p, enum lmtp_input how, const struct smtp_step *st)
{
	p->in = how;
	p->chunk_left = st->chunk;
	if (how == LMTP_IN_DISCARD)
		p->held = *st;
	else if (p->msg.fd < 0 && !p->msg.failed)
		lmtp_msg_open(p);
}

static void
chunk_end(struct lmtp *p)
{
	struct smtp_step st;

	p->in = LMTP_IN_LINES;
	if (p->held.action == SMTP_ACT_BDAT_DISCARD) {
		p->held.action = SMTP_ACT_NONE;
		lmtp_reply(p, &p->held.reply, p->held.nreplies);
		return;
	}
	if (smtp_session_bdat_end(&p->sm, &st) < 0)
		fatal("reason=\"BDAT end out of turn\"");
	act(p, &st);
}

/* Do what the machine asked for; end the transaction when it is over. */
static void
act(struct lmtp *p, const struct smtp_step *st)
{
	switch (st->action) {
	case SMTP_ACT_NONE:
		break;
	case SMTP_ACT_REPLY:
		lmtp_reply(p, &st->reply, st->nreplies);
		break;
	case SMTP_ACT_CLOSE:
		lmtp_reply(p, &st->reply, st->nreplies);
		p->s.closing = 1;
		break;
	case SMTP_ACT_RCPT:
		lmtp_rcpt(p, st->cmd);
		break;
	case SMTP_ACT_DATA:
		lmtp_reply(p, &st->reply, 1);
		lmtp_msg_open(p);
		dotstuff_dec_init(&p->dec, DATA_LINE_MAX, p->sm.cfg.lim.max_size, DOTSTUFF_BARE_REFUSE);
		p->in = LMTP_IN_DATA;
		break;
	case SMTP_ACT_BDAT:
		chunk_start(p, LMTP_IN_CHUNK, st);
		break;
	case SMTP_ACT_BDAT_DISCARD:
		chunk_start(p, LMTP_IN_DISCARD, st);
		break;
	case SMTP_ACT_DELIVER:
		lmtp_deliver(p, st);
		break;
	default:	/* STARTTLS, AUTH: never offered, the machine refuses them */
		fatal("reason=\"unexpected SMTP action\" action=%d", (int)st->action);
	}
	if (p->sm.state != SMTP_ST_MAIL && p->sm.state != SMTP_ST_RCPT &&
	    p->sm.state != SMTP_ST_DATA && p->sm.state != SMTP_ST_BDAT)
		lmtp_txn_end(p);
	if (p->in == LMTP_IN_CHUNK || p->in == LMTP_IN_DISCARD) {
		if (p->chunk_left == 0)
			chunk_end(p);
	}
	if (p->broken && !p->s.closing) {
		wk_client_puts(&p->c, "421 4.3.0 Internal channel failed, closing connection\r\n");
		p->s.closing = 1;
	}
	if (st->flush)
		(void)wk_client_io(&p->c, 0);
}

/* One command line, if a whole one is buffered.  Returns 0 when more
 * input is needed. */
static int
take_line(struct lmtp *p)
{
	struct smtp_step st;
	size_t n = smtp_line_end(p->c.in.data, p->c.in.len, smtp_session_line_max(&p->sm));

	if (n == 0)
		return 0;
	if (smtp_session_input(&p->sm, p->c.in.data, n, &st) < 0)
		fatal("reason=\"SMTP input out of turn\"");
	buf_consume(&p->c.in, n);
	act(p, &st);
	return 1;
}

static void
take_data(struct lmtp *p)
{
	static uint8_t out[DATA_PIECE + 2];
	size_t n = p->c.in.len < DATA_PIECE ? p->c.in.len : DATA_PIECE, used, made;
	struct smtp_step st;
	enum dotstuff_result r = dotstuff_decode(&p->dec, p->c.in.data, n, out, &used, &made);

	lmtp_msg_write(p, out, made);
	buf_consume(&p->c.in, used);
	if (r != DOTSTUFF_DONE)
		return;
	p->in = LMTP_IN_LINES;
	if (smtp_session_data_end(&p->sm, p->dec.flags, &st) < 0)
		fatal("reason=\"DATA end out of turn\"");
	act(p, &st);
}

static void
take_chunk(struct lmtp *p)
{
	size_t n = p->c.in.len;

	if (n > p->chunk_left)
		n = (size_t)p->chunk_left;
	if (p->in == LMTP_IN_CHUNK)
		lmtp_msg_chunk(p, p->c.in.data, n);
	buf_consume(&p->c.in, n);
	p->chunk_left -= n;
	if (p->chunk_left == 0)
		chunk_end(p);
}

/* Everything buffered, as far as it goes (PIPELINING). */
static void
process_input(void *ctx)
{
	struct lmtp *p = ctx;

	while (!p->s.closing && !p->c.dead && p->c.in.len > 0) {
		if (p->in == LMTP_IN_LINES) {
			if (!take_line(p))
				return;
		} else if (p->in == LMTP_IN_DATA) {
			take_data(p);
		} else {
			take_chunk(p);
		}
	}
}

static const struct wk_session_ops session_ops = {
	.process = process_input,
	.login_timeout_line = "421 4.4.2 Timeout, closing connection\r\n",
};

static void
smtp_setup(struct lmtp *p, const char *hostname)
{
	const struct config *cfg = p->cfg;
	struct smtp_config sc;

	smtp_config_default(&sc, SMTP_MODE_LMTP, hostname);
	/* DSN is the LMTP client's business (it got the RCPT replies); we
	 * would keep the parameters and do nothing with them */
	sc.offer &= ~SMTP_OFFER_DSN;
	sc.lim.max_line_ext = cfg->lmtp_max_line;
	if (sc.lim.max_line > sc.lim.max_line_ext)
		sc.lim.max_line = sc.lim.max_line_ext;
	sc.lim.max_rcpt = (unsigned)cfg->lmtp_max_recipients;
	sc.lim.max_size = cfg->lmtp_max_message_size;
	sc.lim.max_errors = (unsigned)cfg->lmtp_max_bad_commands;
	smtp_session_init(&p->sm, &sc, 0);
}

void
lmtp_run(struct lmtp *p, struct wk_boot *b, const char *hostname)
{
	const struct config *cfg = &b->cfg;
	struct smtp_reply greeting;

	p->cfg = cfg;
	p->ip = b->ip;
	p->msg.fd = -1;
	p->in = LMTP_IN_LINES;
	smtp_setup(p, hostname);
	wk_client_init(&p->c, FD_CLIENT, FD_KEYD, smtp_session_line_max(&p->sm),
	    cfg->lmtp_idle_timeout * 1000, b->ip);
	/* no login on LMTP: the relay stays idle, the deadline never applies */
	wk_auth_init(&p->auth, FD_AUTH, FD_CONTROL, BROKER_CALL_TIMEOUT_MS, NULL, p);
	smtp_session_greeting(&p->sm, &greeting);
	lmtp_reply(p, &greeting, 1);
	wk_session_init(&p->s, &p->c, &p->auth, &session_ops, p, cfg->login_timeout, b->ip);
	wk_session_logged_in(&p->s);
	wk_session_run(&p->s, b->started_ms);
	lmtp_txn_end(p);
	wk_client_close(&p->c);
	log_event(LOG_LEVEL_INFO, "logout", "ip=%s delivered=%llu", p->ip,
	    (unsigned long long)p->delivered);
}
