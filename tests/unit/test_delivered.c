/* test_delivered - the Delivered-To loop check, whole and one byte at a
 * time. */
#include <string.h>

#include "../../common/mail/delivered.h"
#include "tap.h"

static int
scan(const char *addr, const char *msg, int bytewise)
{
	struct delivered_scan s;
	size_t i, len = strlen(msg);

	delivered_scan_init(&s, addr);
	if (!bytewise) {
		if (delivered_scan_feed(&s, (const uint8_t *)msg, len))
			return s.found;
	} else {
		for (i = 0; i < len; i++)
			if (delivered_scan_feed(&s, (const uint8_t *)msg + i, 1))
				return s.found;
	}
	return delivered_scan_end(&s);
}

static void
cases(int bw)
{
	const char *a = "alice@example.org";

	CHECK(scan(a, "Delivered-To: alice@example.org\nSubject: x\n\nbody\n", bw) == 1, "first field");
	CHECK(scan(a, "Received: x\nDELIVERED-TO:  <Alice@Example.ORG> \r\n\r\nbody\r\n", bw) == 1,
	    "any case, brackets, blanks, CRLF");
	CHECK(scan(a, "Delivered-To :alice@example.org\n\n", bw) == 1, "blank before the colon");
	CHECK(scan(a, "Delivered-To:\n alice@example.org\n\n", bw) == 1, "folded");
	CHECK(scan(a, "Subject: x\nDelivered-To: alice@example.org", bw) == 1, "no empty line: EOF ends it");
	CHECK(scan(a, "Subject: x\n\nDelivered-To: alice@example.org\n", bw) == 0, "in the body: no");
	CHECK(scan(a, "Subject: x\r\n\r\nDelivered-To: alice@example.org\r\n", bw) == 0,
	    "in the body after CRLF CRLF: no");
	CHECK(scan(a, "Delivered-To: bob@example.org\nDelivered-To: alice@example.org.x\n\n", bw) == 0,
	    "other addresses");
	CHECK(scan(a, "X-Delivered-To: alice@example.org\n\n", bw) == 0, "another field name");
	CHECK(scan(a, "Delivered-To: alice@example.org extra\n\n", bw) == 0, "more in the value");
	CHECK(scan(a, "Delivered-To: bob@example.org\n alice@example.org\n\n", bw) == 0,
	    "a continuation is part of its field");
	CHECK(scan(a, "Subject: x\n\rDelivered-To: alice@example.org\n\n", bw) == 0, "a stray CR");
	CHECK(scan("", "Delivered-To: \n\n", bw) == 0, "empty address never matches");
}

static void
limits(void)
{
	char msg[2048];

	memset(msg, ' ', sizeof(msg));
	memcpy(msg, "Delivered-To:", 13);
	memcpy(msg + 1500, "alice@example.org\n\n", 20);
	CHECK(scan("alice@example.org", msg, 0) == 0, "a field over DELIVERED_FIELD_MAX is skipped");
	memcpy(msg, "Subject: x\nDelivered-To: alice@example.org\n\n", 45);
	CHECK(scan("alice@example.org", msg, 0) == 1, "the next field is read again");
}

int
main(void)
{
	cases(0);
	cases(1);
	limits();
	return tap_done();
}
