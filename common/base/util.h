/* util.h - small pure helpers shared by every daemon. */
#ifndef POSTERN_UTIL_H
#define POSTERN_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Parse a decimal number of 1..20 digits (no sign, no spaces) into *out_r.
 * Returns 0, or -1 when empty, not all digits, or greater than max. */
int util_parse_u64(const uint8_t *s, size_t len, uint64_t max, uint64_t *out_r);

/* Non-zero if s[0..len) is valid UTF-8 without overlongs, surrogates or NUL. */
int util_utf8_valid(const uint8_t *s, size_t len);

/* The value 0..63 of a base64 alphabet character, or -1 (RFC 4648 4). */
int util_base64_value(uint8_t c);

/* Decode base64 (RFC 4648, padding required, no whitespace) into out.
 * Returns the decoded length, or -1 on bad input or if it exceeds outcap. */
long util_base64_decode(const uint8_t *in, size_t len, uint8_t *out, size_t outcap);

/* Encode len bytes as base64 text in out (NUL-terminated). Returns the text
 * length, or -1 if outcap is too small. */
long util_base64_encode(const uint8_t *in, size_t len, char *out, size_t outcap);

/* Fill buf with len random bytes from getrandom(2); fatal on failure. */
void util_random(void *buf, size_t len);

/* renameat2(2) with RENAME_NOREPLACE: rename unless the target exists
 * (then -1, EEXIST).  The raw call, since musl 1.2.3 has no wrapper. */
int util_rename_noreplace(int olddirfd, const char *oldpath, int newdirfd, const char *newpath);

/* The proleptic Gregorian date of day number days (0 = 1970-01-01, any
 * sign): H. Hinnant's civil_from_days. */
void util_civil_from_days(int64_t days, int64_t *y_r, unsigned *m_r, unsigned *d_r);

/* write(2) all of p[0..len) to a blocking fd, again after EINTR: 0, or -1
 * (errno set; a write of 0 bytes counts as failure). */
int util_write_all(int fd, const void *p, size_t len);

/* 8 bytes as a little-endian integer, and back. */
uint64_t util_load_le64(const uint8_t *p);
void util_store_le64(uint8_t *p, uint64_t v);

/* Write a new random session id (24 hex chars + NUL) into out. */
void util_session_id(char out[25]);

/* Strict strtol-like for trusted text (argv, config): whole string decimal. */
int util_str_to_u64(const char *s, uint64_t max, uint64_t *out_r);

/* Constant-time comparison of two byte strings of equal length. */
int util_ct_equal(const void *a, const void *b, size_t len);

/* Read a secret (a password) from the regular file at path (not a
 * symlink) into out (cap bytes, NUL-terminated), without its last
 * newline.  For a helper, as root before its sandbox: secrets stay out of
 * the config snapshot every process can read.  Returns its length, or -1
 * with *why_r (cannot open, not a regular file, too long, a NUL or a
 * control byte in it). */
long util_read_secret(const char *path, char *out, size_t cap, const char **why_r);

#endif
