/* test_smtp_session.c - the SMTP/LMTP/submission state machine, driven the
 * way a worker drives it, with dialogues written as data.
 *
 * drive() plays the worker: it cuts lines with smtp_line_end(), answers
 * RCPT lookups (local parts "unknown...", "temp..." and "invalid..." fail), reads DATA
 * through dotstuff_decode(), reads BDAT chunks, accepts AUTH PLAIN with an
 * initial response "dGVzdAB0ZXN0AHRlc3Q=" only, and drops what is buffered
 * after STARTTLS.  It writes a transcript of the replies: "code" or
 * "code/esc", repeated as often as the machine says, "|" where replies are
 * flushed, "X" where the connection is closed.  Every dialogue is also run
 * with the client's bytes arriving one at a time (and, where STARTTLS does
 * not make the buffering matter, in other chunk sizes). */
#include <stdio.h>
#include <string.h>

#include "../../common/proto/dotstuff.h"
#include "../../common/proto/smtp_session.h"
#include "tap.h"

static char transcript[16384];
static unsigned n_deliver, n_discarded;
static char msg[8192];
static size_t msglen;

static void
add(const char *s)
{
	size_t t = strlen(transcript), n = strlen(s);

	if (t + n + 2 < sizeof(transcript)) {
		if (t > 0)
			transcript[t++] = ' ';
		memcpy(transcript + t, s, n + 1);
	}
}

static void
record(const struct smtp_step *st)
{
	char one[32];
	unsigned i;

	if (st->action == SMTP_ACT_NONE || st->reply.code == 0)
		return;
	if (st->reply.esc[0])
		snprintf(one, sizeof(one), "%u/%s", st->reply.code, st->reply.esc);
	else
		snprintf(one, sizeof(one), "%u", st->reply.code);
	for (i = 0; i < st->nreplies; i++)
		add(one);
	if (st->action == SMTP_ACT_CLOSE)
		add("X");
	else if (st->flush)
		add("|");
}

struct drv {
	struct smtp_session s;
	int mode;		/* 0 commands, 1 DATA, 2 BDAT chunk */
	struct dotstuff_dec dec;
	uint64_t chunk_left;
	int discard;		/* the BDAT chunk is dropped */
	struct smtp_step pending;	/* BDAT_DISCARD: the reply after the chunk */
};

static void
drv_init(struct drv *d, enum smtp_mode mode, unsigned offer, int tls)
{
	struct smtp_config c;
	struct smtp_reply r;

	memset(d, 0, sizeof(*d));
	smtp_config_default(&c, mode, "mx.example.org");
	c.offer |= offer;
	smtp_session_init(&d->s, &c, tls);
	smtp_session_greeting(&d->s, &r);
	transcript[0] = '\0';
	n_deliver = n_discarded = 0;
	msglen = 0;
	add(r.code == 220 && r.esc[0] == '\0' ? "220" : "BAD-GREETING");
}

/* The worker's part of an action; returns 1 when the rest of the buffer
 * must be dropped (STARTTLS). */
static int
act(struct drv *d, struct smtp_step *st)
{
	struct smtp_step next;

	switch (st->action) {
	case SMTP_ACT_RCPT: {
		const char *a = st->cmd->path.addr;
		enum smtp_rcpt_verdict v = !strncmp(a, "unknown", 7) ? SMTP_RCPT_UNKNOWN :
		    !strncmp(a, "temp", 4) ? SMTP_RCPT_TEMP :
		    !strncmp(a, "invalid", 7) ? SMTP_RCPT_INVALID :
		    !strncmp(a, "relay", 5) ? SMTP_RCPT_RELAY : SMTP_RCPT_OK;
		if (smtp_session_rcpt_done(&d->s, v, &next) < 0)
			add("RCPT-DONE-FAILED");
		record(&next);
		return 0;
	}
	case SMTP_ACT_AUTH: {
		int good = st->cmd->ir && st->cmd->irlen == 20 &&
		    !memcmp(st->cmd->ir, "dGVzdAB0ZXN0AHRlc3Q=", 20);
		smtp_session_auth_done(&d->s, good ? SMTP_AUTH_OK : SMTP_AUTH_FAILED, &next);
		record(&next);
		return 0;
	}
	case SMTP_ACT_DATA:
		record(st);
		dotstuff_dec_init(&d->dec, 1000, d->s.cfg.lim.max_size, DOTSTUFF_BARE_REFUSE);
		d->mode = 1;
		return 0;
	case SMTP_ACT_BDAT:
	case SMTP_ACT_BDAT_DISCARD:
		d->chunk_left = st->chunk;
		d->discard = st->action == SMTP_ACT_BDAT_DISCARD;
		d->pending = *st;
		d->mode = 2;
		return 0;
	case SMTP_ACT_DELIVER:
		n_deliver++;
		record(st);
		return 0;
	case SMTP_ACT_STARTTLS:
		record(st);
		return 1;
	default:
		record(st);
		return 0;
	}
}

/* The end of a BDAT chunk. */
static void
chunk_done(struct drv *d)
{
	struct smtp_step st;

	d->mode = 0;
	if (d->discard) {
		record(&d->pending);
		return;
	}
	smtp_session_bdat_end(&d->s, &st);
	act(d, &st);
}

/* Consume what can be consumed of in[*off..avail); 0 when more is needed. */
static int
step(struct drv *d, const uint8_t *in, size_t *off, size_t avail)
{
	struct smtp_step st;
	uint8_t out[8192 + 2];
	size_t n, c, p;

	if (d->mode == 1) {
		if (dotstuff_decode(&d->dec, in + *off, avail - *off, out, &c, &p) == DOTSTUFF_DONE) {
			d->mode = 0;
			smtp_session_data_end(&d->s, d->dec.flags, &st);
			act(d, &st);
		}
		if (msglen + p <= sizeof(msg)) {
			memcpy(msg + msglen, out, p);
			msglen += p;
		}
		*off += c;
		return c > 0;
	}
	if (d->mode == 2) {
		n = avail - *off < d->chunk_left ? avail - *off : (size_t)d->chunk_left;
		*off += n;
		d->chunk_left -= n;
		if (d->chunk_left == 0)
			chunk_done(d);
		return n > 0 || d->mode == 0;
	}
	n = smtp_line_end(in + *off, avail - *off, smtp_session_line_max(&d->s));
	if (n == 0 || d->s.state == SMTP_ST_CLOSED)
		return 0;
	if (smtp_session_input(&d->s, in + *off, n, &st) < 0) {
		add("INPUT-REFUSED");
		return 0;
	}
	*off += n;
	if (act(d, &st)) {
		n_discarded += (unsigned)(avail - *off);
		*off = avail;
		smtp_session_tls_started(&d->s);
	}
	return 1;
}

/* Feed in[0..len) in chunks of chunk bytes. */
static void
drive(struct drv *d, const char *in, size_t len, size_t chunk)
{
	size_t off = 0, avail = 0;

	for (;;) {
		if (step(d, (const uint8_t *)in, &off, avail))
			continue;
		if (avail == len || d->s.state == SMTP_ST_CLOSED)
			break;
		avail = len - avail < chunk ? len : avail + chunk;
	}
}

struct opts {
	enum smtp_mode mode;
	unsigned offer;
	int tls;
	unsigned max_rcpt;
	uint64_t max_size;
};

static const char *
run(const struct opts *o, const char *in, size_t len, size_t chunk)
{
	static struct drv d;

	drv_init(&d, o->mode, o->offer, o->tls);
	if (o->max_rcpt)
		d.s.cfg.lim.max_rcpt = o->max_rcpt;
	if (o->max_size)
		d.s.cfg.lim.max_size = o->max_size;
	drive(&d, in, len, chunk);
	return transcript;
}

static void
dialogue(const struct opts *o, const char *in, const char *expect, const char *name)
{
	size_t len = strlen(in), c;
	char label[160];
	int ok = 1;

	snprintf(label, sizeof(label), "%s (whole)", name);
	CHECK(!strcmp(run(o, in, len, len), expect), label);
	if (strcmp(transcript, expect))
		printf("#   got  \"%s\"\n#   want \"%s\"\n", transcript, expect);
	for (c = 1; c <= 7; c++)
		if (strcmp(run(o, in, len, c), expect) != 0) {
			printf("#   chunk %zu: got \"%s\"\n", c, transcript);
			ok = 0;
		}
	snprintf(label, sizeof(label), "%s (byte at a time, small chunks)", name);
	CHECK(ok, label);
}

static const struct opts SMTP = { SMTP_MODE_SMTP, 0, 0, 0, 0 };
static const struct opts LMTP = { SMTP_MODE_LMTP, 0, 0, 0, 0 };
static const struct opts SUBM = { SMTP_MODE_SUBMISSION, SMTP_OFFER_STARTTLS, 0, 0, 0 };
static const struct opts SUBM_TLS = { SMTP_MODE_SUBMISSION, 0, 1, 0, 0 };

#define EHLO "EHLO client.example\r\n"
#define MAIL "MAIL FROM:<a@b.example>\r\n"
#define RCPT "RCPT TO:<u@d.example>\r\n"
#define DATA "DATA\r\nSubject: t\r\n\r\nhi\r\n.\r\n"

static void
test_basic(void)
{
	dialogue(&SMTP, EHLO MAIL RCPT DATA "QUIT\r\n",
	    "220 250 | 250/2.1.0 250/2.1.5 354 | 250/2.0.0 | 221/2.0.0 X", "one message");
	dialogue(&SMTP, "HELO old.example\r\n" MAIL RCPT DATA,
	    "220 250 | 250/2.1.0 250/2.1.5 354 | 250/2.0.0 |", "HELO");
	dialogue(&SMTP, "HELO old.example\r\nMAIL FROM:<a@b.example> SIZE=10\r\n",
	    "220 250 | 555/5.5.4", "ESMTP parameter after HELO");
	dialogue(&SMTP, MAIL "RCPT TO:<u@d>\r\nDATA\r\n",
	    "220 503/5.5.1 503/5.5.1 503/5.5.1 |", "nothing before EHLO");
	dialogue(&SMTP, EHLO "RCPT TO:<u@d>\r\nDATA\r\n",
	    "220 250 | 503/5.5.1 503/5.5.1 |", "RCPT and DATA without MAIL");
	dialogue(&SMTP, EHLO MAIL MAIL, "220 250 | 250/2.1.0 503/5.5.1", "nested MAIL");
	dialogue(&SMTP, EHLO MAIL "DATA\r\n", "220 250 | 250/2.1.0 554/5.5.1 |", "DATA without RCPT");
	dialogue(&SMTP, EHLO MAIL "RSET\r\n" RCPT, "220 250 | 250/2.1.0 250/2.0.0 503/5.5.1",
	    "RSET ends the transaction");
	dialogue(&SMTP, EHLO MAIL RCPT EHLO RCPT, "220 250 | 250/2.1.0 250/2.1.5 250 | 503/5.5.1",
	    "EHLO again resets the transaction");
	dialogue(&SMTP, "RSET\r\nNOOP\r\nHELP\r\nVRFY x\r\nEXPN y\r\nTURN\r\nXYZZY\r\n",
	    "220 250/2.0.0 250/2.0.0 | 214/2.0.0 252/2.0.0 | 502/5.5.1 | 502/5.5.1 | 500/5.5.1",
	    "commands allowed before EHLO");
	dialogue(&SMTP, "LHLO x.example\r\n", "220 500/5.5.1 |", "LHLO is not SMTP");
	dialogue(&SMTP, EHLO "MAIL FROM:<a@b.example> SIZE=26214400\r\nRSET\r\n"
	    "MAIL FROM:<a@b.example> SIZE=26214401\r\n",
	    "220 250 | 250/2.1.0 250/2.0.0 552/5.3.4", "SIZE at and over max_size");
	dialogue(&SMTP, EHLO "MAIL FROM:<a@b.example> BODY=BINARYMIME\r\n",
	    "220 250 | 555/5.5.4", "BINARYMIME not offered");
	dialogue(&SMTP, EHLO "MAIL FROM:<a@b.example> AUTH=<>\r\n",
	    "220 250 | 555/5.5.4", "AUTH= without AUTH offered");
	dialogue(&SMTP, EHLO "MAIL FROM:<a@b.example> RET=HDRS ENVID=x\r\n"
	    "RCPT TO:<u@d.example> NOTIFY=NEVER ORCPT=rfc822;u@d.example\r\n",
	    "220 250 | 250/2.1.0 250/2.1.5", "DSN parameters");
	dialogue(&SMTP, EHLO MAIL "RCPT TO:<unknown@d.example>\r\nRCPT TO:<temp@d.example>\r\n"
	    "RCPT TO:<invalid@d.example>\r\nRCPT TO:<relay@elsewhere.example>\r\n" RCPT DATA,
	    "220 250 | 250/2.1.0 550/5.1.1 451/4.3.0 501/5.1.3 550/5.7.1 250/2.1.5 354 | 250/2.0.0 |",
	    "recipient verdicts");
	dialogue(&SMTP, EHLO "MAIL FROM:<\xc3\xa9@b.example> SMTPUTF8\r\n"
	    "RCPT TO:<\xc3\xbc@d.example>\r\nRSET\r\n" MAIL "RCPT TO:<\xc3\xbc@d.example>\r\n",
	    "220 250 | 250/2.1.0 250/2.1.5 250/2.0.0 250/2.1.0 553/5.6.7",
	    "UTF-8 recipient only in an SMTPUTF8 transaction");
}

static void
test_data_smuggling(void)
{
	struct drv d;
	static const char smuggle_lf[] = EHLO MAIL RCPT
	    "DATA\r\nSubject: x\r\n\r\nhi\n.\r\nMAIL FROM:<evil@x.example>\r\n"
	    "RCPT TO:<victim@d.example>\r\nDATA\r\nforged\r\n.\r\nQUIT\r\n";
	static const char smuggle_cr[] = EHLO MAIL RCPT
	    "DATA\r\nSubject: x\r\n\r\nhi\r.\r\nMAIL FROM:<evil@x.example>\r\n.\r\nQUIT\r\n";
	static const char smuggle_lflf[] = EHLO MAIL RCPT
	    "DATA\r\nhi\n.\nMAIL FROM:<evil@x.example>\r\n.\r\nQUIT\r\n";

	/* "\n.\r\n" is not the end: the rest is message text up to the real
	 * CRLF.CRLF, and the bare LF refuses the whole message */
	drv_init(&d, SMTP_MODE_SMTP, 0, 0);
	drive(&d, smuggle_lf, sizeof(smuggle_lf) - 1, sizeof(smuggle_lf));
	CHECK(!strcmp(transcript, "220 250 | 250/2.1.0 250/2.1.5 354 | 554/5.6.0 | 221/2.0.0 X"),
	    "smuggling \\n.\\r\\n does not end DATA");
	CHECK(n_deliver == 0 && strstr(msg, "MAIL FROM:<evil") && strstr(msg, "forged"),
	    "smuggled commands stay inside the refused message");
	drv_init(&d, SMTP_MODE_SMTP, 0, 0);
	drive(&d, smuggle_cr, sizeof(smuggle_cr) - 1, 1);
	CHECK(!strcmp(transcript, "220 250 | 250/2.1.0 250/2.1.5 354 | 554/5.6.0 | 221/2.0.0 X"),
	    "smuggling \\r.\\r\\n does not end DATA (byte at a time)");
	CHECK(n_deliver == 0 && strstr(msg, "MAIL FROM:<evil"), "\\r.\\r\\n: text stays text");
	drv_init(&d, SMTP_MODE_SMTP, 0, 0);
	drive(&d, smuggle_lflf, sizeof(smuggle_lflf) - 1, 3);
	CHECK(!strcmp(transcript, "220 250 | 250/2.1.0 250/2.1.5 354 | 554/5.6.0 | 221/2.0.0 X"),
	    "smuggling \\n.\\n does not end DATA");
	dialogue(&SMTP, EHLO MAIL RCPT "DATA\r\nhi\r\n..dot\r\n.\r\n",
	    "220 250 | 250/2.1.0 250/2.1.5 354 | 250/2.0.0 |", "CRLF.CRLF ends DATA");
	dialogue(&SMTP, EHLO "NOOP\n" MAIL, "220 250 | 421/4.5.2 X", "bare LF command line closes");
	dialogue(&SMTP, EHLO "NOOP\r\r\n", "220 250 | 501/5.5.2", "bare CR before CRLF refused");
}

static void
test_limits(void)
{
	char in[12000];
	size_t o = 0;
	unsigned i;
	struct opts o100 = SMTP;
	const char *t, *p;
	unsigned n;

	o += (size_t)snprintf(in + o, sizeof(in) - o, EHLO MAIL);
	for (i = 0; i < 101; i++)
		o += (size_t)snprintf(in + o, sizeof(in) - o, "RCPT TO:<u%u@d.example>\r\n", i);
	snprintf(in + o, sizeof(in) - o, "DATA\r\nx\r\n.\r\n");
	t = run(&o100, in, strlen(in), strlen(in));
	CHECK(strstr(t, "250/2.1.5 452/4.5.3 354") != NULL, "recipient 101 gets 452 4.5.3");
	for (p = t, n = 0; (p = strstr(p, "250/2.1.5")) != NULL; p++)
		n++;
	CHECK(n == 100, "exactly 100 recipients accepted");
	o100.max_rcpt = 2;
	dialogue(&o100, EHLO MAIL RCPT RCPT RCPT "RCPT TO:<x@d.example>\r\n" DATA,
	    "220 250 | 250/2.1.0 250/2.1.5 250/2.1.5 452/4.5.3 452/4.5.3 354 | 250/2.0.0 |",
	    "452 after the limit does not count as an error");
	dialogue(&SMTP, "A\r\nB\r\nC\r\nD\r\nE\r\nF\r\nG\r\nH\r\nI\r\nJ\r\nK\r\nL\r\n",
	    "220 500/5.5.1 500/5.5.1 500/5.5.1 500/5.5.1 500/5.5.1 500/5.5.1 500/5.5.1 "
	    "500/5.5.1 500/5.5.1 500/5.5.1 421/4.7.0 X", "the 11th error closes");
	o = 0;
	for (i = 0; i < 31; i++)
		o += (size_t)snprintf(in + o, sizeof(in) - o, "NOOP\r\n");
	t = run(&SMTP, in, o, o);
	CHECK(strstr(t, "250/2.0.0 | 421/4.7.0 X") && !strstr(t, "421/4.7.0 X 250"),
	    "NOOP flood: the 31st closes");
	memset(in, 'a', 5000);
	memcpy(in, "NOOP ", 5);
	memcpy(in + 5000, "\r\nNOOP\r\n", 9);
	dialogue(&SMTP, in, "220 500/5.5.2 250/2.0.0 |", "line over 4096 refused once, next one read");
	memcpy(in, "BDAT ", 5);
	dialogue(&SMTP, in, "220 421/4.5.2 X", "over-long BDAT line closes");
	memcpy(in + 600, "\r\nNOOP\r\n", 9);
	memcpy(in, "NOOP ", 5);
	dialogue(&SMTP, in, "220 500/5.5.2 250/2.0.0 |", "NOOP over 512 refused");
}

static void
test_pipelining(void)
{
	static const struct opts small = { SMTP_MODE_SMTP, 0, 0, 0, 10 };

	/* RFC 2920 3.1: EHLO, DATA, VRFY, EXPN, TURN, QUIT, NOOP end a group */
	dialogue(&SMTP, EHLO "MAIL FROM:<a@b.example>\r\nRCPT TO:<u@d.example>\r\n"
	    "RCPT TO:<v@d.example>\r\nDATA\r\nx\r\n.\r\nRSET\r\nMAIL FROM:<>\r\nNOOP\r\n"
	    "VRFY x\r\nEXPN x\r\nTURN\r\nQUIT\r\n",
	    "220 250 | 250/2.1.0 250/2.1.5 250/2.1.5 354 | 250/2.0.0 | 250/2.0.0 250/2.1.0 "
	    "250/2.0.0 | 252/2.0.0 | 502/5.5.1 | 502/5.5.1 | 221/2.0.0 X",
	    "group boundaries");
	dialogue(&SMTP, EHLO "BDAT 3\r\nabcQUIT\r\n", "220 250 | 503/5.5.1 221/2.0.0 X",
	    "refused BDAT: its chunk is still read and dropped");
	dialogue(&SMTP, EHLO MAIL RCPT "BDAT 5\r\nhello" "BDAT 0 LAST\r\n" "NOOP\r\n",
	    "220 250 | 250/2.1.0 250/2.1.5 250/2.0.0 250/2.0.0 | 250/2.0.0 |", "BDAT chunks then LAST");
	dialogue(&SMTP, EHLO MAIL RCPT "BDAT 0 LAST\r\n",
	    "220 250 | 250/2.1.0 250/2.1.5 250/2.0.0 |", "BDAT 0 LAST");
	dialogue(&SMTP, EHLO MAIL RCPT "BDAT 2\r\nhiDATA\r\n",
	    "220 250 | 250/2.1.0 250/2.1.5 250/2.0.0 503/5.5.1 |", "DATA after BDAT refused");
	dialogue(&SMTP, EHLO MAIL RCPT DATA "BDAT 2 LAST\r\nhi",
	    "220 250 | 250/2.1.0 250/2.1.5 354 | 250/2.0.0 | 503/5.5.1",
	    "BDAT after DATA is a new transaction: needs MAIL");
	dialogue(&SMTP, EHLO MAIL RCPT "BDAT x\r\n", "220 250 | 250/2.1.0 250/2.1.5 421/4.5.4 X",
	    "unreadable BDAT size closes");
	dialogue(&small, EHLO MAIL RCPT "BDAT 11\r\n01234567890BDAT 1 LAST\r\nxRSET\r\n",
	    "220 250 | 250/2.1.0 250/2.1.5 552/5.3.4 503/5.5.1 250/2.0.0",
	    "BDAT over max_size: dropped, the transaction failed");
	dialogue(&small, EHLO MAIL RCPT "BDAT 10\r\n0123456789BDAT 1 LAST\r\nx",
	    "220 250 | 250/2.1.0 250/2.1.5 250/2.0.0 552/5.3.4", "BDAT total over max_size");
	dialogue(&SMTP, EHLO "MAIL FROM:<a@b.example> BODY=BINARYMIME\r\n", "220 250 | 555/5.5.4",
	    "BINARYMIME needs the offer");
}

static void
test_lmtp(void)
{
	dialogue(&LMTP, "LHLO mx.example\r\n" MAIL RCPT "RCPT TO:<unknown@d.example>\r\n"
	    "RCPT TO:<v@d.example>\r\nRCPT TO:<w@d.example>\r\n" DATA,
	    "220 250 | 250/2.1.0 250/2.1.5 550/5.1.1 250/2.1.5 250/2.1.5 354 | "
	    "250/2.0.0 250/2.0.0 250/2.0.0 |", "one reply per accepted recipient after DATA");
	CHECK(n_deliver == 1, "LMTP: one delivery");
	dialogue(&LMTP, "LHLO mx.example\r\n" MAIL RCPT RCPT "DATA\r\na\nb\r\n.\r\n",
	    "220 250 | 250/2.1.0 250/2.1.5 250/2.1.5 354 | 554/5.6.0 554/5.6.0 |",
	    "LMTP refusal repeated per recipient");
	dialogue(&LMTP, "LHLO mx.example\r\n" MAIL RCPT RCPT "BDAT 1 LAST\r\nx",
	    "220 250 | 250/2.1.0 250/2.1.5 250/2.1.5 250/2.0.0 250/2.0.0 |",
	    "LMTP BDAT LAST: one reply per recipient");
	dialogue(&LMTP, "LHLO mx.example\r\n" MAIL "DATA\r\n",
	    "220 250 | 250/2.1.0 503/5.5.1 |", "LMTP DATA without recipients: 503");
	dialogue(&LMTP, "EHLO mx.example\r\nHELO mx.example\r\n" MAIL,
	    "220 500/5.5.1 | 500/5.5.1 | 503/5.5.1", "EHLO and HELO are not LMTP");
}

static void
test_submission_tls(void)
{
	struct drv d;
	static const char inject[] = "EHLO c.example\r\nSTARTTLS\r\nMAIL FROM:<evil@x.example>\r\n";
	static const char after[] = "MAIL FROM:<a@b.example>\r\nEHLO c.example\r\n";

	dialogue(&SUBM_TLS, EHLO MAIL "AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=\r\n" MAIL RCPT DATA,
	    "220 250 | 530/5.7.0 235/2.7.0 | 250/2.1.0 250/2.1.5 354 | 250/2.0.0 |",
	    "submission: AUTH before MAIL");
	dialogue(&SUBM_TLS, EHLO "AUTH PLAIN d3Jvbmc=\r\nAUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=\r\n"
	    "AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=\r\n",
	    "220 250 | 535/5.7.8 | 235/2.7.0 | 503/5.5.1 |", "failed AUTH, then once only");
	dialogue(&SUBM_TLS, EHLO "AUTH CRAM-MD5\r\n", "220 250 | 504/5.5.4 |", "mechanism not offered");
	dialogue(&SUBM_TLS, EHLO "AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=\r\n" MAIL "AUTH PLAIN =\r\n",
	    "220 250 | 235/2.7.0 | 250/2.1.0 503/5.5.1 |", "AUTH inside a transaction");
	dialogue(&SUBM, EHLO "AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=\r\n", "220 250 | 538/5.7.11 |",
	    "AUTH needs TLS");
	dialogue(&SMTP, EHLO "AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=\r\nSTARTTLS\r\n",
	    "220 250 | 502/5.5.1 | 502/5.5.1 |", "AUTH and STARTTLS not offered on port 25 by default");
	dialogue(&SUBM_TLS, EHLO "STARTTLS\r\n", "220 250 | 502/5.5.1 |", "STARTTLS not offered under TLS");

	drv_init(&d, SMTP_MODE_SUBMISSION, SMTP_OFFER_STARTTLS, 0);
	drive(&d, inject, sizeof(inject) - 1, sizeof(inject));
	CHECK(!strcmp(transcript, "220 250 | 220/2.0.0 |") && n_discarded == 28,
	    "STARTTLS: pipelined plaintext after it is dropped");
	CHECK(d.s.tls && d.s.state == SMTP_ST_GREETING && d.s.helo[0] == '\0',
	    "STARTTLS resets the session");
	drive(&d, after, sizeof(after) - 1, 1);
	CHECK(!strcmp(transcript, "220 250 | 220/2.0.0 | 503/5.5.1 250 |"), "EHLO needed again after TLS");
	CHECK(strstr(d.s.cfg.auth_mechs, "PLAIN") != NULL, "AUTH mechanisms kept");
	drive(&d, "STARTTLS\r\n", 10, 10);
	CHECK(!strcmp(transcript, "220 250 | 220/2.0.0 | 503/5.5.1 250 | 503/5.5.1 |"),
	    "STARTTLS refused under TLS");
	drv_init(&d, SMTP_MODE_SMTP, SMTP_OFFER_STARTTLS, 0);
	drive(&d, EHLO MAIL "STARTTLS\r\n", strlen(EHLO MAIL "STARTTLS\r\n"), 1000);
	CHECK(!strcmp(transcript, "220 250 | 250/2.1.0 503/5.5.1 |"), "STARTTLS inside a transaction");
	CHECK(smtp_session_tls_started(&d.s) == -1, "tls_started out of turn refused");
}

/* The decoder the worker uses after DATA, on its own: a smuggled end is
 * text, and only CRLF "." CRLF ends the data (CVE-2023-51764). */
static int
ends_data(const char *in, enum dotstuff_bare bare, size_t *used_r)
{
	struct dotstuff_dec dec;
	uint8_t out[256];
	size_t c, p;
	int r;

	dotstuff_dec_init(&dec, 1000, 1 << 20, bare);
	r = dotstuff_decode(&dec, (const uint8_t *)in, strlen(in), out, &c, &p) == DOTSTUFF_DONE;
	*used_r = c;
	return r;
}

static void
test_dotstuff_ends(void)
{
	size_t used;
	int b;

	for (b = 0; b < 2; b++) {
		enum dotstuff_bare bare = b ? DOTSTUFF_BARE_NORMALIZE : DOTSTUFF_BARE_REFUSE;
		const char *tag = b ? " (normalise)" : " (refuse)";
		char name[96];

		snprintf(name, sizeof(name), "\\n.\\r\\n does not end DATA%s", tag);
		CHECK(!ends_data("hi\n.\r\n", bare, &used) && used == 6, name);
		snprintf(name, sizeof(name), "\\r.\\r\\n does not end DATA%s", tag);
		CHECK(!ends_data("hi\r.\r\n", bare, &used) && used == 6, name);
		snprintf(name, sizeof(name), "\\n.\\n does not end DATA%s", tag);
		CHECK(!ends_data("hi\n.\n", bare, &used), name);
		snprintf(name, sizeof(name), "\\r\\n.\\n does not end DATA%s", tag);
		CHECK(!ends_data("hi\r\n.\nx", bare, &used), name);
		snprintf(name, sizeof(name), "\\r\\n.\\r\\r\\n does not end DATA%s", tag);
		CHECK(!ends_data("hi\r\n.\r\r\nx", bare, &used), name);
		snprintf(name, sizeof(name), "\\r\\n.\\r\\n ends DATA%s", tag);
		CHECK(ends_data("hi\r\n.\r\nMAIL", bare, &used) && used == 7, name);
	}
}

static void
test_contract(void)
{
	struct smtp_config c;
	struct smtp_session s;
	struct smtp_step st;

	smtp_config_default(&c, SMTP_MODE_SMTP, "mx.example.org");
	smtp_session_init(&s, &c, 0);
	CHECK(smtp_session_rcpt_done(&s, SMTP_RCPT_OK, &st) == -1 &&
	    smtp_session_data_end(&s, 0, &st) == -1 && smtp_session_bdat_end(&s, &st) == -1 &&
	    smtp_session_auth_done(&s, SMTP_AUTH_OK, &st) == -1, "callbacks out of turn refused");
	smtp_session_input(&s, (const uint8_t *)EHLO, strlen(EHLO), &st);
	smtp_session_input(&s, (const uint8_t *)MAIL, strlen(MAIL), &st);
	CHECK(smtp_session_input(&s, (const uint8_t *)RCPT, strlen(RCPT), &st) == 0 &&
	    st.action == SMTP_ACT_RCPT && st.reply.code == 0 && s.wait == SMTP_WAIT_RCPT,
	    "RCPT waits for the worker's lookup");
	CHECK(smtp_session_input(&s, (const uint8_t *)"NOOP\r\n", 6, &st) == -1,
	    "no input while a lookup is pending");
	CHECK(smtp_session_rcpt_done(&s, SMTP_RCPT_OK, &st) == 0 && s.nrcpt == 1, "lookup answered");
	smtp_session_input(&s, (const uint8_t *)"DATA\r\n", 6, &st);
	CHECK(st.action == SMTP_ACT_DATA && smtp_session_input(&s, (const uint8_t *)"x\r\n", 3,
	    &st) == -1, "no command input during DATA");
	CHECK(smtp_session_data_end(&s, DOTSTUFF_F_BARE_EOL, &st) == 0 && st.reply.code == 554 &&
	    s.state == SMTP_ST_READY && s.nrcpt == 0, "refused data ends the transaction");
	CHECK(smtp_session_tls_failed(&s) == -1, "a TLS failure without STARTTLS refused");
	c.offer |= SMTP_OFFER_STARTTLS;
	s.cfg = c;
	smtp_session_input(&s, (const uint8_t *)"STARTTLS\r\n", 10, &st);
	CHECK(st.action == SMTP_ACT_STARTTLS && smtp_session_tls_failed(&s) == 0 && !s.tls &&
	    s.state == SMTP_ST_READY && smtp_session_input(&s, (const uint8_t *)"NOOP\r\n", 6,
	    &st) == 0 && st.reply.code == 250, "STARTTLS that could not start: plaintext goes on");
	smtp_session_input(&s, (const uint8_t *)"QUIT\r\n", 6, &st);
	CHECK(st.action == SMTP_ACT_CLOSE && smtp_session_input(&s, (const uint8_t *)"NOOP\r\n", 6,
	    &st) == -1, "nothing after close");
	CHECK(smtp_line_end((const uint8_t *)"ab\ncd", 5, 10) == 3 &&
	    smtp_line_end((const uint8_t *)"abcd", 4, 10) == 0 &&
	    smtp_line_end((const uint8_t *)"abcd", 4, 3) == 3 &&
	    smtp_line_end((const uint8_t *)"abc\n", 4, 3) == 3, "smtp_line_end");
}

static void
test_caps_and_format(void)
{
	struct smtp_config c;
	struct smtp_session s;
	struct smtp_reply r;
	char out[2048];
	long n;

	smtp_config_default(&c, SMTP_MODE_SUBMISSION, "mx.example.org");
	c.offer |= SMTP_OFFER_STARTTLS;
	smtp_session_init(&s, &c, 0);
	smtp_session_caps(&s, &r);
	n = smtp_reply_format(&r, out, sizeof(out));
	CHECK(n > 0 && !strcmp(out, "250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 26214400\r\n"
	    "250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250-CHUNKING\r\n250-SMTPUTF8\r\n250-DSN\r\n"
	    "250 STARTTLS\r\n"), "EHLO before TLS: STARTTLS, no AUTH");
	if (n > 0 && strcmp(out, "") != 0)
		printf("# %s", out);
	smtp_session_init(&s, &c, 1);
	smtp_session_caps(&s, &r);
	n = smtp_reply_format(&r, out, sizeof(out));
	CHECK(n > 0 && strstr(out, "250 AUTH PLAIN LOGIN\r\n") && !strstr(out, "STARTTLS"),
	    "EHLO under TLS: AUTH, no STARTTLS");
	smtp_reply_set(&r, 550, "5.1.1", "No such user");
	CHECK(smtp_reply_format(&r, out, sizeof(out)) == 24 && !strcmp(out, "550 5.1.1 No such user\r\n"),
	    "one-line reply with enhanced code");
	smtp_reply_add_line(&r, "second");
	CHECK(smtp_reply_format(&r, out, sizeof(out)) > 0 &&
	    !strcmp(out, "550-5.1.1 No such user\r\n550 5.1.1 second\r\n"), "multi-line: code on each line");
	CHECK(smtp_reply_format(&r, out, 10) == -1, "format: small buffer refused");
	CHECK(smtp_reply_add_line(&r, "a\r\nb") == -1, "no CR/LF inside a line");
	smtp_session_greeting(&s, &r);
	CHECK(r.code == 220 && !strcmp(r.text, "mx.example.org ESMTP Postern"), "greeting");
}

static void
test_reply_parse(void)
{
	struct smtp_reply_parser p;
	struct smtp_reply r;

	smtp_reply_parser_init(&p);
	CHECK(smtp_reply_parse(&p, (const uint8_t *)"250-mx.example", 14, &r) == SMTP_REPLY_MORE &&
	    smtp_reply_parse(&p, (const uint8_t *)"250-SIZE 100", 12, &r) == SMTP_REPLY_MORE &&
	    smtp_reply_parse(&p, (const uint8_t *)"250 PIPELINING", 14, &r) == SMTP_REPLY_DONE &&
	    r.code == 250 && !strcmp(r.text, "mx.example\nSIZE 100\nPIPELINING") && r.esc[0] == '\0',
	    "multi-line EHLO reply parsed");
	CHECK(smtp_reply_parse(&p, (const uint8_t *)"550-5.1.1 no", 12, &r) == SMTP_REPLY_MORE &&
	    smtp_reply_parse(&p, (const uint8_t *)"550 5.1.1 user", 14, &r) == SMTP_REPLY_DONE &&
	    !strcmp(r.esc, "5.1.1") && !strcmp(r.text, "no\nuser"), "enhanced code kept");
	CHECK(smtp_reply_parse(&p, (const uint8_t *)"250-a", 5, &r) == SMTP_REPLY_MORE &&
	    smtp_reply_parse(&p, (const uint8_t *)"251 b", 5, &r) == SMTP_REPLY_ERR,
	    "code changing inside a reply refused");
	CHECK(smtp_reply_parse(&p, (const uint8_t *)"250 4.0.0 odd", 13, &r) == SMTP_REPLY_DONE &&
	    r.esc[0] == '\0' && !strcmp(r.text, "4.0.0 odd"), "enhanced code of another class ignored");
	CHECK(smtp_reply_parse(&p, (const uint8_t *)"220", 3, &r) == SMTP_REPLY_DONE && r.code == 220,
	    "bare code");
	CHECK(smtp_reply_parse(&p, (const uint8_t *)"99 x", 4, &r) == SMTP_REPLY_ERR &&
	    smtp_reply_parse(&p, (const uint8_t *)"250x", 4, &r) == SMTP_REPLY_ERR &&
	    smtp_reply_parse(&p, (const uint8_t *)"650 x", 5, &r) == SMTP_REPLY_ERR, "malformed codes");
	CHECK(smtp_reply_parse(&p, (const uint8_t *)"421 a\x01z", 7, &r) == SMTP_REPLY_DONE &&
	    !strcmp(r.text, "a?z"), "control bytes masked");
	CHECK(smtp_esc_valid("5.7.11", 6, '5') && !smtp_esc_valid("5.7.1111", 8, '5') &&
	    !smtp_esc_valid("5..1", 4, '5'), "smtp_esc_valid");
}

int
main(void)
{
	test_basic();
	test_data_smuggling();
	test_dotstuff_ends();
	test_contract();
	test_limits();
	test_pipelining();
	test_lmtp();
	test_submission_tls();
	test_caps_and_format();
	test_reply_parse();
	return tap_done();
}
