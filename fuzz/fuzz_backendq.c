/* fuzz_backendq.c - the pure parts of the external backends: a
 * checkpassword program's key=value output and a PostgreSQL row's
 * fields (what a backend says about a user), the auth_backends chain and
 * the SQL query text with named parameters, the LDAP filter and DN
 * templates.  The first byte picks the parser.  Properties: fields a parser accepts make a reply authd's
 * decoder accepts (the helper never sends what authd would refuse);
 * every named parameter becomes a positional one, and the translated text
 * has no name left (translating it again refuses $1, or is the same text
 * when there were none). */
#include <string.h>

#include "../common/auth/backendq.h"
#include "../common/ipc/backendproto.h"
#include "fuzz.h"

static struct ipc_out out;
static struct ipc_in in;

static void
check_reply(const struct backend_reply *r)
{
	struct backend_reply back;

	size_t plen;

	backendproto_reply_put(&out, r);
	CHECK(out.err == 0);
	/* the header ipc_send would write */
	plen = out.len - IPC_HDR_LEN;
	out.data[0] = IPC_VERSION;
	out.data[1] = 0;
	out.data[2] = (uint8_t)(out.type >> 8);
	out.data[3] = (uint8_t)out.type;
	out.data[4] = (uint8_t)(plen >> 24);
	out.data[5] = (uint8_t)(plen >> 16);
	out.data[6] = (uint8_t)(plen >> 8);
	out.data[7] = (uint8_t)plen;
	CHECK(ipc_decode(&in, out.data, out.len, 0) == 0);
	in.fd = -1;
	CHECK(backendproto_reply_get(&in, &back) == 0);
	/* (bytes after a string's NUL may differ: a field set twice) */
	CHECK(back.id == r->id && back.status == r->status && back.verified == r->verified &&
	    strcmp(back.user, r->user) == 0 && strcmp(back.hash, r->hash) == 0 &&
	    strcmp(back.mail_root, r->mail_root) == 0 && back.uid == r->uid && back.gid == r->gid &&
	    back.quota == r->quota && back.flags == r->flags);
}

static void
lines(const uint8_t *p, size_t n)
{
	static struct backend_reply r;
	const char *why;

	backendq_fields_init(&r, "user@example.com");
	if (backendq_lines(&r, p, n, &why) == 0)
		check_reply(&r);
}

/* key NUL value NUL key NUL value ... */
static void
fields(const uint8_t *p, size_t n)
{
	static struct backend_reply r;
	const uint8_t *k, *v, *e = p + n;
	const char *why;
	size_t kl, vl;

	backendq_fields_init(&r, "user@example.com");
	while (p < e) {
		k = p;
		kl = strnlen((const char *)k, (size_t)(e - k));
		p += kl + (k + kl < e);
		v = p;
		vl = strnlen((const char *)v, (size_t)(e - v));
		p += vl + (v + vl < e);
		if (backendq_field(&r, (const char *)k, kl, v, vl, &why) < 0)
			return;
	}
	check_reply(&r);
}

static void
translate(const uint8_t *p, size_t n)
{
	static char q[BACKENDQ_QUERY_MAX + 1], o[BACKENDQ_QUERY_MAX], o2[BACKENDQ_QUERY_MAX];
	enum backendq_param order[BACKENDQ_PARAMS_MAX];
	const char *why;
	int k, k2;

	if (n > BACKENDQ_QUERY_MAX)
		n = BACKENDQ_QUERY_MAX;
	memcpy(q, p, n);
	q[n] = '\0';
	k = backendq_translate(q, o, sizeof(o), order, &why);
	if (k < 0)
		return;
	CHECK(k <= BACKENDQ_PARAMS_MAX && strlen(o) <= strlen(q));
	for (int i = 0; i < k; i++)
		CHECK(order[i] <= BACKENDQ_P_SERVICE);
	k2 = backendq_translate(o, o2, sizeof(o2), order, &why);
	CHECK(k == 0 ? k2 == 0 && strcmp(o, o2) == 0 : k2 < 0);
}

static void
chain(const uint8_t *p, size_t n)
{
	static char t[256];
	enum backendq_kind c[BACKENDQ_CHAIN_MAX];
	const char *why;
	size_t k, i, j;

	if (n >= sizeof(t))
		n = sizeof(t) - 1;
	memcpy(t, p, n);
	t[n] = '\0';
	if (backendq_chain(t, c, &k, &why) < 0)
		return;
	CHECK(k >= 1 && k <= BACKENDQ_CHAIN_MAX);
	for (i = 0; i < k; i++)
		for (j = i + 1; j < k; j++)
			CHECK(c[i] != c[j]);
}

/* An LDAP template: it expands exactly when its check passes, and the
 * values (a name full of specials) add no unescaped special. */
static void
ldap_template(const uint8_t *p, size_t n, int dn)
{
	static char t[512], o[4096];
	const char *why;
	size_t i, specials = 0, specials_out = 0;
	int ok;

	if (n >= sizeof(t))
		n = sizeof(t) - 1;
	memcpy(t, p, n);
	t[n] = '\0';
	ok = backendq_ldap_expand(t, dn, NULL, NULL, o, sizeof(o), &why) == 0;
	if (backendq_ldap_expand(t, dn, "*)(,+\\#<>;=\"@x", "imap", o, sizeof(o), &why) < 0) {
		CHECK(!ok || strcmp(why, "too long") == 0);
		return;
	}
	CHECK(ok);
	for (i = 0; t[i] != '\0'; i++)
		specials += strchr(dn ? ",+<>;\"" : "*()", t[i]) != NULL && t[i] != '\0';
	for (i = 0; o[i] != '\0'; i++)
		specials_out += strchr(dn ? ",+<>;\"" : "*()", o[i]) != NULL && o[i] != '\0';
	CHECK(specials_out <= specials);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 4) {
		ldap_template(data + 1, size - 1, data[0] & 1);
		return 0;
	}
	switch (data[0] & 3) {
	case 0:
		lines(data + 1, size - 1);
		break;
	case 1:
		fields(data + 1, size - 1);
		break;
	case 2:
		translate(data + 1, size - 1);
		break;
	default:
		chain(data + 1, size - 1);
		break;
	}
	return 0;
}
