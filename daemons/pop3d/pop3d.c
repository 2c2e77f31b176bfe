/* pop3d.c - the POP3 session: command table by state (RFC 1939, 2449) and
 * the parser glue; the kit's session loop (common/worker/wk_session.c) drives it. */
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../common/base/log.h"
#include "../../common/ipc/proto.h"
#include "../../common/proto/sasl.h"
#include "pop3d.h"

typedef void pop3_handler(struct pop3 *p, const struct pop3_cmd *cmd);

static void cmd_capa(struct pop3 *p, const struct pop3_cmd *cmd);
static void cmd_noop(struct pop3 *p, const struct pop3_cmd *cmd);
static void cmd_apop(struct pop3 *p, const struct pop3_cmd *cmd);
static void cmd_xsyscall(struct pop3 *p, const struct pop3_cmd *cmd);
static void cmd_stls(struct pop3 *p, const struct pop3_cmd *cmd);
static void cmd_quit(struct pop3 *p, const struct pop3_cmd *cmd);

#define IN_AUTH	(1 << POP3_AUTHORIZATION)
#define IN_TRANS (1 << POP3_TRANSACTION)
#define ANY_ARGS 0, POP3_MAX_ARGS, NULL

/* Arity is checked here when the reply to a wrong count does not depend on
 * anything else; syntax NULL leaves it to the handler (USER, PASS and AUTH
 * refuse plaintext first, RFC 2595 section 4). */
static const struct {
	const char *name;
	unsigned states;
	unsigned min_args, max_args;
	const char *syntax;
	pop3_handler *fn;
} commands[] = {
	{ "CAPA", IN_AUTH | IN_TRANS, ANY_ARGS, cmd_capa },
	{ "STLS", IN_AUTH, 0, 0, "-ERR Syntax: STLS\r\n", cmd_stls },
	{ "USER", IN_AUTH, ANY_ARGS, pop3_cmd_user },
	{ "PASS", IN_AUTH, ANY_ARGS, pop3_cmd_pass },
	{ "AUTH", IN_AUTH, ANY_ARGS, pop3_cmd_auth },
	{ "APOP", IN_AUTH, ANY_ARGS, cmd_apop },
	{ "STAT", IN_TRANS, 0, 0, "-ERR Syntax: STAT\r\n", pop3_cmd_stat },
	{ "LIST", IN_TRANS, 0, 1, "-ERR Syntax: LIST [msg]\r\n", pop3_cmd_list },
	{ "UIDL", IN_TRANS, 0, 1, "-ERR Syntax: UIDL [msg]\r\n", pop3_cmd_uidl },
	{ "RETR", IN_TRANS, 1, 1, "-ERR Syntax: RETR msg\r\n", pop3_cmd_retr },
	{ "TOP", IN_TRANS, 2, 2, "-ERR Syntax: TOP msg lines\r\n", pop3_cmd_top },
	{ "DELE", IN_TRANS, 1, 1, "-ERR Syntax: DELE msg\r\n", pop3_cmd_dele },
	{ "RSET", IN_TRANS, 0, 0, "-ERR Syntax: RSET\r\n", pop3_cmd_rset },
	{ "NOOP", IN_TRANS, 0, 0, "-ERR Syntax: NOOP\r\n", cmd_noop },
	{ "QUIT", IN_AUTH | IN_TRANS, ANY_ARGS, cmd_quit },
	{ "XSYSCALLTEST", IN_AUTH | IN_TRANS, ANY_ARGS, cmd_xsyscall },
};

static void
cmd_capa(struct pop3 *p, const struct pop3_cmd *cmd)
{
	(void)cmd;
	client_puts(&p->c, "+OK Capability list follows\r\n"
	    "TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n");
	if (p->state == POP3_AUTHORIZATION && p->c.tls == NULL)
		client_puts(&p->c, "STLS\r\n");
	/* RFC 2595 section 4: no login mechanism is offered where it may not be used */
	if (p->state == POP3_AUTHORIZATION && p->plaintext_ok) {
		char mechs[256];
		client_puts(&p->c, "USER\r\nSASL");
		if (sasl_mechs_format(p->cfg->auth_mechanisms, " ", "", mechs, sizeof(mechs)) > 0)
			client_puts(&p->c, mechs);
		client_puts(&p->c, "\r\n");
	}
	client_puts(&p->c, "IMPLEMENTATION Postern\r\n.\r\n");
}

static void
cmd_noop(struct pop3 *p, const struct pop3_cmd *cmd)
{
	(void)cmd;
	client_puts(&p->c, "+OK\r\n");
}

static void
cmd_apop(struct pop3 *p, const struct pop3_cmd *cmd)
{
	(void)cmd;
	/* APOP needs the plaintext password on the server and MD5; it is off
	 * (docs/POP3.md).  The greeting carries no timestamp to match. */
	client_puts(&p->c, "-ERR APOP is not enabled; use USER/PASS or AUTH over TLS\r\n");
}

/* RFC 1939 sections 5 and 6: UPDATE only from TRANSACTION. */
static void
cmd_quit(struct pop3 *p, const struct pop3_cmd *cmd)
{
	(void)cmd;
	if (p->state == POP3_TRANSACTION)
		pop3_update(p);
	else
		client_puts(&p->c, "+OK Bye\r\n");
	p->s.closing = 1;
}

/* RFC 2595 section 4. */
static void
cmd_stls(struct pop3 *p, const struct pop3_cmd *cmd)
{
	(void)cmd;
	if (p->c.tls != NULL) {
		client_puts(&p->c, "-ERR TLS is already active\r\n");
		return;
	}
	if (wk_client_prepare_tls(&p->c, p->cfg) < 0) {
		client_puts(&p->c, "-ERR [SYS/TEMP] TLS is not available now, try later\r\n");
		return;
	}
	client_puts(&p->c, "+OK Begin TLS negotiation\r\n");
	/* the answer must be out in plaintext before the first TLS record */
	if (wk_client_drain(&p->c) < 0)
		return;
	wk_client_attach_tls(&p->c);
	p->plaintext_ok = 1;
}

/* Test-only (test_triggers = yes): make a forbidden system call so tests can
 * prove the seccomp policy kills the worker. */
static void
cmd_xsyscall(struct pop3 *p, const struct pop3_cmd *cmd)
{
	(void)cmd;
	if (!p->cfg->test_triggers) {
		client_puts(&p->c, "-ERR Unknown command\r\n");
		return;
	}
	client_puts(&p->c, "+OK calling socket(2)\r\n");
	client_flush(&p->c);
	(void)syscall(SYS_socket, 2, 1, 0);
	client_puts(&p->c, "-ERR still alive: the sandbox did not stop socket(2)\r\n");
}

/* Count a protocol error; too many end the session (pop3_max_bad_commands). */
static void
bad_command(struct pop3 *p, const char *reply)
{
	client_puts(&p->c, reply);
	if (++p->bad_commands >= p->cfg->pop3_max_bad_commands) {
		client_puts(&p->c, "-ERR Too many bad commands, closing\r\n");
		log_event(LOG_LEVEL_WARN, "disconnect", "ip=%s reason=\"too many bad commands\"", p->ip);
		p->s.closing = 1;
	}
}

static void
dispatch(struct pop3 *p, const struct pop3_cmd *cmd)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, cmd->keyword) != 0)
			continue;
		if (!(commands[i].states & (1u << p->state))) {
			bad_command(p, p->state == POP3_AUTHORIZATION ?
			    "-ERR [AUTH] Not logged in\r\n" : "-ERR Already logged in\r\n");
			return;
		}
		if (cmd->nargs < commands[i].min_args || cmd->nargs > commands[i].max_args) {
			client_puts(&p->c, commands[i].syntax);
			return;
		}
		commands[i].fn(p, cmd);
		return;
	}
	bad_command(p, "-ERR Unknown command\r\n");
}

/* Handle one parsed command line.  The line is copied out of the input
 * buffer first: STLS drops the buffer, and the copy is wiped after (PASS). */
static void
handle(struct pop3 *p, enum pop3_parse_result r, struct pop3_cmd *cmd, size_t consumed)
{
	static uint8_t line[65536 + 8];
	unsigned k;

	if (r != POP3_PARSE_OK) {
		buf_consume(&p->c.in, consumed);
		bad_command(p, r == POP3_PARSE_ERR_TOO_LONG ? "-ERR Line too long\r\n" :
		    r == POP3_PARSE_ERR_NUL ? "-ERR NUL byte in command\r\n" : "-ERR Syntax error\r\n");
		return;
	}
	memcpy(line, p->c.in.data, consumed);
	for (k = 0; k < cmd->nargs; k++)
		cmd->arg[k] = line + (cmd->arg[k] - p->c.in.data);
	explicit_bzero(p->c.in.data, consumed);
	buf_consume(&p->c.in, consumed);
	dispatch(p, cmd);
	explicit_bzero(line, consumed);
}

/* Every complete line buffered, as long as the session may read one
 * (PIPELINING: all are answered before the output is pushed). */
static void
process_input(void *ctx)
{
	struct pop3 *p = ctx;
	struct pop3_cmd cmd;
	size_t consumed;

	while (!p->s.closing && !p->c.dead && !wk_auth_busy(&p->auth)) {
		int sasl = wk_auth_wants_line(&p->auth);
		enum pop3_parse_result r = pop3_parse(&p->parser,
		    sasl ? POP3_MODE_RAW : POP3_MODE_COMMAND, p->c.in.data, p->c.in.len,
		    &cmd, &consumed);
		if (r == POP3_PARSE_NEED_MORE) {
			buf_consume(&p->c.in, consumed);
			return;
		}
		if (sasl) {
			pop3_sasl_line(p, r, &cmd);
			explicit_bzero(p->c.in.data, consumed);
			buf_consume(&p->c.in, consumed);
		} else {
			handle(p, r, &cmd, consumed);
		}
	}
}

static const struct wk_session_ops session_ops = {
	.process = process_input,
	.login_timeout_line = "-ERR [SYS/TEMP] login timeout\r\n",
	.shutdown_line = "-ERR [SYS/TEMP] Server shutting down\r\n",
	.kick_line = "-ERR [SYS/TEMP] Disconnected by the administrator\r\n",
};

void
pop3_run(struct pop3 *p, struct wk_boot *b)
{
	const struct config *cfg = b->cfg;

	p->cfg = cfg;
	p->ip = b->ip;
	p->implicit_tls = b->implicit_tls;
	p->plaintext_ok = !cfg->pop3_tls_required ||
	    (cfg->tls_plaintext_loopback && wk_ip_is_loopback(b->ip));
	p->store_fd = -1;
	p->state = POP3_AUTHORIZATION;
	wk_client_init(&p->c, FD_CLIENT, FD_KEYD, cfg->pop3_max_line,
	    cfg->pop3_idle_timeout * 1000, b->ip);
	wk_auth_init(&p->auth, FD_AUTH, FD_CONTROL, cfg->auth_fail_delay_ms + BROKER_CALL_TIMEOUT_MS,
	    &pop3_auth_ops, p);
	p->auth.client = &p->c;	/* for the tls= of its login line */
	pop3_parser_init(&p->parser, cfg->pop3_max_line);
	if (p->implicit_tls) {
		if (wk_client_start_tls(&p->c, cfg) < 0)
			return;
		p->plaintext_ok = 1;
	}
	client_puts(&p->c, "+OK Postern POP3 ready\r\n");
	wk_session_init(&p->s, &p->c, &p->auth, &session_ops, p, cfg->login_timeout, b->ip);
	wk_session_run(&p->s, b->started_ms);
	wk_client_close(&p->c);
	if ((p->c.dead || p->c.eof) && !p->s.closing && p->state == POP3_TRANSACTION)
		log_event(LOG_LEVEL_INFO, "disconnect", "ip=%s reason=\"client gone without QUIT\" "
		    "removed=0", p->ip);
}
