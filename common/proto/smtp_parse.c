/* smtp_parse.c - SMTP command lines: verbs, paths and ESMTP parameters
 * (RFC 5321 4.1, RFC 6531, RFC 1870, RFC 6152, RFC 3030, RFC 3461, RFC 4954). */
#include "smtp_parse.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

void
smtp_limits_default(struct smtp_limits *l)
{
	l->max_line = SMTP_DEFAULT_LINE;
	l->max_line_ext = SMTP_DEFAULT_LINE_EXT;
	l->max_rcpt = SMTP_DEFAULT_RCPT;
	l->max_size = SMTP_DEFAULT_SIZE;
	l->max_errors = SMTP_DEFAULT_ERRORS;
	l->max_junk = SMTP_DEFAULT_JUNK;
}

/* A cursor over the line. */
struct cur {
	const uint8_t *p;
	size_t len, i;
};

static int
peek(const struct cur *c)
{
	return c->i < c->len ? c->p[c->i] : -1;
}

static int
eat(struct cur *c, uint8_t ch)
{
	if (peek(c) != ch)
		return 0;
	c->i++;
	return 1;
}

/* Eat the ASCII word s, case-insensitively. */
static int
eat_ci(struct cur *c, const char *s)
{
	size_t n = strlen(s);

	if (c->len - c->i < n || strncasecmp((const char *)c->p + c->i, s, n) != 0)
		return 0;
	c->i += n;
	return 1;
}

static int
fail(struct smtp_reply *err, unsigned code, const char *esc, const char *text)
{
	smtp_reply_set(err, code, esc, text);
	return -1;
}

static int
is_alnum(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

/* Length of the UTF-8 sequence at s[0..len) that encodes a non-ASCII
 * character, or 0 (RFC 3629 section 4). */
static size_t
utf8_seq(const uint8_t *s, size_t len)
{
	uint8_t c = s[0], lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;	/* no surrogates */
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;	/* nothing above U+10FFFF */
	if (len < n || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

int
smtp_utf8_valid(const uint8_t *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t n = s[i] < 0x80 ? 1 : utf8_seq(s + i, len - i);
		if (n == 0)
			return 0;
		i += n;
	}
	return 1;
}

/* Take one UTF-8 encoded non-ASCII character (RFC 6531 UTF8-non-ascii). */
static int
take_utf8(struct cur *c, unsigned *flags)
{
	size_t n;

	if (peek(c) < 0x80)
		return 0;
	n = utf8_seq(c->p + c->i, c->len - c->i);
	if (n == 0)
		return 0;
	c->i += n;
	*flags |= SMTP_PATH_UTF8;
	return 1;
}

/* atext of RFC 5322 3.2.3 */
static int
is_atext(int ch)
{
	return ch >= 0 && (is_alnum(ch) || (ch < 0x80 && strchr("!#$%&'*+-/=?^_`{|}~", ch)));
}

static int
atom(struct cur *c, unsigned *flags)
{
	size_t start = c->i;

	for (;;) {
		if (is_atext(peek(c)))
			c->i++;
		else if (!take_utf8(c, flags))
			break;
	}
	return c->i > start;
}

/* Dot-string = Atom *("." Atom) */
static int
dot_string(struct cur *c, unsigned *flags)
{
	if (!atom(c, flags))
		return 0;
	while (eat(c, '.'))
		if (!atom(c, flags))
			return 0;
	return 1;
}

/* Quoted-string = DQUOTE *QcontentSMTP DQUOTE (RFC 5321 4.1.2) */
static int
quoted_string(struct cur *c, unsigned *flags)
{
	if (!eat(c, '"'))
		return 0;
	for (;;) {
		int ch = peek(c);
		if (ch == '"') {
			c->i++;
			return 1;
		}
		if (ch == '\\') {
			c->i++;
			ch = peek(c);
			if (ch < 32 || ch > 126)
				return 0;
			c->i++;
		} else if (ch >= 32 && ch <= 126) {
			c->i++;
		} else if (!take_utf8(c, flags)) {
			return 0;
		}
	}
}

/* One label: Let-dig [Ldh-str], at most 63 octets; with lenient, '_'
 * anywhere (Windows machine names in EHLO). */
static int
label(struct cur *c, unsigned *flags, int lenient)
{
	size_t start = c->i;
	int last = -1;

	for (;;) {
		int ch = peek(c);
		if (is_alnum(ch) || (lenient && ch == '_') || (ch == '-' && c->i > start))
			c->i++;
		else if (!take_utf8(c, flags))
			break;
		last = ch;
	}
	return c->i > start && last != '-' && c->i - start <= SMTP_LABEL_MAX;
}

static int
domain(struct cur *c, unsigned *flags, int lenient)
{
	if (!label(c, flags, lenient))
		return 0;
	while (eat(c, '.')) {
		if (lenient && c->i == c->len)
			return 1;	/* "EHLO host.example." */
		if (!label(c, flags, lenient))
			return 0;
	}
	return 1;
}

/* address-literal: "[" IPv4 "]" or "[IPv6:" IPv6-addr "]"; general
 * literals have no registered tag but IPv6 and are refused. */
static int
address_literal(struct cur *c)
{
	char buf[64];
	uint8_t bin[16];
	size_t start, n;
	int v6;

	if (!eat(c, '['))
		return 0;
	v6 = eat_ci(c, "IPv6:");
	start = c->i;
	while (c->i < c->len && c->p[c->i] != ']' && c->i - start < sizeof(buf) - 1)
		c->i++;
	n = c->i - start;
	if (!eat(c, ']'))
		return 0;
	memcpy(buf, c->p + start, n);
	buf[n] = '\0';
	return inet_pton(v6 ? AF_INET6 : AF_INET, buf, bin) == 1;
}

enum addr_err { ADDR_OK, ADDR_SYNTAX, ADDR_LOCAL_LONG, ADDR_DOMAIN_LONG };

/* Mailbox = Local-part "@" ( Domain / address-literal ) */
static enum addr_err
mailbox(struct cur *c, struct smtp_path *p)
{
	size_t start = c->i, at, end;
	int ok;

	ok = peek(c) == '"' ? quoted_string(c, &p->flags) : dot_string(c, &p->flags);
	if (!ok || peek(c) != '@')
		return ADDR_SYNTAX;
	at = c->i++;
	if (peek(c) == '[') {
		p->flags |= SMTP_PATH_LITERAL;
		ok = address_literal(c);
	} else {
		ok = domain(c, &p->flags, 0);
	}
	if (!ok)
		return ADDR_SYNTAX;
	end = c->i;
	if (at - start > SMTP_LOCAL_MAX)
		return ADDR_LOCAL_LONG;
	if (end - at - 1 > SMTP_DOMAIN_MAX)
		return ADDR_DOMAIN_LONG;
	memcpy(p->addr, c->p + start, end - start);
	p->addr[end - start] = '\0';
	p->local_len = at - start;
	return ADDR_OK;
}

/* A-d-l ":" — a source route, checked and dropped (RFC 5321 4.1.1.3). */
static int
source_route(struct cur *c, struct smtp_path *p)
{
	unsigned ignored = 0;

	do {
		size_t start;
		if (!eat(c, '@'))
			return 0;
		start = c->i;
		if (!domain(c, &ignored, 0) || c->i - start > SMTP_DOMAIN_MAX)
			return 0;
	} while (eat(c, ','));
	p->flags |= SMTP_PATH_ROUTE | (ignored & SMTP_PATH_UTF8);
	return eat(c, ':');
}

/* Path = "<" [ A-d-l ":" ] Mailbox ">", also "<>" and (rcpt) "<Postmaster>". */
static enum addr_err
path(struct cur *c, struct smtp_path *p, int rcpt)
{
	enum addr_err e;

	memset(p, 0, sizeof(*p));
	if (!eat(c, '<'))
		return ADDR_SYNTAX;
	if (eat(c, '>')) {
		p->flags |= SMTP_PATH_NULL;
		return ADDR_OK;
	}
	if (rcpt && eat_ci(c, "Postmaster>")) {
		memcpy(p->addr, c->p + c->i - 11, 10);
		p->addr[10] = '\0';
		p->local_len = 10;
		p->flags |= SMTP_PATH_POSTMASTER;
		return ADDR_OK;
	}
	if (peek(c) == '@' && !source_route(c, p))
		return ADDR_SYNTAX;
	e = mailbox(c, p);
	if (e == ADDR_OK && !eat(c, '>'))
		return ADDR_SYNTAX;
	return e;
}

/* ---- ESMTP parameters ---- */

static int
word_is(const uint8_t *v, size_t vl, const char *w)
{
	return vl == strlen(w) && strncasecmp((const char *)v, w, vl) == 0;
}

static int
hexval(uint8_t ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;	/* RFC 3461 4: hexchar is upper-case */
}

/* Decode xtext (RFC 3461 4) into out (cap bytes, NUL-terminated).  The
 * decoded text must be printable ASCII: it ends up in DSNs and logs. */
static int
xtext_decode(const uint8_t *v, size_t vl, char *out, size_t cap)
{
	size_t i, o = 0;

	if (vl == 0)
		return -1;
	for (i = 0; i < vl; i++) {
		int b = v[i];
		if (b == '+') {
			int h, l;
			if (vl - i < 3 || (h = hexval(v[i + 1])) < 0 || (l = hexval(v[i + 2])) < 0)
				return -1;
			b = h * 16 + l;
			i += 2;
		}
		if (b < 0x20 || b > 0x7e || o + 1 >= cap)
			return -1;
		out[o++] = (char)b;
	}
	out[o] = '\0';
	return 0;
}

static int
set_size(const uint8_t *v, size_t vl, struct smtp_params *p)
{
	uint64_t n = 0;
	size_t i;

	if (vl == 0 || vl > 20)
		return -1;
	for (i = 0; i < vl; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		if (__builtin_mul_overflow(n, 10, &n) || __builtin_add_overflow(n, v[i] - '0', &n))
			n = UINT64_MAX;	/* too big either way: 552 from the session */
	}
	p->size = n;
	return 0;
}

/* Which of names[0..n) is v (case-insensitive), or -1. */
static int
word_pick(const uint8_t *v, size_t vl, const char *const *names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (word_is(v, vl, names[i]))
			return i;
	return -1;
}

static int
set_body(const uint8_t *v, size_t vl, struct smtp_params *p)
{
	static const char *const names[] = { "7BIT", "8BITMIME", "BINARYMIME" };
	int i = word_pick(v, vl, names, 3);	/* in enum smtp_body order */

	if (i < 0)
		return -1;
	p->body = (enum smtp_body)i;
	return 0;
}

static int
set_smtputf8(const uint8_t *v, size_t vl, struct smtp_params *p)
{
	(void)v;
	(void)p;
	return vl == 0 ? 0 : -1;
}

static int
set_ret(const uint8_t *v, size_t vl, struct smtp_params *p)
{
	static const char *const names[] = { "FULL", "HDRS" };
	int i = word_pick(v, vl, names, 2);

	if (i < 0)
		return -1;
	p->ret = i == 0 ? SMTP_RET_FULL : SMTP_RET_HDRS;
	return 0;
}

static int
set_envid(const uint8_t *v, size_t vl, struct smtp_params *p)
{
	if (vl > SMTP_ENVID_MAX)
		return -1;
	return xtext_decode(v, vl, p->envid, sizeof(p->envid));
}

/* AUTH=<> or AUTH=xtext mailbox (RFC 4954 5) */
static int
set_auth(const uint8_t *v, size_t vl, struct smtp_params *p)
{
	if (word_is(v, vl, "<>")) {
		memcpy(p->auth, "<>", 3);
		return 0;
	}
	return xtext_decode(v, vl, p->auth, sizeof(p->auth));
}

/* NOTIFY=NEVER / 1#( SUCCESS / FAILURE / DELAY ) (RFC 3461 4.1) */
static int
set_notify(const uint8_t *v, size_t vl, struct smtp_params *p)
{
	static const char *const names[] = { "NEVER", "SUCCESS", "FAILURE", "DELAY" };
	size_t i = 0;

	p->notify = 0;
	while (i <= vl) {
		const uint8_t *comma = memchr(v + i, ',', vl - i);
		size_t wl = comma ? (size_t)(comma - v) - i : vl - i;
		int k = word_pick(v + i, wl, names, 4);
		unsigned bit = k < 0 ? 0 : 1u << k;	/* SMTP_NOTIFY_* order */

		if (bit == 0 || (p->notify & bit))
			return -1;
		p->notify |= bit;
		i += wl + 1;
	}
	/* NEVER stands alone */
	return (p->notify & SMTP_NOTIFY_NEVER) && p->notify != SMTP_NOTIFY_NEVER ? -1 : 0;
}

/* ORCPT=addr-type ";" xtext (RFC 3461 4.2) */
static int
set_orcpt(const uint8_t *v, size_t vl, struct smtp_params *p)
{
	const uint8_t *semi = memchr(v, ';', vl);
	size_t tl, i;

	if (vl > SMTP_ORCPT_MAX || semi == NULL)
		return -1;
	tl = (size_t)(semi - v);
	if (tl == 0 || tl > SMTP_ADDRTYPE_MAX)
		return -1;
	for (i = 0; i < tl; i++)
		if (!is_atext(v[i]))
			return -1;
	memcpy(p->orcpt_type, v, tl);
	p->orcpt_type[tl] = '\0';
	return xtext_decode(semi + 1, vl - tl - 1, p->orcpt, sizeof(p->orcpt));
}

struct param_def {
	const char *name;
	unsigned bit;
	int has_value;
	int (*set)(const uint8_t *v, size_t vl, struct smtp_params *p);
};

static const struct param_def param_defs[] = {
	{ "SIZE", SMTP_P_SIZE, 1, set_size },
	{ "BODY", SMTP_P_BODY, 1, set_body },
	{ "SMTPUTF8", SMTP_P_SMTPUTF8, 0, set_smtputf8 },
	{ "RET", SMTP_P_RET, 1, set_ret },
	{ "ENVID", SMTP_P_ENVID, 1, set_envid },
	{ "AUTH", SMTP_P_AUTH, 1, set_auth },
	{ "NOTIFY", SMTP_P_NOTIFY, 1, set_notify },
	{ "ORCPT", SMTP_P_ORCPT, 1, set_orcpt },
};

static const struct param_def *
param_find(const uint8_t *k, size_t kl)
{
	size_t i;

	for (i = 0; i < sizeof(param_defs) / sizeof(param_defs[0]); i++)
		if (word_is(k, kl, param_defs[i].name))
			return &param_defs[i];
	return NULL;
}

/* esmtp-param = esmtp-keyword ["=" esmtp-value]; returns the keyword's
 * and value's lengths (value NULL when there is no "="). */
static int
param_split(struct cur *c, size_t *kl_r, const uint8_t **v_r, size_t *vl_r)
{
	size_t k = c->i, vs;

	while (is_alnum(peek(c)) || (peek(c) == '-' && c->i > k))
		c->i++;
	*kl_r = c->i - k;
	*v_r = NULL;
	*vl_r = 0;
	if (eat(c, '=')) {
		vs = c->i;
		while (peek(c) >= 33 && peek(c) <= 126 && peek(c) != '=')
			c->i++;
		*v_r = c->p + vs;
		*vl_r = c->i - vs;
	}
	return *kl_r > 0 && (peek(c) == -1 || peek(c) == ' ');
}

static int
bad_value(const struct param_def *d, struct smtp_reply *err)
{
	char text[64];

	snprintf(text, sizeof(text), "Bad %s parameter", d->name);
	return fail(err, 501, "5.5.4", text);
}

static int
params(struct cur *c, unsigned allowed, struct smtp_params *p, struct smtp_reply *err)
{
	while (c->i < c->len) {
		const struct param_def *d;
		const uint8_t *v;
		size_t kl, vl, k;

		if (!eat(c, ' '))
			return fail(err, 501, "5.5.2", "Syntax error after the address");
		while (eat(c, ' '))
			;	/* tolerated: several spaces */
		k = c->i;
		if (!param_split(c, &kl, &v, &vl))
			return fail(err, 501, "5.5.4", "Bad parameter syntax");
		d = param_find(c->p + k, kl);
		if (d == NULL || !(d->bit & allowed))
			return fail(err, 555, "5.5.4", "Unsupported parameter");
		if (p->seen & d->bit)
			return fail(err, 501, "5.5.4", "Duplicate parameter");
		if ((v != NULL) != d->has_value || d->set(v, vl, p) < 0)
			return bad_value(d, err);
		p->seen |= d->bit;
	}
	return 0;
}

/* ---- verbs ---- */

typedef int parse_fn(struct cur *c, struct smtp_cmd *cmd, unsigned flags,
    struct smtp_reply *err);

/* Step over the single space before an argument; 0 if there is none. */
static int
has_arg(struct cur *c)
{
	return eat(c, ' ') && c->i < c->len;
}

static int
syntax(const struct smtp_cmd *cmd, const char *usage, struct smtp_reply *err)
{
	char text[80];

	snprintf(text, sizeof(text), "Syntax: %s%s", cmd->name, usage);
	return fail(err, 501, "5.5.4", text);
}

static int
parse_none(struct cur *c, struct smtp_cmd *cmd, unsigned flags, struct smtp_reply *err)
{
	(void)flags;
	return c->i == c->len ? 0 : syntax(cmd, "", err);
}

static int
parse_opt(struct cur *c, struct smtp_cmd *cmd, unsigned flags, struct smtp_reply *err)
{
	(void)flags;
	if (c->i < c->len && !has_arg(c))
		return syntax(cmd, " [argument]", err);
	cmd->arg = c->p + c->i;
	cmd->arglen = c->len - c->i;
	return 0;
}

static int
parse_req(struct cur *c, struct smtp_cmd *cmd, unsigned flags, struct smtp_reply *err)
{
	(void)flags;
	if (!has_arg(c))
		return syntax(cmd, " argument", err);
	cmd->arg = c->p + c->i;
	cmd->arglen = c->len - c->i;
	return 0;
}

/* EHLO/HELO/LHLO: Domain or address-literal; leniency in label(). */
static int
parse_hello(struct cur *c, struct smtp_cmd *cmd, unsigned flags, struct smtp_reply *err)
{
	size_t start;
	unsigned uflags = 0;
	int ok;

	(void)flags;
	if (!has_arg(c))
		return syntax(cmd, " domain", err);
	start = c->i;
	ok = peek(c) == '[' ? address_literal(c) : domain(c, &uflags, 1);
	if (!ok || c->i != c->len || uflags != 0 || c->len - start > SMTP_DOMAIN_MAX)
		return fail(err, 501, "5.5.2", "Invalid domain name");
	memcpy(cmd->domain, c->p + start, c->len - start);
	cmd->domain[c->len - start] = '\0';
	return 0;
}

static int
path_fail(enum addr_err e, int rcpt, struct smtp_reply *err)
{
	static const char *const what[][3] = {
		{ "Bad sender address syntax", "Sender local part over 64 octets",
		  "Sender domain over 255 octets" },
		{ "Bad recipient address syntax", "Recipient local part over 64 octets",
		  "Recipient domain over 255 octets" },
	};

	return fail(err, rcpt ? 501 : 553, rcpt ? "5.1.3" : "5.1.7", what[rcpt][e - 1]);
}

/* "MAIL FROM:" / "RCPT TO:", spaces (tolerated), the path, its parameters. */
static int
parse_path_cmd(struct cur *c, struct smtp_cmd *cmd, int rcpt, struct smtp_reply *err)
{
	enum addr_err e;

	if (!eat(c, ' ') || !eat_ci(c, rcpt ? "TO:" : "FROM:"))
		return syntax(cmd, rcpt ? " TO:<address>" : " FROM:<address>", err);
	while (eat(c, ' '))
		;	/* tolerated: "MAIL FROM: <a@b>" */
	e = path(c, &cmd->path, rcpt);
	if (e != ADDR_OK)
		return path_fail(e, rcpt, err);
	if (rcpt && (cmd->path.flags & SMTP_PATH_NULL))
		return fail(err, 501, "5.1.3", "Null recipient");
	return params(c, rcpt ? SMTP_P_RCPT : SMTP_P_MAIL, &cmd->params, err);
}

static int
parse_mail(struct cur *c, struct smtp_cmd *cmd, unsigned flags, struct smtp_reply *err)
{
	(void)flags;
	if (parse_path_cmd(c, cmd, 0, err) < 0)
		return -1;
	/* RFC 6531 3.5: UTF-8 only in a transaction that asked for it */
	if ((cmd->path.flags & SMTP_PATH_UTF8) && !(cmd->params.seen & SMTP_P_SMTPUTF8))
		return fail(err, 553, "5.6.7", "Non-ASCII sender needs SMTPUTF8");
	return 0;
}

static int
parse_rcpt(struct cur *c, struct smtp_cmd *cmd, unsigned flags, struct smtp_reply *err)
{
	if (parse_path_cmd(c, cmd, 1, err) < 0)
		return -1;
	if ((cmd->path.flags & SMTP_PATH_UTF8) && !(flags & SMTP_PARSE_UTF8))
		return fail(err, 553, "5.6.7", "Non-ASCII recipient needs SMTPUTF8");
	return 0;
}

/* BDAT chunk-size [ SP "LAST" ] (RFC 3030 2) */
static int
parse_bdat(struct cur *c, struct smtp_cmd *cmd, unsigned flags, struct smtp_reply *err)
{
	size_t start;

	(void)flags;
	if (!has_arg(c))
		return syntax(cmd, " size [LAST]", err);
	start = c->i;
	while (peek(c) >= '0' && peek(c) <= '9') {
		uint64_t d = (uint64_t)(c->p[c->i++] - '0');
		if (__builtin_mul_overflow(cmd->bdat_size, 10, &cmd->bdat_size) ||
		    __builtin_add_overflow(cmd->bdat_size, d, &cmd->bdat_size))
			return syntax(cmd, " size [LAST]", err);
	}
	if (c->i == start)
		return syntax(cmd, " size [LAST]", err);
	if (eat(c, ' ') && eat_ci(c, "LAST"))
		cmd->bdat_last = 1;
	return c->i == c->len ? 0 : syntax(cmd, " size [LAST]", err);
}

static int
is_b64(int ch)
{
	return is_alnum(ch) || ch == '+' || ch == '/' || ch == '=';
}

/* AUTH mechanism [ SP initial-response ] (RFC 4954 4) */
static int
parse_auth(struct cur *c, struct smtp_cmd *cmd, unsigned flags, struct smtp_reply *err)
{
	size_t k = 0;

	(void)flags;
	if (!has_arg(c))
		return syntax(cmd, " mechanism [initial-response]", err);
	while (is_alnum(peek(c)) || peek(c) == '-' || peek(c) == '_') {
		if (k == SMTP_MECH_MAX)
			return syntax(cmd, " mechanism [initial-response]", err);
		cmd->mech[k++] = (char)(c->p[c->i] >= 'a' && c->p[c->i] <= 'z' ?
		    c->p[c->i] - 32 : c->p[c->i]);
		c->i++;
	}
	cmd->mech[k] = '\0';
	if (k == 0 || (c->i < c->len && !has_arg(c)))
		return syntax(cmd, " mechanism [initial-response]", err);
	if (c->i < c->len) {
		cmd->ir = c->p + c->i;
		while (is_b64(peek(c)))
			c->i++;
		cmd->irlen = (size_t)(c->p + c->i - cmd->ir);
		if (c->i != c->len)
			return fail(err, 501, "5.5.2", "Cannot decode the initial response");
	}
	return 0;
}

static int
parse_any(struct cur *c, struct smtp_cmd *cmd, unsigned flags, struct smtp_reply *err)
{
	(void)c;
	(void)cmd;
	(void)flags;
	(void)err;
	return 0;
}

struct verb_def {
	const char *name;
	enum smtp_verb verb;
	int ext;		/* line limit is max_line_ext */
	parse_fn *parse;
};

static const struct verb_def verb_defs[] = {
	{ "EHLO", SMTP_V_EHLO, 0, parse_hello },
	{ "HELO", SMTP_V_HELO, 0, parse_hello },
	{ "LHLO", SMTP_V_LHLO, 0, parse_hello },
	{ "MAIL", SMTP_V_MAIL, 1, parse_mail },
	{ "RCPT", SMTP_V_RCPT, 1, parse_rcpt },
	{ "DATA", SMTP_V_DATA, 0, parse_none },
	{ "BDAT", SMTP_V_BDAT, 0, parse_bdat },
	{ "RSET", SMTP_V_RSET, 0, parse_none },
	{ "NOOP", SMTP_V_NOOP, 0, parse_opt },
	{ "QUIT", SMTP_V_QUIT, 0, parse_none },
	{ "VRFY", SMTP_V_VRFY, 0, parse_req },
	{ "EXPN", SMTP_V_EXPN, 0, parse_req },
	{ "HELP", SMTP_V_HELP, 0, parse_opt },
	{ "STARTTLS", SMTP_V_STARTTLS, 0, parse_none },
	{ "AUTH", SMTP_V_AUTH, 1, parse_auth },
	{ "TURN", SMTP_V_NOTIMPL, 0, parse_any },
	{ "ETRN", SMTP_V_NOTIMPL, 0, parse_any },
	{ "ATRN", SMTP_V_NOTIMPL, 0, parse_any },
	{ "SEND", SMTP_V_NOTIMPL, 0, parse_any },
	{ "SOML", SMTP_V_NOTIMPL, 0, parse_any },
	{ "SAML", SMTP_V_NOTIMPL, 0, parse_any },
};

/* The verb at the start of c (letters up to a space or the end), upper-cased
 * into cmd->name. */
static const struct verb_def *
verb_find(struct cur *c, struct smtp_cmd *cmd)
{
	size_t k = 0, i;

	while (c->i < c->len && c->p[c->i] != ' ') {
		int ch = c->p[c->i++];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')) || k == SMTP_VERB_MAX)
			return NULL;
		cmd->name[k++] = (char)(ch >= 'a' ? ch - 32 : ch);
	}
	cmd->name[k] = '\0';
	for (i = 0; i < sizeof(verb_defs) / sizeof(verb_defs[0]); i++)
		if (strcmp(cmd->name, verb_defs[i].name) == 0)
			return &verb_defs[i];
	return NULL;
}

/* Bytes no command line may hold (before the verb is looked at, so that
 * "NOOP\r" is a bare CR, not an unknown verb). */
static int
line_controls_ok(const uint8_t *line, size_t len, struct smtp_reply *err)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (line[i] == '\0')
			return fail(err, 501, "5.5.2", "NUL in command");
		if (line[i] == '\r')
			return fail(err, 501, "5.5.2", "Bare CR in command");
		if (line[i] < 0x20 || line[i] == 0x7f)
			return fail(err, 501, "5.5.2", "Control character in command");
	}
	return 0;
}

/* Bytes above 0x7f: only in the paths of MAIL and RCPT (RFC 6531). */
static int
line_ascii_ok(const uint8_t *line, size_t len, enum smtp_verb v, struct smtp_reply *err)
{
	size_t i;

	if (v == SMTP_V_MAIL || v == SMTP_V_RCPT)
		return 0;
	for (i = 0; i < len; i++)
		if (line[i] > 0x7f)
			return fail(err, 501, "5.5.2", "Non-ASCII command");
	return 0;
}

int
smtp_parse(const uint8_t *line, size_t len, const struct smtp_limits *lim, unsigned flags,
    struct smtp_cmd *cmd, struct smtp_reply *err_r)
{
	const struct verb_def *v;
	struct cur c = { line, len, 0 };
	size_t full = len + 2;

	memset(cmd, 0, sizeof(*cmd));
	memset(err_r, 0, sizeof(*err_r));
	while (c.len > 0 && line[c.len - 1] == ' ')
		c.len--;	/* tolerated: trailing spaces */
	if (c.len == 0)
		return fail(err_r, 500, "5.5.2", "Empty command");
	if (line_controls_ok(line, len, err_r) < 0)
		return -1;
	v = verb_find(&c, cmd);
	if (v == NULL)
		return fail(err_r, 500, "5.5.1", "Command unrecognized");
	cmd->verb = v->verb;
	if (full > (v->ext ? lim->max_line_ext : lim->max_line))
		return fail(err_r, 500, "5.5.2", "Line too long");
	if (line_ascii_ok(line, len, v->verb, err_r) < 0)
		return -1;
	return v->parse(&c, cmd, flags, err_r);
}

int
smtp_verb_ends_group(enum smtp_verb v)
{
	switch (v) {
	case SMTP_V_EHLO: case SMTP_V_HELO: case SMTP_V_LHLO: case SMTP_V_DATA:
	case SMTP_V_VRFY: case SMTP_V_EXPN: case SMTP_V_NOTIMPL: case SMTP_V_QUIT:
	case SMTP_V_NOOP: case SMTP_V_STARTTLS: case SMTP_V_AUTH:
		return 1;
	default:
		return 0;
	}
}
