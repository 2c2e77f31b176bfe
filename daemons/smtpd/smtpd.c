/* smtpd.c - what SMTP does differently on the kit's SMTP-family session:
 * STARTTLS, the Received header, one reply per transaction. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "../../common/base/ev.h"
#include "../../common/base/log.h"
#include "../../common/ipc/masterproto.h"
#include "../../common/ipc/proto.h"
#include "../../common/ipc/resolvproto.h"
#include "../../common/ipc/scratch.h"
#include "smtpd.h"

/* The session's DNSBL check (docs/SMTP.md#dnsbl-checks): asked of the
 * master when the session starts, so that the lookups run during the
 * greeting, EHLO and MAIL; its verdict is read before the first RCPT's
 * lookup (nothing else is asked on the control channel before that). */
enum dnsbl_state { DNSBL_OFF, DNSBL_ASKED, DNSBL_KNOWN };
static enum dnsbl_state dnsbl_state;
static uint64_t dnsbl_deadline_ms;
static struct dnsbl_verdict dnsbl;
/* the master answers within dns_timeout_ms and a second; this is the
 * worker's own bound if it does not */
#define DNSBL_WAIT_GRACE_MS	2000

/* The envelope sender of the message being read, for its log line (the
 * machine forgets the transaction before it hands out DELIVER). */
static char mail_from[SMTP_MAILBOX_MAX + 1];

/* RFC 5321 4.4: "from" the client's EHLO/HELO name and its address literal,
 * "by" us, "with" SMTP, ESMTP or ESMTPS (RFC 3848), our session id; the
 * TLS parameters in a comment.  The EHLO name passed the parser's domain
 * grammar (no CR, LF or spaces), so it cannot break the header. */
static void
received(struct wk_smtp *p)
{
	const struct smtp_session *sm = &p->sm;
	char date[160], desc[80], tls[96] = "", hdr[SMTP_DOMAIN_MAX + SMTP_HOSTNAME_MAX + 512];
	const char *with = !sm->esmtp ? "SMTP" : sm->tls ? "ESMTPS" : "ESMTP";
	int n;

	snprintf(mail_from, sizeof(mail_from), "%s", sm->mail_from.addr);
	if (p->c.tls != NULL && tls_describe(p->c.tls, desc, sizeof(desc)) == 0)
		snprintf(tls, sizeof(tls), "\n\t(%s)", desc);
	wk_intake_date(date, sizeof(date));
	n = snprintf(hdr, sizeof(hdr), "Received: from %s ([%s%s])\n\tby %s with %s id %s%s;\n\t%s\n",
	    sm->helo, strchr(p->ip, ':') != NULL ? "IPv6:" : "", p->ip, sm->cfg.hostname, with,
	    p->sid, tls, date);
	if (n < 0 || (size_t)n >= sizeof(hdr))
		fatal("reason=\"Received header does not fit\"");
	wk_intake_msg_write(&p->w, (const uint8_t *)hdr, (size_t)n);
}

/* RFC 3207 4: the 220, then TLS; plaintext pipelined behind STARTTLS is
 * dropped by the kit, never executed (CVE-2011-0411). */
static void
starttls(struct wk_smtp *p, const struct smtp_step *st)
{
	if (wk_client_prepare_tls(&p->c, p->cfg) < 0) {
		if (smtp_session_tls_failed(&p->sm) < 0)
			fatal("reason=\"STARTTLS failure out of turn\"");
		wk_client_puts(&p->c, "454 4.7.0 TLS not available due to temporary reason\r\n");
		return;
	}
	wk_smtp_reply(p, &st->reply, 1);
	/* the answer must be out in plaintext before the first TLS record */
	if (wk_client_drain(&p->c) < 0) {
		p->s.closing = 1;
		return;
	}
	wk_client_attach_tls(&p->c);
	if (smtp_session_tls_started(&p->sm) < 0)
		fatal("reason=\"STARTTLS out of turn\"");
}

/* RFC 5321 4.2: one reply for the transaction.  250 only when every
 * accepted recipient's copy is durable; a recipient that failed after the
 * others were delivered cannot be told apart, so the whole message gets
 * 451 and the client retries it (the delivered ones get a duplicate,
 * docs/SMTP.md).  552 only when every recipient refused the size.  A
 * recipient whose copy looped (554 5.4.6: the message has its
 * Delivered-To) has had this message already: it counts as done beside
 * delivered ones (a retry could only loop again), and all looping is 554.
 * Every recipient over quota with quota_full_reply = temporary: 452 4.2.2. */
static void
deliver(struct wk_smtp *p, const struct smtp_step *st)
{
	struct smtp_reply r, out = st->reply;
	unsigned i, ok = 0, full = 0, tfull = 0, loops = 0, n = p->w.nrcpt;

	for (i = 0; i < n; i++) {
		r = st->reply;
		if (wk_intake_deliver_one(&p->w, i, &r) == 0)
			ok++;
		else if (r.code == 552)
			full++;
		else if (r.code == 452)
			tfull++;	/* over quota, quota_full_reply = temporary */
		else if (r.code == 554)
			loops++;
	}
	if (n > 0 && loops == n)
		smtp_reply_set(&out, 554, "5.4.6", "Mail loop: already delivered to these recipients");
	else if (ok < n && full == n && n > 0)
		smtp_reply_set(&out, 552, "5.2.2", "Mailbox full or message too big");
	else if (ok == 0 && tfull == n && n > 0)
		smtp_reply_set(&out, 452, "4.2.2", "Mailbox full (over quota), try again later");
	else if (ok + loops < n)
		smtp_reply_set(&out, 451, "4.3.0", "Temporary failure, try again later");
	else
		p->messages++;
	log_event(ok == n ? LOG_LEVEL_INFO : LOG_LEVEL_WARN, ok == n ? "message" : "message_failed",
	    "ip=%s from=<%s> recipients=%u delivered=%u size=%llu reply=%u%s%s", p->ip, mail_from,
	    n, ok, (unsigned long long)p->w.msg.len, out.code,
	    ok > 0 && ok + loops < n ? " duplicates_on_retry=yes" : "", loops > 0 ? " loops=yes" : "");
	wk_smtp_reply(p, &out, 1);
}

static void
dnsbl_ask(const struct config *cfg)
{
	if (cfg->smtp_dnsbl[strspn(cfg->smtp_dnsbl, " \t")] == '\0')
		return;
	masterproto_empty_put(&ipc_scratch_out, MSG_MASTER_DNSBL);
	dnsbl_state = DNSBL_ASKED;
	dnsbl_deadline_ms = ev_now_ms() + cfg->dns_timeout_ms + DNSBL_WAIT_GRACE_MS;
	if (ipc_send(FD_CONTROL, &ipc_scratch_out) < 0) {
		dnsbl_state = DNSBL_KNOWN;
		dnsbl.status = DNSBL_ERROR;
		snprintf(dnsbl.text, sizeof(dnsbl.text), "cannot ask the master (errno %d)", errno);
	}
}

/* The master's verdict, waited for until the deadline. */
static void
dnsbl_wait(void)
{
	static const uint16_t expect[] = { MSG_WORKER_DNSBL };
	struct pollfd pfd = { .fd = FD_CONTROL, .events = POLLIN };
	uint64_t now;
	int r = 0;

	memset(&dnsbl, 0, sizeof(dnsbl));
	dnsbl.status = DNSBL_ERROR;
	while ((now = ev_now_ms()) < dnsbl_deadline_ms &&
	    ((r = poll(&pfd, 1, (int)(dnsbl_deadline_ms - now))) < 0 && errno == EINTR))
		;
	if (r <= 0)
		snprintf(dnsbl.text, sizeof(dnsbl.text), "the master did not answer");
	else if (ipc_recv(FD_CONTROL, &ipc_scratch_in) != 1 || ipc_scratch_in.type != expect[0] ||
	    resolvproto_verdict_get(&ipc_scratch_in, &dnsbl) < 0)
		fatal("reason=\"malformed DNSBL verdict from the master\"");
	dnsbl_state = DNSBL_KNOWN;
}

/* RFC 5782 has the listing said in the reply: the zone, and its TXT;
 * RFC 3463 5.7.1 (delivery not authorized).  A check that failed refuses
 * only with smtp_dnsbl_fail = tempfail (451 4.7.1, the client retries). */
static int
rcpt_check(struct wk_smtp *p, struct smtp_reply *r)
{
	char t[SMTP_REPLY_TEXT_MAX];
	int tempfail = strcmp(p->cfg->smtp_dnsbl_fail, "tempfail") == 0;

	if (dnsbl_state == DNSBL_OFF)
		return 0;
	if (dnsbl_state == DNSBL_ASKED) {
		dnsbl_wait();
		/* printable ASCII (the decoder checked): a quote or backslash
		 * of the list's text must not end the log's quoted field */
		snprintf(t, sizeof(t), "%s", dnsbl.text);
		for (size_t i = 0; t[i] != '\0'; i++)
			if (t[i] == '"' || t[i] == '\\')
				t[i] = '\'';
		if (dnsbl.status == DNSBL_LISTED)
			log_event(LOG_LEVEL_INFO, "dnsbl_hit", "ip=%s zone=%s answer=%s text=\"%s\"",
			    p->ip, dnsbl.zone, dnsbl.addr, t);
		else if (dnsbl.status == DNSBL_ERROR)
			log_event(LOG_LEVEL_WARN, "dnsbl_error", "ip=%s zone=%s reason=\"%s\" then=%s",
			    p->ip, dnsbl.zone[0] != '\0' ? dnsbl.zone : "-", t,
			    tempfail ? "tempfail" : "accept");
	}
	if (dnsbl.status == DNSBL_LISTED) {
		snprintf(t, sizeof(t), "Service unavailable; client [%s] listed in %s (%s)%s%s", p->ip,
		    dnsbl.zone, dnsbl.addr, dnsbl.text[0] != '\0' ? ": " : "", dnsbl.text);
		smtp_reply_set(r, 554, "5.7.1", t);
		return 1;
	}
	if (dnsbl.status == DNSBL_ERROR && tempfail) {
		snprintf(t, sizeof(t), "Client [%s] could not be checked against %s, try again later",
		    p->ip, dnsbl.zone[0] != '\0' ? dnsbl.zone : "the DNS blocklists");
		smtp_reply_set(r, 451, "4.7.1", t);
		return 1;
	}
	return 0;
}

static const struct wk_smtp_ops smtp_ops = {
	.deliver = deliver,
	.msg_start = received,
	.starttls = starttls,
	.rcpt_check = rcpt_check,
};

void
smtpd_run(struct wk_smtp *p, struct wk_boot *b, const char *hostname)
{
	const struct config *cfg = b->cfg;
	struct wk_smtp_limits lim = {
		.max_line = cfg->smtp_max_line,
		.max_recipients = cfg->smtp_max_recipients,
		.max_message_size = cfg->smtp_max_message_size,
		.max_bad_commands = cfg->smtp_max_bad_commands,
		.idle_timeout_s = cfg->smtp_idle_timeout,
		.greet_pause_ms = cfg->smtp_greet_pause,
	};
	struct smtp_config sc;

	smtp_config_default(&sc, SMTP_MODE_SMTP, hostname);
	/* DSN would oblige us to report deliveries (RFC 3461), and there is
	 * no outbound queue to send the reports; AUTH is submission's */
	sc.offer &= ~(SMTP_OFFER_DSN | SMTP_OFFER_AUTH);
	sc.offer |= SMTP_OFFER_STARTTLS;
	dnsbl_ask(cfg);
	wk_smtp_run(p, b, &smtp_ops, &sc, &lim, 1);
}
