/* test_userdb.c - user records, names, password checks, LMDB lookups. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../common/mail/userdb.h"
#include "tap.h"

#define U(s) ((const uint8_t *)(s))

static void
sample(struct userdb_user *u)
{
	memset(u, 0, sizeof(*u));
	u->flags = 0x80000001;
	u->uid = 7100;
	u->gid = 0xfffffffe;
	u->quota = 0x0102030405060708ULL;
	snprintf(u->hash, sizeof(u->hash), "$y$j9T$abc$def");
	snprintf(u->mailroot, sizeof(u->mailroot), "/var/mail/example.org/demo");
}

static void
test_record_roundtrip(void)
{
	struct userdb_user a, b;
	uint8_t rec[600];
	long n;

	sample(&a);
	n = userdb_user_encode(&a, rec, sizeof(rec));
	CHECK(n == 1 + 4 + 4 + 4 + 8 + 2 + 14 + 2 + 26, "encode length");
	CHECK(userdb_user_decode(&b, rec, (size_t)n) == 0, "decode");
	CHECK(b.flags == a.flags && b.uid == a.uid && b.gid == a.gid && b.quota == a.quota &&
	    !strcmp(b.hash, a.hash) && !strcmp(b.mailroot, a.mailroot), "roundtrip keeps every field");
	CHECK(userdb_user_encode(&a, rec, (size_t)n - 1) == -1, "encode refuses a short buffer");
	CHECK(userdb_user_encode(&a, rec, (size_t)n) == n, "encode into exact buffer");
	a.mailroot[0] = '\0';
	a.hash[0] = '\0';
	n = userdb_user_encode(&a, rec, sizeof(rec));
	CHECK(userdb_user_decode(&b, rec, (size_t)n) == 0 && b.hash[0] == '\0' && b.mailroot[0] == '\0',
	    "empty strings roundtrip");
	memset(a.hash, 'h', USERDB_HASH_MAX);
	memset(a.mailroot, 'm', USERDB_PATH_MAX);
	a.mailroot[0] = '/';
	n = userdb_user_encode(&a, rec, sizeof(rec));
	CHECK(n > 0 && userdb_user_decode(&b, rec, (size_t)n) == 0 && strlen(b.hash) == USERDB_HASH_MAX &&
	    strlen(b.mailroot) == USERDB_PATH_MAX, "maximum-length strings roundtrip");
}

static void
test_record_refusals(void)
{
	struct userdb_user a, b;
	uint8_t rec[600], bad[601];
	long n;
	size_t i;
	int ok = 1;

	sample(&a);
	n = userdb_user_encode(&a, rec, sizeof(rec));
	for (i = 0; i < (size_t)n; i++) {
		memcpy(bad, rec, i);
		if (userdb_user_decode(&b, bad, i) != -1 || b.uid != 0)
			ok = 0;
	}
	CHECK(ok, "every truncation refused (and the record zeroed)");
	memcpy(bad, rec, (size_t)n);
	bad[n] = 0;
	CHECK(userdb_user_decode(&b, bad, (size_t)n + 1) == -1, "trailing byte refused");
	bad[0] = USERDB_REC_VERSION + 1;
	CHECK(userdb_user_decode(&b, bad, (size_t)n) == -1, "wrong version refused");
	bad[0] = 0;
	CHECK(userdb_user_decode(&b, bad, (size_t)n) == -1, "version 0 refused");
	memcpy(bad, rec, (size_t)n);
	bad[23 + 3] = '\0';	/* inside the hash */
	CHECK(userdb_user_decode(&b, bad, (size_t)n) == -1 && b.hash[0] == '\0', "NUL inside hash refused");
	memcpy(bad, rec, (size_t)n);
	bad[n - 1] = '\0';	/* last byte of the mailroot */
	CHECK(userdb_user_decode(&b, bad, (size_t)n) == -1, "NUL inside mailroot refused");
	memcpy(bad, rec, (size_t)n);
	bad[21] = 0x01;		/* hash length 256 + 14 */
	CHECK(userdb_user_decode(&b, bad, (size_t)n) == -1, "hash length past the record refused");
	snprintf(a.mailroot, sizeof(a.mailroot), "var/mail/demo");
	n = userdb_user_encode(&a, rec, sizeof(rec));
	CHECK(userdb_user_decode(&b, rec, (size_t)n) == -1 && b.mailroot[0] == '\0', "relative mailroot refused");
}

static int
norm(const char *in, size_t len, const char *dom, char *out)
{
	const char *why = NULL;
	int rc = userdb_normalize(U(in), len, dom, out, &why);

	return rc == 0 || why != NULL ? rc : 99;
}

#define N(s, out) norm(s, sizeof(s) - 1, "example.org", out)

static void
test_normalize(void)
{
	char out[USERDB_NAME_MAX + 1], name[300];

	CHECK(N("demo", out) == 0 && !strcmp(out, "demo@example.org"), "adds default domain");
	CHECK(norm("Demo", 4, "Example.ORG", out) == 0 && !strcmp(out, "demo@example.org"),
	    "lower-cases name and default domain");
	CHECK(N("DeMo@Mail.Example.COM", out) == 0 && !strcmp(out, "demo@mail.example.com"), "lower-cases");
	CHECK(N("j\xc3\xb6rg@x.org", out) == 0 && !strcmp(out, "j\xc3\xb6rg@x.org"), "UTF-8 kept");
	CHECK(N("first.last+tag@x.org", out) == 0, "dots and plus in local part");
	CHECK(N("", out) == -1, "empty refused");
	CHECK(N("a@b@c", out) == -1, "two '@' refused");
	CHECK(N("@x", out) == -1, "empty local part refused");
	CHECK(N("x@", out) == -1, "empty domain refused");
	CHECK(N("a b", out) == -1, "space refused");
	CHECK(N("a/b", out) == -1, "'/' refused");
	CHECK(N("a@x/..", out) == -1, "'/' in domain refused");
	CHECK(N("a%b", out) == -1, "'%' refused");
	CHECK(N("a\tb", out) == -1, "tab refused");
	CHECK(N("a\rb", out) == -1, "CR refused");
	CHECK(N("a\x7f", out) == -1, "DEL refused");
	CHECK(N("a\0b", out) == -1, "NUL refused");
	CHECK(N("a\xc3", out) == -1, "invalid UTF-8 refused");
	CHECK(N("a\xc0\xaf" "b", out) == -1, "overlong UTF-8 refused");
	CHECK(N("a@b..c", out) == -1, "'..' in domain refused");
	CHECK(N("a@.b", out) == -1, "domain starting with '.' refused");
	CHECK(N("a@b.", out) == -1, "domain ending with '.' refused");
	CHECK(N("a..b@c", out) == -1, "'..' in local part refused");
	memset(name, 'a', sizeof(name));
	memcpy(name, "a@", 2);
	CHECK(norm(name, USERDB_NAME_MAX, "x", out) == 0 && strlen(out) == USERDB_NAME_MAX,
	    "name of USERDB_NAME_MAX accepted");
	CHECK(norm(name, USERDB_NAME_MAX + 1, "x", out) == -1, "name over USERDB_NAME_MAX refused");
	CHECK(norm(name + 2, USERDB_NAME_MAX - 11, "example.org", out) == -1,
	    "over-long after adding the default domain refused");
	CHECK(norm(name + 2, USERDB_NAME_MAX - 12, "example.org", out) == 0 && strlen(out) == USERDB_NAME_MAX,
	    "exactly USERDB_NAME_MAX after adding the default domain");
}

static void
check_scheme(const char *prefix, const char *want, const char *label)
{
	struct userdb_user u;
	char msg[96];
	int rc;

	memset(&u, 0, sizeof(u));
	rc = userdb_hash_password("s3cret pass", prefix, u.hash);
	snprintf(msg, sizeof(msg), "%s: hash made with prefix %s", label, want);
	CHECK(rc == 0 && !strncmp(u.hash, want, strlen(want)), msg);
	snprintf(msg, sizeof(msg), "%s: right password OK", label);
	CHECK(userdb_check_password(&u, U("s3cret pass"), 11) == USERDB_OK, msg);
	snprintf(msg, sizeof(msg), "%s: wrong password BAD_PASSWORD", label);
	CHECK(userdb_check_password(&u, U("s3cret pasS"), 11) == USERDB_BAD_PASSWORD, msg);
	snprintf(msg, sizeof(msg), "%s: prefix of the password BAD_PASSWORD", label);
	CHECK(userdb_check_password(&u, U("s3cret"), 6) == USERDB_BAD_PASSWORD, msg);
	u.flags = USERDB_USER_DISABLED;
	snprintf(msg, sizeof(msg), "%s: disabled + right password DISABLED", label);
	CHECK(userdb_check_password(&u, U("s3cret pass"), 11) == USERDB_DISABLED, msg);
	snprintf(msg, sizeof(msg), "%s: disabled + wrong password BAD_PASSWORD", label);
	CHECK(userdb_check_password(&u, U("nope"), 4) == USERDB_BAD_PASSWORD, msg);
}

static void
test_passwords(void)
{
	struct userdb_user u;
	char h2[USERDB_HASH_MAX + 1];

	check_scheme(NULL, "$y$", "yescrypt (default)");
	check_scheme("$6$", "$6$", "sha512crypt");
	check_scheme("$2b$", "$2b$", "bcrypt");
	memset(&u, 0, sizeof(u));
	CHECK(userdb_hash_password("pw", NULL, u.hash) == 0 && userdb_hash_password("pw", NULL, h2) == 0 &&
	    strcmp(u.hash, h2) != 0, "salts differ");
	CHECK(userdb_check_password(&u, U("pw\0x"), 4) == USERDB_BAD_PASSWORD, "NUL in password refused");
	CHECK(userdb_check_password(&u, U(""), 0) == USERDB_BAD_PASSWORD, "empty password refused");
	u.hash[0] = '\0';
	CHECK(userdb_check_password(&u, U("pw"), 2) == USERDB_BAD_HASH, "empty hash: BAD_HASH");
	snprintf(u.hash, sizeof(u.hash), "plaintext");
	CHECK(userdb_check_password(&u, U("plaintext"), 9) == USERDB_BAD_HASH, "non-crypt hash: BAD_HASH");
	snprintf(u.hash, sizeof(u.hash), "$zz$nosuchscheme");
	CHECK(userdb_check_password(&u, U("pw"), 2) == USERDB_BAD_HASH, "unknown scheme: BAD_HASH");
	CHECK(userdb_hash_password("pw", "$zz$", h2) == -1, "unknown prefix refused");
	CHECK(!strcmp(userdb_verdict_str(USERDB_DISABLED), "account disabled"), "verdict string");
}

/* Wall-clock ms of the fastest of 3 checks of pw against u, or -1 for a wrong verdict. */
static double
check_ms(const struct userdb_user *u, const char *dummy, const char *pw, enum userdb_verdict want)
{
	double best = 1e9;
	int i;

	for (i = 0; i < 3; i++) {
		struct timespec a, b;
		enum userdb_verdict v;
		double ms;

		clock_gettime(CLOCK_MONOTONIC, &a);
		v = userdb_check_login(u, dummy, U(pw), strlen(pw));
		clock_gettime(CLOCK_MONOTONIC, &b);
		ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
		if (v != want)
			return -1;
		if (ms < best)
			best = ms;
	}
	return best;
}

/* An unknown user, an unusable hash and a wrong password cost the same. */
static void
test_dummy_check(void)
{
	char dummy[USERDB_HASH_MAX + 1];
	struct userdb_user u, bad;
	double real, t;

	CHECK(userdb_make_dummy_hash(dummy) == 0 && strncmp(dummy, "$y$", 3) == 0,
	    "dummy hash: the default scheme");
	memset(&u, 0, sizeof(u));
	CHECK(userdb_hash_password("right", NULL, u.hash) == 0, "a real hash");
	real = check_ms(&u, dummy, "wrong", USERDB_BAD_PASSWORD);
	CHECK(real > 0, "wrong password: BAD_PASSWORD");
	t = check_ms(NULL, dummy, "wrong", USERDB_UNKNOWN_USER);
	CHECK(t >= real / 2, "unknown user: a check of the dummy hash");
	CHECK(check_ms(NULL, NULL, "wrong", USERDB_UNKNOWN_USER) < real / 2,
	    "(without a dummy hash, unknown users answer fast)");
	bad = u;
	snprintf(bad.hash, sizeof(bad.hash), "$zz$nosuchscheme");
	CHECK(check_ms(&bad, dummy, "wrong", USERDB_BAD_HASH) >= real / 2,
	    "unknown scheme: a check of the dummy hash");
	snprintf(bad.hash, sizeof(bad.hash), "plaintext");
	CHECK(check_ms(&bad, dummy, "plaintext", USERDB_BAD_HASH) >= real / 2,
	    "malformed hash: a check of the dummy hash");
	CHECK(check_ms(&u, dummy, "pw\nx", USERDB_BAD_PASSWORD) >= 0, "any password works");
	u.flags = USERDB_USER_DISABLED;
	CHECK(check_ms(&u, dummy, "wrong", USERDB_BAD_PASSWORD) >= real / 2,
	    "disabled, wrong password: 'wrong password', the same cost");
	CHECK(check_ms(&u, dummy, "right", USERDB_DISABLED) >= 0, "disabled only with the right one");
	CHECK(userdb_check_login(NULL, dummy, U("a\0b"), 3) == USERDB_UNKNOWN_USER,
	    "unknown user with a NUL in the password: still 'unknown user'");
}

static char dir[64];
static char dbpath[96];

static int
put_user(struct db *db, const char *name, const char *hash)
{
	struct userdb_user u;
	uint8_t rec[600];
	long n;

	memset(&u, 0, sizeof(u));
	u.uid = 42;
	snprintf(u.hash, sizeof(u.hash), "%s", hash);
	n = userdb_user_encode(&u, rec, sizeof(rec));
	return n < 0 ? -1 : db_put(db, USERDB_DBI_USERS, name, strlen(name), rec, (size_t)n, 0);
}

static int
put_alias(struct db *db, const char *from, const void *to, size_t tolen)
{
	return db_put(db, USERDB_DBI_ALIASES, from, strlen(from), to, tolen, 0);
}

static void
lmdb_fill(struct db *db)
{
	int ok = 1;

	ok &= put_user(db, "demo@example.org", "$y$demo") == 0;
	ok &= put_user(db, "other@example.org", "$y$other") == 0;
	ok &= put_alias(db, "postmaster@example.org", "demo@example.org", 16) == 0;
	ok &= put_alias(db, "chain@example.org", "postmaster@example.org", 22) == 0;
	ok &= put_alias(db, "dangling@example.org", "gone@example.org", 16) == 0;
	ok &= put_alias(db, "empty@example.org", "", 0) == 0;
	ok &= put_alias(db, "nul@example.org", "demo\0x", 6) == 0;
	ok &= db_put(db, USERDB_DBI_USERS, "broken@example.org", 18, "\x01\x02", 2, 0) == 0;
	CHECK(ok, "lmdb: records stored");
	CHECK(db_put(db, USERDB_DBI_USERS, "demo@example.org", 16, "x", 1, 1) == -1,
	    "lmdb: no_overwrite refuses an existing key");
}

static void
lmdb_lookups(struct db *db, const char *label)
{
	struct userdb_user u;
	char canon[USERDB_NAME_MAX + 1], msg[96];

	snprintf(msg, sizeof(msg), "%s: direct user found", label);
	CHECK(userdb_lookup(db, "demo@example.org", &u, canon) == 1 && !strcmp(canon, "demo@example.org") &&
	    !strcmp(u.hash, "$y$demo") && u.uid == 42, msg);
	snprintf(msg, sizeof(msg), "%s: alias hop gives the target record and name", label);
	CHECK(userdb_lookup(db, "postmaster@example.org", &u, canon) == 1 &&
	    !strcmp(canon, "demo@example.org") && !strcmp(u.hash, "$y$demo"), msg);
	snprintf(msg, sizeof(msg), "%s: unknown name is 0", label);
	CHECK(userdb_lookup(db, "nobody@example.org", &u, canon) == 0, msg);
	snprintf(msg, sizeof(msg), "%s: only one alias hop", label);
	CHECK(userdb_lookup(db, "chain@example.org", &u, canon) == 0, msg);
	snprintf(msg, sizeof(msg), "%s: alias to a missing user is 0", label);
	CHECK(userdb_lookup(db, "dangling@example.org", &u, canon) == 0, msg);
	snprintf(msg, sizeof(msg), "%s: empty alias target is an error", label);
	CHECK(userdb_lookup(db, "empty@example.org", &u, canon) == -1, msg);
	snprintf(msg, sizeof(msg), "%s: an alias of several targets is no login name", label);
	CHECK(userdb_lookup(db, "nul@example.org", &u, canon) == 0, msg);
	snprintf(msg, sizeof(msg), "%s: corrupt record is an error", label);
	CHECK(userdb_lookup(db, "broken@example.org", &u, canon) == -1, msg);
}

static void
test_lmdb(void)
{
	struct db *db = NULL;
	char err[256], p[160];

	snprintf(dir, sizeof(dir), "/tmp/postern-test-userdb-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		CHECK(0, "mkdtemp");
		return;
	}
	snprintf(dbpath, sizeof(dbpath), "%s/db", dir);
	CHECK(userdb_open(&db, dbpath, 1 << 20, 0, err, sizeof(err)) == 0, "lmdb: open read-write (creates)");
	if (db == NULL)
		return;
	lmdb_fill(db);
	lmdb_lookups(db, "lmdb");
	db_close(db);
	db = NULL;
	CHECK(userdb_open(&db, dbpath, 1 << 20, 1, err, sizeof(err)) == 0, "lmdb: reopen read-only");
	if (db != NULL) {
		lmdb_lookups(db, "lmdb read-only");
		CHECK(put_user(db, "new@example.org", "$y$x") == -1, "lmdb: read-only refuses writes");
		db_close(db);
	}
	snprintf(p, sizeof(p), "%s/nonexistent", dir);
	CHECK(userdb_open(&db, p, 1 << 20, 1, err, sizeof(err)) == -1 && strstr(err, p) != NULL,
	    "lmdb: missing read-only db fails with the path in err");
	snprintf(p, sizeof(p), "%s/data.mdb", dbpath);
	unlink(p);
	snprintf(p, sizeof(p), "%s/lock.mdb", dbpath);
	unlink(p);
	rmdir(dbpath);
	CHECK(rmdir(dir) == 0, "lmdb: temp dir removed");
}

/* Layout 2: the SCRAM secrets; layout 1 records (no secrets) still read. */
static void
test_record_scram(void)
{
	struct userdb_user a, b;
	uint8_t rec[800], v1[600];
	long n, n1;
	size_t i;
	int ok = 1;

	sample(&a);
	n1 = userdb_user_encode(&a, v1, sizeof(v1));
	CHECK(n1 > 0 && v1[0] == USERDB_REC_VERSION, "no secrets: layout 1 as before");
	CHECK(userdb_user_decode(&b, v1, (size_t)n1) == 0 && !b.has_scram, "layout 1 reads, no secrets");
	userdb_set_scram(&a, "pencil", 4096);
	CHECK(a.has_scram && a.scram.saltlen == SCRAM_SALT_LEN && a.scram.iterations == 4096,
	    "set_scram: a 16-byte salt, the count");
	n = userdb_user_encode(&a, rec, sizeof(rec));
	CHECK(n == n1 + 4 + 1 + SCRAM_SALT_LEN + 2 * SCRAM_KEY_LEN && rec[0] == USERDB_REC_VERSION_SCRAM,
	    "layout 2 length");
	CHECK(userdb_user_decode(&b, rec, (size_t)n) == 0 && b.has_scram &&
	    b.scram.iterations == 4096 && b.scram.saltlen == a.scram.saltlen &&
	    !memcmp(b.scram.salt, a.scram.salt, a.scram.saltlen) &&
	    !memcmp(b.scram.stored_key, a.scram.stored_key, SCRAM_KEY_LEN) &&
	    !memcmp(b.scram.server_key, a.scram.server_key, SCRAM_KEY_LEN) && !strcmp(b.hash, a.hash),
	    "layout 2 roundtrip");
	for (i = 0; i < (size_t)n; i++)
		ok &= userdb_user_decode(&b, rec, i) == -1;
	CHECK(ok, "every truncation of layout 2 refused");
	rec[n1] = 0, rec[n1 + 1] = 0, rec[n1 + 2] = 0x0f, rec[n1 + 3] = 0xff;	/* 4095 rounds */
	CHECK(userdb_user_decode(&b, rec, (size_t)n) == -1, "fewer than 4096 rounds refused");
	n = userdb_user_encode(&a, rec, sizeof(rec));
	rec[n1 + 4] = 0;	/* salt length 0 */
	CHECK(userdb_user_decode(&b, rec, (size_t)n) == -1, "empty salt refused");
	a.scram.saltlen = 0;
	CHECK(userdb_user_encode(&a, rec, sizeof(rec)) == -1, "encode refuses an empty salt");
	v1[0] = USERDB_REC_VERSION_SCRAM;
	CHECK(userdb_user_decode(&b, v1, (size_t)n1) == -1, "layout 2 without its tail refused");
	/* layout 3: a CRAM-MD5 secret, with or without SCRAM's */
	sample(&a);
	a.has_cram = 1;
	memset(a.cram.inner, 0x11, sizeof(a.cram.inner));
	memset(a.cram.outer, 0x22, sizeof(a.cram.outer));
	n = userdb_user_encode(&a, rec, sizeof(rec));
	CHECK(n == n1 + 1 + 2 * CRAM_STATE_LEN && rec[0] == USERDB_REC_VERSION_CRAM &&
	    userdb_user_decode(&b, rec, (size_t)n) == 0 && b.has_cram && !b.has_scram &&
	    !memcmp(&b.cram, &a.cram, sizeof(a.cram)), "layout 3 without SCRAM round-trips");
	userdb_set_scram(&a, "pencil", 5000);
	n = userdb_user_encode(&a, rec, sizeof(rec));
	CHECK(userdb_user_decode(&b, rec, (size_t)n) == 0 && b.has_cram && b.has_scram &&
	    b.scram.iterations == 5000 && !memcmp(&b.cram, &a.cram, sizeof(a.cram)),
	    "layout 3 with SCRAM round-trips");
	rec[n1] = 1;	/* which: SCRAM without the CRAM bit */
	CHECK(userdb_user_decode(&b, rec, (size_t)n) == -1, "layout 3 without its CRAM bit refused");
	rec[n1] = 7;
	CHECK(userdb_user_decode(&b, rec, (size_t)n) == -1, "layout 3 with an unknown bit refused");
}

int
main(void)
{
	test_record_roundtrip();
	test_record_refusals();
	test_record_scram();
	test_normalize();
	test_passwords();
	test_dummy_check();
	test_lmdb();
	return tap_done();
}
