/* auth.c - IMAP LOGIN, AUTHENTICATE (RFC 9051 6.2.2, 6.2.3; SASL-IR, RFC
 * 4959) and STARTTLS (6.2.1): the glue between the command table and the
 * kit's authd relay (wk_auth).  The worker never decides a login: authd
 * does, and on a yes the master hands over this user's stored. */
#include <stdio.h>
#include <string.h>

#include "../../common/base/log.h"
#include "../../common/base/util.h"
#include "../../common/ipc/authdproto.h"
#include "../../common/ipc/proto.h"
#include "../../common/ipc/scratch.h"
#include "../../common/ipc/storeproto.h"
#include "../../common/proto/sasl.h"
#include "imapd.h"

/* IMAP_TLS_REQUIRED: no credentials in the clear (RFC 9051 6.2.3:
 * LOGINDISABLED is advertised then). */
static int
plaintext_refused(struct imap *p, const char *tag)
{
	if (p->plaintext_ok)
		return 0;
	imap_no(p, tag, "[PRIVACYREQUIRED] Plaintext login disallowed on a non-TLS connection; "
	    "use STARTTLS");
	return 1;
}

static int
is_string(const struct imap_arg *a)
{
	return a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_QUOTED ||
	    (a->type == IMAP_ARG_LITERAL && !(a->flags & (IMAP_ARGF_STREAMED | IMAP_ARGF_LITERAL8)));
}

void
imap_cmd_login(struct imap *p, const struct imap_cmd *cmd)
{
	const struct imap_arg *u = cmd->args, *pw = u != NULL ? u->next : NULL;

	if (cmd->nargs != 2 || !is_string(u) || !is_string(pw)) {
		imap_bad(p, cmd->tag, "Syntax: LOGIN user password");
		return;
	}
	if (plaintext_refused(p, cmd->tag))
		return;
	if (u->len > SASL_FIELD_MAX || pw->len > SASL_PASS_MAX ||
	    !util_utf8_valid(u->text, u->len)) {
		imap_no(p, cmd->tag, "[AUTHENTICATIONFAILED] Invalid user name or password");
		return;
	}
	snprintf(p->tag, sizeof(p->tag), "%s", cmd->tag);
	wk_auth_userpass(&p->auth, u->text, u->len, pw->text, pw->len);
	/* the password stays in the parser's tree until the next command:
	 * wipe the copy we can reach */
	explicit_bzero((void *)(uintptr_t)pw->text, pw->len);
}

void
imap_cmd_authenticate(struct imap *p, const struct imap_cmd *cmd)
{
	const struct imap_arg *m = cmd->args, *ir = m != NULL ? m->next : NULL;

	if (cmd->nargs < 1 || cmd->nargs > 2 || m->type != IMAP_ARG_ATOM ||
	    (ir != NULL && ir->type != IMAP_ARG_ATOM)) {
		imap_bad(p, cmd->tag, "Syntax: AUTHENTICATE mechanism [initial-response]");
		return;
	}
	if (plaintext_refused(p, cmd->tag))
		return;
	if (m->len > 31) {
		imap_no(p, cmd->tag, "Unknown SASL mechanism");
		return;
	}
	if (ir != NULL && ir->len > SASL_LINE_MAX) {
		imap_bad(p, cmd->tag, "Initial response too long");
		return;
	}
	snprintf(p->tag, sizeof(p->tag), "%s", cmd->tag);
	wk_auth_start(&p->auth, m->text, m->len, ir != NULL, ir != NULL ? ir->text : NULL,
	    ir != NULL ? ir->len : 0);
}

void
imap_sasl_line(struct imap *p, const uint8_t *line, size_t len)
{
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len > SASL_LINE_MAX)
		len = SASL_LINE_MAX + 1;	/* authd refuses it */
	wk_auth_respond(&p->auth, line, len);
}

/* RFC 9051 6.2.1: the answer goes out in plaintext, then TLS starts; what
 * the client pipelined behind the command is dropped by the kit. */
void
imap_cmd_starttls(struct imap *p, const struct imap_cmd *cmd)
{
	if (cmd->nargs != 0) {
		imap_bad(p, cmd->tag, "STARTTLS takes no arguments");
		return;
	}
	if (p->c.tls != NULL) {
		imap_bad(p, cmd->tag, "TLS is already active");
		return;
	}
	if (wk_client_prepare_tls(&p->c, p->cfg) < 0) {
		imap_no(p, cmd->tag, "[UNAVAILABLE] TLS is not available now, try later");
		return;
	}
	imap_ok(p, cmd->tag, "Begin TLS negotiation now");
	if (wk_client_drain(&p->c) < 0)
		return;
	wk_client_attach_tls(&p->c);
	imap_parser_free(p->parser);	/* nothing of the plaintext phase survives */
	imap_parser_start(p);
	p->plaintext_ok = 1;
}

/* RFC 4959 / 9051: a continuation is "+ " and the base64 challenge. */
static void
sasl_challenge(void *ctx, const char *text)
{
	struct imap *p = ctx;

	imap_printf(p, "+ %s\r\n", text);
	wk_session_kick(&p->s);
}

static const char *
fail_text(uint32_t code)
{
	switch (code) {
	case AUTH_FAIL_THROTTLED:
		return "NO [UNAVAILABLE] Too many failures, try later";
	case AUTH_FAIL_TEMP:
		return "NO [UNAVAILABLE] Temporary authentication failure, try later";
	case AUTH_FAIL_SYNTAX:
		return "BAD Malformed SASL data";
	case AUTH_FAIL_MECH:
		return "NO Unknown SASL mechanism";
	case AUTH_FAIL_ABORTED:
		return "BAD Authentication aborted";
	case AUTH_FAIL_AUTHZ:
		return "NO [AUTHORIZATIONFAILED] Not authorized as that identity";
	default:
		return "NO [AUTHENTICATIONFAILED] Authentication failed";
	}
}

static void
auth_done(void *ctx, enum wk_auth_result r, uint32_t code, int store_fd)
{
	struct imap *p = ctx;
	struct buf b;

	switch (r) {
	case WK_AUTH_OK:
		p->store_fd = store_fd;
		wk_session_logged_in(&p->s);
		wk_client_drop_keyd(&p->c);	/* no STARTTLS after login */
		storeproto_open_put(&ipc_scratch_out, MSG_STORE_IMAP_OPEN);
		imap_store_call(p, NULL, NULL);
		if (ipc_scratch_in.type != MSG_STORE_OK) {
			imap_printf(p, "* BYE [UNAVAILABLE] %s\r\n", imap_store_err() == STORE_ERR_INUSE ?
			    "Mailbox is locked by a POP3 session" : "Cannot open the mail store");
			imap_no(p, p->tag, "[UNAVAILABLE] Mail storage unavailable, try later");
			p->s.closing = 1;
			break;
		}
		p->state = IMAP_AUTHENTICATED;
		imap_empty_trash(p);
		imap_release_config(p);	/* no STARTTLS, no new parser limits from here */
		imap_store_watch(p);
		buf_init(&b, 1024);
		buf_printf(&b, "%s OK [", p->tag);
		imap_capabilities(p, &b);
		buf_append_str(&b, "] Logged in\r\n");
		imap_write(p, b.data, b.len);
		buf_free(&b, 0);
		break;
	case WK_AUTH_REFUSED: {
		/* fixed texts: a disabled account reads like a wrong password */
		const char *t = fail_text(code);
		imap_printf(p, "%s %s\r\n", p->tag, t);
		break;
	}
	case WK_AUTH_UNAVAILABLE:
		imap_no(p, p->tag, "[UNAVAILABLE] Authentication service unavailable");
		p->s.closing = 1;
		break;
	case WK_AUTH_NO_STORE:
		imap_no(p, p->tag, "[UNAVAILABLE] Mail storage unavailable, try later");
		p->s.closing = 1;
		break;
	}
	wk_session_kick(&p->s);
}

const struct wk_auth_ops imap_auth_ops = {
	.challenge = sasl_challenge,
	.done = auth_done,
};
