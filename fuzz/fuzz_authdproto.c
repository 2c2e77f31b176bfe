/* fuzz_authdproto.c - every message of authd's two channels: what authd
 * decodes from the master (a session, the config, a lookup) and from a
 * possibly compromised worker (SASL start, response, USER/PASS), and what
 * the master and the worker decode from authd (login, lookup result,
 * challenge, OK, failure).  A decoded config has terminated strings within
 * their fields and only values the master can send; every other decoded
 * message re-encodes to the bytes received. */
#include <string.h>

#include "../common/auth/namechars.h"
#include "../common/auth/backendq.h"
#include "../common/ipc/authdproto.h"
#include "ipcmsg.h"

static struct ipc_in in;
static struct ipc_out out;
static struct authd_config c;
static struct authd_lookup q;
static struct authd_lookup_result r;

static void
lookups(void)
{
	uint32_t i, j;

	if (in.type == MSG_AUTHD_LOOKUP) {
		if (authdproto_lookup_get(&in, &q) == 0)
			CHECK(strlen(q.address) <= AUTHD_ADDRESS_MAX);
		return;
	}
	if (authdproto_lookup_result_get(&in, &r) < 0)
		return;
	CHECK(r.status <= AUTHD_LOOKUP_RELAY);
	CHECK((r.status == AUTHD_LOOKUP_FOUND) == (r.n > 0) && r.n <= AUTHD_LOOKUP_TARGETS_MAX);
	for (i = 0; i < r.n; i++) {
		CHECK(r.t[i].uid != 0 && r.t[i].gid != 0 && r.t[i].mail_root[0] == '/');
		for (j = 0; j < i; j++)
			CHECK(strcmp(r.t[i].user, r.t[j].user) != 0);
	}
	authdproto_lookup_result_put(&out, &r);
	CHECK(out.err == 0 && out.len == IPC_HDR_LEN + in.len &&
	    memcmp(out.data + IPC_HDR_LEN, in.data + IPC_HDR_LEN, in.len) == 0);
}

/* The master's session and authd's login verdict. */
static void
sessions(void)
{
	static struct authd_session a;
	static struct authd_login l;

	if (in.type == MSG_AUTHD_SESSION_NEW) {
		if (authdproto_session_get(&in, &a) < 0)
			return;
		CHECK(in.fd >= 0 && a.sid[0] != '\0' && a.service[0] != '\0');
		authdproto_session_put(&out, &a, in.fd);
		CHECK_REENCODES(out, in);
		return;
	}
	if (authdproto_login_get(&in, &l) < 0)
		return;
	CHECK(in.fd < 0 && l.user[0] != '\0');
	authdproto_login_put(&out, &l);
	CHECK_REENCODES(out, in);
}

/* What a worker sends authd. */
static void
requests(void)
{
	struct authd_start st;
	struct authd_userpass up;
	const uint8_t *line;
	size_t len;

	if (in.type == MSG_AUTH_START && authdproto_start_get(&in, &st) == 0) {
		CHECK(st.irlen <= SASL_LINE_MAX && (st.has_ir || st.irlen == 0));
		authdproto_start_put(&out, (const uint8_t *)st.mech, strlen(st.mech), st.has_ir,
		    st.ir, st.irlen);
		CHECK_REENCODES(out, in);
	} else if (in.type == MSG_AUTH_CONTINUE && authdproto_continue_get(&in, &line, &len) == 0) {
		CHECK(len <= SASL_LINE_MAX + 1);
		authdproto_continue_put(&out, line, len);
		CHECK_REENCODES(out, in);
	} else if (in.type == MSG_AUTH_USERPASS && authdproto_userpass_get(&in, &up) == 0) {
		CHECK(up.userlen <= SASL_FIELD_MAX && up.passlen <= SASL_PASS_MAX);
		authdproto_userpass_put(&out, up.user, up.userlen, up.pass, up.passlen);
		CHECK_REENCODES(out, in);
	}
}

/* What authd answers a worker. */
static void
answers(void)
{
	char text[AUTHD_TEXT_SIZE], ch[AUTHD_CHALLENGE_SIZE];
	uint32_t code;

	if (in.type == MSG_AUTH_CHALLENGE && authdproto_challenge_get(&in, ch) == 0) {
		CHECK(strspn(ch, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") ==
		    strlen(ch));
		authdproto_challenge_put(&out, ch);
		CHECK_REENCODES(out, in);
	} else if (in.type == MSG_AUTH_OK && authdproto_ok_get(&in) == 0) {
		CHECK(in.len == 0);
	} else if (in.type == MSG_AUTH_FAIL && authdproto_fail_get(&in, &code, text) == 0) {
		CHECK(code >= 1 && code <= AUTH_FAIL_MAX);
		authdproto_fail_put(&out, code, text);
		CHECK_REENCODES(out, in);
	}
}

/* posternctl throttle through the master: what authd decodes from the
 * master, and what the master decodes from authd (text for a terminal). */
static void
throttles(void)
{
	static struct authd_throttle tq;
	struct authd_throttle_result tr;
	size_t i;

	if (in.type == MSG_AUTHD_THROTTLE && authdproto_throttle_get(&in, &tq) == 0) {
		CHECK(tq.op >= AUTHD_THROTTLE_LIST && tq.op <= AUTHD_THROTTLE_CLEAR_USER);
		CHECK((tq.op == AUTHD_THROTTLE_LIST) == (tq.key[0] == '\0'));
		authdproto_throttle_put(&out, &tq);
		CHECK_REENCODES(out, in);
	} else if (in.type == MSG_MASTER_THROTTLE_RESULT &&
	    authdproto_throttle_result_get(&in, &tr) == 0) {
		CHECK(tr.status <= 1 && tr.len <= AUTHD_THROTTLE_TEXT_MAX);
		for (i = 0; i < tr.len; i++)
			CHECK(tr.text[i] == '\n' || (tr.text[i] >= 0x20 && tr.text[i] != 0x7f));
		authdproto_throttle_result_put(&out, tr.id, tr.status, tr.count, (const char *)tr.text,
		    tr.len);
		CHECK_REENCODES(out, in);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fuzz_ipc_message(&in, data, size) < 0)
		return 0;
	if (in.type == MSG_AUTHD_THROTTLE || in.type == MSG_MASTER_THROTTLE_RESULT) {
		throttles();
		return 0;
	}
	if (in.type == MSG_MASTER_REHASH) {
		static struct authd_rehash rh;
		if (authdproto_rehash_get(&in, &rh) == 0) {
			CHECK(strncmp(rh.hash, "$y$", 3) == 0 && rh.user[0] != '\0');
			CHECK(strcspn(rh.hash, "\r\n\t :") == strlen(rh.hash));
			authdproto_rehash_put(&out, &rh);
			CHECK_REENCODES(out, in);
		}
		return 0;
	}
	if (in.type == MSG_AUTHD_LOOKUP || in.type == MSG_MASTER_LOOKUP_RESULT) {
		lookups();
		return 0;
	}
	if (in.type == MSG_AUTHD_SESSION_NEW || in.type == MSG_MASTER_LOGIN) {
		sessions();
		return 0;
	}
	if ((in.type >> 8) == 0x03) {
		requests();
		return 0;
	}
	if ((in.type >> 8) == 0x04) {
		answers();
		return 0;
	}
	if (in.type == MSG_MASTER_SCRAM_ADD) {
		static struct authd_scram_add sa;
		if (authdproto_scram_add_get(&in, &sa) == 0) {
			CHECK(sa.user[0] != '\0' && sa.hash[0] != '\0');
			CHECK(sa.scram.iterations >= SCRAM_ITER_MIN && sa.scram.saltlen >= 1 &&
			    sa.scram.saltlen <= SCRAM_SALT_MAX);
			authdproto_scram_add_put(&out, &sa);
			CHECK_REENCODES(out, in);
		} else {
			CHECK(sa.user[0] == '\0' && sa.scram.iterations == 0);
		}
		return 0;
	}
	if (in.type == MSG_AUTHD_BACKEND) {
		uint8_t kind;
		uint32_t pid;
		if (authdproto_backend_get(&in, &kind, &pid) == 0) {
			CHECK(in.fd >= 0 && (kind == BACKENDQ_PGSQL || kind == BACKENDQ_CHECKPW));
			authdproto_backend_put(&out, kind, pid, in.fd);
			CHECK_REENCODES(out, in);
		}
		return 0;
	}
	if (in.type == MSG_AUTHD_SASL_CONFIG) {
		static struct authd_sasl_config sc;
		struct namechars nc;
		const char *why;
		if (authdproto_sasl_config_get(&in, &sc) == 0) {
			CHECK(namechars_parse(sc.username_chars, sc.username_utf8, sc.username_max, &nc,
			    &why) == 0);
			CHECK(sasl_mechs_check(sc.mechanisms, &why) == 0 && sc.scram_iterations >= 4096);
			authdproto_sasl_config_put(&out, &sc);
			CHECK_REENCODES(out, in);
		}
		return 0;
	}
	if (in.type != MSG_AUTHD_CONFIG)
		return 0;
	if (authdproto_config_get(&in, &c) == 0) {
		CHECK(c.have == 1);
		CHECK(memchr(c.default_domain, '\0', sizeof(c.default_domain)) != NULL);
		CHECK(memchr(c.mail_root, '\0', sizeof(c.mail_root)) != NULL);
		CHECK(c.ipv6_prefix <= 128 && c.max_checks_per_s > 0);
	} else {
		CHECK(c.have == 0);
	}
	return 0;
}
