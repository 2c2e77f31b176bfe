/* x509.h - the little X.509 Postern needs: which DNS names a certificate is
 * for, host name checks for SNI, and a self-signed ECDSA P-256 certificate
 * for first start.  Nothing here validates a chain: keyd serves its own
 * certificates and only has to pick one by SNI.
 *
 * x509_cert_names(), x509_host_valid() and x509_name_match() are pure and
 * fuzzed (fuzz/fuzz_x509.c).
 */
#ifndef POSTERN_X509_H
#define POSTERN_X509_H

#include <bearssl.h>
#include <stddef.h>
#include <stdint.h>

#define X509_MAX_NAMES 32
#define X509_NAME_MAX 253	/* RFC 1035 section 2.3.4, without the root dot */

struct x509_names {
	unsigned n;
	char name[X509_MAX_NAMES][X509_NAME_MAX + 1];	/* lower-case DNS names */
};

/* Extract the DNS names a certificate is valid for: every dNSName of the
 * subjectAltName extension (lower-cased; "*.example.org" wildcards kept as
 * they are); if the certificate has no SAN dNSName, the subject's last
 * commonName when it looks like a DNS name (RFC 6125 section 6.4.4).
 * Duplicates are listed once.  Pure; der is untrusted.
 * Returns 0, or -1 if the DER is malformed (bad lengths, nesting beyond the
 * X.509 structure, trailing bytes); out->n is then 0.  Names beyond
 * X509_MAX_NAMES or longer than X509_NAME_MAX or not valid DNS names are
 * skipped, not errors. */
int x509_cert_names(const uint8_t *der, size_t len, struct x509_names *out);

/* Non-zero if host (len bytes, from SNI: untrusted) is a syntactically valid
 * DNS host name: 1..253 bytes, labels 1..63 of [A-Za-z0-9-] not starting or
 * ending with '-', at least one label, no trailing dot, no NUL. */
int x509_host_valid(const uint8_t *host, size_t len);

/* Non-zero if pattern (a name from x509_cert_names) covers host (valid,
 * any case): exact match ignoring ASCII case, or a "*.rest" pattern whose
 * wildcard replaces exactly one whole left-most label (RFC 6125 section
 * 6.4.3; "*.example.org" matches "a.example.org", not "example.org" nor
 * "a.b.example.org"; no partial-label wildcards like "f*.example.org").
 * A wildcard needs at least two labels after it ("*.org" matches nothing),
 * and an invalid host matches nothing. */
int x509_name_match(const char *pattern, const char *host);

/* Make a self-signed ECDSA P-256 certificate for cn (a valid host name,
 * also the only SAN dNSName), valid from not_before to not_after (Unix
 * seconds, not after 9999; UTCTime before 2050 and GeneralizedTime from
 * 2050 on, RFC 5280 section 4.1.2.5), with a random positive 16-byte
 * serial, version 3, basicConstraints CA:FALSE (critical), keyUsage
 * digitalSignature (critical), extendedKeyUsage serverAuth, subjectAltName
 * dNSName cn; signed ecdsa-with-SHA256.  The key comes from
 * br_ec_keygen(rng, br_ec_get_default(), ..., BR_EC_secp256r1).
 * Writes the certificate DER to cert (capacity *cert_len; set to the
 * length; 2048 bytes always suffice) and the private key as SEC1
 * "EC PRIVATE KEY" DER (RFC 5915) to key (capacity *key_len, set likewise;
 * 128 bytes suffice).  Key material is wiped from the stack.
 * Returns 0, or -1 (bad cn or times, buffers too small, key or signature
 * failure; the lengths are then unchanged). */
int x509_selfsigned_p256(const br_prng_class **rng, const char *cn,
    uint64_t not_before, uint64_t not_after,
    uint8_t *cert, size_t *cert_len, uint8_t *key, size_t *key_len);

/* Write der as PEM (RFC 7468: 64-character lines, LF) with the given label
 * ("CERTIFICATE", "EC PRIVATE KEY") to fd.  The text is built in a
 * temporary buffer that is wiped and freed.  Returns 0 or -1 (errno). */
int x509_write_pem(int fd, const char *label, const uint8_t *der, size_t len);

#endif
