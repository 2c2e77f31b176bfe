/* throttle.c - which login attempts get a password check at all.
 *
 * Fixed-size tables (so no input can grow memory):
 *  - failures per client address within auth_fail_window.  IPv6 addresses
 *    count per auth_ipv6_prefix (a /64 by default: one host has a whole
 *    /64 to pick fresh addresses from), IPv4 per address;
 *  - failures per user name within auth_fail_window;
 *  - (user, address) pairs that logged in within auth_trusted_window.
 * An address past auth_fail_ip_max is refused until its window ends.  A
 * user past auth_fail_user_max is refused from every address, fresh ones
 * included (else a guesser with many addresses gets a check from each),
 * except from pairs that logged in before: the owner's usual address keeps
 * working while a distributed guess is stopped.  Last, a token bucket caps
 * password checks per second for all clients together, so guessing cannot
 * take all the CPU (crypt is made to be slow); trusted pairs pass it too,
 * so a flood does not lock the owners out.
 * Slots are found with a keyed hash (a random key per authd), and a full
 * set of slots gives up a record below its limit before one at it: else a
 * guesser could fail with a few chosen names to push the victim's record
 * out and start the victim's count again.
 */
#include <stdio.h>
#include <string.h>

#include "../../common/net/netaddr.h"
#include "../../common/base/siphash.h"
#include "../../common/base/util.h"
#include "authd.h"

#define THROTTLE_SLOTS	4096
#define THROTTLE_PROBES	8
#define KEY_MAX		(USERDB_NAME_MAX + 1 + NETADDR_KEY_MAX)

struct rec {
	char key[KEY_MAX];	/* "" = free */
	uint32_t count;
	uint64_t stamp_ms;	/* first failure, or last login (trusted) */
};

static struct rec ip_tab[THROTTLE_SLOTS];
static struct rec user_tab[THROTTLE_SLOTS];
static struct rec trusted_tab[THROTTLE_SLOTS];

/* the global cap: milli-checks available, refilled at the cap's rate */
static uint64_t bucket_milli, bucket_ms;
static int bucket_started;

static uint32_t
hash_key(const char *s)
{
	static uint8_t key[SIPHASH_KEY_LEN];
	static int keyed;

	if (!keyed) {
		util_random(key, sizeof(key));
		keyed = 1;
	}
	return (uint32_t)siphash24(key, s, strlen(s));
}

/* How much a live record is worth keeping: one at its limit most (it is
 * what stops a guesser), then the newest. */
static int
keep_before(const struct rec *a, const struct rec *b, uint32_t limit)
{
	int al = a->count >= limit, bl = b->count >= limit;

	return al != bl ? al : a->stamp_ms > b->stamp_ms;
}

/* The live record for key, or NULL; with create, a new one in a free or
 * expired slot, else in place of the probed record least worth keeping.
 * limit: the count at which a record throttles (UINT32_MAX: none). */
static struct rec *
lookup(struct rec *tab, const char *key, uint64_t window_ms, uint64_t now, int create,
    uint32_t limit)
{
	uint32_t h = hash_key(key), i;
	struct rec *victim = NULL;
	int victim_free = 0;

	for (i = 0; i < THROTTLE_PROBES; i++) {
		struct rec *r = &tab[(h + i) % THROTTLE_SLOTS];
		int expired = r->key[0] == '\0' || now - r->stamp_ms > window_ms;
		if (!expired && strcmp(r->key, key) == 0)
			return r;
		if (expired) {
			if (!victim_free) {
				victim = r;
				victim_free = 1;
			}
		} else if (!victim_free && (victim == NULL || keep_before(victim, r, limit))) {
			victim = r;
		}
	}
	if (!create)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	strncpy(victim->key, key, sizeof(victim->key) - 1);
	victim->stamp_ms = now;
	return victim;
}

static void
addr_key(const struct authd_config *c, const char *ip, char out[NETADDR_KEY_MAX])
{
	(void)netaddr_key(ip, c->ipv6_prefix, out, NETADDR_KEY_MAX);
}

/* "user\naddr": '\n' cannot occur in a normalised name. */
static void
pair_key(const char *user, const char *akey, char out[KEY_MAX])
{
	size_t ul = strnlen(user, USERDB_NAME_MAX), al = strnlen(akey, NETADDR_KEY_MAX - 1);

	memcpy(out, user, ul);
	out[ul] = '\n';
	memcpy(out + ul + 1, akey, al);
	out[ul + 1 + al] = '\0';
}

static int
is_trusted(const struct authd_config *c, const char *user, const char *akey, uint64_t now)
{
	char k[KEY_MAX];

	if (c->trusted_window_s == 0)
		return 0;
	pair_key(user, akey, k);
	return lookup(trusted_tab, k, (uint64_t)c->trusted_window_s * 1000, now, 0,
	    UINT32_MAX) != NULL;
}

/* Take one check from the bucket; 0 if it is empty. */
static int
bucket_take(const struct authd_config *c, uint64_t now)
{
	uint64_t full = (uint64_t)c->max_checks_per_s * 1000;

	if (!bucket_started || now < bucket_ms) {
		bucket_started = 1;
		bucket_milli = full;
	} else {
		bucket_milli += (now - bucket_ms) * c->max_checks_per_s;
	}
	bucket_ms = now;
	if (bucket_milli > full)
		bucket_milli = full;	/* a burst of at most one second's worth */
	if (bucket_milli < 1000)
		return 0;
	bucket_milli -= 1000;
	return 1;
}

enum throttle_verdict
throttle_check(const struct authd_config *c, const char *ip, const char *user, uint64_t now)
{
	uint64_t w = (uint64_t)c->window_s * 1000;
	char akey[NETADDR_KEY_MAX];
	struct rec *r;
	int trusted;

	addr_key(c, ip, akey);
	r = lookup(ip_tab, akey, w, now, 0, c->fail_ip_max);
	if (r != NULL && r->count >= c->fail_ip_max)
		return THROTTLE_IP;
	if (user == NULL)
		return THROTTLE_OK;
	trusted = is_trusted(c, user, akey, now);
	r = lookup(user_tab, user, w, now, 0, c->fail_user_max);
	if (r != NULL && r->count >= c->fail_user_max && !trusted)
		return THROTTLE_USER;
	if (!bucket_take(c, now) && !trusted)
		return THROTTLE_RATE;
	return THROTTLE_OK;
}

void
throttle_fail(const struct authd_config *c, const char *ip, const char *user, uint64_t now)
{
	uint64_t w = (uint64_t)c->window_s * 1000;
	char akey[NETADDR_KEY_MAX];
	struct rec *r;

	addr_key(c, ip, akey);
	r = lookup(ip_tab, akey, w, now, 1, c->fail_ip_max);
	if (r->count < UINT32_MAX)
		r->count++;
	if (user != NULL) {
		r = lookup(user_tab, user, w, now, 1, c->fail_user_max);
		if (r->count < UINT32_MAX)
			r->count++;
	}
}

void
throttle_success(const struct authd_config *c, const char *ip, const char *user, uint64_t now)
{
	char akey[NETADDR_KEY_MAX], k[KEY_MAX];
	struct rec *r;

	if (c->trusted_window_s == 0)
		return;
	addr_key(c, ip, akey);
	pair_key(user, akey, k);
	r = lookup(trusted_tab, k, (uint64_t)c->trusted_window_s * 1000, now, 1, UINT32_MAX);
	r->stamp_ms = now;	/* the window runs from the latest login */
}

/* posternctl throttle list: the live records of one table into out
 * (at most room bytes), those at their limit first when first is set,
 * the others after. */
static size_t
list_table(const struct rec *tab, const char *kind, uint64_t window_ms, uint32_t limit,
    uint64_t now, int at_limit, char *out, size_t room, uint32_t *count)
{
	size_t used = 0, i;

	for (i = 0; i < THROTTLE_SLOTS; i++) {
		const struct rec *r = &tab[i];
		int n;
		if (r->key[0] == '\0' || now - r->stamp_ms > window_ms ||
		    (r->count >= limit) != at_limit)
			continue;
		n = snprintf(out + used, room - used, "%s %s failures=%u limit=%u throttled=%s "
		    "ends_in_s=%llu\n", kind, r->key, r->count, limit, at_limit ? "yes" : "no",
		    (unsigned long long)((window_ms - (now - r->stamp_ms) + 999) / 1000));
		if (n < 0 || (size_t)n >= room - used)
			break;
		used += (size_t)n;
		(*count)++;
	}
	return used;
}

size_t
throttle_list(const struct authd_config *c, uint64_t now, char *out, size_t room,
    uint32_t *count_r)
{
	uint64_t w = (uint64_t)c->window_s * 1000;
	size_t used = 0;
	int pass;

	*count_r = 0;
	for (pass = 1; pass >= 0; pass--) {
		used += list_table(ip_tab, "ip", w, c->fail_ip_max, now, pass, out + used,
		    room - used, count_r);
		used += list_table(user_tab, "user", w, c->fail_user_max, now, pass, out + used,
		    room - used, count_r);
	}
	return used;
}

/* Forget a record: its key is free again (slots are probed, so a free
 * slot in a chain only ends lookups early for keys created after it,
 * which then start again from zero: a clear is meant to do that). */
static uint32_t
clear_key(struct rec *tab, const char *key, uint64_t window_ms, uint64_t now)
{
	struct rec *r = lookup(tab, key, window_ms, now, 0, UINT32_MAX);

	if (r == NULL)
		return 0;
	memset(r, 0, sizeof(*r));
	return 1;
}

uint32_t
throttle_clear_ip(const struct authd_config *c, const char *ip, uint64_t now)
{
	char akey[NETADDR_KEY_MAX];

	addr_key(c, ip, akey);
	return clear_key(ip_tab, akey, (uint64_t)c->window_s * 1000, now);
}

uint32_t
throttle_clear_user(const struct authd_config *c, const char *user, uint64_t now)
{
	return clear_key(user_tab, user, (uint64_t)c->window_s * 1000, now);
}
