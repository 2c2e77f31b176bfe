/* wk_smtp.c - the SMTP-family session loop (see wk_smtp.h). */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../base/ev.h"
#include "../base/log.h"
#include "../ipc/proto.h"
#include "../mail/mimecheck.h"
#include "wk_smtp.h"

#define DATA_PIECE	16384	/* decoded per call (the decoder adds at most 2) */

/* RFC 5321 4.5.3.1.6: a text line of 1000 octets, CRLF included. */
#define DATA_LINE_MAX	1000

void
wk_smtp_reply(struct wk_smtp *p, const struct smtp_reply *r, unsigned n)
{
	char wire[SMTP_REPLY_TEXT_MAX + SMTP_REPLY_LINES_MAX * 16];
	long len = smtp_reply_format(r, wire, sizeof(wire));

	if (len < 0)
		fatal("reason=\"reply does not format\" code=%u", r->code);
	while (n-- > 0)
		wk_client_write(&p->c, (const uint8_t *)wire, (size_t)len);
}

void
wk_smtp_flush(struct wk_smtp *p)
{
	(void)wk_client_io(&p->c, 0);
}

static void
wk_smtp_msg_open(struct wk_smtp *p)
{
	const struct smtp_params *mp = &p->sm.mail_params;

	wk_intake_msg_open(&p->w, p->sm.mail_from.addr);
	/* what the MIME check may take: RFC 6152's 8-bit body, RFC 6531's
	 * UTF-8 header fields */
	if ((mp->seen & SMTP_P_BODY) && mp->body != SMTP_BODY_7BIT)
		p->w.msg.mime_flags |= MIMECHECK_8BITMIME;
	if (mp->seen & SMTP_P_SMTPUTF8)
		p->w.msg.mime_flags |= MIMECHECK_SMTPUTF8;
	if (p->ops->msg_start != NULL)
		p->ops->msg_start(p);
	p->w.msg.head = p->w.msg.len;
}

/* The MIME policy over the sealed message: 0 to deliver it (perhaps
 * wrapped), else the refusal (550 5.6.0, or 451 when the check could not
 * be made) is written, once per recipient in LMTP (RFC 2033 4.2). */
static int
mime_refused(struct wk_smtp *p, const struct smtp_step *st)
{
	struct smtp_reply r;

	if (wk_mime_apply(&p->w, &p->mime, &r) == 0)
		return 0;
	wk_smtp_reply(p, &r, st->nreplies > 0 ? st->nreplies : 1);
	return 1;
}

/* One log line per refused recipient (the master logs the lookup). */
static void
rcpt(struct wk_smtp *p, const struct smtp_cmd *cmd)
{
	char q[SMTP_MAILBOX_MAX * 4 + 8];
	struct smtp_step st;
	struct smtp_reply own;
	int refused = p->ops->rcpt_check != NULL && p->ops->rcpt_check(p, &own);
	enum smtp_rcpt_verdict v = refused ? (own.code < 500 ? SMTP_RCPT_TEMP : SMTP_RCPT_UNKNOWN) :
	    wk_intake_rcpt(&p->w, cmd->path.addr);

	if (smtp_session_rcpt_done(&p->sm, v, &st) < 0)
		fatal("reason=\"RCPT verdict out of turn\"");
	if (refused)
		st.reply = own;	/* the worker's own refusal, not the lookup's */
	if (v != SMTP_RCPT_OK)
		log_event(LOG_LEVEL_INFO, "rcpt_refused", "ip=%s address=\"%s\" reply=%u/%s", p->ip,
		    log_quote(q, sizeof(q), cmd->path.addr, (unsigned)strlen(cmd->path.addr)),
		    st.reply.code, st.reply.esc);
	wk_smtp_reply(p, &st.reply, 1);
	if (st.action == SMTP_ACT_CLOSE)
		p->s.closing = 1;
}

static void act(struct wk_smtp *p, const struct smtp_step *st);

/* A chunk of n bytes (0 allowed: "BDAT 0 LAST") is announced. */
static void
chunk_start(struct wk_smtp *p, enum wk_smtp_input how, const struct smtp_step *st)
{
	p->in = how;
	p->chunk_left = st->chunk;
	if (how == WK_SMTP_IN_DISCARD)
		p->held = *st;
	else if (p->w.msg.fd < 0 && !p->w.msg.failed)
		wk_smtp_msg_open(p);
}

static void
chunk_end(struct wk_smtp *p)
{
	struct smtp_step st;

	p->in = WK_SMTP_IN_LINES;
	if (p->held.action == SMTP_ACT_BDAT_DISCARD) {
		p->held.action = SMTP_ACT_NONE;
		wk_smtp_reply(p, &p->held.reply, p->held.nreplies);
		return;
	}
	if (smtp_session_bdat_end(&p->sm, &st) < 0)
		fatal("reason=\"BDAT end out of turn\"");
	act(p, &st);
}

/* Do what the machine asked for; end the transaction when it is over. */
static void
act(struct wk_smtp *p, const struct smtp_step *st)
{
	switch (st->action) {
	case SMTP_ACT_NONE:
		break;
	case SMTP_ACT_REPLY:
		wk_smtp_reply(p, &st->reply, st->nreplies);
		break;
	case SMTP_ACT_CLOSE:
		wk_smtp_reply(p, &st->reply, st->nreplies);
		p->s.closing = 1;
		break;
	case SMTP_ACT_RCPT:
		rcpt(p, st->cmd);
		break;
	case SMTP_ACT_DATA:
		wk_smtp_reply(p, &st->reply, 1);
		wk_smtp_msg_open(p);
		dotstuff_dec_init(&p->dec, DATA_LINE_MAX, p->sm.cfg.lim.max_size, DOTSTUFF_BARE_REFUSE);
		p->in = WK_SMTP_IN_DATA;
		break;
	case SMTP_ACT_BDAT:
		chunk_start(p, WK_SMTP_IN_CHUNK, st);
		break;
	case SMTP_ACT_BDAT_DISCARD:
		chunk_start(p, WK_SMTP_IN_DISCARD, st);
		break;
	case SMTP_ACT_DELIVER:
		if (wk_intake_seal(&p->w) < 0)
			log_event(LOG_LEVEL_WARN, "message_failed", "ip=%s recipients=%u "
			    "reason=\"not sealed\"", p->ip, p->w.nrcpt);
		else if (mime_refused(p, st)) {
			wk_intake_txn_end(&p->w);
			break;
		}
		p->ops->deliver(p, st);
		wk_intake_txn_end(&p->w);
		break;
	case SMTP_ACT_STARTTLS:
		if (p->ops->starttls == NULL)
			fatal("reason=\"STARTTLS was not offered\"");
		p->ops->starttls(p, st);
		break;
	default:	/* AUTH: never offered on intake, the machine refuses it */
		fatal("reason=\"unexpected SMTP action\" action=%d", (int)st->action);
	}
	if (p->sm.state != SMTP_ST_MAIL && p->sm.state != SMTP_ST_RCPT &&
	    p->sm.state != SMTP_ST_DATA && p->sm.state != SMTP_ST_BDAT)
		wk_intake_txn_end(&p->w);
	if (p->in == WK_SMTP_IN_CHUNK || p->in == WK_SMTP_IN_DISCARD) {
		if (p->chunk_left == 0)
			chunk_end(p);
	}
	if (p->w.broken && !p->s.closing) {
		wk_client_puts(&p->c, "421 4.3.0 Internal channel failed, closing connection\r\n");
		p->s.closing = 1;
	}
	if (st->flush)
		wk_smtp_flush(p);
}

/* One command line, if a whole one is buffered.  Returns 0 when more
 * input is needed. */
static int
take_line(struct wk_smtp *p)
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
take_data(struct wk_smtp *p)
{
	static uint8_t out[DATA_PIECE + 2];
	size_t n = p->c.in.len < DATA_PIECE ? p->c.in.len : DATA_PIECE, used, made;
	struct smtp_step st;
	enum dotstuff_result r = dotstuff_decode(&p->dec, p->c.in.data, n, out, &used, &made);

	wk_intake_msg_write(&p->w, out, made);
	buf_consume(&p->c.in, used);
	if (r != DOTSTUFF_DONE)
		return;
	p->in = WK_SMTP_IN_LINES;
	if (smtp_session_data_end(&p->sm, p->dec.flags, &st) < 0)
		fatal("reason=\"DATA end out of turn\"");
	act(p, &st);
}

static void
take_chunk(struct wk_smtp *p)
{
	size_t n = p->c.in.len;

	if (n > p->chunk_left)
		n = (size_t)p->chunk_left;
	if (p->in == WK_SMTP_IN_CHUNK)
		wk_intake_msg_chunk(&p->w, p->c.in.data, n);
	buf_consume(&p->c.in, n);
	p->chunk_left -= n;
	if (p->chunk_left == 0)
		chunk_end(p);
}

/* Everything buffered, as far as it goes (PIPELINING). */
static void
process_input(void *ctx)
{
	struct wk_smtp *p = ctx;

	while (!p->s.closing && !p->c.dead && p->c.in.len > 0) {
		if (p->in == WK_SMTP_IN_LINES) {
			if (!take_line(p))
				return;
		} else if (p->in == WK_SMTP_IN_DATA) {
			take_data(p);
		} else {
			take_chunk(p);
		}
	}
}

/* A message being received (DATA, BDAT) ends before the 421. */
static int
session_busy(void *ctx)
{
	const struct wk_smtp *p = ctx;

	return p->in != WK_SMTP_IN_LINES;
}

static const struct wk_session_ops session_ops = {
	.process = process_input,
	.busy = session_busy,
	/* RFC 5321 3.8: 421 before closing on a shutdown */
	.shutdown_line = "421 4.3.2 Service shutting down, closing connection\r\n",
	.kick_line = "421 4.3.2 Disconnected by the administrator\r\n",
	.login_timeout_line = "421 4.4.2 Timeout, closing connection\r\n",
	/* RFC 5321 4.5.3.2.7: the server's timeout, said before closing */
	.idle_timeout_line = "421 4.4.2 Idle timeout, closing connection\r\n",
};

/* The greet pause (Postfix's postscreen_greet_wait, Exim's early talker
 * check): wait ms before the 220.  RFC 5321 4.3.1 and 3.1 have the client
 * wait for the greeting; a client that talks first is sending blind, as
 * spam engines do, and is refused with one line.  Returns 0 to greet, -1
 * when the session ends here (refused, or the client left). */
static int
greet_pause(struct wk_smtp *p, uint64_t ms)
{
	struct pollfd pfd = { .fd = FD_CLIENT, .events = POLLIN };
	uint64_t end = ev_now_ms() + ms, now;
	uint8_t b[512];
	ssize_t n;
	int r;

	while ((now = ev_now_ms()) < end) {
		r = poll(&pfd, 1, (int)(end - now));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return 0;	/* quiet for the whole pause (an error: the loop sees it) */
		n = read(FD_CLIENT, b, sizeof(b));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			log_event(LOG_LEVEL_INFO, "disconnect", "ip=%s reason=\"left before the "
			    "greeting\"", p->ip);
			return -1;
		}
		log_event(LOG_LEVEL_WARN, "early_talker", "ip=%s bytes=%zd waited_ms=%llu "
		    "reason=\"sent data before the greeting\"", p->ip, n,
		    (unsigned long long)(ms - (end - now)));
		wk_client_puts(&p->c, "554 5.5.0 Protocol error: data sent before the greeting\r\n");
		(void)wk_client_drain(&p->c);
		/* what else it sent is read and dropped (up to 64 KiB): closing
		 * with unread input would reset the connection, and the reset
		 * could reach the client before our line */
		for (r = 0; r < 128 && recv(FD_CLIENT, b, sizeof(b), MSG_DONTWAIT) > 0; r++)
			;
		return -1;
	}
	return 0;
}

static void
limits_set(struct smtp_config *sc, const struct wk_smtp_limits *lim)
{
	sc->lim.max_line_ext = lim->max_line;
	if (sc->lim.max_line > sc->lim.max_line_ext)
		sc->lim.max_line = sc->lim.max_line_ext;
	sc->lim.max_rcpt = (unsigned)lim->max_recipients;
	sc->lim.max_size = lim->max_message_size;
	sc->lim.max_errors = (unsigned)lim->max_bad_commands;
}

void
wk_smtp_run(struct wk_smtp *p, struct wk_boot *b, const struct wk_smtp_ops *ops,
    struct smtp_config *sc, const struct wk_smtp_limits *lim, int relay_refused)
{
	const struct config *cfg = b->cfg;
	struct smtp_reply greeting;

	p->cfg = cfg;
	p->ip = b->ip;
	p->sid = b->sid;
	p->ops = ops;
	p->in = WK_SMTP_IN_LINES;
	wk_intake_init(&p->w, b->ip, relay_refused);
	p->w.quota_temporary = strcmp(cfg->quota_full_reply, "temporary") == 0;
	p->mime.mode = wk_mime_mode_of(cfg->smtp_bad_mime);
	p->mime.max_depth = (unsigned)cfg->smtp_mime_max_depth;
	p->mime.sid = b->sid;
	limits_set(sc, lim);
	smtp_session_init(&p->sm, sc, 0);
	p->mime.hostname = p->sm.cfg.hostname;
	wk_client_init(&p->c, FD_CLIENT, FD_KEYD, smtp_session_line_max(&p->sm),
	    lim->idle_timeout_s * 1000, b->ip);
	/* no login on intake: the relay stays idle, the deadline never applies */
	wk_auth_init(&p->auth, FD_AUTH, FD_CONTROL, BROKER_CALL_TIMEOUT_MS, NULL, p);
	if (lim->greet_pause_ms > 0 && greet_pause(p, lim->greet_pause_ms) < 0) {
		wk_client_close(&p->c);
		return;
	}
	smtp_session_greeting(&p->sm, &greeting);
	wk_smtp_reply(p, &greeting, 1);
	wk_session_init(&p->s, &p->c, &p->auth, &session_ops, p, cfg->login_timeout, b->ip);
	wk_session_logged_in(&p->s);
	wk_session_run(&p->s, b->started_ms);
	wk_intake_txn_end(&p->w);
	wk_client_close(&p->c);
	log_event(LOG_LEVEL_INFO, "logout", "ip=%s delivered=%llu messages=%llu", p->ip,
	    (unsigned long long)p->w.delivered, (unsigned long long)p->messages);
}
