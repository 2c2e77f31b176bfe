/* test_scram.c - SCRAM-SHA-256: the RFC 7677 3 test vector, the parsers
 * of the client's messages (whole and cut at every byte). */
#include <stdint.h>
#include <string.h>

#include "../../common/auth/scram.h"
#include "../../common/base/util.h"
#include "tap.h"

#define CF "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
#define SF "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define CFIN "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0," \
	"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define SFIN "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

static int
first(const char *s, struct scram_client_first *r)
{
	return scram_client_first_parse((const uint8_t *)s, strlen(s), r);
}

static int
final(const char *s, struct scram_client_final *r)
{
	return scram_client_final_parse((const uint8_t *)s, strlen(s), r);
}

static void
test_vector(void)
{
	struct scram_client_first cf;
	struct scram_client_final fin;
	struct scram_secrets sec;
	uint8_t salt[32], authmsg[1024];
	char v[64];
	long sl = util_base64_decode((const uint8_t *)"W22ZaJ0SNY7soEsUEjb6gQ==", 24, salt, sizeof(salt));
	size_t am;

	CHECK(first(CF, &cf) == SCRAM_OK && cf.cbind == 'n' && cf.gs2len == 3 &&
	    cf.userlen == 4 && memcmp(cf.user, "user", 4) == 0 && cf.noncelen == 20 &&
	    cf.barelen == strlen(CF) - 3, "client-first of RFC 7677");
	CHECK(final(CFIN, &fin) == SCRAM_OK && fin.without_proof == strlen(CFIN) - 47 &&
	    fin.noncelen == 50, "client-final of RFC 7677");
	CHECK(scram_cbind_matches(&fin, (const uint8_t *)"n,,", 3), "c=biws is n,,");
	CHECK(!scram_cbind_matches(&fin, (const uint8_t *)"y,,", 3), "and not y,,");
	scram_make_secrets((const uint8_t *)"pencil", 6, salt, (size_t)sl, 4096, &sec);
	am = (size_t)snprintf((char *)authmsg, sizeof(authmsg), "%s,%s,%.*s", CF + 3, SF,
	    (int)fin.without_proof, CFIN);
	CHECK(scram_check_proof(&sec, authmsg, am, fin.proof, v, sizeof(v)) == 1 &&
	    strcmp(v, SFIN) == 0, "proof accepted, server signature of RFC 7677");
	fin.proof[0] ^= 1;
	CHECK(scram_check_proof(&sec, authmsg, am, fin.proof, v, sizeof(v)) == 0, "wrong proof refused");
	scram_make_secrets((const uint8_t *)"pencil!", 7, salt, (size_t)sl, 4096, &sec);
	fin.proof[0] ^= 1;
	CHECK(scram_check_proof(&sec, authmsg, am, fin.proof, v, sizeof(v)) == 0,
	    "other password's secrets refuse it");
}

static void
test_first(void)
{
	struct scram_client_first r;
	size_t i;
	int all = 1;

	CHECK(first("y,,n=user,r=abc", &r) == SCRAM_OK && r.cbind == 'y', "y,, accepted");
	CHECK(first("p=tls-unique,,n=user,r=abc", &r) == SCRAM_CBIND, "p= refused as binding");
	CHECK(first("n,a=user,n=user,r=abc", &r) == SCRAM_OK && r.gs2len == 9, "same authzid");
	CHECK(first("n,a=admin,n=user,r=abc", &r) == SCRAM_AUTHZ, "other authzid refused");
	CHECK(first("n,,m=x,n=user,r=abc", &r) == SCRAM_MEXT, "m= refused");
	CHECK(first("n,,n=a=2Cb=3Dc,r=abc", &r) == SCRAM_OK && r.userlen == 5 &&
	    memcmp(r.user, "a,b=c", 5) == 0, "saslname escapes decoded");
	CHECK(first("n,,n=a=3Cb,r=abc", &r) == SCRAM_MALFORMED, "bad escape refused");
	CHECK(first("n,,n=a=b,r=abc", &r) == SCRAM_MALFORMED, "bare '=' refused");
	CHECK(first("n,,n=user,r=abc,x=1,y=2", &r) == SCRAM_OK, "extensions skipped");
	CHECK(first("n,,n=user,r=abc,", &r) == SCRAM_MALFORMED, "trailing comma refused");
	CHECK(first("n,,n=,r=abc", &r) == SCRAM_MALFORMED, "empty user refused");
	CHECK(first("n,,n=user,r=", &r) == SCRAM_MALFORMED, "empty nonce refused");
	CHECK(first("n,,n=user,r=a\x7f", &r) == SCRAM_MALFORMED, "nonce not printable refused");
	CHECK(scram_client_first_parse((const uint8_t *)"n,,n=us\0er,r=abc", 16, &r) ==
	    SCRAM_MALFORMED, "NUL refused");
	CHECK(first("n,n=user,r=abc", &r) == SCRAM_MALFORMED, "gs2 header without authzid comma");
	CHECK(first("x,,n=user,r=abc", &r) == SCRAM_MALFORMED, "unknown cbind flag");
	CHECK(first("n,,r=abc,n=user", &r) == SCRAM_MALFORMED, "order matters");
	/* every prefix of a good message is refused (no reading past the end) */
	for (i = 0; i < strlen(CF); i++)
		all &= scram_client_first_parse((const uint8_t *)CF, i, &r) != SCRAM_OK ||
		    i >= strlen("n,,n=user,r=r");
	CHECK(all, "prefixes: none shorter than a nonce accepted");
}

static void
test_final(void)
{
	struct scram_client_final r;
	size_t i;
	int all = 1;

	CHECK(final("c=biws,r=abc,x=1,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", &r) ==
	    SCRAM_OK && r.without_proof == 16, "extension before the proof");
	CHECK(final("c=biws,r=abc,p=dHzb", &r) == SCRAM_MALFORMED, "short proof refused");
	CHECK(final("c=biws,r=abc", &r) == SCRAM_MALFORMED, "no proof refused");
	CHECK(final("c=biws,r=abc,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=,x=1", &r) ==
	    SCRAM_MALFORMED, "proof not last refused");
	CHECK(final("c=b!ws,r=abc,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", &r) ==
	    SCRAM_MALFORMED, "cbind not base64 refused");
	CHECK(final("r=abc,c=biws,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", &r) ==
	    SCRAM_MALFORMED, "order matters");
	for (i = 0; i < strlen(CFIN); i++)
		all &= scram_client_final_parse((const uint8_t *)CFIN, i, &r) != SCRAM_OK;
	CHECK(all, "no prefix accepted");
}

int
main(void)
{
	test_vector();
	test_first();
	test_final();
	return tap_done();
}
