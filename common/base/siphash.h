/* siphash.h - SipHash-2-4 (Aumasson and Bernstein, 2012), a keyed hash for
 * tables whose keys an attacker chooses: without the key, names that share
 * a bucket cannot be found offline (an unkeyed hash such as FNV lets a
 * guesser push a victim's failure record out of a fixed-size table). */
#ifndef POSTERN_SIPHASH_H
#define POSTERN_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define SIPHASH_KEY_LEN	16

/* The 64-bit SipHash-2-4 of data[0..len) under key.  Pure. */
uint64_t siphash24(const uint8_t key[SIPHASH_KEY_LEN], const void *data, size_t len);

#endif
