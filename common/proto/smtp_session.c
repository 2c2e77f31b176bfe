/* smtp_session.c - the SMTP/LMTP/submission state machine (RFC 5321 4.1.4,
 * RFC 2920, RFC 3030, RFC 2033, RFC 6409, RFC 3207, RFC 4954).
 *
 * Line endings: a command line must end in CRLF.  A line ending in a bare
 * LF is answered 421 and the connection is closed, not refused with 501
 * and carried on: after a bare LF the client and we may disagree on where
 * its lines end, and every byte it sends after that could be a command it
 * meant as text (the framing confusion behind SMTP smuggling).  A broken
 * client gets a temporary error it can report; an attacker gets nothing
 * parsed.  The message data (after DATA) goes through dotstuff_decode(),
 * which ends the data only at CRLF "." CRLF.
 */
#include "smtp_session.h"

#include "dotstuff.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MODE(m)		(1u << (m))
#define ALL_MODES	(MODE(SMTP_MODE_SMTP) | MODE(SMTP_MODE_LMTP) | MODE(SMTP_MODE_SUBMISSION))
#define NOT_LMTP	(MODE(SMTP_MODE_SMTP) | MODE(SMTP_MODE_SUBMISSION))
#define ST(x)		(1u << SMTP_ST_##x)
#define ANY_STATE	(ST(GREETING) | ST(READY) | ST(MAIL) | ST(RCPT) | ST(BDAT))
#define IN_TXN		(ST(MAIL) | ST(RCPT) | ST(BDAT))

void
smtp_config_default(struct smtp_config *c, enum smtp_mode mode, const char *hostname)
{
	memset(c, 0, sizeof(*c));
	c->mode = mode;
	smtp_limits_default(&c->lim);
	snprintf(c->hostname, sizeof(c->hostname), "%s", hostname);
	c->offer = SMTP_OFFER_SMTPUTF8 | SMTP_OFFER_DSN;
	if (mode == SMTP_MODE_SUBMISSION)
		c->offer |= SMTP_OFFER_AUTH;
	snprintf(c->auth_mechs, sizeof(c->auth_mechs), "PLAIN LOGIN");
	c->auth_needs_tls = 1;
}

void
smtp_session_init(struct smtp_session *s, const struct smtp_config *c, int tls)
{
	memset(s, 0, sizeof(*s));
	s->cfg = *c;
	s->state = SMTP_ST_GREETING;
	s->tls = tls;
}

void
smtp_session_greeting(const struct smtp_session *s, struct smtp_reply *r)
{
	char text[SMTP_HOSTNAME_MAX + 32];

	snprintf(text, sizeof(text), "%s %s Postern", s->cfg.hostname,
	    s->cfg.mode == SMTP_MODE_LMTP ? "LMTP" : "ESMTP");
	smtp_reply_set(r, 220, NULL, text);
}

size_t
smtp_session_line_max(const struct smtp_session *s)
{
	return s->cfg.lim.max_line_ext;
}

size_t
smtp_line_end(const uint8_t *buf, size_t len, size_t max)
{
	const uint8_t *nl = memchr(buf, '\n', len < max ? len : max);

	if (nl != NULL)
		return (size_t)(nl - buf) + 1;
	return len >= max ? max : 0;
}

static void
step_init(struct smtp_session *s, struct smtp_step *st)
{
	memset(st, 0, sizeof(*st));
	st->action = SMTP_ACT_REPLY;
	st->nreplies = 1;
	st->cmd = &s->cmd;
}

static void
reply(struct smtp_step *st, unsigned code, const char *esc, const char *text)
{
	smtp_reply_set(&st->reply, code, esc, text);
}

static void
txn_reset(struct smtp_session *s)
{
	memset(&s->mail_from, 0, sizeof(s->mail_from));
	memset(&s->mail_params, 0, sizeof(s->mail_params));
	s->nrcpt = 0;
	s->bdat_total = 0;
	s->bdat_failed = 0;
	if (s->state != SMTP_ST_GREETING && s->state != SMTP_ST_CLOSED)
		s->state = SMTP_ST_READY;
}

/* An error reply that counts toward max_errors: not the recipient limit
 * (RFC 5321 4.5.3.1.10 expects clients to retry those later). */
static int
counts_as_error(const struct smtp_step *st)
{
	const struct smtp_reply *r = &st->reply;

	return r->code >= 400 && st->action != SMTP_ACT_CLOSE &&
	    !(r->code == 452 && strcmp(r->esc, "4.5.3") == 0);
}

/* Every step ends here: error and junk limits, flushing, closing. */
static int
finish(struct smtp_session *s, struct smtp_step *st)
{
	const struct smtp_limits *l = &s->cfg.lim;

	if (counts_as_error(st))
		s->errors++;
	if (st->action != SMTP_ACT_CLOSE && s->errors > l->max_errors) {
		reply(st, 421, "4.7.0", "Too many errors, closing connection");
		st->action = SMTP_ACT_CLOSE;
	} else if (st->action != SMTP_ACT_CLOSE && s->junk > l->max_junk) {
		reply(st, 421, "4.7.0", "Too many commands without a message, closing connection");
		st->action = SMTP_ACT_CLOSE;
	}
	switch (st->action) {
	case SMTP_ACT_CLOSE:
		s->state = SMTP_ST_CLOSED;
		s->wait = SMTP_WAIT_NONE;
		/* FALLTHROUGH */
	case SMTP_ACT_DATA:
	case SMTP_ACT_STARTTLS:
	case SMTP_ACT_DELIVER:
		st->flush = 1;
		break;
	default:
		break;
	}
	return 0;
}

static void
close_with(struct smtp_step *st, const char *esc, const char *text)
{
	reply(st, 421, esc, text);
	st->action = SMTP_ACT_CLOSE;
}

/* ---- capabilities ---- */

static int
auth_usable(const struct smtp_session *s)
{
	return (s->cfg.offer & SMTP_OFFER_AUTH) && !s->authed &&
	    (s->tls || !s->cfg.auth_needs_tls);
}

void
smtp_session_caps(const struct smtp_session *s, struct smtp_reply *r)
{
	char line[SMTP_MECHS_MAX + 32];
	unsigned o = s->cfg.offer;

	smtp_reply_set(r, 250, NULL, s->cfg.hostname);
	smtp_reply_add_line(r, "PIPELINING");
	snprintf(line, sizeof(line), "SIZE %llu", (unsigned long long)s->cfg.lim.max_size);
	smtp_reply_add_line(r, line);
	smtp_reply_add_line(r, "8BITMIME");
	smtp_reply_add_line(r, "ENHANCEDSTATUSCODES");
	smtp_reply_add_line(r, "CHUNKING");
	if (o & SMTP_OFFER_BINARYMIME)
		smtp_reply_add_line(r, "BINARYMIME");
	if (o & SMTP_OFFER_SMTPUTF8)
		smtp_reply_add_line(r, "SMTPUTF8");
	if (o & SMTP_OFFER_DSN)
		smtp_reply_add_line(r, "DSN");
	if ((o & SMTP_OFFER_STARTTLS) && !s->tls)
		smtp_reply_add_line(r, "STARTTLS");
	if (auth_usable(s)) {
		snprintf(line, sizeof(line), "AUTH %s", s->cfg.auth_mechs);
		smtp_reply_add_line(r, line);
	}
}

/* ---- commands ---- */

static void
do_hello(struct smtp_session *s, struct smtp_step *st)
{
	/* RFC 5321 4.1.4: EHLO again is an RSET; more than once is junk */
	if (s->helo[0] != '\0')
		s->junk++;
	txn_reset(s);
	snprintf(s->helo, sizeof(s->helo), "%s", s->cmd.domain);
	s->state = SMTP_ST_READY;
	s->esmtp = s->cmd.verb != SMTP_V_HELO;
	if (s->esmtp)
		smtp_session_caps(s, &st->reply);
	else
		reply(st, 250, NULL, s->cfg.hostname);
}

/* Parameters the session did not offer (RFC 1869 6: 555). */
static int
params_offered(const struct smtp_session *s, const struct smtp_params *p)
{
	unsigned o = s->cfg.offer, dsn = SMTP_P_RET | SMTP_P_ENVID | SMTP_P_NOTIFY | SMTP_P_ORCPT;

	if (p->seen != 0 && !s->esmtp)
		return 0;	/* parameters are ESMTP: not after HELO */
	if ((p->seen & SMTP_P_SMTPUTF8) && !(o & SMTP_OFFER_SMTPUTF8))
		return 0;
	if ((p->seen & dsn) && !(o & SMTP_OFFER_DSN))
		return 0;
	if ((p->seen & SMTP_P_AUTH) && !(o & SMTP_OFFER_AUTH))
		return 0;
	return !((p->seen & SMTP_P_BODY) && p->body == SMTP_BODY_BINARYMIME &&
	    !(o & SMTP_OFFER_BINARYMIME));
}

static void
do_mail(struct smtp_session *s, struct smtp_step *st)
{
	const struct smtp_params *p = &s->cmd.params;

	if (s->cfg.mode == SMTP_MODE_SUBMISSION && !s->authed)
		reply(st, 530, "5.7.0", "Authentication required");
	else if (!params_offered(s, p))
		reply(st, 555, "5.5.4", "Unsupported parameter");
	else if ((p->seen & SMTP_P_SIZE) && p->size > s->cfg.lim.max_size)
		reply(st, 552, "5.3.4", "Message size exceeds fixed maximum message size");
	else {
		s->mail_from = s->cmd.path;
		s->mail_params = *p;
		s->nrcpt = 0;
		s->state = SMTP_ST_MAIL;
		reply(st, 250, "2.1.0", "Sender OK");
	}
}

static void
do_rcpt(struct smtp_session *s, struct smtp_step *st)
{
	if (s->nrcpt >= s->cfg.lim.max_rcpt) {
		/* RFC 5321 4.5.3.1.10: 452, the client sends the rest later */
		reply(st, 452, "4.5.3", "Too many recipients");
	} else if (!params_offered(s, &s->cmd.params)) {
		reply(st, 555, "5.5.4", "Unsupported parameter");
	} else {
		st->action = SMTP_ACT_RCPT;
		s->wait = SMTP_WAIT_RCPT;
	}
}

int
smtp_session_rcpt_done(struct smtp_session *s, enum smtp_rcpt_verdict v, struct smtp_step *st)
{
	if (s->wait != SMTP_WAIT_RCPT)
		return -1;
	step_init(s, st);
	s->wait = SMTP_WAIT_NONE;
	switch (v) {
	case SMTP_RCPT_OK:
		s->nrcpt++;
		s->state = SMTP_ST_RCPT;
		reply(st, 250, "2.1.5", "Recipient OK");
		break;
	case SMTP_RCPT_UNKNOWN:
		reply(st, 550, "5.1.1", "No such user here");
		break;
	case SMTP_RCPT_DISABLED:
		reply(st, 550, "5.2.1", "Mailbox disabled");
		break;
	case SMTP_RCPT_RELAY:
		/* RFC 5321 3.6.2: 550, the client must not retry */
		reply(st, 550, "5.7.1", "Relaying denied");
		break;
	case SMTP_RCPT_INVALID:
		reply(st, 501, "5.1.3", "Bad recipient address syntax");
		break;
	default:
		reply(st, 451, "4.3.0", "Temporary failure, try again later");
		break;
	}
	return finish(s, st);
}

/* No recipient was accepted: RFC 2033 4.2 wants 503 in LMTP, RFC 5321
 * 3.3 allows 554 "no valid recipients" in SMTP. */
static void
no_recipients(struct smtp_session *s, struct smtp_step *st)
{
	if (s->cfg.mode == SMTP_MODE_LMTP)
		reply(st, 503, "5.5.1", "No valid recipients");
	else
		reply(st, 554, "5.5.1", "No valid recipients");
}

static void
do_data(struct smtp_session *s, struct smtp_step *st)
{
	if (s->state == SMTP_ST_BDAT) {
		reply(st, 503, "5.5.1", "DATA after BDAT");
	} else if (s->nrcpt == 0) {
		no_recipients(s, st);
	} else if (s->mail_params.body == SMTP_BODY_BINARYMIME) {
		reply(st, 503, "5.5.1", "BINARYMIME needs BDAT");	/* RFC 3030 3 */
	} else {
		s->state = SMTP_ST_DATA;
		s->wait = SMTP_WAIT_DATA;
		st->action = SMTP_ACT_DATA;
		reply(st, 354, NULL, "End data with <CR><LF>.<CR><LF>");
	}
}

/* The message is complete and accepted: one reply, or one per recipient. */
static void
deliver(struct smtp_session *s, struct smtp_step *st)
{
	st->action = SMTP_ACT_DELIVER;
	st->nreplies = s->cfg.mode == SMTP_MODE_LMTP ? s->nrcpt : 1;
	reply(st, 250, "2.0.0", "Message accepted");
	s->junk = 0;
	txn_reset(s);
}

/* Why a message read to its end is refused (dotstuff_dec.flags). */
static void
data_refusal(struct smtp_step *st, unsigned flags)
{
	if (flags & DOTSTUFF_F_TOO_BIG)
		reply(st, 552, "5.3.4", "Message size exceeds fixed maximum message size");
	else if (flags & DOTSTUFF_F_BARE_EOL)
		reply(st, 554, "5.6.0", "Bare CR or LF in message (RFC 5321 2.3.8)");
	else if (flags & DOTSTUFF_F_LINE_LONG)
		reply(st, 554, "5.6.0", "Line over 1000 octets in message");
	else
		reply(st, 554, "5.6.0", "NUL in message (RFC 5321 2.3.8)");
}

int
smtp_session_data_end(struct smtp_session *s, unsigned flags, struct smtp_step *st)
{
	if (s->wait != SMTP_WAIT_DATA)
		return -1;
	step_init(s, st);
	s->wait = SMTP_WAIT_NONE;
	if (flags != 0) {
		data_refusal(st, flags);
		st->nreplies = s->cfg.mode == SMTP_MODE_LMTP ? s->nrcpt : 1;
		txn_reset(s);
	} else {
		deliver(s, st);
	}
	s->state = SMTP_ST_READY;
	st->flush = 1;
	return finish(s, st);
}

/* Why this BDAT is refused, or NULL.  Its chunk is read and dropped
 * either way: a client may pipeline it behind the command (RFC 3030 2). */
static int
bdat_refusal(struct smtp_session *s, struct smtp_step *st)
{
	uint64_t n = s->cmd.bdat_size;

	if (s->state == SMTP_ST_GREETING || s->state == SMTP_ST_READY)
		reply(st, 503, "5.5.1", "Need MAIL before BDAT");
	else if (s->nrcpt == 0)
		no_recipients(s, st);
	else if (s->bdat_failed)
		reply(st, 503, "5.5.1", "Transaction failed, send RSET");
	else if (n > s->cfg.lim.max_size - s->bdat_total)
		reply(st, 552, "5.3.4", "Message size exceeds fixed maximum message size");
	else
		return 0;
	return 1;
}

static void
do_bdat(struct smtp_session *s, struct smtp_step *st)
{
	st->chunk = s->cmd.bdat_size;
	if (bdat_refusal(s, st)) {
		st->action = SMTP_ACT_BDAT_DISCARD;
		if (s->nrcpt > 0 && s->cmd.bdat_last) {
			if (s->cfg.mode == SMTP_MODE_LMTP)
				st->nreplies = s->nrcpt;
			txn_reset(s);
		} else if (s->nrcpt > 0) {
			s->bdat_failed = 1;
		}
		return;
	}
	s->bdat_total += st->chunk;
	s->state = SMTP_ST_BDAT;
	s->wait = SMTP_WAIT_BDAT;
	st->action = SMTP_ACT_BDAT;
}

int
smtp_session_bdat_end(struct smtp_session *s, struct smtp_step *st)
{
	char text[64];

	if (s->wait != SMTP_WAIT_BDAT)
		return -1;
	step_init(s, st);
	s->wait = SMTP_WAIT_NONE;
	if (s->cmd.bdat_last) {
		deliver(s, st);
	} else {
		snprintf(text, sizeof(text), "%llu octets received",
		    (unsigned long long)s->cmd.bdat_size);
		reply(st, 250, "2.0.0", text);
	}
	return finish(s, st);
}

static void
do_rset(struct smtp_session *s, struct smtp_step *st)
{
	txn_reset(s);
	reply(st, 250, "2.0.0", "OK");
}

static void
do_quit(struct smtp_session *s, struct smtp_step *st)
{
	(void)s;
	reply(st, 221, "2.0.0", "Bye");
	st->action = SMTP_ACT_CLOSE;
}

static void
do_starttls(struct smtp_session *s, struct smtp_step *st)
{
	if (!(s->cfg.offer & SMTP_OFFER_STARTTLS)) {
		reply(st, 502, "5.5.1", "STARTTLS not offered");
	} else if (s->tls) {
		reply(st, 503, "5.5.1", "TLS already active");
	} else {
		reply(st, 220, "2.0.0", "Ready to start TLS");
		st->action = SMTP_ACT_STARTTLS;
		s->wait = SMTP_WAIT_TLS;
	}
}

int
smtp_session_tls_started(struct smtp_session *s)
{
	if (s->wait != SMTP_WAIT_TLS)
		return -1;
	s->wait = SMTP_WAIT_NONE;
	s->tls = 1;
	s->authed = 0;
	s->esmtp = 0;
	s->helo[0] = '\0';
	s->state = SMTP_ST_GREETING;
	txn_reset(s);
	return 0;
}

int
smtp_session_tls_failed(struct smtp_session *s)
{
	if (s->wait != SMTP_WAIT_TLS)
		return -1;
	s->wait = SMTP_WAIT_NONE;
	return 0;
}

/* Is mech one of the words of cfg.auth_mechs? */
static int
mech_offered(const struct smtp_session *s, const char *mech)
{
	const char *p = s->cfg.auth_mechs;
	size_t n = strlen(mech);

	while (*p != '\0') {
		size_t w = strcspn(p, " ");
		if (w == n && strncasecmp(p, mech, n) == 0)
			return 1;
		p += w;
		p += strspn(p, " ");
	}
	return 0;
}

static void
do_auth(struct smtp_session *s, struct smtp_step *st)
{
	if (!(s->cfg.offer & SMTP_OFFER_AUTH))
		reply(st, 502, "5.5.1", "AUTH not offered");
	else if (s->authed)
		reply(st, 503, "5.5.1", "Already authenticated");	/* RFC 4954 4 */
	else if (s->cfg.auth_needs_tls && !s->tls)
		reply(st, 538, "5.7.11", "Encryption required for requested authentication mechanism");
	else if (!mech_offered(s, s->cmd.mech))
		reply(st, 504, "5.5.4", "Unrecognized authentication type");
	else {
		st->action = SMTP_ACT_AUTH;
		s->wait = SMTP_WAIT_AUTH;
	}
}

int
smtp_session_auth_done(struct smtp_session *s, enum smtp_auth_result r, struct smtp_step *st)
{
	static const struct { unsigned code; const char *esc, *text; } out[] = {
		[SMTP_AUTH_OK] = { 235, "2.7.0", "Authentication successful" },
		[SMTP_AUTH_FAILED] = { 535, "5.7.8", "Authentication credentials invalid" },
		[SMTP_AUTH_ABORTED] = { 501, "5.0.0", "Authentication aborted" },
		[SMTP_AUTH_SYNTAX] = { 501, "5.5.2", "Cannot decode response" },
		[SMTP_AUTH_TEMP] = { 454, "4.7.0", "Temporary authentication failure" },
	};

	if (s->wait != SMTP_WAIT_AUTH || (unsigned)r > SMTP_AUTH_TEMP)
		return -1;
	step_init(s, st);
	s->wait = SMTP_WAIT_NONE;
	s->authed = r == SMTP_AUTH_OK;
	reply(st, out[r].code, out[r].esc, out[r].text);
	st->flush = 1;
	return finish(s, st);
}

/* ---- dispatch ---- */

struct rule {
	enum smtp_verb verb;
	unsigned modes;		/* where the verb exists (else 500) */
	unsigned states;	/* where it is allowed (else 503) */
	int junk;		/* counts toward max_junk */
	const char *seq;	/* the 503 text */
	void (*run)(struct smtp_session *s, struct smtp_step *st);
	/* without run: a fixed reply */
	unsigned code;
	const char *esc, *text;
};

#define NOT_IMPLEMENTED	.code = 502, .esc = "5.5.1", .text = "Command not implemented"

static const struct rule rules[] = {
	{ .verb = SMTP_V_EHLO, .modes = NOT_LMTP, .states = ANY_STATE, .run = do_hello },
	{ .verb = SMTP_V_HELO, .modes = NOT_LMTP, .states = ANY_STATE, .run = do_hello },
	{ .verb = SMTP_V_LHLO, .modes = MODE(SMTP_MODE_LMTP), .states = ANY_STATE,
	  .run = do_hello },
	{ .verb = SMTP_V_MAIL, .modes = ALL_MODES, .states = ST(READY),
	  .seq = "Sender already given", .run = do_mail },
	{ .verb = SMTP_V_RCPT, .modes = ALL_MODES, .states = ST(MAIL) | ST(RCPT),
	  .seq = "Need MAIL before RCPT", .run = do_rcpt },
	{ .verb = SMTP_V_DATA, .modes = ALL_MODES, .states = IN_TXN,
	  .seq = "Need MAIL before DATA", .run = do_data },
	/* BDAT decides itself: its chunk must be read in every state */
	{ .verb = SMTP_V_BDAT, .modes = ALL_MODES, .states = ANY_STATE, .run = do_bdat },
	{ .verb = SMTP_V_RSET, .modes = ALL_MODES, .states = ANY_STATE, .junk = 1,
	  .run = do_rset },
	{ .verb = SMTP_V_NOOP, .modes = ALL_MODES, .states = ANY_STATE, .junk = 1,
	  .code = 250, .esc = "2.0.0", .text = "OK" },
	{ .verb = SMTP_V_QUIT, .modes = ALL_MODES, .states = ANY_STATE, .run = do_quit },
	/* RFC 5321 3.5.3: 252, no address harvesting */
	{ .verb = SMTP_V_VRFY, .modes = ALL_MODES, .states = ANY_STATE, .junk = 1,
	  .code = 252, .esc = "2.0.0",
	  .text = "Cannot VRFY user, but will accept message and attempt delivery" },
	{ .verb = SMTP_V_EXPN, .modes = ALL_MODES, .states = ANY_STATE, .junk = 1,
	  NOT_IMPLEMENTED },
	{ .verb = SMTP_V_HELP, .modes = ALL_MODES, .states = ANY_STATE, .junk = 1,
	  .code = 214, .esc = "2.0.0", .text = "See RFC 5321" },
	{ .verb = SMTP_V_STARTTLS, .modes = ALL_MODES, .states = ST(GREETING) | ST(READY),
	  .seq = "Not inside a transaction", .run = do_starttls },
	{ .verb = SMTP_V_AUTH, .modes = ALL_MODES, .states = ST(READY),
	  .seq = "Not inside a transaction", .run = do_auth },
	{ .verb = SMTP_V_NOTIMPL, .modes = ALL_MODES, .states = ANY_STATE, NOT_IMPLEMENTED },
};

static const struct rule *
rule_find(enum smtp_verb v)
{
	size_t i;

	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (rules[i].verb == v)
			return &rules[i];
	return NULL;
}

static void
dispatch(struct smtp_session *s, struct smtp_step *st)
{
	const struct rule *r = rule_find(s->cmd.verb);

	if (r == NULL || !(r->modes & MODE(s->cfg.mode))) {
		reply(st, 500, "5.5.1", "Command unrecognized");
	} else if (!(r->states & (1u << s->state))) {
		if (s->state == SMTP_ST_GREETING)
			reply(st, 503, "5.5.1", s->cfg.mode == SMTP_MODE_LMTP ?
			    "Send LHLO first" : "Send EHLO or HELO first");
		else
			reply(st, 503, "5.5.1", r->seq);
	} else if (r->run != NULL) {
		r->run(s, st);
	} else {
		reply(st, r->code, r->esc, r->text);
	}
	if (r != NULL && r->junk)
		s->junk++;
	st->flush = smtp_verb_ends_group(s->cmd.verb);
}

/* A piece of a line longer than smtp_session_line_max(): refused once,
 * the rest of it dropped.  A BDAT line cannot be that long, but if it
 * were, its chunk would be read as commands: close instead. */
static void
too_long(struct smtp_session *s, const uint8_t *line, size_t len, struct smtp_step *st)
{
	if (s->skipping) {
		st->action = SMTP_ACT_NONE;
		return;
	}
	s->skipping = 1;
	if (len >= 5 && strncasecmp((const char *)line, "BDAT ", 5) == 0)
		close_with(st, "4.5.2", "BDAT line too long, closing connection");
	else
		reply(st, 500, "5.5.2", "Line too long");
}

int
smtp_session_input(struct smtp_session *s, const uint8_t *line, size_t len,
    struct smtp_step *st)
{
	unsigned pflags = (s->mail_params.seen & SMTP_P_SMTPUTF8) ? SMTP_PARSE_UTF8 : 0;

	if (s->wait != SMTP_WAIT_NONE || s->state == SMTP_ST_DATA ||
	    s->state == SMTP_ST_CLOSED || len == 0)
		return -1;
	step_init(s, st);
	if (line[len - 1] != '\n') {
		too_long(s, line, len, st);
	} else if (s->skipping) {
		s->skipping = 0;	/* the end of the refused line */
		st->action = SMTP_ACT_NONE;
	} else if (len < 2 || line[len - 2] != '\r') {
		close_with(st, "4.5.2", "Bare LF received, closing connection");
	} else if (smtp_parse(line, len - 2, &s->cfg.lim, pflags, &s->cmd, &st->reply) < 0) {
		/* a BDAT we cannot read the size of leaves its chunk unread */
		if (s->cmd.verb == SMTP_V_BDAT)
			close_with(st, "4.5.4", "Bad BDAT command, closing connection");
	} else {
		dispatch(s, st);
	}
	return finish(s, st);
}
