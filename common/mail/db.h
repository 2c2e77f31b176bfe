/* db.h - the LMDB access layer.
 *
 * One environment per owner process (opened after fork, MDB_NOTLS), named
 * sub-databases, short transactions, values copied out before the
 * transaction ends.  Stale readers left by killed processes are cleared at
 * open (mdb_reader_check), and MDB_MAP_RESIZED is handled by re-reading the
 * map size.
 */
#ifndef POSTERN_DB_H
#define POSTERN_DB_H

#include <stddef.h>
#include <stdint.h>

#include "../base/buf.h"

#define DB_MAX_DBIS 8

struct db;

/* Open (creating when !readonly) the environment in directory path with the
 * named sub-databases names[0..n).  Returns 0 and *db_r, or -1 with err. */
int db_open(struct db **db_r, const char *path, uint64_t mapsize, int readonly,
    const char *const *names, unsigned n, char *err, size_t errlen);
void db_close(struct db *db);

/* Look key up in sub-database i and copy the value into out (reset first).
 * Returns 1 found, 0 not found, -1 error. */
int db_get(struct db *db, unsigned i, const void *key, size_t klen, struct buf *out);

/* Store or replace key. Returns 0 or -1. With no_overwrite, an existing key
 * gives -1 with errno EEXIST. */
int db_put(struct db *db, unsigned i, const void *key, size_t klen,
    const void *val, size_t vlen, int no_overwrite);

struct db_kv {
	const void *k;
	size_t kl;
	const void *v;
	size_t vl;
};

/* Store n records in one write transaction. Returns 0 or -1. */
int db_put_batch(struct db *db, unsigned i, const struct db_kv *kv, size_t n);

/* Delete n keys (kv[].k/kl; values ignored) in one write transaction;
 * absent keys are skipped. Returns 0 or -1. */
int db_del_batch(struct db *db, unsigned i, const struct db_kv *kv, size_t n);

/* Delete key. Returns 1 deleted, 0 not found, -1 error. */
int db_del(struct db *db, unsigned i, const void *key, size_t klen);

/* Call fn for every record in key order (inside one read transaction; fn
 * must copy what it keeps). Stops early if fn returns non-zero. Returns 0/-1. */
int db_foreach(struct db *db, unsigned i,
    int (*fn)(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl), void *ctx);

/* Read-modify-write of key in one write transaction: fn gets the current
 * value (valid only during the call) and writes the new one into out, or
 * returns -1 to change nothing.  Returns 1 updated, 0 not found (fn not
 * called), -1 error or refused by fn. */
int db_update(struct db *db, unsigned i, const void *key, size_t klen,
    int (*fn)(void *ctx, const uint8_t *v, size_t vl, struct buf *out), void *ctx);

/* A compacted, consistent copy (one read transaction: writers may go on)
 * of the environment into the existing, empty directory dir, as data.mdb
 * created with mode 0666 & ~umask.  Returns 0 or -1 (db_strerror). */
int db_copy(struct db *db, const char *dir);

/* For a module that needs many operations in one transaction (the mail
 * index, mindex.c) and so uses lmdb.h itself: begin a transaction on db's
 * environment (MDB_MAP_RESIZED handled as above; the caller commits or
 * aborts it), and the handle (an MDB_dbi) of sub-database i.  Returns 0 or
 * -1 (db_strerror). */
struct MDB_txn;
int db_txn_begin(struct db *db, int readonly, struct MDB_txn **txn_r);
unsigned db_dbi(const struct db *db, unsigned i);

/* Remember an LMDB return code of such a caller for db_strerror. */
void db_set_rc(struct db *db, int rc);

/* Last LMDB error text, for logs. */
const char *db_strerror(struct db *db);

#endif
