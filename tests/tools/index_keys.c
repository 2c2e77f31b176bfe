/* index_keys - print the keys of one sub-database of an LMDB environment,
 * one per line, opened read-only with our own LMDB (the binaries' libc):
 * Debian's mdb_dump is glibc's LMDB, whose lock-file layout differs, and
 * it can hang on an environment a musl-linked stored has open.
 * Usage: index_keys ENVDIR SUBDB */
#include <stdio.h>
#include <stdlib.h>

#include "../../common/mail/db.h"

static int
print_key(void *ctx, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
	(void)ctx;
	(void)v;
	(void)vl;
	fwrite(k, 1, kl, stdout);
	putchar('\n');
	return 0;
}

int
main(int argc, char **argv)
{
	const char *names[1];
	struct db *db;
	char err[256];

	if (argc != 3) {
		fprintf(stderr, "usage: index_keys ENVDIR SUBDB\n");
		return 2;
	}
	names[0] = argv[2];
	if (db_open(&db, argv[1], 64ULL << 20, 1, names, 1, err, sizeof(err)) < 0) {
		fprintf(stderr, "index_keys: %s\n", err);
		return 1;
	}
	if (db_foreach(db, 0, print_key, NULL) < 0) {
		fprintf(stderr, "index_keys: cannot read %s\n", argv[2]);
		db_close(db);
		return 1;
	}
	db_close(db);
	return 0;
}
