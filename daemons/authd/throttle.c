/* throttle.c - login failure accounting.
 *
 * Two fixed-size tables (so no input can grow memory): failures per client
 * IP and per user name within auth_fail_window seconds.  An IP past
 * auth_fail_ip_max is refused without a password check until its window
 * ends.  A user past auth_fail_user_max is refused only to IPs that have
 * failed themselves in the window, so a distributed guesser is stopped
 * while the owner, logging in from a clean address, still gets in.
 */
#include <string.h>

#include "../../common/ev.h"
#include "authd.h"

#define THROTTLE_SLOTS 4096

struct fail_rec {
	char key[256];
	uint32_t count;
	uint64_t first_ms;
};

static struct fail_rec ip_tab[THROTTLE_SLOTS];
static struct fail_rec user_tab[THROTTLE_SLOTS];

static uint32_t
hash_key(const char *s)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

/* The record for key, or NULL.  Expired records read as absent. */
static struct fail_rec *
lookup(struct fail_rec *tab, const char *key, uint64_t window_ms, int create)
{
	uint32_t h = hash_key(key), i;
	uint64_t now = ev_now_ms();
	struct fail_rec *victim = NULL;
	int victim_free = 0;

	/* 8-way probing: reuse a free or expired slot, else the oldest one. */
	for (i = 0; i < 8; i++) {
		struct fail_rec *r = &tab[(h + i) % THROTTLE_SLOTS];
		int expired = r->key[0] == '\0' || now - r->first_ms > window_ms;
		if (!expired && strcmp(r->key, key) == 0)
			return r;
		if (expired) {
			if (!victim_free) {
				victim = r;
				victim_free = 1;
			}
		} else if (!victim_free && (victim == NULL || r->first_ms < victim->first_ms)) {
			victim = r;
		}
	}
	if (!create)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	strncpy(victim->key, key, sizeof(victim->key) - 1);
	victim->first_ms = now;
	return victim;
}

enum throttle_verdict
throttle_check(const struct authd_config *c, const char *ip, const char *user)
{
	uint64_t w = (uint64_t)c->window_s * 1000;
	struct fail_rec *ri = lookup(ip_tab, ip, w, 0);
	struct fail_rec *ru;

	if (ri != NULL && ri->count >= c->fail_ip_max)
		return THROTTLE_IP;
	if (user == NULL || ri == NULL)
		return THROTTLE_OK;
	ru = lookup(user_tab, user, w, 0);
	if (ru != NULL && ru->count >= c->fail_user_max)
		return THROTTLE_USER;
	return THROTTLE_OK;
}

void
throttle_fail(const struct authd_config *c, const char *ip, const char *user)
{
	uint64_t w = (uint64_t)c->window_s * 1000;
	struct fail_rec *r;

	r = lookup(ip_tab, ip, w, 1);
	if (r->count < UINT32_MAX)
		r->count++;
	if (user != NULL) {
		r = lookup(user_tab, user, w, 1);
		if (r->count < UINT32_MAX)
			r->count++;
	}
}
