/* db.c - the LMDB access layer. */
#include "db.h"

#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct db {
	MDB_env *env;
	MDB_dbi dbi[DB_MAX_DBIS];
	unsigned n;
	int readonly;
	int last_rc;
};

const char *
db_strerror(struct db *db)
{
	return mdb_strerror(db->last_rc);
}

/* LMDB marks a process as a live reader with fcntl(F_SETLK) on lock.mdb at
 * its first read transaction, once per environment.  A read-only open has
 * done so already; a read-write one does it here, so that a process that
 * opens before its seccomp filter never needs F_SETLK afterwards. */
static int
claim_reader_lock(MDB_env *env)
{
	MDB_txn *txn;
	int rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);

	if (rc == 0)
		mdb_txn_abort(txn);
	return rc;
}

int
db_open(struct db **db_r, const char *path, uint64_t mapsize, int readonly,
    const char *const *names, unsigned n, char *err, size_t errlen)
{
	struct db *db;
	MDB_txn *txn = NULL;
	unsigned i;
	int rc, dead;

	if (n > DB_MAX_DBIS) {
		snprintf(err, errlen, "too many sub-databases");
		return -1;
	}
	db = calloc(1, sizeof(*db));
	if (db == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	db->n = n;
	db->readonly = readonly;
	if (!readonly && mkdir(path, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(db);
		return -1;
	}
	if ((rc = mdb_env_create(&db->env)) != 0)
		goto fail;
	if ((rc = mdb_env_set_maxdbs(db->env, DB_MAX_DBIS)) != 0 ||
	    (rc = mdb_env_set_mapsize(db->env, (size_t)mapsize)) != 0)
		goto fail;
	rc = mdb_env_open(db->env, path, MDB_NOTLS | (readonly ? MDB_RDONLY : 0), 0600);
	if (rc != 0)
		goto fail;
	/* A reader killed while holding a slot pins pages until this runs. */
	(void)mdb_reader_check(db->env, &dead);
	if ((rc = mdb_txn_begin(db->env, NULL, readonly ? MDB_RDONLY : 0, &txn)) != 0)
		goto fail;
	for (i = 0; i < n; i++) {
		rc = mdb_dbi_open(txn, names[i], readonly ? 0 : MDB_CREATE, &db->dbi[i]);
		if (rc != 0)
			goto fail;
	}
	rc = mdb_txn_commit(txn);
	txn = NULL;	/* committed or freed */
	if (rc != 0 || (!readonly && (rc = claim_reader_lock(db->env)) != 0))
		goto fail;
	*db_r = db;
	return 0;
fail:
	if (txn != NULL)
		mdb_txn_abort(txn);
	snprintf(err, errlen, "%s: %s", path, mdb_strerror(rc));
	if (db->env != NULL)
		mdb_env_close(db->env);
	free(db);
	return -1;
}

void
db_close(struct db *db)
{
	if (db == NULL)
		return;
	mdb_env_close(db->env);
	free(db);
}

static int
txn_begin(struct db *db, unsigned flags, MDB_txn **txn_r)
{
	int rc = mdb_txn_begin(db->env, NULL, flags, txn_r);

	if (rc == MDB_MAP_RESIZED) {
		/* Another process grew the map: adopt its size and retry. */
		mdb_env_set_mapsize(db->env, 0);
		rc = mdb_txn_begin(db->env, NULL, flags, txn_r);
	}
	db->last_rc = rc;
	return rc == 0 ? 0 : -1;
}

int
db_get(struct db *db, unsigned i, const void *key, size_t klen, struct buf *out)
{
	MDB_txn *txn;
	MDB_val k = { klen, (void *)(uintptr_t)key }, v;
	int rc, ret;

	buf_reset(out);
	if (i >= db->n || klen == 0 || klen > 511)
		return -1;
	if (txn_begin(db, MDB_RDONLY, &txn) < 0)
		return -1;
	rc = mdb_get(txn, db->dbi[i], &k, &v);
	db->last_rc = rc;
	if (rc == MDB_NOTFOUND)
		ret = 0;
	else if (rc != 0)
		ret = -1;
	else
		ret = buf_append(out, v.mv_data, v.mv_size) < 0 ? -1 : 1;
	mdb_txn_abort(txn);
	return ret;
}

int
db_put(struct db *db, unsigned i, const void *key, size_t klen,
    const void *val, size_t vlen, int no_overwrite)
{
	MDB_txn *txn;
	MDB_val k = { klen, (void *)(uintptr_t)key }, v = { vlen, (void *)(uintptr_t)val };
	int rc;

	if (i >= db->n || klen == 0 || klen > 511)
		return -1;
	if (txn_begin(db, 0, &txn) < 0)
		return -1;
	rc = mdb_put(txn, db->dbi[i], &k, &v, no_overwrite ? MDB_NOOVERWRITE : 0);
	if (rc != 0) {
		mdb_txn_abort(txn);
		db->last_rc = rc;
		errno = rc == MDB_KEYEXIST ? EEXIST : EIO;
		return -1;
	}
	rc = mdb_txn_commit(txn);
	db->last_rc = rc;
	return rc == 0 ? 0 : -1;
}

/* n puts or deletes in one write transaction (absent keys are skipped on
 * delete). */
static int
batch(struct db *db, unsigned i, const struct db_kv *kv, size_t n, int del)
{
	MDB_txn *txn;
	size_t j;
	int rc = 0;

	if (i >= db->n)
		return -1;
	if (n == 0)
		return 0;
	if (txn_begin(db, 0, &txn) < 0)
		return -1;
	for (j = 0; j < n && (rc == 0 || (del && rc == MDB_NOTFOUND)); j++) {
		MDB_val k = { kv[j].kl, (void *)(uintptr_t)kv[j].k };
		MDB_val v = { kv[j].vl, (void *)(uintptr_t)kv[j].v };
		if (k.mv_size == 0 || k.mv_size > 511)
			rc = EINVAL;
		else
			rc = del ? mdb_del(txn, db->dbi[i], &k, NULL) : mdb_put(txn, db->dbi[i], &k, &v, 0);
	}
	if (rc != 0 && !(del && rc == MDB_NOTFOUND)) {
		mdb_txn_abort(txn);
		db->last_rc = rc;
		return -1;
	}
	rc = mdb_txn_commit(txn);
	db->last_rc = rc;
	return rc == 0 ? 0 : -1;
}

int
db_put_batch(struct db *db, unsigned i, const struct db_kv *kv, size_t n)
{
	return batch(db, i, kv, n, 0);
}

int
db_del_batch(struct db *db, unsigned i, const struct db_kv *kv, size_t n)
{
	return batch(db, i, kv, n, 1);
}

int
db_del(struct db *db, unsigned i, const void *key, size_t klen)
{
	MDB_txn *txn;
	MDB_val k = { klen, (void *)(uintptr_t)key };
	int rc;

	if (i >= db->n || klen == 0 || klen > 511)
		return -1;
	if (txn_begin(db, 0, &txn) < 0)
		return -1;
	rc = mdb_del(txn, db->dbi[i], &k, NULL);
	if (rc == MDB_NOTFOUND) {
		mdb_txn_abort(txn);
		return 0;
	}
	if (rc != 0) {
		mdb_txn_abort(txn);
		db->last_rc = rc;
		return -1;
	}
	rc = mdb_txn_commit(txn);
	db->last_rc = rc;
	return rc == 0 ? 1 : -1;
}

int
db_foreach(struct db *db, unsigned i,
    int (*fn)(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl), void *ctx)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	if (i >= db->n || txn_begin(db, MDB_RDONLY, &txn) < 0)
		return -1;
	if ((rc = mdb_cursor_open(txn, db->dbi[i], &cur)) != 0) {
		mdb_txn_abort(txn);
		db->last_rc = rc;
		return -1;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (fn(ctx, k.mv_data, k.mv_size, v.mv_data, v.mv_size) != 0)
			break;
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return (rc == 0 || rc == MDB_NOTFOUND) ? 0 : -1;
}

int
db_update(struct db *db, unsigned i, const void *key, size_t klen,
    int (*fn)(void *ctx, const uint8_t *v, size_t vl, struct buf *out), void *ctx)
{
	MDB_txn *txn;
	MDB_val k = { klen, (void *)(uintptr_t)key }, v;
	struct buf nv;
	int rc, ret = -1;

	if (i >= db->n || klen == 0 || klen > 511)
		return -1;
	if (txn_begin(db, 0, &txn) < 0)
		return -1;
	buf_init(&nv, 1U << 20);
	rc = mdb_get(txn, db->dbi[i], &k, &v);
	db->last_rc = rc;
	if (rc == MDB_NOTFOUND)
		ret = 0;
	if (rc != 0 || fn(ctx, v.mv_data, v.mv_size, &nv) < 0)
		goto out;
	v.mv_size = nv.len;
	v.mv_data = nv.data;
	if ((rc = mdb_put(txn, db->dbi[i], &k, &v, 0)) == 0) {
		rc = mdb_txn_commit(txn);
		txn = NULL;
	}
	db->last_rc = rc;
	ret = rc == 0 ? 1 : -1;
out:
	if (txn != NULL)
		mdb_txn_abort(txn);
	buf_free(&nv, 1);
	return ret;
}

int
db_copy(struct db *db, const char *dir)
{
	db->last_rc = mdb_env_copy2(db->env, dir, MDB_CP_COMPACT);
	return db->last_rc == 0 ? 0 : -1;
}

int
db_txn_begin(struct db *db, int readonly, MDB_txn **txn_r)
{
	return txn_begin(db, readonly ? MDB_RDONLY : 0, txn_r);
}

unsigned
db_dbi(const struct db *db, unsigned i)
{
	return i < db->n ? db->dbi[i] : 0;
}

void
db_set_rc(struct db *db, int rc)
{
	db->last_rc = rc;
}
