/* test_db.c - db_update (read-modify-write in one transaction) and
 * db_copy (a compact, consistent copy) on a real LMDB environment. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/mail/db.h"
#include "tap.h"

static const char *const names[] = { "one", "two" };

/* Appends "+" to the value; refuses a value "stop". */
static int
append_plus(void *ctx, const uint8_t *v, size_t vl, struct buf *out)
{
	int *calls = ctx;

	(*calls)++;
	if (vl == 4 && !memcmp(v, "stop", 4))
		return -1;
	if (buf_append(out, v, vl) < 0 || buf_append(out, "+", 1) < 0)
		return -1;
	return 0;
}

static int
value_is(struct db *db, unsigned i, const char *key, const char *want)
{
	struct buf b;
	int ok;

	buf_init(&b, 4096);
	ok = db_get(db, i, key, strlen(key), &b) == 1 && b.len == strlen(want) &&
	    !memcmp(b.data, want, b.len);
	buf_free(&b, 0);
	return ok;
}

static void
test_update(struct db *db)
{
	int calls = 0;

	CHECK(db_put(db, 0, "k", 1, "v", 1, 1) == 0, "put");
	CHECK(db_update(db, 0, "k", 1, append_plus, &calls) == 1 && calls == 1, "update found");
	CHECK(value_is(db, 0, "k", "v+"), "update wrote the new value");
	CHECK(db_update(db, 0, "k", 1, append_plus, &calls) == 1 && value_is(db, 0, "k", "v++"),
	    "a second update sees the first");
	CHECK(db_update(db, 0, "absent", 6, append_plus, &calls) == 0 && calls == 2,
	    "unknown key: 0, callback not called");
	CHECK(db_put(db, 0, "s", 1, "stop", 4, 1) == 0, "put stop");
	CHECK(db_update(db, 0, "s", 1, append_plus, &calls) == -1 && value_is(db, 0, "s", "stop"),
	    "a refusing callback changes nothing");
	CHECK(db_update(db, 1, "k", 1, append_plus, &calls) == 0, "other sub-database untouched");
	CHECK(db_update(db, 9, "k", 1, append_plus, &calls) == -1, "bad sub-database index");
	CHECK(db_update(db, 0, "", 0, append_plus, &calls) == -1, "empty key");
}

static void
test_copy(struct db *db, const char *dir)
{
	char copy[512], file[600], err[256];
	struct db *c = NULL;
	struct stat st;

	snprintf(copy, sizeof(copy), "%s/copy", dir);
	CHECK(mkdir(copy, 0700) == 0, "mkdir copy");
	umask(077);
	CHECK(db_copy(db, copy) == 0, "copy");
	snprintf(file, sizeof(file), "%s/data.mdb", copy);
	CHECK(stat(file, &st) == 0 && (st.st_mode & 077) == 0, "copy not readable by others");
	CHECK(db_copy(db, copy) == -1, "no copy over an existing data.mdb");
	CHECK(db_open(&c, copy, 1 << 20, 0, names, 2, err, sizeof(err)) == 0, "copy opens");
	if (c != NULL) {
		CHECK(value_is(c, 0, "k", "v++") && value_is(c, 0, "s", "stop"), "copy has the data");
		db_close(c);
	}
}

int
main(void)
{
	char dir[] = "/tmp/postern-test-db-XXXXXX", path[64], err[256], cmd[128];
	struct db *db = NULL;

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/env", dir);
	CHECK(db_open(&db, path, 1 << 20, 0, names, 2, err, sizeof(err)) == 0, "open");
	if (db != NULL) {
		test_update(db);
		test_copy(db, dir);
		db_close(db);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	return tap_done();
}
