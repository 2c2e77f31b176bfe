/* pop3d.c - the POP3 session: command table by state (RFC 1939, 2449),
 * driven by the event loop over the client fd and the session's timers. */
#include <poll.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../common/ev.h"
#include "../../common/log.h"
#include "../../common/proto.h"
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
	if (p->state == POP3_AUTHORIZATION && p->plaintext_ok)
		client_puts(&p->c, "USER\r\nSASL PLAIN LOGIN\r\n");
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
	p->closing = 1;
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
process_input(struct pop3 *p)
{
	struct pop3_cmd cmd;
	size_t consumed;

	while (!p->closing && !p->c.dead && !wk_auth_busy(&p->auth)) {
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

static void
on_idle(void *ctx)
{
	struct pop3 *p = ctx;

	p->idle_timer = 0;
	if (p->c.tls != NULL && !tls_ready(p->c.tls))
		log_event(LOG_LEVEL_WARN, "tls_failed", "reason=\"handshake timed out\" ip=%s", p->ip);
	else if (p->c.tls != NULL)
		log_event(LOG_LEVEL_INFO, "disconnect", "reason=idle_timeout tls=yes ip=%s", p->ip);
	else
		log_event(LOG_LEVEL_INFO, "disconnect", "ip=%s reason=idle_timeout", p->ip);
	p->c.dead = 1;
	pop3_kick(p);
}

static void
idle_rearm(struct pop3 *p)
{
	if (p->idle_timer != 0)
		ev_cancel_timer(p->idle_timer);
	p->idle_timer = ev_add_timer(p->c.idle_timeout_ms, on_idle, p);
}

/* The session's own login deadline, ahead of the master's kill, so the
 * client reads why (where it can read text at all). */
static void
on_login_deadline(void *ctx)
{
	struct pop3 *p = ctx;

	p->login_timer = 0;
	if (p->state != POP3_AUTHORIZATION)
		return;
	if (wk_client_can_say(&p->c))
		client_puts(&p->c, "-ERR [SYS/TEMP] login timeout\r\n");
	log_event(LOG_LEVEL_INFO, "disconnect", "reason=login_timeout ip=%s seconds=%llu", p->ip,
	    (unsigned long long)p->cfg->login_timeout);
	p->closing = 1;
	pop3_kick(p);
}

void
pop3_logged_in(struct pop3 *p)
{
	if (p->login_timer != 0)
		ev_cancel_timer(p->login_timer);
	p->login_timer = 0;
}

void
pop3_kick(struct pop3 *p)
{
	if (p->in_kick || p->ended)
		return;
	p->in_kick = 1;
	for (;;) {
		process_input(p);
		/* push the answers; take input the TLS engine held back while
		 * the input buffer was full (bounded: stops when it fills) */
		if (wk_client_io(&p->c, 0) == 0)
			break;
		idle_rearm(p);
	}
	p->in_kick = 0;
	if (p->c.dead || p->closing || (p->c.eof && !wk_auth_busy(&p->auth))) {
		p->ended = 1;
		ev_stop();
		return;
	}
	ev_set_events(p->c.fd, wk_client_events(&p->c));
}

static void
on_client(int fd, short revents, void *ctx)
{
	struct pop3 *p = ctx;

	(void)fd;
	if (wk_client_io(&p->c, revents) > 0)
		idle_rearm(p);
	/* poll reports a hang-up or an error even when we asked for nothing
	 * (input buffer full while authd thinks): nothing more can come or
	 * go, so end here instead of spinning */
	if ((revents & POLLERR) || ((revents & POLLHUP) && !(wk_client_events(&p->c) & POLLIN)))
		p->c.dead = 1;
	pop3_kick(p);
}

/* login_timeout counts from the worker's start; a margin keeps the
 * worker's answer ahead of the master's SIGKILL at the same deadline. */
static uint64_t
login_deadline_ms(const struct wk_boot *b)
{
	uint64_t limit = b->cfg.login_timeout * 1000, margin = limit / 4;
	uint64_t spent = ev_now_ms() - b->started_ms;

	if (margin > 1000)
		margin = 1000;
	return limit - margin > spent ? limit - margin - spent : 0;
}

void
pop3_run(struct pop3 *p, struct wk_boot *b)
{
	const struct config *cfg = &b->cfg;

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
	pop3_parser_init(&p->parser, cfg->pop3_max_line);
	if (p->implicit_tls) {
		if (wk_client_start_tls(&p->c, cfg) < 0)
			return;
		p->plaintext_ok = 1;
	}
	client_puts(&p->c, "+OK Postern POP3 ready\r\n");
	if (ev_add_fd(p->c.fd, POLLIN, on_client, p) < 0)
		fatal("reason=\"event loop\"");
	idle_rearm(p);
	p->login_timer = ev_add_timer(login_deadline_ms(b), on_login_deadline, p);
	pop3_kick(p);
	if (!p->ended && ev_run() < 0)
		fatal("reason=\"event loop failed\"");
	wk_client_close(&p->c);
	if ((p->c.dead || p->c.eof) && !p->closing && p->state == POP3_TRANSACTION)
		log_event(LOG_LEVEL_INFO, "disconnect", "ip=%s reason=\"client gone without QUIT\" "
		    "removed=0", p->ip);
}
