/* x509.c - certificate names, host name checks, self-signed P-256 certificates.
 *
 * The reader walks the fixed shape of an X.509 certificate (RFC 5280 section
 * 4.1) with a DER cursor that carries a sticky error, one function per
 * level, no recursion.  The writer builds DER backwards (each element's
 * contents first, then its header in front), so no length is computed twice.
 */
#include "x509.h"
#include "../base/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* DER universal tags (X.690 section 8) and the context tags of RFC 5280 */
enum {
	DER_BOOLEAN = 0x01, DER_INTEGER = 0x02, DER_BIT_STRING = 0x03,
	DER_OCTET_STRING = 0x04, DER_OID = 0x06, DER_UTF8 = 0x0c,
	DER_PRINTABLE = 0x13, DER_IA5 = 0x16, DER_UTCTIME = 0x17,
	DER_GENTIME = 0x18, DER_SEQUENCE = 0x30, DER_SET = 0x31,
	X509_TAG_VERSION = 0xa0, X509_TAG_ISSUER_UID = 0x81,
	X509_TAG_SUBJECT_UID = 0x82, X509_TAG_EXTENSIONS = 0xa3,
	X509_TAG_DNSNAME = 0x82,
};

static const uint8_t oid_cn[] = { 0x55, 0x04, 0x03 };		/* 2.5.4.3 */
static const uint8_t oid_san[] = { 0x55, 0x1d, 0x11 };		/* 2.5.29.17 */

/* ---- reading ---- */

struct der {
	const uint8_t *p;	/* next unread byte */
	size_t left;		/* unread bytes of this element's contents */
	int err;		/* sticky: once set, every read fails */
};

static void
der_init(struct der *d, const uint8_t *p, size_t len)
{
	d->p = p;
	d->left = len;
	d->err = 0;
}

/* Read one element: its tag and a cursor over its contents.  Only what DER
 * allows for X.509 passes: low tag numbers, definite lengths in the shortest
 * form (X.690 section 10.1), at most 4 length bytes, inside the parent. */
static int
der_next(struct der *d, uint8_t *tag_r, struct der *in_r)
{
	size_t len, hl = 2, n, i;

	der_init(in_r, NULL, 0);
	in_r->err = 1;
	if (d->err || d->left < 2 || (d->p[0] & 0x1f) == 0x1f)
		goto bad;
	len = d->p[1];
	if (len >= 0x80) {
		n = len & 0x7f;
		/* 0x80 is BER's indefinite length; 0x00 leads are not minimal */
		if (n == 0 || n > 4 || d->left - 2 < n || d->p[2] == 0)
			goto bad;
		for (len = 0, i = 0; i < n; i++)
			len = len << 8 | d->p[2 + i];
		if (len < 0x80)
			goto bad;
		hl += n;
	}
	if (len > d->left - hl)
		goto bad;
	*tag_r = d->p[0];
	der_init(in_r, d->p + hl, len);
	d->p += hl + len;
	d->left -= hl + len;
	return 0;
bad:
	d->err = 1;
	return -1;
}

/* Read an element that must have this tag. */
static int
der_expect(struct der *d, uint8_t tag, struct der *in_r)
{
	uint8_t t;

	if (der_next(d, &t, in_r) < 0)
		return -1;
	if (t != tag) {
		d->err = in_r->err = 1;
		return -1;
	}
	return 0;
}

/* Read an OPTIONAL element: 1 if present (read into in_r), 0 if not. */
static int
der_optional(struct der *d, uint8_t tag, struct der *in_r)
{
	if (d->err || d->left == 0 || d->p[0] != tag) {
		der_init(in_r, NULL, 0);
		return 0;
	}
	return der_expect(d, tag, in_r) == 0;
}

/* A child is finished: its errors and unread bytes become the parent's. */
static int
der_close(struct der *parent, const struct der *child)
{
	if (child->err || child->left != 0)
		parent->err = 1;
	return parent->err ? -1 : 0;
}

static int
der_is(const struct der *d, const uint8_t *v, size_t len)
{
	return d->left == len && memcmp(d->p, v, len) == 0;
}

/* ---- names ---- */

static uint8_t
ascii_lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

static int
ascii_ieq(const char *a, const char *b, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (ascii_lower((uint8_t)a[i]) != ascii_lower((uint8_t)b[i]))
			return 0;
	return 1;
}

int
x509_host_valid(const uint8_t *host, size_t len)
{
	size_t i, label = 0;
	uint8_t c;

	if (len == 0 || len > X509_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		c = host[i];
		if (c == '.') {
			if (label == 0 || host[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-'))
			return 0;
		if ((c == '-' && label == 0) || ++label > 63)
			return 0;
	}
	return label > 0 && host[len - 1] != '-';
}

/* A name as a certificate may present it: a host name, or "*." and one. */
static int
pattern_valid(const uint8_t *p, size_t len)
{
	if (len > 2 && p[0] == '*' && p[1] == '.')
		return x509_host_valid(p + 2, len - 2);
	return x509_host_valid(p, len);
}

int
x509_name_match(const char *pattern, const char *host)
{
	size_t pl = strnlen(pattern, X509_NAME_MAX + 1);
	size_t hl = strnlen(host, X509_NAME_MAX + 1);
	const char *rest, *dot;

	if (!x509_host_valid((const uint8_t *)host, hl) ||
	    !pattern_valid((const uint8_t *)pattern, pl))
		return 0;
	if (pattern[0] != '*')
		return pl == hl && ascii_ieq(pattern, host, hl);
	/* RFC 6125 section 6.4.3: "*" stands for the whole left-most label
	 * only; a wildcard over a single label ("*.org") is refused */
	rest = pattern + 2;
	dot = memchr(host, '.', hl);
	if (memchr(rest, '.', pl - 2) == NULL || dot == NULL)
		return 0;
	return hl - (size_t)(dot + 1 - host) == pl - 2 && ascii_ieq(dot + 1, rest, pl - 2);
}

/* Add a presented name, lower-cased, unless it is not a DNS name, does not
 * fit, or is already listed. */
static void
names_add(struct x509_names *out, const uint8_t *p, size_t len)
{
	char name[X509_NAME_MAX + 1];
	unsigned i;
	size_t k;

	if (out->n >= X509_MAX_NAMES || !pattern_valid(p, len))
		return;
	for (k = 0; k < len; k++)
		name[k] = (char)ascii_lower(p[k]);
	name[len] = '\0';
	for (i = 0; i < out->n; i++)
		if (strcmp(out->name[i], name) == 0)
			return;
	memcpy(out->name[out->n++], name, len + 1);
}

/* ---- the certificate walk ---- */

struct cn {
	struct der value;	/* the last commonName's string */
	uint8_t tag;
	int found;
};

/* AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL } */
static int
walk_algid(struct der *d)
{
	struct der alg, oid, param;
	uint8_t tag;

	der_expect(d, DER_SEQUENCE, &alg);
	der_expect(&alg, DER_OID, &oid);
	if (alg.left > 0)
		der_next(&alg, &tag, &param);
	return der_close(d, &alg);
}

/* Name ::= SEQUENCE OF RelativeDistinguishedName, RDN ::= SET SIZE (1..MAX)
 * OF SEQUENCE { type OID, value ANY }.  Remembers the last commonName. */
static int
walk_name(struct der *d, struct cn *cn)
{
	struct der name, rdn, atv, oid, value;
	uint8_t tag;

	der_expect(d, DER_SEQUENCE, &name);
	while (!name.err && name.left > 0) {
		der_expect(&name, DER_SET, &rdn);
		if (rdn.left == 0)
			rdn.err = 1;
		while (!rdn.err && rdn.left > 0) {
			der_expect(&rdn, DER_SEQUENCE, &atv);
			der_expect(&atv, DER_OID, &oid);
			der_next(&atv, &tag, &value);
			if (der_close(&rdn, &atv) == 0 && cn != NULL &&
			    der_is(&oid, oid_cn, sizeof(oid_cn))) {
				cn->value = value;
				cn->tag = tag;
				cn->found = 1;
			}
		}
		der_close(&name, &rdn);
	}
	return der_close(d, &name);
}

/* Validity ::= SEQUENCE { notBefore Time, notAfter Time } */
static int
walk_validity(struct der *d)
{
	struct der val, t;
	uint8_t tag;
	int i;

	der_expect(d, DER_SEQUENCE, &val);
	for (i = 0; i < 2; i++)
		if (der_next(&val, &tag, &t) == 0 && tag != DER_UTCTIME && tag != DER_GENTIME)
			val.err = 1;
	return der_close(d, &val);
}

/* SubjectPublicKeyInfo ::= SEQUENCE { algorithm, subjectPublicKey BIT STRING } */
static int
walk_spki(struct der *d)
{
	struct der spki, bits;

	der_expect(d, DER_SEQUENCE, &spki);
	walk_algid(&spki);
	der_expect(&spki, DER_BIT_STRING, &bits);
	if (bits.left == 0 || bits.p[0] > 7)
		spki.err = 1;
	return der_close(d, &spki);
}

/* SubjectAltName ::= GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName,
 * every choice context-tagged; dNSName is [2] IMPLICIT IA5String. */
static int
walk_san(struct der *value, struct x509_names *out, int *saw_dns)
{
	struct der gns, gn;
	uint8_t tag;

	der_expect(value, DER_SEQUENCE, &gns);
	if (gns.left == 0)
		gns.err = 1;
	while (!gns.err && gns.left > 0) {
		if (der_next(&gns, &tag, &gn) < 0)
			break;
		if ((tag & 0xc0) != 0x80)
			gns.err = 1;
		else if (tag == X509_TAG_DNSNAME) {
			*saw_dns = 1;
			names_add(out, gn.p, gn.left);
		}
	}
	return der_close(value, &gns);
}

/* Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension ::= SEQUENCE {
 * extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }.
 * A second subjectAltName is malformed (RFC 5280 section 4.2). */
static int
walk_extensions(struct der *d, struct x509_names *out, int *saw_dns)
{
	struct der exts, ext, oid, crit, value;
	int san = 0;

	der_expect(d, DER_SEQUENCE, &exts);
	if (exts.left == 0)
		exts.err = 1;
	while (!exts.err && exts.left > 0) {
		der_expect(&exts, DER_SEQUENCE, &ext);
		der_expect(&ext, DER_OID, &oid);
		if (der_optional(&ext, DER_BOOLEAN, &crit) &&
		    (crit.left != 1 || (crit.p[0] != 0x00 && crit.p[0] != 0xff)))
			ext.err = 1;
		der_expect(&ext, DER_OCTET_STRING, &value);
		if (der_close(&exts, &ext) == 0 && der_is(&oid, oid_san, sizeof(oid_san))) {
			if (san++ > 0)
				exts.err = 1;
			walk_san(&value, out, saw_dns);
			der_close(&exts, &value);
		}
	}
	return der_close(d, &exts);
}

/* TBSCertificate (RFC 5280 section 4.1) */
static int
walk_tbs(struct der *tbs, struct x509_names *out, struct cn *cn, int *saw_dns)
{
	struct der ver, v, serial, x;

	if (der_optional(tbs, X509_TAG_VERSION, &ver)) {
		der_expect(&ver, DER_INTEGER, &v);
		if (v.left != 1 || v.p[0] > 2)
			ver.err = 1;
		der_close(tbs, &ver);
	}
	der_expect(tbs, DER_INTEGER, &serial);
	if (serial.left == 0)
		tbs->err = 1;
	walk_algid(tbs);
	walk_name(tbs, NULL);		/* issuer */
	walk_validity(tbs);
	walk_name(tbs, cn);		/* subject */
	walk_spki(tbs);
	der_optional(tbs, X509_TAG_ISSUER_UID, &x);
	der_optional(tbs, X509_TAG_SUBJECT_UID, &x);
	if (der_optional(tbs, X509_TAG_EXTENSIONS, &x)) {
		walk_extensions(&x, out, saw_dns);
		der_close(tbs, &x);
	}
	return tbs->err || tbs->left != 0 ? -1 : 0;
}

int
x509_cert_names(const uint8_t *der, size_t len, struct x509_names *out)
{
	struct der top, cert, tbs, sig;
	struct cn cn;
	int saw_dns = 0;

	out->n = 0;
	memset(&cn, 0, sizeof(cn));
	der_init(&top, der, len);
	/* Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm,
	 * signatureValue BIT STRING } */
	der_expect(&top, DER_SEQUENCE, &cert);
	der_expect(&cert, DER_SEQUENCE, &tbs);
	walk_algid(&cert);
	der_expect(&cert, DER_BIT_STRING, &sig);
	if (sig.left == 0 || sig.p[0] > 7)
		cert.err = 1;
	if (der_close(&top, &cert) < 0 || top.left != 0 ||
	    walk_tbs(&tbs, out, &cn, &saw_dns) < 0) {
		out->n = 0;
		return -1;
	}
	/* RFC 6125 section 6.4.4: the CN only counts without a DNS-ID */
	if (!saw_dns && cn.found && (cn.tag == DER_UTF8 || cn.tag == DER_PRINTABLE ||
	    cn.tag == DER_IA5))
		names_add(out, cn.value.p, cn.value.left);
	return 0;
}

/* ---- writing ---- */

/* A backwards DER writer: the output is buf[off..cap), growing downwards. */
struct derw {
	uint8_t *buf;
	size_t off;
	size_t cap;
	int err;		/* sticky: out of room or a bad value */
};

static void
w_init(struct derw *w, uint8_t *buf, size_t cap)
{
	w->buf = buf;
	w->off = cap;
	w->cap = cap;
	w->err = 0;
}

/* Bytes written so far; a mark taken before writing contents. */
static size_t
w_mark(const struct derw *w)
{
	return w->cap - w->off;
}

static void
w_put(struct derw *w, const void *p, size_t len)
{
	if (w->err || len > w->off) {
		w->err = 1;
		return;
	}
	w->off -= len;
	if (len > 0)
		memcpy(w->buf + w->off, p, len);
}

/* Put the tag and length of everything written since mark in front of it. */
static void
w_head(struct derw *w, uint8_t tag, size_t mark)
{
	uint8_t h[2 + sizeof(size_t)];
	size_t len = w_mark(w) - mark, i = sizeof(h);

	if (len < 0x80) {
		h[--i] = (uint8_t)len;
	} else {
		for (; len > 0; len >>= 8)
			h[--i] = (uint8_t)len;
		h[i - 1] = (uint8_t)(0x80 | (sizeof(h) - i));
		i--;
	}
	h[--i] = tag;
	w_put(w, h + i, sizeof(h) - i);
}

static void
w_tlv(struct derw *w, uint8_t tag, const void *p, size_t len)
{
	size_t m = w_mark(w);

	w_put(w, p, len);
	w_head(w, tag, m);
}

/* ecdsa-with-SHA256, no parameters (RFC 5758 section 3.2) */
static const uint8_t alg_ecdsa_sha256[] = {
	0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
};
/* [0] { INTEGER 2 }: version 3 */
static const uint8_t tbs_version3[] = { 0xa0, 0x03, 0x02, 0x01, 0x02 };
/* SubjectPublicKeyInfo up to the point: id-ecPublicKey, prime256v1
 * (RFC 5480 section 2), BIT STRING of 66 bytes with 0 unused bits */
static const uint8_t spki_p256_prefix[] = {
	0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
	0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03,
	0x42, 0x00,
};
/* basicConstraints, critical, SEQUENCE {} (cA DEFAULT FALSE is omitted) */
static const uint8_t ext_basic_constraints[] = {
	0x30, 0x0c, 0x06, 0x03, 0x55, 0x1d, 0x13, 0x01, 0x01, 0xff, 0x04, 0x02,
	0x30, 0x00,
};
/* keyUsage, critical, digitalSignature (bit 0) */
static const uint8_t ext_key_usage[] = {
	0x30, 0x0e, 0x06, 0x03, 0x55, 0x1d, 0x0f, 0x01, 0x01, 0xff, 0x04, 0x04,
	0x03, 0x02, 0x07, 0x80,
};
/* extendedKeyUsage: id-kp-serverAuth (1.3.6.1.5.5.7.3.1) */
static const uint8_t ext_eku_server[] = {
	0x30, 0x13, 0x06, 0x03, 0x55, 0x1d, 0x25, 0x04, 0x0c, 0x30, 0x0a, 0x06,
	0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01,
};

/* Name: SEQUENCE { SET { SEQUENCE { commonName, UTF8String cn } } } */
static void
put_name(struct derw *w, const char *cn, size_t len)
{
	size_t m = w_mark(w);

	w_tlv(w, DER_UTF8, cn, len);
	w_tlv(w, DER_OID, oid_cn, sizeof(oid_cn));
	w_head(w, DER_SEQUENCE, m);
	w_head(w, DER_SET, m);
	w_head(w, DER_SEQUENCE, m);
}

/* RFC 5280 section 4.1.2.5: UTCTime YYMMDDHHMMSSZ through 2049,
 * GeneralizedTime YYYYMMDDHHMMSSZ from 2050. */
static void
put_time(struct derw *w, uint64_t t)
{
	uint64_t s = t % 86400;
	int64_t y;
	unsigned m, d;
	char txt[15];
	uint64_t f[7];
	size_t i, n = 0;

	if (t > 253402300799ULL) {	/* 9999-12-31T23:59:59Z */
		w->err = 1;
		return;
	}
	util_civil_from_days((int64_t)(t / 86400), &y, &m, &d);
	f[0] = (uint64_t)y / 100;
	f[1] = (uint64_t)y % 100;
	f[2] = m;
	f[3] = d;
	f[4] = s / 3600;
	f[5] = s / 60 % 60;
	f[6] = s % 60;
	for (i = y < 2050 ? 1 : 0; i < 7; i++) {
		txt[n++] = (char)('0' + f[i] / 10);
		txt[n++] = (char)('0' + f[i] % 10);
	}
	txt[n++] = 'Z';
	w_tlv(w, y < 2050 ? DER_UTCTIME : DER_GENTIME, txt, n);
}

/* [3] { SEQUENCE { basicConstraints, keyUsage, extKeyUsage, SAN } } */
static void
put_extensions(struct derw *w, const char *cn, size_t len)
{
	size_t exts = w_mark(w), ext, m;

	ext = w_mark(w);
	m = w_mark(w);
	w_tlv(w, X509_TAG_DNSNAME, cn, len);
	w_head(w, DER_SEQUENCE, m);
	w_head(w, DER_OCTET_STRING, m);
	w_tlv(w, DER_OID, oid_san, sizeof(oid_san));
	w_head(w, DER_SEQUENCE, ext);
	w_put(w, ext_eku_server, sizeof(ext_eku_server));
	w_put(w, ext_key_usage, sizeof(ext_key_usage));
	w_put(w, ext_basic_constraints, sizeof(ext_basic_constraints));
	w_head(w, DER_SEQUENCE, exts);
	w_head(w, X509_TAG_EXTENSIONS, exts);
}

/* TBSCertificate, fields written last to first. */
static void
put_tbs(struct derw *w, const char *cn, const uint8_t serial[16],
    const br_ec_public_key *pk, uint64_t not_before, uint64_t not_after)
{
	size_t len = strlen(cn), tbs = w_mark(w), m;

	put_extensions(w, cn, len);
	w_put(w, pk->q, pk->qlen);
	w_put(w, spki_p256_prefix, sizeof(spki_p256_prefix));
	put_name(w, cn, len);					/* subject */
	m = w_mark(w);
	put_time(w, not_after);
	put_time(w, not_before);
	w_head(w, DER_SEQUENCE, m);				/* validity */
	put_name(w, cn, len);					/* issuer */
	w_put(w, alg_ecdsa_sha256, sizeof(alg_ecdsa_sha256));
	w_tlv(w, DER_INTEGER, serial, 16);
	w_put(w, tbs_version3, sizeof(tbs_version3));
	w_head(w, DER_SEQUENCE, tbs);
}

/* Certificate ::= SEQUENCE { tbs, ecdsa-with-SHA256, BIT STRING sig },
 * written backwards into cert, then moved to its start. */
static int
put_cert(uint8_t *cert, size_t *cert_len, const uint8_t *tbs, size_t tbs_len,
    const uint8_t *sig, size_t sig_len)
{
	static const uint8_t no_unused_bits = 0;
	struct derw w;
	size_t m;

	w_init(&w, cert, *cert_len);
	w_put(&w, sig, sig_len);
	w_put(&w, &no_unused_bits, 1);
	w_head(&w, DER_BIT_STRING, 0);
	w_put(&w, alg_ecdsa_sha256, sizeof(alg_ecdsa_sha256));
	w_put(&w, tbs, tbs_len);
	w_head(&w, DER_SEQUENCE, 0);
	if (w.err)
		return -1;
	m = w_mark(&w);
	memmove(cert, cert + w.off, m);
	*cert_len = m;
	return 0;
}

/* SEQUENCE { INTEGER r, INTEGER s }, each up to 33 bytes */
#define P256_SIG_MAX 72

/* Sign the TBS bytes; the signature is ASN.1 DER (RFC 5480 section 2.2.3). */
static size_t
sign_tbs(const br_ec_private_key *sk, const uint8_t *tbs, size_t len,
    uint8_t sig[P256_SIG_MAX])
{
	br_sha256_context sc;
	uint8_t hash[br_sha256_SIZE];

	br_sha256_init(&sc);
	br_sha256_update(&sc, tbs, len);
	br_sha256_out(&sc, hash);
	return br_ecdsa_sign_asn1_get_default()(br_ec_get_default(), &br_sha256_vtable,
	    hash, sk, sig);
}

int
x509_selfsigned_p256(const br_prng_class **rng, const char *cn,
    uint64_t not_before, uint64_t not_after,
    uint8_t *cert, size_t *cert_len, uint8_t *key, size_t *key_len)
{
	const br_ec_impl *ec = br_ec_get_default();
	uint8_t skbuf[BR_EC_KBUF_PRIV_MAX_SIZE], pkbuf[BR_EC_KBUF_PUB_MAX_SIZE];
	uint8_t serial[16], tbsbuf[1536], sig[P256_SIG_MAX];
	br_ec_private_key sk;
	br_ec_public_key pk;
	struct derw w;
	size_t sig_len, kl;
	int rc = -1;

	if (!x509_host_valid((const uint8_t *)cn, strnlen(cn, X509_NAME_MAX + 1)) ||
	    not_before > not_after)
		return -1;
	if (br_ec_keygen(rng, ec, &sk, skbuf, BR_EC_secp256r1) == 0 ||
	    br_ec_compute_pub(ec, &pk, pkbuf, &sk) != 65)
		goto out;
	/* RFC 5280 section 4.1.2.2: positive, at most 20 bytes; 0x40 keeps
	 * it positive and minimally encoded at exactly 16 bytes */
	(*rng)->generate(rng, serial, sizeof(serial));
	serial[0] = (uint8_t)((serial[0] & 0x3f) | 0x40);
	w_init(&w, tbsbuf, sizeof(tbsbuf));
	put_tbs(&w, cn, serial, &pk, not_before, not_after);
	if (w.err)
		goto out;
	sig_len = sign_tbs(&sk, tbsbuf + w.off, w_mark(&w), sig);
	kl = br_encode_ec_raw_der(NULL, &sk, &pk);
	if (sig_len == 0 || kl == 0 || kl > *key_len)
		goto out;
	if (put_cert(cert, cert_len, tbsbuf + w.off, w_mark(&w), sig, sig_len) < 0)
		goto out;
	*key_len = br_encode_ec_raw_der(key, &sk, &pk);
	rc = 0;
out:
	explicit_bzero(skbuf, sizeof(skbuf));
	explicit_bzero(&sk, sizeof(sk));
	return rc;
}

int
x509_write_pem(int fd, const char *label, const uint8_t *der, size_t len)
{
	size_t n = br_pem_encode(NULL, der, len, label, BR_PEM_LINE64), off = 0;
	char *pem;
	ssize_t r;
	int rc = 0, saved;

	pem = malloc(n + 1);
	if (pem == NULL)
		return -1;
	br_pem_encode(pem, der, len, label, BR_PEM_LINE64);
	while (off < n) {
		r = write(fd, pem + off, n - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = -1;
			break;
		}
		off += (size_t)r;
	}
	saved = errno;
	explicit_bzero(pem, n + 1);
	free(pem);
	errno = saved;
	return rc;
}
