/* userimport.h - lines of other servers' user files, for `posternctl user
 * import`: a Courier userdb file (as makeuserdb reads it), a Dovecot
 * passwd-file, and a CSV of user,hash[,quota].  Pure (no I/O, no globals):
 * a line in, one entry or a reason out.  The name is returned as written;
 * the caller normalises it (userdb_normalize) and stores the record. */
#ifndef POSTERN_USERIMPORT_H
#define POSTERN_USERIMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "userdb.h"

#define USERIMPORT_LINE_MAX	4096

enum userimport_format {
	USERIMPORT_COURIER,	/* addr<TAB>uid=N|gid=N|home=DIR|mail=DIR|systempw=HASH|quota=NS */
	USERIMPORT_DOVECOT,	/* user:{SCHEME}hash:uid:gid:gecos:home:shell:extra */
	USERIMPORT_CSV,		/* user,hash[,quota] */
};

/* How strong a stored password is. */
enum userimport_strength {
	USERIMPORT_STRONG,	/* yescrypt, sha512-crypt, sha256-crypt, bcrypt $2b$/$2y$ */
	USERIMPORT_WEAK,	/* md5-crypt, DES crypt, bcrypt $2a$: crypt(3) checks them */
	USERIMPORT_PLAIN,	/* Dovecot {PLAIN}: the password itself, to be hashed */
};

struct userimport_entry {
	char name[USERDB_NAME_MAX + 1];
	/* the crypt(3) hash with any Dovecot {SCHEME} prefix removed, or for
	 * USERIMPORT_PLAIN the password */
	char hash[USERDB_HASH_MAX + 1];
	const char *scheme;		/* "yescrypt", "sha512-crypt", ... (static) */
	enum userimport_strength strength;
	uint32_t uid, gid;		/* 0 = not given */
	uint64_t quota;			/* bytes, 0 = none or not given */
	char mailroot[USERDB_PATH_MAX + 1];	/* "" = not given */
};

/* Parse one line (len bytes, no newline; untrusted) of format f into e.
 * Returns 1 with e filled, 0 for a line without an entry (blank, a '#'
 * comment, a CSV header "user,hash..."), or -1 with a static reason in
 * *why_r (malformed line, unknown field, a hash scheme Postern cannot
 * check, a locked or empty password, a value out of range). */
int userimport_parse_line(enum userimport_format f, const char *line, size_t len,
    struct userimport_entry *e, const char **why_r);

/* Classify a stored password (Dovecot "{SCHEME}" prefix allowed; it is
 * checked against the hash and removed) into e->hash, e->scheme and
 * e->strength.  Returns 0, or -1 with a static reason. */
int userimport_hash(const char *text, size_t len, struct userimport_entry *e,
    const char **why_r);

#endif
