/* ldapesc.h - the escaping of values put into LDAP filters (RFC 4515 3)
 * and distinguished names (RFC 4514 2.4), and the reverse, for the LDAP
 * backend: a login name never changes the structure of a filter or a DN
 * it is put into.  Pure; fuzzed as a round trip (fuzz/fuzz_ldapesc.c). */
#ifndef POSTERN_LDAPESC_H
#define POSTERN_LDAPESC_H

#include <stddef.h>
#include <stdint.h>

/* Escape len bytes of v for a filter's assertion value into out (cap
 * bytes, NUL-terminated): NUL, '(', ')', '*', '\' and every byte outside
 * 0x21..0x7e become \XX (two hex digits).  Returns the length, or -1 if
 * it does not fit (at most 3 * len + 1 bytes are needed). */
long ldapesc_filter(const uint8_t *v, size_t len, char *out, size_t cap);

/* Escape len bytes of v as one attribute value of a DN into out: '"',
 * '+', ',', ';', '<', '>', '=', '\', a '#' or blank first, a blank last,
 * and every byte outside 0x21..0x7e become \XX.  Returns the length, or
 * -1 if it does not fit. */
long ldapesc_dn(const uint8_t *v, size_t len, char *out, size_t cap);

/* The reverse of ldapesc_filter: \XX to a byte, every other byte as it
 * is; a '\' without two hex digits, or an unescaped NUL, '(', ')' or '*',
 * is an error.  Returns the length written to out (cap bytes), or -1. */
long ldapesc_filter_unescape(const char *s, size_t len, uint8_t *out, size_t cap);

/* The reverse of ldapesc_dn: \XX or '\' and one of the special
 * characters to that byte; an unescaped special character (RFC 4514 3:
 * '"', '+', ',', ';', '<', '>', '\', NUL) or a lone '\' is an error.
 * Returns the length, or -1. */
long ldapesc_dn_unescape(const char *s, size_t len, uint8_t *out, size_t cap);

#endif
