/* imapd.c - the IMAP session: the parser glue (literals, IDLE, SASL lines),
 * the command table by state (RFC 9051 section 6, RFC 3501 section 6) and
 * the commands valid in any state; the kit's loop (wk_session.c) drives it. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../common/base/ev.h"
#include "../../common/base/log.h"
#include "../../common/ipc/proto.h"
#include "../../common/ipc/scratch.h"
#include "../../common/ipc/storeproto.h"
#include "../../common/proto/imap_fmt.h"
#include "../../common/proto/sasl.h"
#include "imapd.h"

typedef void imap_handler(struct imap *p, const struct imap_cmd *cmd);

static void cmd_capability(struct imap *p, const struct imap_cmd *cmd);
static void cmd_noop(struct imap *p, const struct imap_cmd *cmd);
static void cmd_logout(struct imap *p, const struct imap_cmd *cmd);
static void cmd_id(struct imap *p, const struct imap_cmd *cmd);
static void cmd_enable(struct imap *p, const struct imap_cmd *cmd);
static void cmd_idle(struct imap *p, const struct imap_cmd *cmd);
static void cmd_xsyscall(struct imap *p, const struct imap_cmd *cmd);

#define S_NOAUTH	(1u << IMAP_NOT_AUTHENTICATED)
#define S_AUTH		(1u << IMAP_AUTHENTICATED)
#define S_SEL		(1u << IMAP_SELECTED)
#define S_ANY		(S_NOAUTH | S_AUTH | S_SEL)
#define S_LOGGED	(S_AUTH | S_SEL)

/* Before a command in the SELECTED state the session looks for changes and
 * tells the client; expunges wait during FETCH, STORE and SEARCH, when
 * RFC 9051 7.5.1 allows no EXPUNGE (their UID forms allow it). */
#define NO_SYNC		0x1
/* The command reads the messages' flags or MODSEQs: SELECT does not carry
 * them, the session asks stored once (imap_view_need_flags). */
#define FLAGS		0x2

static const struct {
	const char *name;
	unsigned states;
	unsigned flags;
	imap_handler *fn;
} commands[] = {
	{ "CAPABILITY", S_ANY, 0, cmd_capability },
	{ "NOOP", S_ANY, 0, cmd_noop },
	{ "LOGOUT", S_ANY, 0, cmd_logout },
	{ "ID", S_ANY, 0, cmd_id },
	{ "STARTTLS", S_NOAUTH, 0, imap_cmd_starttls },
	{ "AUTHENTICATE", S_NOAUTH, 0, imap_cmd_authenticate },
	{ "LOGIN", S_NOAUTH, 0, imap_cmd_login },
	{ "ENABLE", S_LOGGED, 0, cmd_enable },
	{ "SELECT", S_LOGGED, 0, imap_cmd_select },
	{ "EXAMINE", S_LOGGED, 0, imap_cmd_select },
	{ "CREATE", S_LOGGED, 0, imap_cmd_create },
	{ "DELETE", S_LOGGED, 0, imap_cmd_delete },
	{ "RENAME", S_LOGGED, 0, imap_cmd_rename },
	{ "SUBSCRIBE", S_LOGGED, 0, imap_cmd_subscribe },
	{ "UNSUBSCRIBE", S_LOGGED, 0, imap_cmd_subscribe },
	{ "LIST", S_LOGGED, 0, imap_cmd_list },
	{ "LSUB", S_LOGGED, 0, imap_cmd_list },
	{ "NAMESPACE", S_LOGGED, 0, imap_cmd_namespace },
	{ "STATUS", S_LOGGED, 0, imap_cmd_status },
	{ "APPEND", S_LOGGED, 0, imap_cmd_append },
	{ "IDLE", S_LOGGED, 0, cmd_idle },
	{ "GETQUOTA", S_LOGGED, 0, imap_cmd_getquota },
	{ "GETQUOTAROOT", S_LOGGED, 0, imap_cmd_getquota },
	{ "SETQUOTA", S_LOGGED, 0, imap_cmd_getquota },
	{ "CHECK", S_SEL, 0, cmd_noop },
	{ "CLOSE", S_SEL, 0, imap_cmd_close },
	{ "UNSELECT", S_SEL, 0, imap_cmd_close },
	{ "EXPUNGE", S_SEL, 0, imap_cmd_expunge },
	{ "UID EXPUNGE", S_SEL, 0, imap_cmd_expunge },
	{ "SEARCH", S_SEL, NO_SYNC | FLAGS, imap_cmd_search },
	{ "UID SEARCH", S_SEL, FLAGS, imap_cmd_search },
	{ "FETCH", S_SEL, NO_SYNC | FLAGS, imap_cmd_fetch },
	{ "UID FETCH", S_SEL, FLAGS, imap_cmd_fetch },
	{ "STORE", S_SEL, NO_SYNC | FLAGS, imap_cmd_store },
	{ "UID STORE", S_SEL, FLAGS, imap_cmd_store },
	{ "COPY", S_SEL, 0, imap_cmd_copy },
	{ "UID COPY", S_SEL, 0, imap_cmd_copy },
	{ "MOVE", S_SEL, 0, imap_cmd_copy },
	{ "UID MOVE", S_SEL, 0, imap_cmd_copy },
	{ "XSYSCALLTEST", S_ANY, 0, cmd_xsyscall },
};

void
imap_write(struct imap *p, const void *data, size_t len)
{
	wk_client_write(&p->c, data, len);
}

void
imap_puts(struct imap *p, const char *s)
{
	wk_client_puts(&p->c, s);
}

void
imap_printf(struct imap *p, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1;
	imap_write(p, line, (size_t)n);
}

void
imap_ok(struct imap *p, const char *tag, const char *text)
{
	imap_printf(p, "%s OK %s\r\n", tag, text);
}

void
imap_no(struct imap *p, const char *tag, const char *text)
{
	imap_printf(p, "%s NO %s\r\n", tag, text);
}

/* Count a protocol error; too many end the session (imap_max_bad_commands). */
void
imap_bad(struct imap *p, const char *tag, const char *text)
{
	imap_printf(p, "%s BAD %s\r\n", tag != NULL && tag[0] != '\0' ? tag : "*", text);
	if (++p->bad_commands >= p->conf.max_bad) {
		imap_puts(p, "* BYE Too many bad commands, closing\r\n");
		log_event(LOG_LEVEL_WARN, "disconnect", "ip=%s reason=\"too many bad commands\"", p->ip);
		p->s.closing = 1;
	}
}

void
imap_capabilities(struct imap *p, struct buf *b)
{
	buf_append_str(b, "CAPABILITY IMAP4rev1 IMAP4rev2 LITERAL+ ID ENABLE IDLE SASL-IR");
	if (p->state == IMAP_NOT_AUTHENTICATED) {
		if (p->c.tls == NULL)
			buf_append_str(b, " STARTTLS");
		/* RFC 9051 6.2.3: no mechanism where it may not be used */
		if (p->plaintext_ok) {
			char mechs[256];
			if (sasl_mechs_format(p->cfg->auth_mechanisms, " AUTH=", "", mechs,
			    sizeof(mechs)) > 0)
				buf_append_str(b, mechs);
		}
		else
			buf_append_str(b, " LOGINDISABLED");
		return;
	}
	buf_append_str(b, " NAMESPACE UIDPLUS UNSELECT CHILDREN SPECIAL-USE CREATE-SPECIAL-USE"
	    " LIST-EXTENDED LIST-STATUS MOVE ESEARCH SEARCHRES CONDSTORE BINARY STATUS=SIZE"
	    " MULTIAPPEND QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE");
}

static void
cmd_capability(struct imap *p, const struct imap_cmd *cmd)
{
	struct buf b;

	if (cmd->nargs != 0) {
		imap_bad(p, cmd->tag, "CAPABILITY takes no arguments");
		return;
	}
	buf_init(&b, 1024);
	buf_append_str(&b, "* ");
	imap_capabilities(p, &b);
	buf_append_str(&b, "\r\n");
	imap_write(p, b.data, b.len);
	buf_free(&b, 0);
	imap_ok(p, cmd->tag, "CAPABILITY completed");
}

/* NOOP and CHECK: the sync after the command tells of changes. */
static void
cmd_noop(struct imap *p, const struct imap_cmd *cmd)
{
	if (cmd->nargs != 0) {
		imap_bad(p, cmd->tag, "no arguments expected");
		return;
	}
	p->store_changed = 1;	/* look, even without a notification */
	imap_sync(p, 1);
	imap_printf(p, "%s OK %s completed\r\n", cmd->tag, cmd->name);
}

static void
cmd_logout(struct imap *p, const struct imap_cmd *cmd)
{
	if (cmd->nargs != 0) {
		imap_bad(p, cmd->tag, "LOGOUT takes no arguments");
		return;
	}
	/* stored releases the mailbox lock before it answers: once the client
	 * has the tagged OK, a POP3 login finds the mailbox free */
	if (p->state == IMAP_AUTHENTICATED || p->state == IMAP_SELECTED) {
		storeimap_empty_put(&ipc_scratch_out, MSG_STORE_IMAP_LOGOUT);
		imap_store_call(p, NULL, NULL);
		if (ipc_scratch_in.type != MSG_STORE_OK)
			log_event(LOG_LEVEL_WARN, "logout_store", "ip=%s code=%u reason=\"stored did "
			    "not close the mailbox\"", p->ip, imap_store_err());
	}
	imap_puts(p, "* BYE Logging out\r\n");
	imap_ok(p, cmd->tag, "LOGOUT completed");
	p->state = IMAP_LOGOUT;
	p->s.closing = 1;
}

/* RFC 2971: the client's list is read and not kept (nothing in it may
 * change how a session is served). */
static void
cmd_id(struct imap *p, const struct imap_cmd *cmd)
{
	const struct imap_arg *a = cmd->args;

	if (cmd->nargs != 1 || (a->type != IMAP_ARG_NIL && a->type != IMAP_ARG_LIST) ||
	    (a->type == IMAP_ARG_LIST && (a->count % 2 != 0 || a->count > 60))) {
		imap_bad(p, cmd->tag, "Syntax: ID (\"name\" \"value\" ...) or ID NIL");
		return;
	}
	imap_puts(p, "* ID (\"name\" \"Postern\")\r\n");
	imap_ok(p, cmd->tag, "ID completed");
}

/* RFC 5161; CONDSTORE (RFC 7162 3.1) and IMAP4rev2 (RFC 9051 6.3.1).
 * UTF8=ACCEPT is not offered yet, so it is not enabled. */
static void
cmd_enable(struct imap *p, const struct imap_cmd *cmd)
{
	const struct imap_arg *a;
	char line[256] = "* ENABLED";

	if (cmd->nargs == 0) {
		imap_bad(p, cmd->tag, "Syntax: ENABLE capability ...");
		return;
	}
	for (a = cmd->args; a != NULL; a = a->next) {
		unsigned bit = 0;
		if (a->type != IMAP_ARG_ATOM) {
			imap_bad(p, cmd->tag, "ENABLE takes capability names");
			return;
		}
		if (!strcasecmp((const char *)a->text, "CONDSTORE"))
			bit = IMAP_EN_CONDSTORE;
		else if (!strcasecmp((const char *)a->text, "IMAP4rev2"))
			bit = IMAP_EN_IMAP4REV2;
		if (bit == 0 || (p->enabled & bit))
			continue;	/* unknown ones are ignored (RFC 5161 3.1) */
		p->enabled |= bit;
		strcat(line, bit == IMAP_EN_CONDSTORE ? " CONDSTORE" : " IMAP4rev2");
	}
	imap_printf(p, "%s\r\n", line);
	imap_ok(p, cmd->tag, "ENABLE completed");
}

/* IDLE (RFC 2177, RFC 9051 6.3.13): changes are pushed as stored notices
 * them; a check every imap_idle_check seconds catches any it did not. */
static void
idle_check(void *ctx)
{
	struct imap *p = ctx;

	p->idle_timer = 0;
	if (!p->idling)
		return;
	p->store_changed = 1;
	imap_sync(p, 1);
	p->idle_timer = ev_add_timer(p->conf.idle_check * 1000, idle_check, p);
	wk_session_kick(&p->s);
}

static void
cmd_idle(struct imap *p, const struct imap_cmd *cmd)
{
	if (cmd->nargs != 0) {
		imap_bad(p, cmd->tag, "IDLE takes no arguments");
		return;
	}
	snprintf(p->idle_tag, sizeof(p->idle_tag), "%s", cmd->tag);
	p->idling = 1;
	imap_puts(p, "+ idling\r\n");
	imap_sync(p, 1);
	p->idle_timer = ev_add_timer(p->conf.idle_check * 1000, idle_check, p);
}

static void
idle_done(struct imap *p, const uint8_t *line, size_t len)
{
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	p->idling = 0;
	if (p->idle_timer != 0)
		ev_cancel_timer(p->idle_timer);
	p->idle_timer = 0;
	if (len == 4 && !strncasecmp((const char *)line, "DONE", 4))
		imap_ok(p, p->idle_tag, "IDLE terminated");
	else
		imap_bad(p, p->idle_tag, "Expected DONE to end IDLE");
}

/* Test-only (test_triggers = yes): a forbidden system call, to prove that
 * the seccomp policy kills the worker. */
static void
cmd_xsyscall(struct imap *p, const struct imap_cmd *cmd)
{
	if (!p->conf.test_triggers) {
		imap_bad(p, cmd->tag, "Unknown command");
		return;
	}
	imap_puts(p, "* OK calling socket(2)\r\n");
	(void)wk_client_drain(&p->c);
	(void)syscall(SYS_socket, 2, 1, 0);
	imap_no(p, cmd->tag, "still alive: the sandbox did not stop socket(2)");
}

static void
dispatch(struct imap *p, const struct imap_cmd *cmd)
{
	size_t i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, cmd->name) != 0)
			continue;
		if (!(commands[i].states & (1u << p->state))) {
			imap_bad(p, cmd->tag, p->state == IMAP_NOT_AUTHENTICATED ?
			    "Log in first" : p->state == IMAP_AUTHENTICATED &&
			    (commands[i].states & S_SEL) ? "No mailbox selected" :
			    "Not valid in this state");
			break;
		}
		/* Changes others made are told at the start of a command, while
		 * it is in progress (RFC 9051 7.5.1: never with no command in
		 * progress, so not after its tagged reply) */
		if (p->state == IMAP_SELECTED)
			imap_sync(p, !(commands[i].flags & NO_SYNC));
		if (commands[i].flags & FLAGS)
			imap_view_need_flags(p);
		commands[i].fn(p, cmd);
		imap_append_reset(p);
		return;
	}
	if (i == sizeof(commands) / sizeof(commands[0]))
		imap_bad(p, cmd->tag, "Unknown command");
	imap_append_reset(p);
}

/* A literal announced with {N}: go ahead, or refuse before the client
 * sends it.  APPEND's message may be as large as imap_max_message_size
 * (checked by the parser's max_literal); any other literal is at most what
 * the parser keeps in the argument tree. */
static void
on_continue(struct imap *p, const struct imap_event *ev)
{
	const struct imap_cmd *cmd = imap_parser_cmd(p->parser);
	int append = !strcmp(cmd->name, "APPEND");

	if (!append && ev->size > IMAP_DEFAULT_MAX_BUFFERED) {
		imap_parser_refuse(p->parser);
		imap_bad(p, ev->tag, "Literal too large for this command");
		return;
	}
	if (append && p->state == IMAP_NOT_AUTHENTICATED) {
		imap_parser_refuse(p->parser);
		imap_bad(p, ev->tag, "Log in first");
		return;
	}
	imap_parser_accept(p->parser);
	imap_puts(p, "+ Ready for literal data\r\n");
}

static void
on_literal(struct imap *p, const struct imap_event *ev)
{
	const struct imap_cmd *cmd = imap_parser_cmd(p->parser);

	if (!strcmp(cmd->name, "APPEND") && p->state != IMAP_NOT_AUTHENTICATED)
		imap_append_chunk(p, ev->data, ev->len, ev->size, ev->left);
	else
		p->literal_discard = 1;
}

/* One line of raw input (SASL response, IDLE's DONE): its length with the
 * line end, or 0 when incomplete; over max_line the line is cut. */
static size_t
raw_line(struct imap *p, size_t *len_r)
{
	const uint8_t *nl = memchr(p->c.in.data, '\n', p->c.in.len);

	if (nl == NULL) {
		if (p->c.in.len > p->conf.max_line) {
			*len_r = p->c.in.len;
			return p->c.in.len;
		}
		return 0;
	}
	*len_r = (size_t)(nl - p->c.in.data) + 1;
	return *len_r;
}

static void
process_input(void *ctx)
{
	struct imap *p = ctx;

	while (!p->s.closing && !p->c.dead && !wk_auth_busy(&p->auth)) {
		struct imap_event ev;
		size_t consumed = 0, len;
		enum imap_ev t;

		if (wk_auth_wants_line(&p->auth) || p->idling) {
			if (raw_line(p, &len) == 0)
				return;
			if (p->idling)
				idle_done(p, p->c.in.data, len);
			else
				imap_sasl_line(p, p->c.in.data, len);
			explicit_bzero(p->c.in.data, len);
			buf_consume(&p->c.in, len);
			continue;
		}
		if (p->c.in.len == 0)
			return;
		t = imap_parser_feed(p->parser, p->c.in.data, p->c.in.len, &consumed, &ev);
		switch (t) {
		case IMAP_EV_NEED_MORE:
			explicit_bzero(p->c.in.data, consumed);
			buf_consume(&p->c.in, consumed);
			return;
		case IMAP_EV_COMMAND:
			buf_consume(&p->c.in, consumed);
			if (p->literal_discard) {
				p->literal_discard = 0;
				imap_bad(p, imap_parser_cmd(p->parser)->tag,
				    "Literal too large for this command");
				imap_append_reset(p);
				break;
			}
			dispatch(p, imap_parser_cmd(p->parser));
			break;
		case IMAP_EV_CONTINUE:
			buf_consume(&p->c.in, consumed);
			on_continue(p, &ev);
			break;
		case IMAP_EV_LITERAL:
			on_literal(p, &ev);
			buf_consume(&p->c.in, consumed);
			break;
		case IMAP_EV_ERROR:
			explicit_bzero(p->c.in.data, consumed);
			buf_consume(&p->c.in, consumed);
			imap_append_reset(p);
			p->literal_discard = 0;
			imap_bad(p, ev.tag, imap_err_text(ev.err));
			break;
		}
	}
}

/* An APPEND whose messages are still coming waits for its end. */
static int
session_busy(void *ctx)
{
	const struct imap *p = ctx;

	return p->nappend > 0 || p->literal_discard;
}

static const struct wk_session_ops session_ops = {
	.process = process_input,
	.login_timeout_line = "* BYE Login timeout\r\n",
	.idle_timeout_line = "* BYE Autologout; idle for too long\r\n",
	.shutdown_line = "* BYE Server shutting down\r\n",
	.kick_line = "* BYE Disconnected by the administrator\r\n",
	.busy = session_busy,
};

void
imap_release_config(struct imap *p)
{
	long pg = sysconf(_SC_PAGESIZE);
	uintptr_t lo, hi;

	if (p->cfg == NULL || pg <= 0)
		return;
	/* the pages wholly inside the struct: its neighbours stay */
	lo = ((uintptr_t)p->cfg + (uintptr_t)pg - 1) & ~((uintptr_t)pg - 1);
	hi = ((uintptr_t)(p->cfg + 1)) & ~((uintptr_t)pg - 1);
	p->cfg = NULL;
	if (hi > lo && madvise((void *)lo, hi - lo, MADV_DONTNEED) < 0)
		log_event(LOG_LEVEL_DEBUG, "config_kept", "errno=%d", errno);
}

void
imap_parser_start(struct imap *p)
{
	struct imap_limits lim;

	imap_limits_default(&lim);
	lim.max_line = p->conf.max_line;
	lim.max_literal = (uint32_t)p->conf.max_message;
	lim.max_literals = (unsigned)p->conf.max_literals;
	lim.max_depth = (unsigned)p->conf.max_nesting;
	p->parser = imap_parser_new(&lim, IMAP_PF_LITERAL_PLUS);
	if (p->parser == NULL)
		fatal("reason=\"no memory for the parser\"");
}

void
imap_run(struct imap *p, struct wk_boot *b)
{
	const struct config *cfg = b->cfg;
	unsigned i;

	p->cfg = cfg;
	p->conf = (struct imap_conf){ .max_line = cfg->imap_max_line,
	    .max_message = cfg->imap_max_message_size, .max_literals = cfg->imap_max_literals,
	    .max_nesting = cfg->imap_max_nesting, .max_search_keys = cfg->imap_max_search_keys,
	    .max_bad = cfg->imap_max_bad_commands, .idle_check = cfg->imap_idle_check,
	    .keywords = cfg->imap_keywords, .test_triggers = cfg->test_triggers };
	snprintf(p->conf.ns, sizeof(p->conf.ns), "%s", cfg->imap_namespace);
	p->ip = b->ip;
	p->implicit_tls = b->implicit_tls;
	p->plaintext_ok = !cfg->imap_tls_required ||
	    (cfg->tls_plaintext_loopback && wk_ip_is_loopback(b->ip));
	p->store_fd = -1;
	p->state = IMAP_NOT_AUTHENTICATED;
	p->sep = cfg->imap_separator[0];
	p->ns = p->conf.ns;
	p->nslen = strlen(p->ns);
	for (i = 0; i < IMAP_APPEND_MAX_MSGS; i++)
		p->append_fd[i] = -1;
	imap_parser_start(p);
	buf_init(&p->out, 300u << 20);
	wk_client_init(&p->c, FD_CLIENT, FD_KEYD, cfg->imap_max_line + WK_READ_CHUNK,
	    cfg->imap_idle_timeout * 1000, b->ip);
	wk_auth_init(&p->auth, FD_AUTH, FD_CONTROL, cfg->auth_fail_delay_ms + BROKER_CALL_TIMEOUT_MS,
	    &imap_auth_ops, p);
	p->auth.client = &p->c;	/* for the tls= of its login line */
	if (p->implicit_tls) {
		if (wk_client_start_tls(&p->c, cfg) < 0)
			return;
		p->plaintext_ok = 1;
	}
	{
		struct buf g;
		buf_init(&g, 1024);
		buf_append_str(&g, "* OK [");
		imap_capabilities(p, &g);
		buf_append_str(&g, "] Postern IMAP ready\r\n");
		imap_write(p, g.data, g.len);
		buf_free(&g, 0);
	}
	wk_session_init(&p->s, &p->c, &p->auth, &session_ops, p, cfg->login_timeout, b->ip);
	wk_session_run(&p->s, b->started_ms);
	wk_client_close(&p->c);
	if ((p->c.dead || p->c.eof) && !p->s.closing && p->state != IMAP_NOT_AUTHENTICATED)
		log_event(LOG_LEVEL_INFO, "disconnect", "ip=%s reason=\"client gone without LOGOUT\" "
		    "fetched=%llu bytes=%llu", p->ip, (unsigned long long)p->fetch_count,
		    (unsigned long long)p->fetch_bytes);
	else if (p->state == IMAP_LOGOUT)
		log_event(LOG_LEVEL_INFO, "logout", "ip=%s fetched=%llu bytes=%llu", p->ip,
		    (unsigned long long)p->fetch_count, (unsigned long long)p->fetch_bytes);
}
