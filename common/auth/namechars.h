/* namechars.h - which bytes a login name may have (auth_username_chars,
 * auth_username_utf8, auth_username_max), checked before any lookup.
 *
 * A name with any other byte never reaches a backend: the LDAP filter,
 * the SQL text or the shell of a checkpassword program cannot be given a
 * '*', a quote, a NUL or a line break through it (Dovecot's
 * CVE-2026-24031, Courier's CVE-2008-2380).  Pure.
 */
#ifndef POSTERN_NAMECHARS_H
#define POSTERN_NAMECHARS_H

#include <stddef.h>
#include <stdint.h>

#define NAMECHARS_DEFAULT	"a-zA-Z0-9._@+-"
#define NAMECHARS_SPEC_MAX	255

struct namechars {
	uint8_t map[32];	/* bit per byte value: allowed */
	size_t max;		/* bytes of a name as the client sends it */
};

enum namechars_verdict {
	NAMECHARS_OK = 0,
	NAMECHARS_CHARS = 1,	/* a byte outside the set */
	NAMECHARS_LENGTH = 2,	/* empty, or longer than max */
};

/* Compile spec: printable ASCII characters, "x-y" a range (x <= y), a
 * '-' first or last stands for itself.  utf8: bytes 0x80-0xff are
 * allowed too (userdb_normalize still demands valid UTF-8).  max: the
 * length limit (1..255).  Returns 0, or -1 with *why_r. */
int namechars_parse(const char *spec, int utf8, uint64_t max, struct namechars *nc,
    const char **why_r);

/* Whether name (len bytes, untrusted) passes. */
enum namechars_verdict namechars_check(const struct namechars *nc, const uint8_t *name,
    size_t len);

#endif
