/* test_throttle.c - limit keys of addresses (common/net/netaddr.c) and authd's
 * throttle tables (daemons/authd/throttle.c, linked in; the clock is a
 * parameter, so windows and the rate cap are tested without waiting). */
#include <string.h>

#include "../../common/net/netaddr.h"
#include "../../common/base/siphash.h"
#include "../../daemons/authd/authd.h"
#include "tap.h"

static int
key_is(const char *ip, unsigned bits, const char *want)
{
	char k[NETADDR_KEY_MAX];

	return netaddr_key(ip, bits, k, sizeof(k)) == 0 && strcmp(k, want) == 0;
}

static int
same_key(const char *a, const char *b, unsigned bits)
{
	char ka[NETADDR_KEY_MAX], kb[NETADDR_KEY_MAX];

	netaddr_key(a, bits, ka, sizeof(ka));
	netaddr_key(b, bits, kb, sizeof(kb));
	return strcmp(ka, kb) == 0;
}

static void
test_keys(void)
{
	char small[8];

	CHECK(key_is("192.0.2.7", 64, "192.0.2.7"), "IPv4 stays per address");
	CHECK(key_is("::ffff:192.0.2.7", 64, "192.0.2.7"), "mapped IPv4 is the IPv4 address");
	CHECK(key_is("2001:db8:1:2:aaaa:bbbb:cccc:dddd", 64, "2001:db8:1:2::/64"), "IPv6 per /64");
	CHECK(same_key("2001:db8:1:2::1", "2001:DB8:1:2:ffff:ffff:ffff:ffff", 64),
	    "one /64, one key (any spelling)");
	CHECK(!same_key("2001:db8:1:2::1", "2001:db8:1:3::1", 64), "another /64, another key");
	CHECK(!same_key("2001:db8:1:2::1", "2001:db8:1:2::2", 128), "128 keeps the whole address");
	CHECK(key_is("2001:db8:1:2::1", 128, "2001:db8:1:2::1/128"), "128 key");
	CHECK(key_is("2001:db8:12:3456::1", 60, "2001:db8:12:3450::/60"), "a prefix inside a byte");
	CHECK(key_is("2001:db8::1", 32, "2001:db8::/32"), "/32");
	CHECK(key_is("::1", 64, "::/64"), "loopback");
	CHECK(key_is("unknown", 64, "unknown"), "text that is no address is kept");
	CHECK(netaddr_key("::1", 64, small, sizeof(small)) == -1, "small buffer refused");
}

/* The reference vectors of the SipHash paper and its implementation:
 * key 00..0f, message 00..len-1. */
static void
test_siphash(void)
{
	uint8_t k[SIPHASH_KEY_LEN], m[16];
	size_t i;

	for (i = 0; i < sizeof(k); i++)
		k[i] = (uint8_t)i;
	for (i = 0; i < sizeof(m); i++)
		m[i] = (uint8_t)i;
	CHECK(siphash24(k, m, 0) == 0x726fdb47dd0e0e31ULL, "siphash: empty message");
	CHECK(siphash24(k, m, 1) == 0x74f839c593dc67fdULL, "siphash: 1 byte");
	CHECK(siphash24(k, m, 8) == 0x93f5f5799a932462ULL, "siphash: one full block");
	CHECK(siphash24(k, m, 15) == 0xa129ca6149be45e5ULL, "siphash: the paper's example");
}

static struct authd_config
conf(void)
{
	struct authd_config c;

	memset(&c, 0, sizeof(c));
	c.fail_ip_max = 3;
	c.fail_user_max = 2;
	c.window_s = 300;
	c.trusted_window_s = 1000;
	c.ipv6_prefix = 64;
	c.max_checks_per_s = 1000;
	c.have = 1;
	return c;
}

static void
test_user_backoff(void)
{
	struct authd_config c = conf();
	uint64_t t = 1000000;

	throttle_success(&c, "10.0.0.1", "alice@x", t);	/* the owner, before */
	CHECK(throttle_check(&c, "10.0.0.2", "alice@x", t) == THROTTLE_OK, "below the user limit");
	throttle_fail(&c, "10.0.0.2", "alice@x", t);
	throttle_fail(&c, "10.0.0.3", "alice@x", t);
	CHECK(throttle_check(&c, "10.0.0.4", "alice@x", t) == THROTTLE_USER,
	    "past the user limit: a fresh address is refused");
	CHECK(throttle_check(&c, "10.0.0.1", "alice@x", t) == THROTTLE_OK,
	    "the address that logged in before is not");
	CHECK(throttle_check(&c, "10.0.0.4", "bob@x", t) == THROTTLE_OK, "other users are not");
	CHECK(throttle_check(&c, "10.0.0.4", "alice@x", t + 301000) == THROTTLE_OK,
	    "the back-off ends with the window");
	CHECK(throttle_check(&c, "10.0.0.1", "alice@x", t + 1001000) == THROTTLE_OK &&
	    throttle_check(&c, "10.0.0.9", "alice@x", t + 1001000) == THROTTLE_OK,
	    "expired records read as absent");
	c.trusted_window_s = 0;
	throttle_fail(&c, "10.0.0.2", "carol@x", t);
	throttle_fail(&c, "10.0.0.2", "carol@x", t);
	throttle_success(&c, "10.0.0.5", "carol@x", t);
	CHECK(throttle_check(&c, "10.0.0.5", "carol@x", t) == THROTTLE_USER,
	    "auth_trusted_window 0: no exemptions");
}

static void
test_ipv6_prefix(void)
{
	struct authd_config c = conf();
	uint64_t t = 5000000;

	throttle_fail(&c, "2001:db8:5:5::1", NULL, t);
	throttle_fail(&c, "2001:db8:5:5::2", NULL, t);
	throttle_fail(&c, "2001:db8:5:5:ffff::3", NULL, t);
	CHECK(throttle_check(&c, "2001:db8:5:5::99", "dave@x", t) == THROTTLE_IP,
	    "failures from one /64 add up");
	CHECK(throttle_check(&c, "2001:db8:5:6::1", "dave@x", t) == THROTTLE_OK, "the next /64 is clean");
	c.ipv6_prefix = 128;
	CHECK(throttle_check(&c, "2001:db8:5:5::99", "dave@x", t) == THROTTLE_OK,
	    "auth_ipv6_prefix 128: per address");
	c.ipv6_prefix = 64;
	throttle_fail(&c, "::ffff:192.0.2.1", NULL, t);
	throttle_fail(&c, "192.0.2.1", NULL, t);
	throttle_fail(&c, "192.0.2.1", NULL, t);
	CHECK(throttle_check(&c, "::ffff:192.0.2.1", NULL, t) == THROTTLE_IP &&
	    throttle_check(&c, "::ffff:192.0.2.2", NULL, t) == THROTTLE_OK,
	    "mapped IPv4 counts as its IPv4 address, not as a /64 of all of them");
}

static void
test_rate_cap(void)
{
	struct authd_config c = conf();
	uint64_t t = 9000000;
	int i, ok = 1;

	c.max_checks_per_s = 5;
	throttle_success(&c, "10.1.0.1", "erin@x", t);
	for (i = 0; i < 5; i++)
		ok &= throttle_check(&c, "10.1.0.2", "frank@x", t) == THROTTLE_OK;
	CHECK(ok, "a second's worth of checks at once");
	CHECK(throttle_check(&c, "10.1.0.3", "frank@x", t) == THROTTLE_RATE, "then refused");
	CHECK(throttle_check(&c, "10.1.0.1", "erin@x", t) == THROTTLE_OK, "a trusted pair passes");
	CHECK(throttle_check(&c, "10.1.0.3", "frank@x", t + 200) == THROTTLE_OK &&
	    throttle_check(&c, "10.1.0.3", "frank@x", t + 200) == THROTTLE_RATE,
	    "refilled at the cap's rate (one per 200 ms at 5/s)");
	ok = 1;
	for (i = 0; i < 5; i++)
		ok &= throttle_check(&c, "10.1.0.4", "frank@x", t + 60000) == THROTTLE_OK;
	CHECK(ok && throttle_check(&c, "10.1.0.4", "frank@x", t + 60000) == THROTTLE_RATE,
	    "an idle minute refills one second's worth, no more");
	CHECK(throttle_check(&c, "10.1.0.9", NULL, t + 60000) == THROTTLE_OK,
	    "no name: no check follows, nothing taken");
}

static void
test_table_is_bounded(void)
{
	struct authd_config c = conf();
	char name[32];
	int i;

	/* the victim is backed off; then 20000 other names fail once each:
	 * more than the table holds, but records below their limit go first */
	throttle_fail(&c, "10.9.0.1", "victim@x", 20000000);
	throttle_fail(&c, "10.9.0.1", "victim@x", 20000000);
	for (i = 0; i < 20000; i++) {
		snprintf(name, sizeof(name), "n%d@x", i);
		throttle_fail(&c, "10.9.0.2", name, 20000001 + (uint64_t)i);
	}
	CHECK(throttle_check(&c, "10.9.0.3", "victim@x", 20030000) == THROTTLE_USER,
	    "a flood of other names does not push out a record at its limit");
}

int
main(void)
{
	test_siphash();
	test_keys();
	test_user_backoff();
	test_ipv6_prefix();
	test_rate_cap();
	test_table_is_bounded();
	return tap_done();
}
