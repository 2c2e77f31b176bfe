/* userimport.c - parsing the user files of Courier, Dovecot and CSV. */
#include "userimport.h"

#include <string.h>

#include "../base/util.h"

/* Bytes allowed in a crypt(3) hash (crypt(5): "./0-9A-Za-z", '$' and the
 * ',' '=' of parameters). */
static int
hash_chars_ok(const char *h, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)h[i];
		if (!(c == '.' || c == '/' || c == '$' || c == ',' || c == '=' ||
		    (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
			return 0;
	}
	return 1;
}

struct crypt_kind {
	const char *prefix;
	const char *scheme;
	enum userimport_strength strength;
};

static const struct crypt_kind crypt_kinds[] = {
	{ "$y$", "yescrypt", USERIMPORT_STRONG },
	{ "$6$", "sha512-crypt", USERIMPORT_STRONG },
	{ "$5$", "sha256-crypt", USERIMPORT_STRONG },
	{ "$2b$", "bcrypt", USERIMPORT_STRONG },
	{ "$2y$", "bcrypt", USERIMPORT_STRONG },
	{ "$2a$", "bcrypt-2a", USERIMPORT_WEAK },	/* the old, buggy variant */
	{ "$1$", "md5-crypt", USERIMPORT_WEAK },
};

/* Dovecot scheme names and the crypt prefix each must carry ("" = any). */
static const struct { const char *name, *prefix; } dovecot_schemes[] = {
	{ "CRYPT", "" }, { "SHA512-CRYPT", "$6$" }, { "SHA256-CRYPT", "$5$" },
	{ "BLF-CRYPT", "$2" }, { "MD5-CRYPT", "$1$" }, { "DES-CRYPT", "" },
};

static int
classify_crypt(const char *h, size_t len, struct userimport_entry *e, const char **why_r)
{
	size_t i;

	if (len == 0) {
		*why_r = "empty password hash";
		return -1;
	}
	if (h[0] == '!' || h[0] == '*') {
		*why_r = "locked account (the hash starts with '!' or '*'): no password to import";
		return -1;
	}
	if (len > USERDB_HASH_MAX || !hash_chars_ok(h, len)) {
		*why_r = "not a crypt(3) hash (bad character or too long)";
		return -1;
	}
	for (i = 0; i < sizeof(crypt_kinds) / sizeof(crypt_kinds[0]); i++) {
		size_t pl = strlen(crypt_kinds[i].prefix);
		if (len > pl && memcmp(h, crypt_kinds[i].prefix, pl) == 0) {
			e->scheme = crypt_kinds[i].scheme;
			e->strength = crypt_kinds[i].strength;
			goto ok;
		}
	}
	/* traditional DES crypt: 2 salt + 11 hash characters, no '$' */
	if (len == 13 && memchr(h, '$', len) == NULL && memchr(h, ',', len) == NULL &&
	    memchr(h, '=', len) == NULL) {
		e->scheme = "des-crypt";
		e->strength = USERIMPORT_WEAK;
		goto ok;
	}
	*why_r = "unknown hash scheme (yescrypt $y$, $6$, $5$, $2b$/$2y$; $1$, $2a$ and DES "
	    "with --allow-weak)";
	return -1;
ok:
	memcpy(e->hash, h, len);
	e->hash[len] = '\0';
	return 0;
}

/* p[0..len) as a string into out (room for max bytes and the NUL): -1 if
 * empty, too long or holding a NUL. */
static int
copy_text(char *out, size_t max, const char *p, size_t len)
{
	if (len == 0 || len > max || memchr(p, '\0', len) != NULL)
		return -1;
	memcpy(out, p, len);
	out[len] = '\0';
	return 0;
}

/* {PLAIN}password: kept to be hashed by the caller. */
static int
take_plain(const char *p, size_t len, struct userimport_entry *e, const char **why_r)
{
	if (copy_text(e->hash, USERDB_HASH_MAX, p, len) < 0) {
		*why_r = "{PLAIN} password empty or too long";
		return -1;
	}
	e->scheme = "plain";
	e->strength = USERIMPORT_PLAIN;
	return 0;
}

int
userimport_hash(const char *text, size_t len, struct userimport_entry *e, const char **why_r)
{
	const char *end;
	size_t nl, i;

	if (len == 0 || text[0] != '{')
		return classify_crypt(text, len, e, why_r);
	end = memchr(text, '}', len);
	if (end == NULL) {
		*why_r = "'{SCHEME}' prefix without '}'";
		return -1;
	}
	nl = (size_t)(end - text) - 1;
	text += nl + 2;
	len -= nl + 2;
	if ((nl == 5 && !memcmp(end - 5, "PLAIN", 5)) || (nl == 9 && !memcmp(end - 9, "CLEARTEXT", 9)))
		return take_plain(text, len, e, why_r);
	for (i = 0; i < sizeof(dovecot_schemes) / sizeof(dovecot_schemes[0]); i++) {
		const char *n = dovecot_schemes[i].name, *pre = dovecot_schemes[i].prefix;
		if (strlen(n) != nl || memcmp(end - nl, n, nl) != 0)
			continue;
		if (len < strlen(pre) || memcmp(text, pre, strlen(pre)) != 0) {
			*why_r = "the hash does not have the form its {SCHEME} prefix names";
			return -1;
		}
		return classify_crypt(text, len, e, why_r);
	}
	*why_r = "Dovecot scheme that crypt(3) cannot check ({SHA}, {SSHA}, {PLAIN-MD5}, "
	    "{CRAM-MD5}...; re-hash with doveadm pw -s SHA512-CRYPT or set a new password)";
	return -1;
}

/* The next field of [*p, end) up to sep; *p moves past the separator. */
static void
next_field(const char **p, const char *end, char sep, const char **f_r, size_t *fl_r)
{
	const char *s = memchr(*p, sep, (size_t)(end - *p));

	*f_r = *p;
	*fl_r = (size_t)((s ? s : end) - *p);
	*p = s ? s + 1 : end;
}

static int
take_name(const char *n, size_t len, struct userimport_entry *e, const char **why_r)
{
	if (copy_text(e->name, USERDB_NAME_MAX, n, len) < 0) {
		*why_r = "empty or over-long user name";
		return -1;
	}
	return 0;
}

/* A uid or gid field: empty (not given) or 1 .. 2^32-2. */
static int
take_id(const char *s, size_t len, uint32_t *out, const char **why_r)
{
	char buf[16];
	uint64_t v;

	if (len == 0)
		return 0;
	if (len >= sizeof(buf)) {
		*why_r = "uid/gid is not a number from 1 to 4294967294";
		return -1;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (util_str_to_u64(buf, 0xfffffffeULL, &v) < 0 || v == 0) {
		*why_r = "uid/gid is not a number from 1 to 4294967294 (0, root, is refused)";
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

/* Quota bytes: digits, with Courier's 'S' suffix and ",NC" count part
 * allowed when courier is set (the count is not kept). */
static int
take_quota(const char *s, size_t len, int courier, uint64_t *out, const char **why_r)
{
	char buf[32];
	size_t n = 0;

	while (n < len && s[n] >= '0' && s[n] <= '9')
		n++;
	if (n == 0 || n >= sizeof(buf) || (n < len && !(courier && s[n] == 'S'))) {
		*why_r = courier ? "quota is not NNNS[,NNNC] (bytes)" : "quota is not a number of bytes";
		return -1;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (util_str_to_u64(buf, UINT64_MAX, out) < 0) {
		*why_r = "quota out of range";
		return -1;
	}
	return 0;
}

static int
take_path(const char *s, size_t len, const char *suffix, char *out, const char **why_r)
{
	size_t sl = strlen(suffix);

	if (len == 0 || s[0] != '/' || len + sl > USERDB_PATH_MAX || memchr(s, '\0', len) != NULL) {
		*why_r = "home/mail is not an absolute path that fits";
		return -1;
	}
	while (len > 1 && s[len - 1] == '/')
		len--;
	memcpy(out, s, len);
	memcpy(out + len, suffix, sl + 1);
	return 0;
}

/* One field=value of a Courier line; mail_seen tells whether mail= (the
 * Maildir) already overrides home=. */
static int
courier_field(const char *f, size_t fl, struct userimport_entry *e, int *have_pw,
    int *mail_seen, const char **why_r)
{
	const char *eq = memchr(f, '=', fl), *v;
	size_t kl, vl;

	if (eq == NULL) {
		*why_r = "field without '=' (fields are name=value, separated by '|')";
		return -1;
	}
	kl = (size_t)(eq - f);
	v = eq + 1;
	vl = fl - kl - 1;
#define KEY(s) (kl == sizeof(s) - 1 && memcmp(f, s, kl) == 0)
	if (KEY("uid"))
		return take_id(v, vl, &e->uid, why_r);
	if (KEY("gid"))
		return take_id(v, vl, &e->gid, why_r);
	if (KEY("quota"))
		return vl == 0 ? 0 : take_quota(v, vl, 1, &e->quota, why_r);
	if (KEY("mail")) {
		*mail_seen = 1;
		return take_path(v, vl, "", e->mailroot, why_r);
	}
	if (KEY("home"))
		return *mail_seen ? 0 : take_path(v, vl, "/Maildir", e->mailroot, why_r);
	if (KEY("systempw") || (KEY("pop3pw") && !*have_pw)) {
		*have_pw = 1;
		return userimport_hash(v, vl, e, why_r);
	}
#undef KEY
	return 0;	/* shell, gecos, imappw, options, ...: not Postern's */
}

/* addr<TAB>field=value|field=value... (makeuserdb(8)); the mail root is
 * mail= or else home=/Maildir, Courier's default. */
static int
parse_courier(const char *p, const char *end, struct userimport_entry *e, const char **why_r)
{
	const char *tab = memchr(p, '\t', (size_t)(end - p)), *f;
	size_t fl;
	int have_pw = 0, mail_seen = 0;

	if (tab == NULL) {
		*why_r = "no TAB after the address";
		return -1;
	}
	if (take_name(p, (size_t)(tab - p), e, why_r) < 0)
		return -1;
	/* mail= wins over home= wherever it stands: look for it first */
	for (p = tab + 1; p < end;) {
		next_field(&p, end, '|', &f, &fl);
		if (fl >= 5 && memcmp(f, "mail=", 5) == 0)
			mail_seen = 1;
	}
	for (p = tab + 1; p < end;) {
		next_field(&p, end, '|', &f, &fl);
		if (fl > 0 && courier_field(f, fl, e, &have_pw, &mail_seen, why_r) < 0)
			return -1;
	}
	if (!have_pw) {
		*why_r = "no systempw= (or pop3pw=) field";
		return -1;
	}
	return 1;
}

/* user:{SCHEME}hash:uid:gid:gecos:home:shell:extra (Dovecot's passwd-file);
 * home is not taken as the mail root (Dovecot's mail_location decides). */
static int
parse_dovecot(const char *p, const char *end, struct userimport_entry *e, const char **why_r)
{
	const char *f;
	size_t fl;

	if (memchr(p, ':', (size_t)(end - p)) == NULL) {
		*why_r = "no ':' after the user name";
		return -1;
	}
	next_field(&p, end, ':', &f, &fl);
	if (take_name(f, fl, e, why_r) < 0)
		return -1;
	next_field(&p, end, ':', &f, &fl);
	if (userimport_hash(f, fl, e, why_r) < 0)
		return -1;
	next_field(&p, end, ':', &f, &fl);
	if (take_id(f, fl, &e->uid, why_r) < 0)
		return -1;
	next_field(&p, end, ':', &f, &fl);
	return take_id(f, fl, &e->gid, why_r) < 0 ? -1 : 1;
}

/* user,hash[,quota]: no quoting (hashes and names hold no comma). */
static int
parse_csv(const char *p, const char *end, struct userimport_entry *e, const char **why_r)
{
	const char *f[3];
	size_t fl[3];
	unsigned n = 0;

	while (p < end && n < 3) {
		next_field(&p, end, ',', &f[n], &fl[n]);
		n++;
	}
	if (p < end || n < 2) {
		*why_r = "not user,hash[,quota] (a CSV line of 2 or 3 fields)";
		return -1;
	}
	if (fl[0] == 4 && !memcmp(f[0], "user", 4))
		return 0;	/* a header line */
	if (take_name(f[0], fl[0], e, why_r) < 0 || userimport_hash(f[1], fl[1], e, why_r) < 0)
		return -1;
	if (n == 3 && fl[2] > 0 && take_quota(f[2], fl[2], 0, &e->quota, why_r) < 0)
		return -1;
	return 1;
}

int
userimport_parse_line(enum userimport_format fmt, const char *line, size_t len,
    struct userimport_entry *e, const char **why_r)
{
	const char *end;
	size_t i = 0;

	memset(e, 0, sizeof(*e));
	if (len > USERIMPORT_LINE_MAX) {
		*why_r = "line too long";
		return -1;
	}
	if (memchr(line, '\0', len) != NULL) {
		*why_r = "NUL byte in line";
		return -1;
	}
	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	while (i < len && line[i] == ' ')
		i++;
	if (i == len || line[i] == '#')
		return 0;
	end = line + len;
	line += i;
	switch (fmt) {
	case USERIMPORT_COURIER:
		return parse_courier(line, end, e, why_r);
	case USERIMPORT_DOVECOT:
		return parse_dovecot(line, end, e, why_r);
	case USERIMPORT_CSV:
		return parse_csv(line, end, e, why_r);
	}
	*why_r = "unknown format";
	return -1;
}
