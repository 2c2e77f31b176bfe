/* fuzz_pem.c - pem_walk() over the input as a certificate/key file.
 * Every object handed to the callback has a terminated label and a length
 * within PEM_OBJECT_MAX; a CERTIFICATE object also goes through the
 * certificate-name extractor, as keyd does. */
#include <string.h>

#include "../common/net/pem.h"
#include "../common/net/x509.h"
#include "fuzz.h"

static int
object(void *ctx, const char *label, const uint8_t *der, size_t len)
{
	struct x509_names names;
	unsigned *count = ctx;

	CHECK(strlen(label) < 128);
	CHECK(len <= PEM_OBJECT_MAX);
	CHECK(der != NULL || len == 0);
	if (strcmp(label, "CERTIFICATE") == 0 && x509_cert_names(der, len, &names) == 0)
		CHECK(names.n <= X509_MAX_NAMES);
	return ++*count > 64 ? -1 : 0;	/* a callback may stop the walk */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why;
	unsigned count = 0;
	int rc = pem_walk(data, size, object, &count, &why);

	CHECK(rc == 0 || rc == -1);
	CHECK(rc == 0 || why != NULL || count > 64);
	return 0;
}
