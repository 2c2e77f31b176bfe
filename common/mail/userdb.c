/* userdb.c - user records, name normalisation, password checks. */
#include "userdb.h"

#include <crypt.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/util.h"

/* Layout v1: version u8, flags u32, uid u32, gid u32, quota u64,
 * hash (u16 length + bytes), mailroot (u16 length + bytes). Big-endian.
 * Layout v2: v1's fields, then SCRAM-SHA-256: iterations u32, salt (u8
 * length 1..SCRAM_SALT_MAX + bytes), StoredKey, ServerKey (32 bytes each).
 * Layout v3: v1's fields, a u8 of which follow (bit 0 SCRAM, bit 1 CRAM-MD5,
 * which is always set), v2's tail if SCRAM, then the two CRAM-MD5 states. */
#define SCRAM_TAIL_MAX	(4 + 1 + SCRAM_SALT_MAX + 2 * SCRAM_KEY_LEN)

static void
put_be(uint8_t *p, uint64_t v, int n)
{
	int i;

	for (i = n - 1; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t
get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

long
userdb_user_encode(const struct userdb_user *u, uint8_t *out, size_t outcap)
{
	size_t hl = strlen(u->hash), ml = strlen(u->mailroot);
	size_t need = 1 + 4 + 4 + 4 + 8 + 2 + hl + 2 + ml;
	uint8_t *p = out;

	if (u->has_scram)
		need += 4 + 1 + u->scram.saltlen + 2 * SCRAM_KEY_LEN;
	if (u->has_cram)
		need += 1 + 2 * CRAM_STATE_LEN;
	if (need > outcap || hl > USERDB_HASH_MAX || ml > USERDB_PATH_MAX ||
	    (u->has_scram && (u->scram.saltlen == 0 || u->scram.saltlen > SCRAM_SALT_MAX)))
		return -1;
	*p++ = u->has_cram ? USERDB_REC_VERSION_CRAM : u->has_scram ? USERDB_REC_VERSION_SCRAM :
	    USERDB_REC_VERSION;
	put_be(p, u->flags, 4); p += 4;
	put_be(p, u->uid, 4); p += 4;
	put_be(p, u->gid, 4); p += 4;
	put_be(p, u->quota, 8); p += 8;
	put_be(p, hl, 2); p += 2;
	memcpy(p, u->hash, hl); p += hl;
	put_be(p, ml, 2); p += 2;
	memcpy(p, u->mailroot, ml); p += ml;
	if (u->has_cram)
		*p++ = (uint8_t)((u->has_scram ? 1 : 0) | 2);
	if (u->has_scram) {
		put_be(p, u->scram.iterations, 4); p += 4;
		*p++ = (uint8_t)u->scram.saltlen;
		memcpy(p, u->scram.salt, u->scram.saltlen); p += u->scram.saltlen;
		memcpy(p, u->scram.stored_key, SCRAM_KEY_LEN); p += SCRAM_KEY_LEN;
		memcpy(p, u->scram.server_key, SCRAM_KEY_LEN); p += SCRAM_KEY_LEN;
	}
	if (u->has_cram) {
		memcpy(p, u->cram.inner, CRAM_STATE_LEN); p += CRAM_STATE_LEN;
		memcpy(p, u->cram.outer, CRAM_STATE_LEN); p += CRAM_STATE_LEN;
	}
	return (long)(p - out);
}

static int
get_str(const uint8_t **pp, const uint8_t *end, char *out, size_t max)
{
	size_t l;

	if (end - *pp < 2)
		return -1;
	l = (size_t)get_be(*pp, 2);
	*pp += 2;
	if (l > max || (size_t)(end - *pp) < l || memchr(*pp, '\0', l) != NULL)
		return -1;
	memcpy(out, *pp, l);
	out[l] = '\0';
	*pp += l;
	return 0;
}

/* Layout 2's SCRAM tail. */
static int
get_scram(const uint8_t **pp, const uint8_t *end, struct scram_secrets *s)
{
	const uint8_t *p = *pp;
	size_t sl;

	if (end - p < 5)
		return -1;
	s->iterations = (uint32_t)get_be(p, 4);
	sl = p[4];
	p += 5;
	if (s->iterations < SCRAM_ITER_MIN || s->iterations > SCRAM_ITER_MAX || sl == 0 ||
	    sl > SCRAM_SALT_MAX || (size_t)(end - p) < sl + 2 * SCRAM_KEY_LEN)
		return -1;
	memcpy(s->salt, p, sl);
	s->saltlen = sl;
	p += sl;
	memcpy(s->stored_key, p, SCRAM_KEY_LEN);
	memcpy(s->server_key, p + SCRAM_KEY_LEN, SCRAM_KEY_LEN);
	*pp = p + 2 * SCRAM_KEY_LEN;
	return 0;
}

/* Layout 3's u8: bit 1 set, bit 0 says whether SCRAM follows, no others. */
static int
get_which(const uint8_t **pp, const uint8_t *end, int *scram_r)
{
	if (end - *pp < 1 || (**pp & ~3u) != 0 || !(**pp & 2))
		return -1;
	*scram_r = **pp & 1;
	(*pp)++;
	return 0;
}

static int
get_cram(const uint8_t **pp, const uint8_t *end, struct cram_secret *c)
{
	if (end - *pp < 2 * CRAM_STATE_LEN)
		return -1;
	memcpy(c->inner, *pp, CRAM_STATE_LEN);
	memcpy(c->outer, *pp + CRAM_STATE_LEN, CRAM_STATE_LEN);
	*pp += 2 * CRAM_STATE_LEN;
	return 0;
}

int
userdb_user_decode(struct userdb_user *u, const uint8_t *in, size_t len)
{
	const uint8_t *p = in, *end = in + len;
	int version;

	memset(u, 0, sizeof(*u));
	if (len < 1 + 4 + 4 + 4 + 8 || p[0] < USERDB_REC_VERSION || p[0] > USERDB_REC_VERSION_CRAM)
		return -1;
	version = p[0];
	u->has_scram = version == USERDB_REC_VERSION_SCRAM;
	u->has_cram = version == USERDB_REC_VERSION_CRAM;
	p++;
	u->flags = (uint32_t)get_be(p, 4); p += 4;
	u->uid = (uint32_t)get_be(p, 4); p += 4;
	u->gid = (uint32_t)get_be(p, 4); p += 4;
	u->quota = get_be(p, 8); p += 8;
	if (get_str(&p, end, u->hash, USERDB_HASH_MAX) < 0 ||
	    get_str(&p, end, u->mailroot, USERDB_PATH_MAX) < 0 ||
	    (version == USERDB_REC_VERSION_CRAM && get_which(&p, end, &u->has_scram) < 0) ||
	    (u->has_scram && get_scram(&p, end, &u->scram) < 0) ||
	    (u->has_cram && get_cram(&p, end, &u->cram) < 0) || p != end) {
		memset(u, 0, sizeof(*u));
		return -1;
	}
	if (u->mailroot[0] != '\0' && u->mailroot[0] != '/') {
		memset(u, 0, sizeof(*u));
		return -1;
	}
	return 0;
}

int
userdb_normalize(const uint8_t *name, size_t len, const char *default_domain,
    char out[USERDB_NAME_MAX + 1], const char **why_r)
{
	size_t i, ats = 0, at = 0, dl = strlen(default_domain);

	if (len == 0) {
		*why_r = "empty user name";
		return -1;
	}
	if (!util_utf8_valid(name, len)) {
		*why_r = "user name is not valid UTF-8";
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (name[i] <= 0x20 || name[i] == 0x7f || name[i] == '/' || name[i] == '%') {
			*why_r = "user name has a forbidden character";
			return -1;
		}
		if (name[i] == '@') {
			ats++;
			at = i;
		}
	}
	if (ats > 1 || (ats == 1 && (at == 0 || at == len - 1))) {
		*why_r = "malformed user@domain";
		return -1;
	}
	if (len + (ats ? 0 : 1 + dl) > USERDB_NAME_MAX) {
		*why_r = "user name too long";
		return -1;
	}
	for (i = 0; i < len; i++)
		out[i] = (name[i] >= 'A' && name[i] <= 'Z') ? (char)(name[i] + 32) : (char)name[i];
	if (ats == 0) {
		out[len] = '@';
		for (i = 0; i < dl; i++)
			out[len + 1 + i] = (default_domain[i] >= 'A' && default_domain[i] <= 'Z') ?
			    (char)(default_domain[i] + 32) : default_domain[i];
		len += 1 + dl;
	}
	out[len] = '\0';
	if ((len >= 2 && out[len - 1] == '.') || strstr(out, "@.") != NULL ||
	    strstr(out, "..") != NULL) {
		*why_r = "malformed domain";
		return -1;
	}
	return 0;
}

int
userdb_open(struct db **db_r, const char *path, uint64_t mapsize, int readonly,
    char *err, size_t errlen)
{
	static const char *const names[] = { "users", "domains", "aliases" };

	return db_open(db_r, path, mapsize, readonly, names, 3, err, errlen);
}

/* The alias record at key into canon (a user name), 1; 0 if none or if
 * it has several targets (aliases.h: a recipient's, never a login's), -1
 * if it is malformed or the db fails.  b is the caller's buffer. */
static int
alias_target(struct db *db, const char *key, struct buf *b, char canon[USERDB_NAME_MAX + 1])
{
	int rc = db_get(db, USERDB_DBI_ALIASES, key, strlen(key), b);

	if (rc != 1)
		return rc;
	if (b->len > 0 && memchr(b->data, '\0', b->len) != NULL)
		return 0;
	if (b->len == 0 || b->len > USERDB_NAME_MAX)
		return -1;
	memcpy(canon, b->data, b->len);
	canon[b->len] = '\0';
	return 1;
}

/* The user record of canon, decoded into u: 1, 0 if none, -1. */
static int
user_record(struct db *db, const char *canon, struct buf *b, struct userdb_user *u)
{
	int rc = db_get(db, USERDB_DBI_USERS, canon, strlen(canon), b);

	if (rc == 1 && userdb_user_decode(u, b->data, b->len) < 0)
		rc = -1;
	return rc;
}

int
userdb_lookup(struct db *db, const char *name, struct userdb_user *u,
    char canon[USERDB_NAME_MAX + 1])
{
	struct buf b;
	int rc;

	buf_init(&b, 4096);
	rc = db_get(db, USERDB_DBI_USERS, name, strlen(name), &b);
	if (rc == 0) {
		/* One alias hop: an alias names a user record directly. */
		rc = alias_target(db, name, &b, canon);
		if (rc == 1)
			rc = user_record(db, canon, &b, u);
	} else if (rc == 1) {
		snprintf(canon, USERDB_NAME_MAX + 1, "%s", name);
		if (userdb_user_decode(u, b.data, b.len) < 0)
			rc = -1;
	}
	buf_free(&b, 1);
	return rc;
}

/* crypt pass against hash: 1 match, 0 no match, -1 the hash is unusable
 * (not a "$" setting, or a scheme or parameters crypt does not know). */
static int
crypt_match(const char *hash, const uint8_t *pass, size_t passlen)
{
	struct crypt_data *cd;
	char pw[1024];
	size_t hl = strlen(hash);
	const char *h;
	int r;

	/* "$id$..." (crypt(5)) or a traditional 13-character DES hash, kept
	 * by `user import --allow-weak`; anything else ('!', '*', "") is
	 * locked */
	if (hl == 0 || (hash[0] != '$' && (hl != 13 || strchr(hash, '$') != NULL ||
	    hash[0] == '!' || hash[0] == '*')) || passlen >= sizeof(pw))
		return -1;
	cd = calloc(1, sizeof(*cd));
	if (cd == NULL)
		return -1;
	memcpy(pw, pass, passlen);
	pw[passlen] = '\0';
	h = crypt_r(pw, hash, cd);
	explicit_bzero(pw, sizeof(pw));
	if (h == NULL || h[0] == '*')
		r = -1;
	else
		r = strlen(h) == hl && util_ct_equal(h, hash, hl);
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return r;
}

enum userdb_verdict
userdb_check_login(const struct userdb_user *u, const char *dummy_hash,
    const uint8_t *pass, size_t passlen)
{
	/* crypt cannot take a NUL or an over-long password: a mismatch */
	int bad_pass = passlen >= 1024 || memchr(pass, '\0', passlen) != NULL;
	int r = -1;

	if (u != NULL && !bad_pass)
		r = crypt_match(u->hash, pass, passlen);
	if (r < 0 && dummy_hash != NULL)
		(void)crypt_match(dummy_hash, bad_pass ? (const uint8_t *)"" : pass,
		    bad_pass ? 0 : passlen);
	if (u == NULL)
		return USERDB_UNKNOWN_USER;
	if (bad_pass)
		return USERDB_BAD_PASSWORD;
	if (r < 0)
		return USERDB_BAD_HASH;
	if (r == 0)
		return USERDB_BAD_PASSWORD;
	/* only now, with the right password, may the answer say "disabled" */
	return (u->flags & USERDB_USER_DISABLED) ? USERDB_DISABLED : USERDB_OK;
}

enum userdb_verdict
userdb_check_password(const struct userdb_user *u, const uint8_t *pass, size_t passlen)
{
	return userdb_check_login(u, NULL, pass, passlen);
}

int
userdb_make_dummy_hash(char out[USERDB_HASH_MAX + 1])
{
	uint8_t rnd[16];
	char pw[sizeof(rnd) * 2 + 1];
	size_t i;
	int rc;

	util_random(rnd, sizeof(rnd));
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(pw + 2 * i, 3, "%02x", rnd[i]);
	rc = userdb_hash_password(pw, NULL, out);
	explicit_bzero(pw, sizeof(pw));
	explicit_bzero(rnd, sizeof(rnd));
	return rc;
}

int
userdb_hash_password(const char *pass, const char *prefix, char out[USERDB_HASH_MAX + 1])
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;
	const char *h;
	int rc = -1;

	if (prefix == NULL)
		prefix = "$y$";
	if (crypt_gensalt_rn(prefix, 0, NULL, 0, setting, sizeof(setting)) == NULL)
		return -1;
	cd = calloc(1, sizeof(*cd));
	if (cd == NULL)
		return -1;
	h = crypt_r(pass, setting, cd);
	if (h != NULL && h[0] == '$' && strlen(h) <= USERDB_HASH_MAX) {
		memcpy(out, h, strlen(h) + 1);
		rc = 0;
	}
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return rc;
}

const char *
userdb_verdict_str(enum userdb_verdict v)
{
	switch (v) {
	case USERDB_OK: return "ok";
	case USERDB_UNKNOWN_USER: return "unknown user";
	case USERDB_BAD_PASSWORD: return "wrong password";
	case USERDB_DISABLED: return "account disabled";
	case USERDB_BAD_HASH: return "stored password hash is unusable";
	case USERDB_DB_ERROR: return "user database error";
	}
	return "?";
}

uint32_t
userdb_service_bit(const char *service)
{
	if (!strcmp(service, "pop3") || !strcmp(service, "pop3s"))
		return USERDB_USER_NO_POP3;
	if (!strcmp(service, "imap") || !strcmp(service, "imaps"))
		return USERDB_USER_NO_IMAP;
	if (!strcmp(service, "submission") || !strcmp(service, "submissions"))
		return USERDB_USER_NO_SUBMISSION;
	return 0;
}

void
userdb_services_text(uint32_t flags, char *out, size_t outlen)
{
	static const struct { uint32_t bit; const char *name; } names[] = {
		{ USERDB_USER_NO_POP3, "pop3" }, { USERDB_USER_NO_IMAP, "imap" },
		{ USERDB_USER_NO_SUBMISSION, "submission" },
	};
	size_t i, used = 0;

	out[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((flags & names[i].bit) && used < outlen) {
			int n = snprintf(out + used, outlen - used, "%s%s", used ? "," : "",
			    names[i].name);
			if (n > 0)
				used += (size_t)n;
		}
}

void
userdb_set_scram(struct userdb_user *u, const char *pass, uint32_t iterations)
{
	uint8_t salt[SCRAM_SALT_LEN];

	util_random(salt, sizeof(salt));
	scram_make_secrets((const uint8_t *)pass, strlen(pass), salt, sizeof(salt), iterations,
	    &u->scram);
	u->has_scram = 1;
}
