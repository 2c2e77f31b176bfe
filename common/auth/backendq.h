/* backendq.h - the pure parts of the external backends (docs/AUTH.md
 * "Backends"): the chain's names (auth_backends), the SQL query text with
 * named parameters, and the decoder of one user's fields as a backend
 * gives them (a PostgreSQL row by column name, a checkpassword program's
 * key=value lines).  No I/O; each fuzzed (fuzz/fuzz_backendq.c). */
#ifndef POSTERN_BACKENDQ_H
#define POSTERN_BACKENDQ_H

#include <stddef.h>
#include <stdint.h>

#include "../ipc/backendproto.h"

/* The backends a chain may name. */
enum backendq_kind {
	BACKENDQ_USERDB = 1,	/* the LMDB user db, in authd */
	BACKENDQ_PGSQL,		/* postern-auth-pgsql */
	BACKENDQ_CHECKPW,	/* postern-auth-checkpw */
	BACKENDQ_LDAP,		/* postern-auth-ldap */
};
#define BACKENDQ_CHAIN_MAX	4
#define BACKENDQ_KIND_MAX	BACKENDQ_LDAP

/* Parse auth_backends (blanks or commas between names; Courier's
 * authmodulelist names authuserdb and authpgsql are the same as userdb and
 * pgsql, authldap as ldap; checkpw or checkpassword).  out[] gets the
 * kinds in order, *n_r their number.  Returns 0, or -1 with *why_r: an
 * unknown name, one that is not in this release (pam), a name twice,
 * none, or too many. */
int backendq_chain(const char *text, enum backendq_kind out[BACKENDQ_CHAIN_MAX], size_t *n_r,
    const char **why_r);
/* The name of a kind ("userdb", "pgsql", "checkpw", "ldap"). */
const char *backendq_name(enum backendq_kind k);

/* The named parameters of a query. */
enum backendq_param {
	BACKENDQ_P_LOGIN,	/* $login: the normalised name, local@domain */
	BACKENDQ_P_LOCAL,	/* $local: the part before the last '@' */
	BACKENDQ_P_DOMAIN,	/* $domain: the part after it ("" if none) */
	BACKENDQ_P_SERVICE,	/* $service: imap, pop3, ... ("" for a recipient lookup) */
};
#define BACKENDQ_PARAMS_MAX	8	/* a parameter may appear more than once */
#define BACKENDQ_QUERY_MAX	1024	/* CONFIG_PATH_MAX: a config value */

/* Translate query (NUL-terminated) into out (cap bytes), every $name
 * becoming $1, $2, ... in order of appearance, and order[i] the
 * parameter of $i+1.  A '$' inside a '...' literal, a "..." identifier or
 * a $$ / $tag$ dollar-quoted string is left alone; '$' followed by a digit
 * (a positional parameter) is refused, so the values are only ever bound,
 * never spliced.  Returns the number of parameters, or -1 with *why_r: an
 * unknown name, an unterminated quote, too many parameters, too long. */
int backendq_translate(const char *query, char *out, size_t cap,
    enum backendq_param order[BACKENDQ_PARAMS_MAX], const char **why_r);

/* The value of parameter p for the normalised name (and service) into
 * out (cap bytes, NUL-terminated).  Returns 0, or -1 (too long). */
int backendq_value(enum backendq_param p, const char *name, const char *service, char *out,
    size_t cap);

/* An LDAP filter or DN from template (NUL-terminated), every $login,
 * $local, $domain, $service replaced by its value for name and service,
 * escaped for a filter (dn 0: RFC 4515) or a DN attribute value (dn 1:
 * RFC 4514), into out (cap bytes).  Returns 0, or -1 with *why_r: an
 * unknown name, or too long.  With name NULL it only checks the template. */
int backendq_ldap_expand(const char *template_, int dn, const char *name, const char *service,
    char *out, size_t cap, const char **why_r);

/* Start decoding one user's fields into r (status FOUND, user = name). */
void backendq_fields_init(struct backend_reply *r, const char *name);
/* One field, by name (ASCII case ignored; unknown names are ignored):
 *   user / login     the user's name: must be the name asked for (ASCII
 *                     case ignored): a backend answers for that name only
 *   password / hash / crypt / userPassword   the crypt hash (only for a
 *                     non-verifying backend; an LDAP "{CRYPT}" prefix is dropped)
 *   mail_root / maildir / home / homeDirectory / mailMessageStore
 *                     an absolute canonical path
 *   uid, gid (uidNumber, gidNumber)  decimal, 1..4294967294 (0 or empty:
 *                     mail_uid/mail_gid)
 *   quota / mailQuota bytes, decimal, or Courier's "NS" maildirsize form
 *   options           Courier's useroptions: disableimap=1, disablepop3=1,
 *                     disablesubmission=1 (or disablesmtp=1), disabled=1,
 *                     comma separated
 * val is vlen bytes (not NUL-terminated).  Returns 0, or -1 with *why_r
 * (a value too long, a NUL or control byte in it, not a number, not a
 * canonical path, a bad option). */
int backendq_field(struct backend_reply *r, const char *key, size_t klen, const uint8_t *val,
    size_t vlen, const char **why_r);

/* A checkpassword program's standard output (optional): lines of
 * key=value as backendq_field takes them, at most BACKENDQ_OUTPUT_MAX
 * bytes.  Returns 0, or -1 with *why_r. */
#define BACKENDQ_OUTPUT_MAX	4096
int backendq_lines(struct backend_reply *r, const uint8_t *text, size_t len, const char **why_r);

#endif
