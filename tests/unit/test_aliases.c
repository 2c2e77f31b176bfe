/* test_aliases - alias records with several targets and their expansion
 * against a real LMDB user database: fan-out, nesting, one copy for two
 * paths, loops, depth, the target limit, dangling targets, and the check
 * of an alias before it is stored (over_key). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../common/mail/aliases.h"
#include "tap.h"

static struct aliases_expansion x;
static const struct aliases_limits lim = { .max_targets = 4, .max_depth = 3 };

static void
test_codec(void)
{
	static struct aliases_targets t, got;
	uint8_t rec[ALIASES_RECORD_MAX + 8];
	char text[256];
	long n;
	unsigned i;

	t.n = 2;
	snprintf(t.name[0], sizeof(t.name[0]), "a@example.org");
	snprintf(t.name[1], sizeof(t.name[1]), "b@example.org");
	n = aliases_encode(&t, rec, sizeof(rec));
	CHECK(n == 27 && rec[13] == '\0' && aliases_decode(rec, (size_t)n, &got) == 0 && got.n == 2 &&
	    !strcmp(got.name[1], "b@example.org"), "two targets round-trip, one NUL between");
	CHECK(aliases_decode((const uint8_t *)"a@example.org", 13, &got) == 0 && got.n == 1,
	    "a single-target record is the old record");
	aliases_text(&t, text, sizeof(text));
	CHECK(!strcmp(text, "a@example.org, b@example.org"), "text");
	CHECK(aliases_decode(rec, 0, &got) < 0 && aliases_decode((const uint8_t *)"a\0", 2, &got) < 0 &&
	    aliases_decode((const uint8_t *)"\0a", 2, &got) < 0 &&
	    aliases_decode((const uint8_t *)"a\0\0b", 4, &got) < 0 && got.n == 0,
	    "empty records and empty targets refused");
	memset(rec, 'x', 256);
	CHECK(aliases_decode(rec, 256, &got) < 0 && aliases_decode(rec, 255, &got) == 0,
	    "a target of 255 bytes, not 256");
	for (i = 0; i < ALIASES_TARGETS_MAX + 1; i++) {
		rec[2 * i] = 'a';
		rec[2 * i + 1] = '\0';
	}
	CHECK(aliases_decode(rec, 2 * ALIASES_TARGETS_MAX - 1, &got) == 0 &&
	    got.n == ALIASES_TARGETS_MAX && aliases_decode(rec, 2 * ALIASES_TARGETS_MAX + 1, &got) < 0,
	    "at most ALIASES_TARGETS_MAX targets");
	t.n = 0;
	CHECK(aliases_encode(&t, rec, sizeof(rec)) < 0, "no target: not encoded");
	t.n = 2;
	CHECK(aliases_encode(&t, rec, 20) < 0, "does not fit: not encoded");
}

static int
user(struct db *db, const char *name)
{
	struct userdb_user u;
	uint8_t rec[600];
	long n;

	memset(&u, 0, sizeof(u));
	snprintf(u.hash, sizeof(u.hash), "$y$x");
	n = userdb_user_encode(&u, rec, sizeof(rec));
	return n < 0 ? -1 : db_put(db, USERDB_DBI_USERS, name, strlen(name), rec, (size_t)n, 0);
}

/* An alias of the targets in list, separated by spaces. */
static int
alias(struct db *db, const char *key, const char *list)
{
	static struct aliases_targets t;
	uint8_t rec[ALIASES_RECORD_MAX];
	char copy[1024], *tok, *save = NULL;
	long n;

	snprintf(copy, sizeof(copy), "%s", list);
	for (t.n = 0, tok = strtok_r(copy, " ", &save); tok != NULL; tok = strtok_r(NULL, " ", &save))
		snprintf(t.name[t.n++], sizeof(t.name[0]), "%s", tok);
	n = aliases_encode(&t, rec, sizeof(rec));
	return n < 0 ? -1 : db_put(db, USERDB_DBI_ALIASES, key, strlen(key), rec, (size_t)n, 0);
}

/* The users key reaches, joined by spaces, or the status as a word. */
static const char *
expand(struct db *db, const char *key)
{
	static char out[2048];
	size_t off = 0;
	unsigned i;
	int rc = aliases_expand(db, key, &lim, NULL, NULL, &x);

	if (rc <= 0)
		return rc == 0 ? "none" : rc == ALIASES_LOOP ? "loop" : rc == ALIASES_TOO_DEEP ?
		    "deep" : rc == ALIASES_TOO_MANY ? "many" : "error";
	out[0] = '\0';
	for (i = 0; i < x.n; i++)
		off += (size_t)snprintf(out + off, sizeof(out) - off, "%s%s", i ? " " : "", x.user[i]);
	return out;
}

static void
fill(struct db *db)
{
	int ok = 1;
	const char *u[] = { "a@x", "b@x", "c@x", "d@x", "e@x" };
	unsigned i;

	for (i = 0; i < 5; i++)
		ok &= user(db, u[i]) == 0;
	ok &= alias(db, "team@x", "a@x b@x c@x") == 0;
	ok &= alias(db, "one@x", "a@x") == 0;
	ok &= alias(db, "nest@x", "team@x d@x") == 0;		/* a b c d */
	ok &= alias(db, "diamond@x", "team@x one@x a@x") == 0;	/* a b c, a once */
	ok &= alias(db, "l1@x", "l2@x a@x") == 0;
	ok &= alias(db, "l2@x", "l1@x") == 0;			/* a loop */
	ok &= alias(db, "self@x", "self@x") == 0;
	ok &= alias(db, "d1@x", "d2@x") == 0;
	ok &= alias(db, "d2@x", "d3@x") == 0;
	ok &= alias(db, "d3@x", "d4@x") == 0;
	ok &= alias(db, "d4@x", "e@x") == 0;			/* four aliases deep */
	ok &= alias(db, "d2x@x", "d3@x") == 0;			/* three: d2x d3 d4 */
	ok &= alias(db, "big@x", "nest@x e@x") == 0;		/* five users */
	ok &= alias(db, "half@x", "gone@x b@x") == 0;		/* a dangling target */
	ok &= alias(db, "ghost@x", "gone@x") == 0;
	ok &= alias(db, "wide@x", "team@x team@x") == 0;	/* the same alias twice */
	ok &= db_put(db, USERDB_DBI_ALIASES, "bad@x", 5, "a@x\0\0", 5, 0) == 0;
	ok &= alias(db, "tobad@x", "bad@x") == 0;
	CHECK(ok, "records stored");
}

static void
test_expand(struct db *db)
{
	static struct aliases_targets t;

	CHECK(!strcmp(expand(db, "a@x"), "a@x"), "a user is itself");
	CHECK(!strcmp(expand(db, "nobody@x"), "none"), "neither user nor alias");
	CHECK(!strcmp(expand(db, "one@x"), "a@x"), "one target");
	CHECK(!strcmp(expand(db, "team@x"), "a@x b@x c@x"), "fan-out, in order");
	CHECK(!strcmp(expand(db, "nest@x"), "a@x b@x c@x d@x"), "an alias of an alias");
	CHECK(!strcmp(expand(db, "diamond@x"), "a@x b@x c@x"), "two paths to a user: once");
	CHECK(!strcmp(expand(db, "wide@x"), "a@x b@x c@x"), "the same alias twice: once");
	CHECK(!strcmp(expand(db, "l1@x"), "loop") && strstr(x.why, "alias loop") != NULL,
	    "a loop, said");
	CHECK(!strcmp(expand(db, "self@x"), "loop"), "an alias of itself");
	CHECK(!strcmp(expand(db, "d2x@x"), "e@x"), "three deep at a limit of three");
	CHECK(!strcmp(expand(db, "d1@x"), "deep") && strstr(x.why, "alias_max_depth") != NULL,
	    "four deep at three");
	CHECK(!strcmp(expand(db, "big@x"), "many") && strstr(x.why, "alias_max_targets") != NULL,
	    "five users at a limit of four");
	CHECK(!strcmp(expand(db, "half@x"), "b@x") && x.dangling == 1, "a dangling target skipped");
	CHECK(!strcmp(expand(db, "ghost@x"), "none"), "only dangling targets: none");
	CHECK(!strcmp(expand(db, "tobad@x"), "error") && strstr(x.why, "malformed") != NULL,
	    "a malformed record on the way");
	/* posternctl alias add checks as if the new record were stored */
	t.n = 1;
	snprintf(t.name[0], sizeof(t.name[0]), "l1@x");
	CHECK(aliases_expand(db, "new@x", &lim, "new@x", &t, &x) == ALIASES_LOOP, "a new alias into a loop");
	snprintf(t.name[0], sizeof(t.name[0]), "d4@x");
	CHECK(aliases_expand(db, "d4@x", &lim, "d4@x", &t, &x) == ALIASES_LOOP,
	    "an alias changed to name itself");
	snprintf(t.name[0], sizeof(t.name[0]), "team@x");
	CHECK(aliases_expand(db, "one@x", &lim, "one@x", &t, &x) == ALIASES_FOUND && x.n == 3 &&
	    aliases_expand(db, "diamond@x", &lim, "one@x", &t, &x) == ALIASES_FOUND && x.n == 3,
	    "a parent expanded with the changed record");
	snprintf(t.name[0], sizeof(t.name[0]), "diamond@x");
	CHECK(aliases_expand(db, "team@x", &lim, "team@x", &t, &x) == ALIASES_LOOP,
	    "a change that closes a loop through a parent");
}

int
main(void)
{
	char dir[128], path[192], err[256];
	struct db *db = NULL;

	test_codec();
	if (tap_tmpdir(dir, sizeof(dir), "aliases") < 0)
		return tap_done();
	snprintf(path, sizeof(path), "%s/db", dir);
	CHECK(userdb_open(&db, path, 1 << 20, 0, err, sizeof(err)) == 0, "open");
	if (db != NULL) {
		fill(db);
		test_expand(db);
		db_close(db);
	}
	tap_rmtree(dir);
	return tap_done();
}
