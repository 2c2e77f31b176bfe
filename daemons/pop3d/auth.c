/* auth.c - POP3 USER/PASS (RFC 1939 section 7) and AUTH (RFC 5034): the
 * glue between the command table and the kit's authd relay (wk_auth).
 *
 * The worker never decides: it relays the client's bytes to authd and
 * reports authd's answer with RFC 2449/3206 response codes.  After authd
 * says yes, the master hands over the channel to this user's stored. */
#include <string.h>

#include "../../common/base/log.h"
#include "../../common/ipc/authdproto.h"
#include "../../common/ipc/proto.h"
#include "../../common/proto/sasl.h"
#include "../../common/base/util.h"
#include "pop3d.h"

/* POP3_TLS_REQUIRED: no credentials in the clear (RFC 2595 section 2.2). */
static int
plaintext_refused(struct pop3 *p)
{
	if (p->plaintext_ok)
		return 0;
	client_puts(&p->c, "-ERR [AUTH] Plaintext authentication disallowed on a non-TLS "
	    "connection; use STLS\r\n");
	return 1;
}

void
pop3_cmd_user(struct pop3 *p, const struct pop3_cmd *cmd)
{
	if (plaintext_refused(p))
		return;
	if (cmd->nargs != 1) {
		client_puts(&p->c, "-ERR Syntax: USER name\r\n");
		return;
	}
	if (cmd->arglen[0] > SASL_FIELD_MAX || !util_utf8_valid(cmd->arg[0], cmd->arglen[0])) {
		p->have_user = 0;
		client_puts(&p->c, "-ERR [AUTH] Invalid user name (not UTF-8, or too long)\r\n");
		return;
	}
	memcpy(p->user, cmd->arg[0], cmd->arglen[0]);
	p->userlen = cmd->arglen[0];
	p->have_user = 1;
	/* Same answer for every name: USER must not reveal who exists. */
	client_puts(&p->c, "+OK\r\n");
}

void
pop3_cmd_pass(struct pop3 *p, const struct pop3_cmd *cmd)
{
	if (plaintext_refused(p))
		return;
	if (!p->have_user) {
		client_puts(&p->c, "-ERR USER first\r\n");
		return;
	}
	p->have_user = 0;
	if (cmd->nargs != 1 || cmd->arglen[0] > SASL_PASS_MAX) {
		client_puts(&p->c, "-ERR Syntax: PASS password\r\n");
		return;
	}
	wk_auth_userpass(&p->auth, p->user, p->userlen, cmd->arg[0], cmd->arglen[0]);
}

void
pop3_cmd_auth(struct pop3 *p, const struct pop3_cmd *cmd)
{
	if (plaintext_refused(p))
		return;
	if (cmd->nargs == 0) {
		/* RFC 1734 listing, still expected by some clients */
		char mechs[256];
		client_puts(&p->c, "+OK\r\n");
		if (sasl_mechs_format(p->cfg->auth_mechanisms, "", "\r\n", mechs, sizeof(mechs)) > 0)
			client_puts(&p->c, mechs);
		client_puts(&p->c, ".\r\n");
		return;
	}
	if (cmd->arglen[0] > 31) {
		client_puts(&p->c, "-ERR Unknown SASL mechanism\r\n");
		return;
	}
	if (cmd->nargs == 2 && cmd->arglen[1] > SASL_LINE_MAX) {
		client_puts(&p->c, "-ERR Initial response too long\r\n");
		return;
	}
	wk_auth_start(&p->auth, cmd->arg[0], cmd->arglen[0], cmd->nargs == 2,
	    cmd->nargs == 2 ? cmd->arg[1] : NULL, cmd->nargs == 2 ? cmd->arglen[1] : 0);
}

void
pop3_sasl_line(struct pop3 *p, enum pop3_parse_result r, const struct pop3_cmd *cmd)
{
	/* over-long or NUL: abort the exchange for authd too (RFC 5034 section 4) */
	if (r != POP3_PARSE_OK)
		wk_auth_respond(&p->auth, (const uint8_t *)"*", 1);
	else
		wk_auth_respond(&p->auth, cmd->arg[0], cmd->arglen[0]);
}

/* RFC 5034 section 4: a continuation is "+ " and the base64 challenge. */
static void
sasl_challenge(void *ctx, const char *text)
{
	struct pop3 *p = ctx;

	client_printf(&p->c, "+ %s\r\n", text);
	wk_session_kick(&p->s);
}

static const char *
fail_reply(uint32_t code)
{
	switch (code) {
	case AUTH_FAIL_THROTTLED:
		return "-ERR [SYS/TEMP] too many failures, try later\r\n";
	case AUTH_FAIL_TEMP:
		return "-ERR [SYS/TEMP] Temporary authentication failure, try later\r\n";
	case AUTH_FAIL_SYNTAX:
		return "-ERR Malformed SASL data\r\n";
	case AUTH_FAIL_MECH:
		return "-ERR Unknown SASL mechanism\r\n";
	case AUTH_FAIL_ABORTED:
		return "-ERR Authentication aborted\r\n";
	default:
		return "-ERR [AUTH] Authentication failed\r\n";
	}
}

/* authd's verdict (and the master's hand-over of stored after a yes). */
static void
auth_done(void *ctx, enum wk_auth_result r, uint32_t code, int store_fd)
{
	struct pop3 *p = ctx;

	switch (r) {
	case WK_AUTH_OK:
		p->store_fd = store_fd;
		wk_session_logged_in(&p->s);
		wk_client_drop_keyd(&p->c);	/* RFC 2595: no STLS after login */
		if (pop3_enter_transaction(p) < 0)
			p->s.closing = 1;
		break;
	case WK_AUTH_REFUSED:
		/* Fixed texts: a disabled account must read exactly like a wrong
		 * password, or the reply would confirm the password. */
		client_puts(&p->c, fail_reply(code));
		break;
	case WK_AUTH_UNAVAILABLE:
		client_puts(&p->c, "-ERR [SYS/TEMP] Authentication service unavailable\r\n");
		p->s.closing = 1;
		break;
	case WK_AUTH_NO_STORE:
		client_puts(&p->c, "-ERR [SYS/TEMP] Mail storage unavailable, try later\r\n");
		p->s.closing = 1;
		break;
	}
	wk_session_kick(&p->s);
}

const struct wk_auth_ops pop3_auth_ops = {
	.challenge = sasl_challenge,
	.done = auth_done,
};
