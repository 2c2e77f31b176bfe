/* fuzz_userdb.c - userdb_user_decode() and userdb_normalize().
 *
 * The input is both a user record (as read from LMDB) and a login name (as
 * sent by a client).  A record that decodes must encode back to the very
 * same bytes and decode to the same user.  A name that normalises must be
 * in the documented form, normalise to itself, and expand into a mail root
 * without new path components.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/base/config.h"
#include "../common/mail/userdb.h"
#include "fuzz.h"



#define REC_MAX (1 + 4 + 4 + 4 + 8 + 2 + USERDB_HASH_MAX + 2 + USERDB_PATH_MAX + \
    4 + 1 + SCRAM_SALT_MAX + 2 * SCRAM_KEY_LEN + 1 + 2 * CRAM_STATE_LEN)

static void
same_user(const struct userdb_user *a, const struct userdb_user *b)
{
	CHECK(a->flags == b->flags);
	CHECK(a->uid == b->uid && a->gid == b->gid);
	CHECK(a->quota == b->quota);
	CHECK(strcmp(a->hash, b->hash) == 0);
	CHECK(strcmp(a->mailroot, b->mailroot) == 0);
	CHECK(a->has_scram == b->has_scram && a->has_cram == b->has_cram);
	if (a->has_cram)
		CHECK(memcmp(&a->cram, &b->cram, sizeof(a->cram)) == 0);
	if (a->has_scram)
		CHECK(a->scram.iterations >= SCRAM_ITER_MIN && a->scram.saltlen >= 1 &&
		    a->scram.saltlen <= SCRAM_SALT_MAX && a->scram.iterations == b->scram.iterations &&
		    a->scram.saltlen == b->scram.saltlen &&
		    memcmp(a->scram.salt, b->scram.salt, a->scram.saltlen) == 0 &&
		    memcmp(a->scram.stored_key, b->scram.stored_key, SCRAM_KEY_LEN) == 0 &&
		    memcmp(a->scram.server_key, b->scram.server_key, SCRAM_KEY_LEN) == 0);
}

static void
fuzz_record(const uint8_t *data, size_t size)
{
	struct userdb_user u, v;
	uint8_t out[REC_MAX];
	long n;

	if (userdb_user_decode(&u, data, size) < 0) {
		/* a refused record leaves nothing behind */
		CHECK(u.hash[0] == '\0' && u.mailroot[0] == '\0');
		return;
	}
	CHECK(strnlen(u.hash, sizeof(u.hash)) <= USERDB_HASH_MAX);
	CHECK(strnlen(u.mailroot, sizeof(u.mailroot)) <= USERDB_PATH_MAX);
	CHECK(u.mailroot[0] == '\0' || u.mailroot[0] == '/');

	n = userdb_user_encode(&u, out, sizeof(out));
	CHECK(n > 0);
	CHECK((size_t)n == size && memcmp(out, data, size) == 0);
	/* one byte short of room must be refused, not overrun */
	CHECK(userdb_user_encode(&u, out, (size_t)n - 1) == -1);

	CHECK(userdb_user_decode(&v, out, (size_t)n) == 0);
	same_user(&u, &v);
}

static size_t
count(const char *s, char c)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == c;
	return n;
}

static void
fuzz_name(const uint8_t *data, size_t size)
{
	char out[USERDB_NAME_MAX + 1], again[USERDB_NAME_MAX + 1], root[512];
	const char *why = NULL, *at, *p;
	size_t len, i, comps;

	memset(out, 'x', sizeof(out));
	if (userdb_normalize(data, size, "example.org", out, &why) < 0) {
		CHECK(why != NULL && why[0] != '\0');
		return;
	}
	len = strnlen(out, sizeof(out));
	CHECK(len >= 3 && len <= USERDB_NAME_MAX);
	CHECK(count(out, '@') == 1);
	at = strchr(out, '@');
	CHECK(at > out && at[1] != '\0');
	CHECK(strstr(out, "..") == NULL && out[len - 1] != '.' && at[1] != '.');
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)out[i];
		CHECK(c > 0x20 && c != 0x7f && c != '/' && c != '%');
		CHECK(!(c >= 'A' && c <= 'Z'));
	}
	/* the input, lower-cased, is the start of the result */
	for (i = 0; i < size; i++) {
		uint8_t c = data[i];
		if (c >= 'A' && c <= 'Z')
			c = (uint8_t)(c + 32);
		CHECK((uint8_t)out[i] == c);
	}
	if (len > size)
		CHECK(strcmp(out + size, "@example.org") == 0);

	/* idempotent */
	why = NULL;
	CHECK(userdb_normalize((const uint8_t *)out, len, "other.example", again, &why) == 0);
	CHECK(strcmp(out, again) == 0);

	/* A normalised name adds exactly two path components, neither "."
	 * nor "..", to the mail root (or is refused). */
	if (config_expand_mailroot("/var/mail/%d/%n", out, root, sizeof(root)) == 0) {
		comps = 0;
		CHECK(strncmp(root, "/var/mail/", 10) == 0);
		for (p = root + 10; ; ) {
			const char *e = strchr(p, '/');
			size_t cl = e ? (size_t)(e - p) : strlen(p);
			CHECK(cl > 0);
			CHECK(!(cl == 1 && p[0] == '.'));
			CHECK(!(cl == 2 && p[0] == '.' && p[1] == '.'));
			comps++;
			if (e == NULL)
				break;
			p = e + 1;
		}
		CHECK(comps == 2);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_record(data, size);
	fuzz_name(data, size);
	return 0;
}
