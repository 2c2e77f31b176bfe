/* test_authdproto.c - MSG_AUTHD_CONFIG: every value config_parse() accepts
 * reaches authd intact (a 256-byte field once crash-looped authd). */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../common/ipc/authdproto.h"
#include "../../common/ipc/authdproto.h"
#include "../../common/ipc/keydproto.h"
#include "../../common/ipc/masterproto.h"
#include "../../common/ipc/proto.h"
#include "../../common/ipc/storeproto.h"
#include "tap.h"

static struct config cfg;
static struct ipc_out out;
static struct ipc_in in;

/* Send out over a real socket pair and decode what arrives into r. */
static int
exchange(struct authd_config *r)
{
	int sv[2], rc = -1;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
		return -1;
	if (ipc_send(sv[0], &out) == 0 && ipc_recv(sv[1], &in) == 1 && in.type == MSG_AUTHD_CONFIG)
		rc = authdproto_config_get(&in, r);
	close(sv[0]);
	close(sv[1]);
	return rc;
}

/* cfg's authd message, sent and decoded. */
static int
round_trip(struct authd_config *r)
{
	authdproto_config_put(&out, &cfg);
	return exchange(r);
}

static int
parse(const char *text)
{
	char err[256];

	config_defaults(&cfg);
	return config_parse(&cfg, "t.conf", text, strlen(text), err, sizeof(err));
}

/* Send out and receive it into in; 0 if it arrived as sent. */
static int
transfer(void)
{
	int sv[2], rc = -1;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
		return -1;
	if (ipc_send(sv[0], &out) == 0 && ipc_recv(sv[1], &in) == 1 && in.type == out.type)
		rc = 0;
	close(sv[0]);
	close(sv[1]);
	return rc;
}

/* The recipient lookup: both messages round-trip at their longest, and a
 * result that names more (or less) than its status allows is refused. */
static void
test_lookup(void)
{
	static struct authd_lookup q;
	static struct authd_lookup_result r, got;
	static char addr[AUTHD_ADDRESS_MAX + 2];
	unsigned i;

	memset(addr, 'a', AUTHD_ADDRESS_MAX);
	authdproto_lookup_put(&out, 7, addr);
	CHECK(transfer() == 0 && authdproto_lookup_get(&in, &q) == 0 && q.id == 7 &&
	    strlen(q.address) == AUTHD_ADDRESS_MAX, "the longest address round-trips");
	addr[AUTHD_ADDRESS_MAX] = 'a';
	authdproto_lookup_put(&out, 7, addr);
	CHECK(out.err != 0, "a longer address is not encoded");
	memset(&r, 0, sizeof(r));
	r.id = 9;
	r.status = AUTHD_LOOKUP_FOUND;
	r.n = AUTHD_LOOKUP_TARGETS_MAX;
	for (i = 0; i < r.n; i++) {
		r.t[i] = (struct authd_lookup_target){ .uid = 7300, .gid = 7301, .quota = 1ULL << 40 };
		memset(r.t[i].user, 'u', USERDB_NAME_MAX);
		snprintf(r.t[i].user, 4, "%03u", i);	/* distinct */
		r.t[i].user[3] = 'u';
		r.t[i].mail_root[0] = '/';
		memset(r.t[i].mail_root + 1, 'm', CONFIG_PATH_MAX - 2);
	}
	authdproto_lookup_result_put(&out, &r);
	CHECK(out.err == 0 && transfer() == 0 && authdproto_lookup_result_get(&in, &got) == 0 &&
	    !memcmp(&got, &r, sizeof(r)), "a found result of the most users, longest fields, round-trips");
	memcpy(r.t[1].user, r.t[0].user, sizeof(r.t[0].user));
	authdproto_lookup_result_put(&out, &r);
	CHECK(transfer() == 0 && authdproto_lookup_result_get(&in, &got) == -1,
	    "the same user twice refused");
	r.n = 1;
	r.t[0].uid = 0;
	authdproto_lookup_result_put(&out, &r);
	CHECK(transfer() == 0 && authdproto_lookup_result_get(&in, &got) == -1 && got.id == 0,
	    "found with uid 0 refused");
	r.t[0].uid = 7300;
	r.n = 0;
	authdproto_lookup_result_put(&out, &r);
	CHECK(transfer() == 0 && authdproto_lookup_result_get(&in, &got) == -1,
	    "found naming no user refused");
	r.n = AUTHD_LOOKUP_TARGETS_MAX + 1;
	authdproto_lookup_result_put(&out, &r);
	CHECK(out.err != 0, "more users than the bound are not encoded");
	r.n = 1;
	r.status = AUTHD_LOOKUP_UNKNOWN;
	authdproto_lookup_result_put(&out, &r);
	CHECK(transfer() == 0 && authdproto_lookup_result_get(&in, &got) == -1,
	    "unknown that names a user refused");
	r = (struct authd_lookup_result){ .id = 3, .status = AUTHD_LOOKUP_TEMP };
	authdproto_lookup_result_put(&out, &r);
	CHECK(transfer() == 0 && authdproto_lookup_result_get(&in, &got) == 0 &&
	    got.status == AUTHD_LOOKUP_TEMP, "an empty temporary failure round-trips");
	r.status = AUTHD_LOOKUP_RELAY;
	authdproto_lookup_result_put(&out, &r);
	CHECK(transfer() == 0 && authdproto_lookup_result_get(&in, &got) == 0 &&
	    got.status == AUTHD_LOOKUP_RELAY, "a domain not hosted round-trips");
	r.status = AUTHD_LOOKUP_RELAY + 1;
	authdproto_lookup_result_put(&out, &r);
	CHECK(transfer() == 0 && authdproto_lookup_result_get(&in, &got) == -1, "unknown status refused");
}

/* MSG_AUTHD_SASL_CONFIG: the configured values arrive; authd refuses a
 * name policy that does not compile and too few iterations. */
static void
test_sasl_config(void)
{
	struct authd_sasl_config sc, r;

	CHECK(parse("auth_username_chars = a-z.@\nauth_username_max = 64\n"
	    "auth_mechanisms = scram-sha-256 plain\nscram_iterations = 10000\n") == 0,
	    "sasl keys parse");
	authdproto_sasl_config_from(&cfg, &sc);
	authdproto_sasl_config_put(&out, &sc);
	CHECK(transfer() == 0 && authdproto_sasl_config_get(&in, &r) == 0 &&
	    strcmp(r.username_chars, "a-z.@") == 0 && r.username_max == 64 && r.username_utf8 == 0 &&
	    strcmp(r.mechanisms, "scram-sha-256 plain") == 0 && r.scram_iterations == 10000,
	    "sasl config round trip");
	CHECK(parse("auth_username_chars = z-a\n") < 0, "reversed range refused by config");
	CHECK(parse("auth_mechanisms = PLAIN DIGEST-MD5\n") < 0, "unknown mechanism refused by config");
	CHECK(parse("scram_iterations = 4095\n") < 0, "fewer than 4096 iterations refused");
	snprintf(sc.username_chars, sizeof(sc.username_chars), "z-a");
	authdproto_sasl_config_put(&out, &sc);
	CHECK(transfer() == 0 && authdproto_sasl_config_get(&in, &r) < 0, "authd refuses a bad set");
	authdproto_sasl_config_from(&cfg, &sc);
	sc.scram_iterations = 100;
	authdproto_sasl_config_put(&out, &sc);
	CHECK(transfer() == 0 && authdproto_sasl_config_get(&in, &r) < 0, "authd refuses 100 rounds");
}

/* Two branches once gave two messages of authd's channels one number
 * (0x0212): the master read SCRAM secrets as a lookup result. */
static void
test_numbers_distinct(void)
{
	static const int nums[] = {
		MSG_AUTHD_SESSION_NEW, MSG_AUTHD_CONFIG, MSG_AUTHD_LOOKUP, MSG_AUTHD_THROTTLE,
		MSG_MASTER_LOGIN, MSG_MASTER_LOOKUP_RESULT, MSG_MASTER_THROTTLE_RESULT,
		MSG_MASTER_REHASH, MSG_AUTH_START, MSG_AUTH_CONTINUE, MSG_AUTH_USERPASS,
		MSG_AUTH_CHALLENGE, MSG_AUTH_OK, MSG_AUTH_FAIL, MSG_AUTHD_SASL_CONFIG,
		MSG_MASTER_SCRAM_ADD,
	};
	size_t i, j;
	int ok = 1;

	for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
		for (j = i + 1; j < sizeof(nums) / sizeof(nums[0]); j++)
			ok &= nums[i] != nums[j];
	CHECK(ok, "every message of authd's channels has its own number");
}

int
main(void)
{
	static char text[4096], root[CONFIG_PATH_MAX], dom[CONFIG_DOMAIN_MAX + 1];
	static struct authd_config r;

	test_sasl_config();

	/* a 1000-byte template: "/mmm.../mmm.../%d/%n" */
	memset(root, 'm', 1000);
	root[0] = root[300] = '/';
	memcpy(root + 1000 - 6, "/%d/%n", 7);
	snprintf(text, sizeof(text), "mail_root = %s\n", root);
	CHECK(parse(text) == 0, "a 1000-byte mail_root template is accepted");
	memset(dom, 'd', sizeof(dom) - 1);
	dom[100] = dom[200] = '.';
	CHECK(snprintf(text, sizeof(text), "default_domain = %s\n", dom) > 0 && parse(text) == 0,
	    "a 253-byte default_domain is accepted");
	CHECK(snprintf(text, sizeof(text), "default_domain = %sd\n", dom) > 0 && parse(text) == -1,
	    "a 254-byte default_domain is refused");
	CHECK(parse("mail_root = /var/mail/%d/%n\nauth_ipv6_prefix = 56\n"
	    "auth_max_checks_per_second = 7\nauth_trusted_window = 0\n") == 0,
	    "the new keys parse");
	snprintf(cfg.mail_root_template, sizeof(cfg.mail_root_template), "%s", root);
	snprintf(cfg.default_domain, sizeof(cfg.default_domain), "%s", dom);
	CHECK(round_trip(&r) == 0 && r.have, "the message decodes");
	CHECK(strcmp(r.mail_root, cfg.mail_root_template) == 0 && strlen(r.mail_root) == 1000,
	    "mail_root intact");
	CHECK(strcmp(r.default_domain, dom) == 0, "default_domain intact");
	CHECK(r.ipv6_prefix == 56 && r.max_checks_per_s == 7 && r.trusted_window_s == 0 &&
	    r.fail_user_max == 50 && r.delay_ms == 2000, "numbers intact");
	memset(cfg.mail_root_template, 'x', CONFIG_PATH_MAX - 1);
	cfg.mail_root_template[CONFIG_PATH_MAX - 1] = '\0';
	CHECK(round_trip(&r) == 0 && strlen(r.mail_root) == CONFIG_PATH_MAX - 1,
	    "even the longest string field fits");
	/* the layout before auth_trusted_window: a master and an authd from
	 * different builds fail closed (authd exits), they do not misread */
	config_defaults(&cfg);
	authdproto_config_put(&out, &cfg);
	out.len -= 3 * 4;
	CHECK(exchange(&r) == -1 && !r.have, "the shorter old layout is refused");
	cfg.auth_ipv6_prefix = 129;
	CHECK(round_trip(&r) == -1 && !r.have, "a value the master cannot send is refused");
	test_lookup();
	test_numbers_distinct();
	return tap_done();
}
