/* lmtpd.c - what LMTP does differently on the kit's SMTP-family session:
 * a reply per recipient (RFC 2033 4.2). */
#include "../../common/base/log.h"
#include "lmtpd.h"

/* Each recipient's reply as soon as it is known, in RCPT order. */
static void
deliver(struct wk_smtp *p, const struct smtp_step *st)
{
	static struct smtp_reply r;
	unsigned i, ok = 0;

	if (st->nreplies != p->w.nrcpt)
		fatal("reason=\"recipients out of step\" machine=%u worker=%u", st->nreplies,
		    p->w.nrcpt);
	for (i = 0; i < p->w.nrcpt; i++) {
		r = st->reply;
		if (wk_intake_deliver_one(&p->w, i, &r) == 0)
			ok++;
		wk_smtp_reply(p, &r, 1);
		wk_smtp_flush(p);
	}
	if (ok == p->w.nrcpt)
		p->messages++;
}

static const struct wk_smtp_ops lmtp_ops = {
	.deliver = deliver,
};

void
lmtp_run(struct wk_smtp *p, struct wk_boot *b, const char *hostname)
{
	const struct config *cfg = b->cfg;
	struct wk_smtp_limits lim = {
		.max_line = cfg->lmtp_max_line,
		.max_recipients = cfg->lmtp_max_recipients,
		.max_message_size = cfg->lmtp_max_message_size,
		.max_bad_commands = cfg->lmtp_max_bad_commands,
		.idle_timeout_s = cfg->lmtp_idle_timeout,
	};
	struct smtp_config sc;

	smtp_config_default(&sc, SMTP_MODE_LMTP, hostname);
	/* DSN is the LMTP client's business (it got the RCPT replies); we
	 * would keep the parameters and do nothing with them */
	sc.offer &= ~SMTP_OFFER_DSN;
	/* a recipient in a domain not hosted is simply unknown: the MTA
	 * decided to hand it to us */
	wk_smtp_run(p, b, &lmtp_ops, &sc, &lim, 0);
}
