/* aliases.h - alias records with several targets, and their expansion.
 *
 * An alias record (the "aliases" sub-database of the user database, key:
 * an address, "@domain" for a catch-all or a bare local part for a system
 * alias) holds its targets, normalised names separated by one NUL, none
 * empty, at most ALIASES_TARGETS_MAX; a record of one target is the
 * single-target record of before.  A target is a user or another alias
 * (Courier's and Postfix's aliases nest).
 *
 * Expansion, for recipient lookups only (a login follows one hop to one
 * user, userdb_lookup): depth first with an explicit stack, no recursion;
 * an alias already on the path is a loop, one already expanded through
 * another path is not expanded again, so every user reached is named once
 * however many paths reach it.  Limits: max_depth aliases in a chain,
 * max_targets users in all, ALIASES_VISITED_MAX aliases in all.
 */
#ifndef POSTERN_ALIASES_H
#define POSTERN_ALIASES_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "userdb.h"

#define ALIASES_TARGETS_MAX	32	/* of one record and of one expansion (the
					 * lookup reply's bound: authdproto.h) */
#define ALIASES_DEPTH_MAX	16	/* aliases in one chain */
#define ALIASES_VISITED_MAX	256	/* aliases one expansion may read */
#define ALIASES_RECORD_MAX	(ALIASES_TARGETS_MAX * (USERDB_NAME_MAX + 1))
#define ALIASES_WHY_MAX		(3 * USERDB_NAME_MAX + 64)

struct aliases_targets {
	unsigned n;
	char name[ALIASES_TARGETS_MAX][USERDB_NAME_MAX + 1];
};

/* Encode t as a record into out (capacity outcap).  Returns the length, or
 * -1 when t is empty, has an empty or over-long name, or does not fit. */
long aliases_encode(const struct aliases_targets *t, uint8_t *out, size_t outcap);

/* Decode a record (pure; bytes from the database).  Returns 0 with t, or
 * -1 for an empty record, an empty target (two NULs, a NUL at either
 * end), a target over USERDB_NAME_MAX or more than ALIASES_TARGETS_MAX. */
int aliases_decode(const uint8_t *rec, size_t len, struct aliases_targets *t);

/* Render t as "a, b, c" into out (for listings). */
void aliases_text(const struct aliases_targets *t, char *out, size_t outlen);

enum aliases_status {
	ALIASES_FOUND = 1,	/* x->n >= 1 users */
	ALIASES_NONE = 0,	/* no user and no alias of that name, or no user behind it */
	ALIASES_DB_ERROR = -1,
	ALIASES_BAD_RECORD = -2,
	ALIASES_LOOP = -3,
	ALIASES_TOO_DEEP = -4,
	ALIASES_TOO_MANY = -5,
};

struct aliases_limits {
	unsigned max_targets;	/* users, 1..ALIASES_TARGETS_MAX */
	unsigned max_depth;	/* aliases in a chain, 1..ALIASES_DEPTH_MAX */
};

struct aliases_expansion {
	unsigned n;
	char user[ALIASES_TARGETS_MAX][USERDB_NAME_MAX + 1];
	unsigned dangling;	/* targets that are neither a user nor an alias (skipped) */
	char why[ALIASES_WHY_MAX];	/* not FOUND/NONE: what, for log lines and posternctl */
};

/* Where mail for key goes: key itself when it is a user; else the users
 * its alias record reaches.  With over_key, the record of that key is
 * taken to be over (posternctl alias add checks an alias before it is
 * stored).  Returns an enum aliases_status; not thread-safe (its stack is
 * static: authd and posternctl are single-threaded). */
int aliases_expand(struct db *db, const char *key, const struct aliases_limits *lim,
    const char *over_key, const struct aliases_targets *over, struct aliases_expansion *x);

#endif
