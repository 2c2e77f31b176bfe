/* test_keydproto.c - keyd's request decoders and the checks it makes
 * before a private-key operation: which signature algorithm a TLS version
 * allows, and which byte strings are ServerKeyExchange structures. */
#include <bearssl.h>
#include <string.h>

#include "../../common/ipc/keydproto.h"
#include "../../common/ipc/authdproto.h"
#include "../../common/ipc/keydproto.h"
#include "../../common/ipc/masterproto.h"
#include "../../common/ipc/proto.h"
#include "../../common/ipc/storeproto.h"
#include "tap.h"

static struct ipc_out out;
static struct ipc_in in;

/* What ipc_send would put on the wire, decoded as ipc_recv would. */
static int
loopback(void)
{
	size_t plen = out.len - IPC_HDR_LEN;

	out.data[0] = IPC_VERSION;
	out.data[1] = 0;
	out.data[2] = (uint8_t)(out.type >> 8);
	out.data[3] = (uint8_t)out.type;
	out.data[4] = (uint8_t)(plen >> 24);
	out.data[5] = (uint8_t)(plen >> 16);
	out.data[6] = (uint8_t)(plen >> 8);
	out.data[7] = (uint8_t)plen;
	if (ipc_decode(&in, out.data, out.len, 0) < 0)
		return -1;
	in.fd = -1;
	return 0;
}

/* signed_params for curve with point (plen_byte as its length byte). */
static size_t
ske(uint8_t *buf, unsigned curve, const uint8_t *point, size_t plen, size_t plen_byte)
{
	memset(buf, 0xa5, KEYD_SKE_RANDOMS);
	buf[64] = 3;
	buf[65] = 0;
	buf[66] = (uint8_t)curve;
	buf[67] = (uint8_t)plen_byte;
	memcpy(buf + 68, point, plen);
	return KEYD_SKE_RANDOMS + 4 + plen;
}

static const uint8_t *
gen(int curve, size_t *len_r)
{
	return br_ec_get_default()->generator(curve, len_r);
}

static void
test_ske_valid(void)
{
	static const int curves[] = { BR_EC_secp256r1, BR_EC_secp384r1, BR_EC_secp521r1 };
	uint8_t buf[KEYD_SKE_MAX + 8], x[32];
	size_t i, glen, n;

	for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
		const uint8_t *g = gen(curves[i], &glen);
		n = ske(buf, (unsigned)curves[i], g, glen, glen);
		CHECK(keydproto_ske_check(buf, n) == curves[i], "a NIST curve's generator is accepted");
	}
	memset(x, 9, sizeof(x));
	n = ske(buf, BR_EC_curve25519, x, sizeof(x), sizeof(x));
	CHECK(keydproto_ske_check(buf, n) == BR_EC_curve25519, "any 32-byte x25519 key");
}

static void
test_ske_invalid(void)
{
	uint8_t buf[KEYD_SKE_MAX + 8], pt[133];
	size_t glen, n;
	const uint8_t *g = gen(BR_EC_secp256r1, &glen);

	n = ske(buf, 23, g, glen, glen);
	CHECK(keydproto_ske_check(buf, n - 1) < 0, "one byte short");
	CHECK(keydproto_ske_check(buf, 32) < 0, "a bare hash value");
	CHECK(keydproto_ske_check(buf, 0) < 0, "empty");
	buf[n] = 0;
	CHECK(keydproto_ske_check(buf, n + 1) < 0, "a trailing byte");
	buf[64] = 1;
	CHECK(keydproto_ske_check(buf, n) < 0, "explicit_prime curve type");
	buf[64] = 3;
	buf[65] = 1;
	CHECK(keydproto_ske_check(buf, n) < 0, "NamedCurve above 255");
	buf[65] = 0;
	buf[66] = 22;
	CHECK(keydproto_ske_check(buf, n) < 0, "secp256k1: not offered");
	buf[66] = 24;
	CHECK(keydproto_ske_check(buf, n) < 0, "a P-256 point labelled P-384");
	memcpy(pt, g, glen);
	pt[glen - 1] ^= 1;
	n = ske(buf, 23, pt, glen, glen);
	CHECK(keydproto_ske_check(buf, n) < 0, "a point off the curve");
	pt[glen - 1] ^= 1;
	pt[0] = 2;
	n = ske(buf, 23, pt, 33, 33);
	CHECK(keydproto_ske_check(buf, n) < 0, "a compressed point");
	pt[0] = 6;
	n = ske(buf, 23, pt, glen, glen);
	CHECK(keydproto_ske_check(buf, n) < 0, "a hybrid point encoding");
	n = ske(buf, 23, g, glen, glen - 1);
	CHECK(keydproto_ske_check(buf, n) < 0, "length byte disagrees with the size");
	memset(pt, 0, sizeof(pt));
	pt[0] = 4;
	n = ske(buf, 23, pt, 65, 65);
	CHECK(keydproto_ske_check(buf, n) < 0, "(0, 0) is not a point");
}

static void
test_sign_hash(void)
{
	const int rsa = BR_KEYTYPE_RSA, ec = BR_KEYTYPE_EC;

	CHECK(keydproto_sign_hash(0x0303, 0x0401, rsa, KEYD_TLS10) == br_sha256_ID, "TLS 1.2 RSA SHA-256");
	CHECK(keydproto_sign_hash(0x0303, 0x0603, ec, KEYD_TLS12) == br_sha512_ID, "TLS 1.2 ECDSA SHA-512");
	CHECK(keydproto_sign_hash(0x0303, 0x0201, rsa, KEYD_TLS10) == br_sha1_ID, "TLS 1.2 RSA SHA-1");
	CHECK(keydproto_sign_hash(0x0303, 0x0001, rsa, KEYD_TLS10) < 0, "no MD5+SHA-1 at TLS 1.2");
	CHECK(keydproto_sign_hash(0x0303, 0x0101, rsa, KEYD_TLS10) < 0, "no MD5");
	CHECK(keydproto_sign_hash(0x0303, 0x0701, rsa, KEYD_TLS10) < 0, "no unknown hash");
	CHECK(keydproto_sign_hash(0x0303, 0x0403, rsa, KEYD_TLS10) < 0, "ECDSA byte with an RSA key");
	CHECK(keydproto_sign_hash(0x0303, 0x0401, ec, KEYD_TLS10) < 0, "RSA byte with an EC key");
	CHECK(keydproto_sign_hash(0x0303, 0x0402, rsa, KEYD_TLS10) < 0, "DSA");
	CHECK(keydproto_sign_hash(0x0303, 0xff04, rsa, KEYD_TLS10) < 0, "BearSSL's pre-hashed form");
	CHECK(keydproto_sign_hash(0x0303, 0x10401, rsa, KEYD_TLS10) < 0, "algo above 16 bits");
	CHECK(keydproto_sign_hash(0x0301, 0x0001, rsa, KEYD_TLS10) == KEYD_HASH_MD5SHA1, "TLS 1.0 RSA");
	CHECK(keydproto_sign_hash(0x0302, 0x0203, ec, KEYD_TLS10) == br_sha1_ID, "TLS 1.1 ECDSA SHA-1");
	CHECK(keydproto_sign_hash(0x0301, 0x0401, rsa, KEYD_TLS10) < 0, "TLS 1.0 fixes the RSA hash");
	CHECK(keydproto_sign_hash(0x0301, 0x0403, ec, KEYD_TLS10) < 0, "TLS 1.0 fixes the ECDSA hash");
	CHECK(keydproto_sign_hash(0x0301, 0x0001, rsa, KEYD_TLS12) < 0, "below tls_min_version");
	CHECK(keydproto_sign_hash(0x0300, 0x0001, rsa, 0) < 0, "SSL 3.0");
	CHECK(keydproto_sign_hash(0x0304, 0x0401, rsa, KEYD_TLS10) < 0, "TLS 1.3");
	CHECK(keydproto_sign_hash(0x0303, 0x0401, 3, KEYD_TLS10) < 0, "unknown key type");
	CHECK(keydproto_sign_algo(ec, 0x0303, br_sha384_ID) == 0x0503 &&
	    keydproto_sign_algo(rsa, 0x0301, br_sha256_ID) == 0x0001 &&
	    keydproto_sign_algo(ec, 0x0302, br_sha256_ID) == 0x0203, "what the worker sends");
}

static void
test_decoders(void)
{
	uint8_t buf[KEYD_SKE_MAX + 1] = { 0 };
	struct keyd_sign_req s;
	struct keyd_keyx_req k;

	ipc_out_init(&out, MSG_KEYD_SIGN);
	ipc_put_u32(&out, 1);
	ipc_put_u32(&out, 0x0303);
	ipc_put_u32(&out, 0x0403);
	ipc_put_bytes(&out, buf, 133);
	CHECK(loopback() == 0 && keydproto_sign(&in, &s) == 0 && s.key_id == 1 && s.version == 0x0303 &&
	    s.algo == 0x0403 && s.tbslen == 133, "sign request");
	ipc_out_init(&out, MSG_KEYD_SIGN);
	ipc_put_u32(&out, 1);
	ipc_put_u32(&out, 0xff04);
	ipc_put_bytes(&out, buf, 32);
	CHECK(loopback() == 0 && keydproto_sign(&in, &s) < 0, "the old layout (no version) fails");
	ipc_out_init(&out, MSG_KEYD_SIGN);
	ipc_put_u32(&out, 1);
	ipc_put_u32(&out, 0x0303);
	ipc_put_u32(&out, 0x0403);
	ipc_put_bytes(&out, buf, KEYD_SKE_MAX + 1);
	CHECK(loopback() == 0 && keydproto_sign(&in, &s) < 0, "longer than any structure");
	ipc_out_init(&out, MSG_KEYD_KEYX);
	ipc_put_u32(&out, 0);
	ipc_put_u32(&out, 0x0303);
	ipc_put_bytes(&out, buf, 128);
	CHECK(loopback() == 0 && keydproto_keyx(&in, &k) == 0 && k.client_max_version == 0x0303 &&
	    k.len == 128, "keyx request");
	ipc_out_init(&out, MSG_KEYD_KEYX);
	ipc_put_u32(&out, 0);
	ipc_put_u32(&out, 0x10303);
	ipc_put_bytes(&out, buf, 128);
	CHECK(loopback() == 0 && keydproto_keyx(&in, &k) < 0, "client version above 16 bits");
	ipc_out_init(&out, MSG_KEYD_KEYX);
	ipc_put_u32(&out, 0);
	ipc_put_bytes(&out, buf, 128);
	CHECK(loopback() == 0 && keydproto_keyx(&in, &k) < 0, "the old layout (no version) fails");
}

int
main(void)
{
	test_ske_valid();
	test_ske_invalid();
	test_sign_hash();
	test_decoders();
	return tap_done();
}
