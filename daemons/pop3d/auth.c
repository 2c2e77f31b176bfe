/* auth.c - POP3 USER/PASS (RFC 1939 section 7) and AUTH (RFC 5034).
 *
 * The worker never decides: it relays the client's bytes to authd and
 * reports authd's answer with RFC 2449/3206 response codes.  After authd
 * says yes, the master hands over the channel to this user's stored. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "../../common/ipc.h"
#include "../../common/log.h"
#include "../../common/proto.h"
#include "../../common/sasl.h"
#include "../../common/util.h"
#include "pop3d.h"

static struct ipc_in inmsg;
static struct ipc_out outmsg;

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

/* Wait for the master's hand-over of the stored channel, then open the
 * maildrop.  Returns 0 in TRANSACTION state, -1 if the session must end. */
static int
take_store(struct pop3 *p)
{
	int rc = ipc_recv(FD_CONTROL, &inmsg);

	if (rc == 1 && inmsg.type == MSG_WORKER_STORE && inmsg.fd >= 0 && ipc_in_end(&inmsg) == 0) {
		p->store_fd = inmsg.fd;
		return pop3_enter_transaction(p);
	}
	ipc_in_close_fd(&inmsg);
	client_puts(&p->c, "-ERR [SYS/TEMP] Mail storage unavailable, try later\r\n");
	return -1;
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

/* authd's answer to one step; returns 1 logged in, 0 refused, -1 fatal,
 * 2 challenge (text in inmsg). */
static int
auth_reply(struct pop3 *p, char *challenge, size_t chlen)
{
	char text[128];
	uint32_t code;
	int rc;

	rc = ipc_recv(FD_AUTH, &inmsg);
	if (rc != 1) {
		client_puts(&p->c, "-ERR [SYS/TEMP] Authentication service unavailable\r\n");
		return -1;
	}
	switch (inmsg.type) {
	case MSG_AUTH_OK:
		if (ipc_in_end(&inmsg) < 0)
			break;
		return take_store(p) == 0 ? 1 : -1;
	case MSG_AUTH_CHALLENGE:
		ipc_get_str(&inmsg, challenge, chlen);
		if (ipc_in_end(&inmsg) < 0)
			break;
		return 2;
	case MSG_AUTH_FAIL:
		code = ipc_get_u32(&inmsg);
		ipc_get_str(&inmsg, text, sizeof(text));
		if (ipc_in_end(&inmsg) < 0)
			break;
		/* Fixed texts: a disabled account must read exactly like a wrong
		 * password, or the reply would confirm the password. */
		client_puts(&p->c, fail_reply(code));
		return 0;
	}
	ipc_in_close_fd(&inmsg);
	fatal("reason=\"bad message from authd\" type=0x%04x", inmsg.type);
}

void
pop3_cmd_pass(struct pop3 *p, const struct pop3_cmd *cmd)
{
	char ch[8];
	int rc;

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
	ipc_out_init(&outmsg, MSG_AUTH_USERPASS);
	ipc_put_bytes(&outmsg, p->user, p->userlen);
	ipc_put_bytes(&outmsg, cmd->arg[0], cmd->arglen[0]);
	rc = ipc_send(FD_AUTH, &outmsg);
	explicit_bzero(outmsg.data, outmsg.len);
	if (rc < 0) {
		client_puts(&p->c, "-ERR [SYS/TEMP] Authentication service unavailable\r\n");
		p->closing = 1;
		return;
	}
	client_flush(&p->c);
	rc = auth_reply(p, ch, sizeof(ch));
	if (rc < 0 || rc == 2)
		p->closing = 1;
}

/* Read one SASL response line from the client (RFC 5034 section 4). */
static int
read_response(struct pop3 *p, const uint8_t **line, size_t *len, size_t *consumed)
{
	struct pop3_cmd cmd;

	for (;;) {
		enum pop3_parse_result r = pop3_parse(&p->parser, POP3_MODE_RAW, p->c.in.data,
		    p->c.in.len, &cmd, consumed);
		if (r == POP3_PARSE_OK) {
			*line = cmd.arg[0];
			*len = cmd.arglen[0];
			return 0;
		}
		buf_consume(&p->c.in, *consumed);
		if (r != POP3_PARSE_NEED_MORE)
			return -1;
		if (client_fill(&p->c) <= 0) {
			p->c.dead = 1;
			return -1;
		}
	}
}

void
pop3_cmd_auth(struct pop3 *p, const struct pop3_cmd *cmd)
{
	char challenge[128];
	const uint8_t *line;
	size_t len, consumed;
	int rc;

	if (plaintext_refused(p))
		return;
	if (cmd->nargs == 0) {
		/* RFC 1734 listing, still expected by some clients */
		client_puts(&p->c, "+OK\r\nPLAIN\r\nLOGIN\r\n.\r\n");
		return;
	}
	if (cmd->arglen[0] > 31) {
		client_puts(&p->c, "-ERR Unknown SASL mechanism\r\n");
		return;
	}
	ipc_out_init(&outmsg, MSG_AUTH_START);
	ipc_put_bytes(&outmsg, cmd->arg[0], cmd->arglen[0]);
	ipc_put_u8(&outmsg, cmd->nargs == 2);
	ipc_put_bytes(&outmsg, cmd->nargs == 2 ? cmd->arg[1] : (const uint8_t *)"",
	    cmd->nargs == 2 ? cmd->arglen[1] : 0);
	if (cmd->nargs == 2 && cmd->arglen[1] > SASL_LINE_MAX) {
		client_puts(&p->c, "-ERR Initial response too long\r\n");
		return;
	}
	if (ipc_send(FD_AUTH, &outmsg) < 0) {
		client_puts(&p->c, "-ERR [SYS/TEMP] Authentication service unavailable\r\n");
		p->closing = 1;
		return;
	}
	for (;;) {
		client_flush(&p->c);
		rc = auth_reply(p, challenge, sizeof(challenge));
		if (rc != 2) {
			if (rc < 0)
				p->closing = 1;
			return;
		}
		client_printf(&p->c, "+ %s\r\n", challenge);
		client_flush(&p->c);
		if (read_response(p, &line, &len, &consumed) < 0) {
			/* over-long or NUL: abort the exchange for authd too */
			ipc_out_init(&outmsg, MSG_AUTH_CONTINUE);
			ipc_put_bytes(&outmsg, "*", 1);
			if (p->c.dead || ipc_send(FD_AUTH, &outmsg) < 0)
				return;
			(void)auth_reply(p, challenge, sizeof(challenge));
			return;
		}
		ipc_out_init(&outmsg, MSG_AUTH_CONTINUE);
		ipc_put_bytes(&outmsg, line, len > SASL_LINE_MAX ? SASL_LINE_MAX + 1 : len);
		buf_consume(&p->c.in, consumed);
		if (ipc_send(FD_AUTH, &outmsg) < 0) {
			client_puts(&p->c, "-ERR [SYS/TEMP] Authentication service unavailable\r\n");
			p->closing = 1;
			return;
		}
	}
}
