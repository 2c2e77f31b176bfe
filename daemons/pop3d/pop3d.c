/* pop3d.c - the POP3 session: command dispatch by state (RFC 1939, 2449). */
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../common/log.h"
#include "pop3d.h"

typedef void pop3_handler(struct pop3 *p, const struct pop3_cmd *cmd);

static void cmd_capa(struct pop3 *p, const struct pop3_cmd *cmd);
static void cmd_noop(struct pop3 *p, const struct pop3_cmd *cmd);
static void cmd_apop(struct pop3 *p, const struct pop3_cmd *cmd);
static void cmd_xsyscall(struct pop3 *p, const struct pop3_cmd *cmd);
static void cmd_stls(struct pop3 *p, const struct pop3_cmd *cmd);

#define IN_AUTH	(1 << POP3_AUTHORIZATION)
#define IN_TRANS (1 << POP3_TRANSACTION)

static const struct {
	const char *name;
	unsigned states;
	pop3_handler *fn;
} commands[] = {
	{ "CAPA", IN_AUTH | IN_TRANS, cmd_capa },
	{ "STLS", IN_AUTH, cmd_stls },
	{ "USER", IN_AUTH, pop3_cmd_user },
	{ "PASS", IN_AUTH, pop3_cmd_pass },
	{ "AUTH", IN_AUTH, pop3_cmd_auth },
	{ "APOP", IN_AUTH, cmd_apop },
	{ "STAT", IN_TRANS, pop3_cmd_stat },
	{ "LIST", IN_TRANS, pop3_cmd_list },
	{ "UIDL", IN_TRANS, pop3_cmd_uidl },
	{ "RETR", IN_TRANS, pop3_cmd_retr },
	{ "TOP", IN_TRANS, pop3_cmd_top },
	{ "DELE", IN_TRANS, pop3_cmd_dele },
	{ "RSET", IN_TRANS, pop3_cmd_rset },
	{ "NOOP", IN_TRANS, cmd_noop },
	{ "XSYSCALLTEST", IN_AUTH | IN_TRANS, cmd_xsyscall },
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
	if (p->state == POP3_AUTHORIZATION && p->plaintext_ok)
		client_puts(&p->c, "USER\r\nSASL PLAIN LOGIN\r\n");
	client_puts(&p->c, "IMPLEMENTATION Postern\r\n.\r\n");
}

static void
cmd_noop(struct pop3 *p, const struct pop3_cmd *cmd)
{
	client_puts(&p->c, cmd->nargs ? "-ERR Syntax: NOOP\r\n" : "+OK\r\n");
}

static void
cmd_apop(struct pop3 *p, const struct pop3_cmd *cmd)
{
	(void)cmd;
	/* APOP needs the plaintext password on the server and MD5; it is off
	 * (docs/POP3.md).  The greeting carries no timestamp to match. */
	client_puts(&p->c, "-ERR APOP is not enabled; use USER/PASS or AUTH over TLS\r\n");
}

/* RFC 2595 section 4. */
static void
cmd_stls(struct pop3 *p, const struct pop3_cmd *cmd)
{
	if (cmd->nargs != 0) {
		client_puts(&p->c, "-ERR Syntax: STLS\r\n");
		return;
	}
	if (p->c.tls != NULL) {
		client_puts(&p->c, "-ERR TLS is already active\r\n");
		return;
	}
	if (client_prepare_tls(&p->c, p->cfg) < 0) {
		client_puts(&p->c, "-ERR [SYS/TEMP] TLS is not available now, try later\r\n");
		return;
	}
	client_puts(&p->c, "+OK Begin TLS negotiation\r\n");
	client_flush(&p->c);
	client_attach_tls(&p->c);
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
		p->closing = 1;
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
		commands[i].fn(p, cmd);
		return;
	}
	bad_command(p, "-ERR Unknown command\r\n");
}

/* Handle one parsed line.  The line is copied out of the input buffer
 * first, so handlers (AUTH) may read further input. Returns 1 on QUIT. */
static int
handle(struct pop3 *p, enum pop3_parse_result r, struct pop3_cmd *cmd, size_t consumed)
{
	static uint8_t line[65536 + 8];
	unsigned k;

	switch (r) {
	case POP3_PARSE_ERR_TOO_LONG:
		buf_consume(&p->c.in, consumed);
		bad_command(p, "-ERR Line too long\r\n");
		return 0;
	case POP3_PARSE_ERR_NUL:
		buf_consume(&p->c.in, consumed);
		bad_command(p, "-ERR NUL byte in command\r\n");
		return 0;
	case POP3_PARSE_ERR_SYNTAX:
		buf_consume(&p->c.in, consumed);
		bad_command(p, "-ERR Syntax error\r\n");
		return 0;
	case POP3_PARSE_NEED_MORE:
		buf_consume(&p->c.in, consumed);
		return 0;
	case POP3_PARSE_OK:
		break;
	}
	memcpy(line, p->c.in.data, consumed);
	for (k = 0; k < cmd->nargs; k++)
		cmd->arg[k] = line + (cmd->arg[k] - p->c.in.data);
	buf_consume(&p->c.in, consumed);
	if (strcmp(cmd->keyword, "QUIT") == 0) {
		explicit_bzero(line, consumed);
		if (p->state == POP3_TRANSACTION)
			pop3_update(p);
		else
			client_puts(&p->c, "+OK Bye\r\n");
		return 1;
	}
	dispatch(p, cmd);
	explicit_bzero(line, consumed);	/* PASS lines */
	return 0;
}

void
pop3_run(struct pop3 *p)
{
	struct pop3_cmd cmd;
	size_t consumed;

	pop3_parser_init(&p->parser, p->cfg->pop3_max_line);
	if (p->implicit_tls) {
		if (client_start_tls(&p->c, p->cfg) < 0)
			return;
		p->plaintext_ok = 1;
	}
	client_puts(&p->c, "+OK Postern POP3 ready\r\n");
	client_flush(&p->c);
	while (!p->c.dead && !p->closing) {
		enum pop3_parse_result r = pop3_parse(&p->parser, POP3_MODE_COMMAND, p->c.in.data,
		    p->c.in.len, &cmd, &consumed);
		if (r == POP3_PARSE_NEED_MORE) {
			buf_consume(&p->c.in, consumed);
			/* PIPELINING: answer everything buffered before blocking */
			client_flush(&p->c);
			if (client_fill(&p->c) <= 0) {
				if (!p->c.dead)
					log_event(LOG_LEVEL_INFO, "disconnect", "ip=%s reason=idle_timeout", p->ip);
				break;
			}
			continue;
		}
		if (handle(p, r, &cmd, consumed))
			break;
	}
	client_close(&p->c);
	if (p->c.dead && p->state == POP3_TRANSACTION)
		log_event(LOG_LEVEL_INFO, "disconnect", "ip=%s reason=\"client gone without QUIT\" "
		    "removed=0", p->ip);
}
