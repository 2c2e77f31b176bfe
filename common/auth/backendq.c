/* backendq.c - auth_backends, query parameters and a backend's user
 * fields (backendq.h).  Pure. */
#include "backendq.h"

#include <string.h>
#include <stdio.h>
#include <strings.h>
#include <ctype.h>

#include "../base/config.h"
#include "ldapesc.h"

static const struct {
	const char *name;
	enum backendq_kind kind;	/* 0: known, not in this release */
} chain_names[] = {
	{ "userdb", BACKENDQ_USERDB }, { "authuserdb", BACKENDQ_USERDB },
	{ "pgsql", BACKENDQ_PGSQL }, { "authpgsql", BACKENDQ_PGSQL },
	{ "checkpw", BACKENDQ_CHECKPW }, { "checkpassword", BACKENDQ_CHECKPW },
	{ "ldap", BACKENDQ_LDAP }, { "authldap", BACKENDQ_LDAP }, { "pam", 0 }, { "authpam", 0 },
};

const char *
backendq_name(enum backendq_kind k)
{
	return k == BACKENDQ_USERDB ? "userdb" : k == BACKENDQ_PGSQL ? "pgsql" :
	    k == BACKENDQ_CHECKPW ? "checkpw" : k == BACKENDQ_LDAP ? "ldap" : "?";
}

static int
chain_word(const char *w, size_t n, enum backendq_kind *k_r, const char **why_r)
{
	size_t i;

	for (i = 0; i < sizeof(chain_names) / sizeof(chain_names[0]); i++) {
		if (strlen(chain_names[i].name) != n || strncasecmp(chain_names[i].name, w, n) != 0)
			continue;
		if (chain_names[i].kind == 0) {
			*why_r = "pam is not in this release";
			return -1;
		}
		*k_r = chain_names[i].kind;
		return 0;
	}
	*why_r = "unknown backend (userdb, pgsql, checkpw, ldap)";
	return -1;
}

int
backendq_chain(const char *text, enum backendq_kind out[BACKENDQ_CHAIN_MAX], size_t *n_r,
    const char **why_r)
{
	const char *p = text;
	enum backendq_kind k;
	size_t n = 0, len, i;

	*n_r = 0;
	for (;;) {
		p += strspn(p, " \t,");
		if (*p == '\0')
			break;
		len = strcspn(p, " \t,");
		if (chain_word(p, len, &k, why_r) < 0)
			return -1;
		for (i = 0; i < n; i++)
			if (out[i] == k) {
				*why_r = "a backend is named twice";
				return -1;
			}
		if (n == BACKENDQ_CHAIN_MAX) {
			*why_r = "too many backends";
			return -1;
		}
		out[n++] = k;
		p += len;
	}
	if (n == 0) {
		*why_r = "no backend named";
		return -1;
	}
	*n_r = n;
	return 0;
}

static const char *const param_names[] = {
	[BACKENDQ_P_LOGIN] = "login", [BACKENDQ_P_LOCAL] = "local",
	[BACKENDQ_P_DOMAIN] = "domain", [BACKENDQ_P_SERVICE] = "service",
};

static int
is_ident(char c, int first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    (!first && c >= '0' && c <= '9');
}

/* The length of a dollar-quote tag at p ("$$" or "$tag$"), 0 if none. */
static size_t
dollar_tag(const char *p)
{
	size_t i = 1;

	while (is_ident(p[i], i == 1))
		i++;
	return p[i] == '$' ? i + 1 : 0;
}

/* Append n bytes; -1 when they do not fit (with the NUL). */
static int
put(char *out, size_t cap, size_t *o, const char *p, size_t n)
{
	if (*o + n >= cap)
		return -1;
	memcpy(out + *o, p, n);
	*o += n;
	out[*o] = '\0';
	return 0;
}

/* A quoted part from p (at its opening quote, or tag): its length, or 0
 * if it does not end. */
static size_t
quoted(const char *p)
{
	size_t tag = 0, i;
	const char *e;

	if (*p == '$') {
		tag = dollar_tag(p);
		for (e = p + tag; (e = strchr(e, '$')) != NULL; e++)
			if (strncmp(e, p, tag) == 0)
				return (size_t)(e - p) + tag;
		return 0;
	}
	for (i = 1; p[i] != '\0'; i++)
		if (p[i] == *p) {
			if (p[i + 1] != *p)	/* '' and "" are the quote itself */
				return i + 1;
			i++;
		}
	return 0;
}

static int
param_at(const char *p, size_t *len_r)
{
	size_t n = 0, i;

	while (is_ident(p[n], n == 0))
		n++;
	for (i = 0; i < sizeof(param_names) / sizeof(param_names[0]); i++)
		if (strlen(param_names[i]) == n && strncmp(param_names[i], p, n) == 0) {
			*len_r = n;
			return (int)i;
		}
	return -1;
}

int
backendq_translate(const char *query, char *out, size_t cap,
    enum backendq_param order[BACKENDQ_PARAMS_MAX], const char **why_r)
{
	const char *p = query;
	size_t o = 0, n, np = 0;
	char num[8];
	int k;

	if (cap == 0 || strlen(query) >= BACKENDQ_QUERY_MAX) {
		*why_r = "query too long";
		return -1;
	}
	out[0] = '\0';
	while (*p != '\0') {
		if (*p == '\'' || *p == '"' || (*p == '$' && dollar_tag(p) > 0)) {
			n = quoted(p);
			if (n == 0) {
				*why_r = "unterminated quote";
				return -1;
			}
		} else if (*p == '$') {
			if (p[1] >= '0' && p[1] <= '9') {
				*why_r = "positional parameter ($1): name it ($login, $local, $domain, "
				    "$service)";
				return -1;
			}
			if ((k = param_at(p + 1, &n)) < 0) {
				*why_r = "unknown parameter (use $login, $local, $domain, $service)";
				return -1;
			}
			if (np == BACKENDQ_PARAMS_MAX) {
				*why_r = "too many parameters";
				return -1;
			}
			order[np++] = (enum backendq_param)k;
			snprintf(num, sizeof(num), "$%zu", np);
			if (put(out, cap, &o, num, strlen(num)) < 0)
				goto long_;
			p += n + 1;
			continue;
		} else {
			n = 1;
		}
		if (put(out, cap, &o, p, n) < 0)
			goto long_;
		p += n;
	}
	return (int)np;
long_:
	*why_r = "query too long";
	return -1;
}

int
backendq_value(enum backendq_param p, const char *name, const char *service, char *out,
    size_t cap)
{
	const char *at = strrchr(name, '@');
	size_t n;
	const char *s;

	switch (p) {
	case BACKENDQ_P_LOGIN:
		s = name;
		n = strlen(name);
		break;
	case BACKENDQ_P_LOCAL:
		s = name;
		n = at != NULL ? (size_t)(at - name) : strlen(name);
		break;
	case BACKENDQ_P_DOMAIN:
		s = at != NULL ? at + 1 : "";
		n = strlen(s);
		break;
	default:
		s = service;
		n = strlen(service);
		break;
	}
	if (n >= cap)
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

int
backendq_ldap_expand(const char *t, int dn, const char *name, const char *service, char *out,
    size_t cap, const char **why_r)
{
	char v[USERDB_NAME_MAX + 1];
	size_t o = 0, n;
	long e;
	int k;

	if (cap == 0)
		goto long_;
	out[0] = '\0';
	while (*t != '\0') {
		if (*t != '$') {
			if (name != NULL && put(out, cap, &o, t, 1) < 0)
				goto long_;
			t++;
			continue;
		}
		if ((k = param_at(t + 1, &n)) < 0) {
			*why_r = "unknown parameter (use $login, $local, $domain, $service)";
			return -1;
		}
		t += n + 1;
		if (name == NULL)
			continue;
		if (backendq_value((enum backendq_param)k, name, service, v, sizeof(v)) < 0)
			goto long_;
		e = dn ? ldapesc_dn((const uint8_t *)v, strlen(v), out + o, cap - o) :
		    ldapesc_filter((const uint8_t *)v, strlen(v), out + o, cap - o);
		if (e < 0)
			goto long_;
		o += (size_t)e;
	}
	return 0;
long_:
	*why_r = "too long";
	return -1;
}

void
backendq_fields_init(struct backend_reply *r, const char *name)
{
	memset(r, 0, sizeof(*r));
	r->status = BACKEND_FOUND;
	snprintf(r->user, sizeof(r->user), "%s", name);
}

/* A decimal number up to max; 0 for an empty value. */
static int
number(const uint8_t *v, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t x = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9' || x > (UINT64_MAX - 9) / 10)
			return -1;
		x = x * 10 + (v[i] - '0');
	}
	if (x > max)
		return -1;
	*out = x;
	return 0;
}

static int
key_is(const char *key, size_t klen, const char *names)
{
	const char *p = names;
	size_t n;

	for (; *p != '\0'; p += n + (p[n] == ' ')) {
		n = strcspn(p, " ");
		if (n == klen && strncasecmp(p, key, n) == 0)
			return 1;
	}
	return 0;
}

/* Courier's useroptions: name=value pairs, comma separated. */
static int
options(struct backend_reply *r, const uint8_t *v, size_t n, const char **why_r)
{
	static const struct { const char *name; uint32_t bit; } opts[] = {
		{ "disableimap", USERDB_USER_NO_IMAP }, { "disablepop3", USERDB_USER_NO_POP3 },
		{ "disablesubmission", USERDB_USER_NO_SUBMISSION },
		{ "disablesmtp", USERDB_USER_NO_SUBMISSION }, { "disabled", USERDB_USER_DISABLED },
	};
	size_t i = 0, e, eq, j;

	while (i < n) {
		for (e = i; e < n && v[e] != ','; e++)
			;
		for (eq = i; eq < e && v[eq] != '='; eq++)
			;
		for (j = 0; j < sizeof(opts) / sizeof(opts[0]); j++)
			if (strlen(opts[j].name) == eq - i &&
			    strncasecmp(opts[j].name, (const char *)v + i, eq - i) == 0)
				break;
		if (eq == i && e == i) {
			;	/* an empty item */
		} else if (j == sizeof(opts) / sizeof(opts[0]) || eq + 2 != e ||
		    (v[eq + 1] != '0' && v[eq + 1] != '1')) {
			*why_r = "options: not name=0 or name=1 of disableimap, disablepop3, "
			    "disablesubmission, disabled";
			return -1;
		} else if (v[eq + 1] == '1') {
			r->flags |= opts[j].bit;
		}
		i = e + 1;
	}
	return 0;
}

static int
text_field(char *dst, size_t cap, const uint8_t *v, size_t n, const char **why_r)
{
	if (n >= cap) {
		*why_r = "value too long";
		return -1;
	}
	memcpy(dst, v, n);
	dst[n] = '\0';
	return 0;
}

int
backendq_field(struct backend_reply *r, const char *key, size_t klen, const uint8_t *val,
    size_t vlen, const char **why_r)
{
	uint64_t x;
	size_t i;

	for (i = 0; i < vlen; i++)
		if (val[i] < 0x20 || val[i] == 0x7f) {
			*why_r = "a control byte in a value";
			return -1;
		}
	if (key_is(key, klen, "user login")) {
		if (vlen != strlen(r->user) || strncasecmp(r->user, (const char *)val, vlen) != 0) {
			*why_r = "the backend named another user than the one asked for";
			return -1;
		}
	} else if (key_is(key, klen, "password hash crypt userpassword")) {
		/* RFC 2307's userPassword: "{CRYPT}" and a crypt(3) hash */
		if (vlen >= 7 && strncasecmp((const char *)val, "{crypt}", 7) == 0) {
			val += 7;
			vlen -= 7;
		}
		if (text_field(r->hash, sizeof(r->hash), val, vlen, why_r) < 0)
			return -1;
		if (!backendproto_hash_ok(r->hash)) {
			r->hash[0] = '\0';
			*why_r = "password: not a crypt(3) hash";
			return -1;
		}
	} else if (key_is(key, klen, "mail_root maildir home homedirectory mailmessagestore")) {
		if (text_field(r->mail_root, sizeof(r->mail_root), val, vlen, why_r) < 0)
			return -1;
		if (vlen > 0 && !config_path_canonical(r->mail_root)) {
			*why_r = "mail root is not a canonical absolute path";
			return -1;
		}
	} else if (key_is(key, klen, "uid gid uidnumber gidnumber")) {
		if (number(val, vlen, 0xfffffffeULL, &x) < 0) {
			*why_r = "uid or gid: not a decimal number below 4294967295";
			return -1;
		}
		*(tolower((unsigned char)key[0]) == 'u' ? &r->uid : &r->gid) = (uint32_t)x;
	} else if (key_is(key, klen, "quota mailquota")) {
		/* Courier's maildirsize form "NS" (bytes) or a plain number */
		if (vlen > 0 && (val[vlen - 1] == 'S' || val[vlen - 1] == 's'))
			vlen--;
		if (number(val, vlen, UINT64_MAX, &r->quota) < 0) {
			*why_r = "quota: not a number of bytes";
			return -1;
		}
	} else if (key_is(key, klen, "options")) {
		return options(r, val, vlen, why_r);
	}
	return 0;
}

int
backendq_lines(struct backend_reply *r, const uint8_t *text, size_t len, const char **why_r)
{
	size_t i = 0, e, eq, vend;
	char key[32];

	if (len > BACKENDQ_OUTPUT_MAX) {
		*why_r = "output too long";
		return -1;
	}
	while (i < len) {
		for (e = i; e < len && text[e] != '\n'; e++)
			;
		vend = e > i && text[e - 1] == '\r' ? e - 1 : e;
		for (eq = i; eq < vend && text[eq] != '='; eq++)
			;
		if (vend > i) {
			if (eq == vend || eq - i >= sizeof(key) || eq == i) {
				*why_r = "output: a line that is not key=value";
				return -1;
			}
			memcpy(key, text + i, eq - i);
			key[eq - i] = '\0';
			if (memchr(key, '\0', eq - i) != NULL ||
			    backendq_field(r, key, eq - i, text + eq + 1, vend - eq - 1, why_r) < 0)
				return -1;
		}
		i = e + 1;
	}
	return 0;
}
