/* test_smtp_parse.c - SMTP command lines: verbs, the address grammar, ESMTP
 * parameters, and the exact reply for each refusal. */
#include <stdio.h>
#include <string.h>

#include "../../common/proto/smtp_parse.h"
#include "tap.h"

static struct smtp_limits lim;
static struct smtp_cmd cmd;
static struct smtp_reply err;

static int
parse_n(const char *line, size_t len, unsigned flags)
{
	return smtp_parse((const uint8_t *)line, len, &lim, flags, &cmd, &err);
}

/* The line parses. */
static int
ok_n(const char *line, size_t len, unsigned flags)
{
	if (parse_n(line, len, flags) == 0)
		return 1;
	printf("#   \"%.*s\": %u %s %s\n", (int)len, line, err.code, err.esc, err.text);
	return 0;
}

/* The line is refused with code and esc. */
static int
bad_n(const char *line, size_t len, unsigned flags, unsigned code, const char *esc)
{
	if (parse_n(line, len, flags) == -1 && err.code == code && strcmp(err.esc, esc) == 0)
		return 1;
	printf("#   \"%.*s\": got %u %s %s\n", (int)len, line, err.code, err.esc, err.text);
	return 0;
}

#define OK(l)			ok_n(l, strlen(l), 0)
#define OKU(l)			ok_n(l, strlen(l), SMTP_PARSE_UTF8)
#define BAD(l, code, esc)	bad_n(l, strlen(l), 0, code, esc)
#define BADN(l, code, esc)	bad_n(l, sizeof(l) - 1, 0, code, esc)

static int
addr_is(const char *a)
{
	if (strcmp(cmd.path.addr, a) == 0)
		return 1;
	printf("#   addr \"%s\" want \"%s\"\n", cmd.path.addr, a);
	return 0;
}

/* "MAIL FROM:<" + a local part of n 'a's + "@example.org>" */
static const char *
mail_local(size_t n)
{
	static char buf[600];

	memcpy(buf, "MAIL FROM:<", 11);
	memset(buf + 11, 'a', n);
	snprintf(buf + 11 + n, sizeof(buf) - 11 - n, "@example.org>");
	return buf;
}

/* "RCPT TO:<u@" + a domain of n octets (labels of 49) + ">" */
static const char *
rcpt_domain(size_t n)
{
	static char buf[600];
	size_t o = 10, i;

	memcpy(buf, "RCPT TO:<u@", 11);
	for (i = 0; i < n; i++)
		buf[++o] = ((n - 1 - i) % 50 == 49) ? '.' : 'd';
	buf[++o] = '>';
	buf[++o] = '\0';
	return buf;
}

static void
test_verbs(void)
{
	CHECK(OK("EHLO mx.example.org") && cmd.verb == SMTP_V_EHLO &&
	    !strcmp(cmd.domain, "mx.example.org"), "EHLO domain");
	CHECK(OK("ehlo [192.0.2.1]") && !strcmp(cmd.domain, "[192.0.2.1]"), "EHLO IPv4 literal");
	CHECK(OK("EHLO [IPv6:2001:db8::1]"), "EHLO IPv6 literal");
	CHECK(OK("EHLO [IPv6:::ffff:192.0.2.1]"), "EHLO IPv6v4 literal");
	CHECK(OK("EHLO DESKTOP-4F2K_PC"), "EHLO Windows name with '_' tolerated");
	CHECK(OK("EHLO host.example.org."), "EHLO trailing dot tolerated");
	CHECK(OK("EHLO localhost  "), "trailing spaces tolerated");
	CHECK(BAD("EHLO", 501, "5.5.4"), "EHLO without argument");
	CHECK(BAD("EHLO ", 501, "5.5.4"), "EHLO with a space only");
	CHECK(BAD("EHLO a b", 501, "5.5.2"), "EHLO two words");
	CHECK(BAD("EHLO [300.1.1.1]", 501, "5.5.2"), "EHLO bad IPv4 literal");
	CHECK(BAD("EHLO [IPv6:zz::1]", 501, "5.5.2"), "EHLO bad IPv6 literal");
	CHECK(BAD("EHLO -host", 501, "5.5.2"), "EHLO label starting with '-'");
	CHECK(BAD("EHLO ho\xc3\xa9st", 501, "5.5.2"), "EHLO non-ASCII");
	CHECK(OK("HELO client") && cmd.verb == SMTP_V_HELO, "HELO");
	CHECK(OK("LHLO lmtp.example") && cmd.verb == SMTP_V_LHLO, "LHLO");
	CHECK(OK("DATA") && cmd.verb == SMTP_V_DATA, "DATA");
	CHECK(BAD("DATA x", 501, "5.5.4") && !strcmp(err.text, "Syntax: DATA"), "DATA with argument");
	CHECK(OK("RSET") && cmd.verb == SMTP_V_RSET, "RSET");
	CHECK(BAD("RSET now", 501, "5.5.4"), "RSET with argument");
	CHECK(OK("NOOP") && cmd.verb == SMTP_V_NOOP && cmd.arglen == 0, "NOOP");
	CHECK(OK("NOOP hello there") && cmd.arglen == 11, "NOOP with a string");
	CHECK(OK("QUIT") && cmd.verb == SMTP_V_QUIT, "QUIT");
	CHECK(BAD("QUIT x", 501, "5.5.4"), "QUIT with argument");
	CHECK(OK("VRFY postmaster") && cmd.verb == SMTP_V_VRFY && cmd.arglen == 10, "VRFY");
	CHECK(BAD("VRFY", 501, "5.5.4"), "VRFY without argument");
	CHECK(OK("EXPN staff") && cmd.verb == SMTP_V_EXPN, "EXPN");
	CHECK(BAD("EXPN", 501, "5.5.4"), "EXPN without argument");
	CHECK(OK("HELP") && cmd.verb == SMTP_V_HELP, "HELP");
	CHECK(OK("HELP MAIL") && cmd.arglen == 4, "HELP topic");
	CHECK(OK("STARTTLS") && cmd.verb == SMTP_V_STARTTLS, "STARTTLS");
	CHECK(BAD("STARTTLS now", 501, "5.5.4"), "STARTTLS with argument");
	CHECK(OK("TURN") && cmd.verb == SMTP_V_NOTIMPL, "TURN recognised, not implemented");
	CHECK(OK("ETRN example.org") && cmd.verb == SMTP_V_NOTIMPL, "ETRN recognised");
	CHECK(BAD("XYZZY", 500, "5.5.1") && cmd.verb == SMTP_V_UNKNOWN, "unknown verb");
	CHECK(BAD("X-FOO bar", 500, "5.5.1"), "unknown verb with '-'");
	CHECK(BAD("MAILFROM:<a@b>", 500, "5.5.1"), "MAIL glued to FROM");
	CHECK(BAD("GET / HTTP/1.0", 500, "5.5.1"), "HTTP request");
	CHECK(BAD("", 500, "5.5.2"), "empty line");
	CHECK(BAD("   ", 500, "5.5.2"), "spaces only");
	CHECK(BADN("NO\0OP", 501, "5.5.2") || BADN("NO\0OP", 500, "5.5.1"), "NUL in verb");
	CHECK(BADN("NOOP a\0b", 501, "5.5.2"), "NUL in argument");
	CHECK(BAD("NOOP a\rb", 501, "5.5.2"), "bare CR in argument");
	CHECK(BAD("NOOP a\tb", 501, "5.5.2"), "TAB in argument");
	CHECK(BAD("NOOP \xc3\xa9", 501, "5.5.2"), "non-ASCII NOOP");
}

static void
test_bdat_auth(void)
{
	CHECK(OK("BDAT 1000") && cmd.verb == SMTP_V_BDAT && cmd.bdat_size == 1000 &&
	    !cmd.bdat_last, "BDAT size");
	CHECK(OK("BDAT 0 LAST") && cmd.bdat_size == 0 && cmd.bdat_last, "BDAT 0 LAST");
	CHECK(OK("bdat 12 last") && cmd.bdat_last, "BDAT lower case");
	CHECK(OK("BDAT 18446744073709551615") && cmd.bdat_size == UINT64_MAX, "BDAT max size");
	CHECK(BAD("BDAT 18446744073709551616", 501, "5.5.4") && cmd.verb == SMTP_V_BDAT,
	    "BDAT size overflow refused, verb kept");
	CHECK(BAD("BDAT", 501, "5.5.4") && cmd.verb == SMTP_V_BDAT, "BDAT without size");
	CHECK(BAD("BDAT x", 501, "5.5.4"), "BDAT non-numeric");
	CHECK(BAD("BDAT 10 FIRST", 501, "5.5.4"), "BDAT bad keyword");
	CHECK(BAD("BDAT -1", 501, "5.5.4"), "BDAT negative");
	CHECK(OK("AUTH PLAIN") && cmd.verb == SMTP_V_AUTH && !strcmp(cmd.mech, "PLAIN") &&
	    cmd.ir == NULL, "AUTH without initial response");
	CHECK(OK("auth plain AGRlbW8Ac2VjcmV0") && !strcmp(cmd.mech, "PLAIN") &&
	    cmd.irlen == 16 && !memcmp(cmd.ir, "AGRlbW8Ac2VjcmV0", 16), "AUTH with initial response");
	CHECK(OK("AUTH PLAIN =") && cmd.irlen == 1, "AUTH empty initial response");
	CHECK(OK("AUTH SCRAM-SHA-256") && !strcmp(cmd.mech, "SCRAM-SHA-256"), "AUTH SCRAM name");
	CHECK(BAD("AUTH", 501, "5.5.4"), "AUTH without mechanism");
	CHECK(BAD("AUTH ABCDEFGHIJKLMNOPQRSTU", 501, "5.5.4"), "AUTH mechanism over 20");
	CHECK(BAD("AUTH PLAIN a*b", 501, "5.5.2"), "AUTH bad base64");
	CHECK(BAD("AUTH PLAIN a b", 501, "5.5.2"), "AUTH two responses");
}

static void
test_mail_rcpt(void)
{
	CHECK(OK("MAIL FROM:<user@example.org>") && cmd.verb == SMTP_V_MAIL &&
	    addr_is("user@example.org") && cmd.path.local_len == 4, "MAIL FROM");
	CHECK(OK("mail from:<User@Example.ORG>") && addr_is("User@Example.ORG"),
	    "lower-case verb and FROM, address kept as sent");
	CHECK(OK("MAIL FROM:<>") && (cmd.path.flags & SMTP_PATH_NULL) && addr_is(""), "null sender");
	CHECK(OK("MAIL FROM: <a@b.example>") && addr_is("a@b.example"), "space after colon tolerated");
	CHECK(OK("MAIL FROM:<@relay1.example,@relay2.example:user@c.example>") &&
	    addr_is("user@c.example") && (cmd.path.flags & SMTP_PATH_ROUTE), "source route stripped");
	CHECK(OK("RCPT TO:<@hop.example:u@d.example>") && addr_is("u@d.example"), "RCPT source route");
	CHECK(BAD("MAIL FROM:<@relay1.example:>", 553, "5.1.7"), "source route without mailbox");
	CHECK(BAD("MAIL FROM:<@-bad:u@d>", 553, "5.1.7"), "source route bad domain");
	CHECK(BAD("MAIL FROM:user@example.org", 553, "5.1.7"), "no angle brackets");
	CHECK(BAD("MAIL FROM:<user@example.org", 553, "5.1.7"), "no closing bracket");
	CHECK(BAD("MAIL FROM:<user>", 553, "5.1.7"), "no domain");
	CHECK(BAD("MAIL FROM:<@example.org>", 553, "5.1.7"), "empty local part");
	CHECK(BAD("MAIL FROM:<a..b@example.org>", 553, "5.1.7"), "double dot");
	CHECK(BAD("MAIL FROM:<.a@example.org>", 553, "5.1.7"), "leading dot");
	CHECK(BAD("MAIL FROM:<a.@example.org>", 553, "5.1.7"), "trailing dot in local part");
	CHECK(BAD("MAIL FROM:<a@b@example.org>", 553, "5.1.7"), "two @");
	CHECK(BAD("MAIL FROM:<a@example..org>", 553, "5.1.7"), "empty label");
	CHECK(BAD("MAIL FROM:<a@example.org.>", 553, "5.1.7"), "trailing dot in domain");
	CHECK(BAD("MAIL FROM:<a@ex_ample.org>", 553, "5.1.7"), "'_' in a mailbox domain");
	CHECK(BAD("MAIL FROM:<a@-example.org>", 553, "5.1.7"), "label starting with '-'");
	CHECK(BAD("MAIL FROM:<a@example-.org>", 553, "5.1.7"), "label ending with '-'");
	CHECK(BAD("MAIL FROM:<a b@example.org>", 553, "5.1.7"), "unquoted space");
	CHECK(BAD("MAIL TO:<a@b>", 501, "5.5.4"), "MAIL TO");
	CHECK(BAD("MAIL", 501, "5.5.4"), "MAIL alone");
	CHECK(BAD("MAIL FROM:<a@b.example>x", 501, "5.5.2"), "junk after the path");
	CHECK(OK("MAIL FROM:<\"john smith\"@example.org>") && addr_is("\"john smith\"@example.org") &&
	    cmd.path.local_len == 12, "quoted local part with a space");
	CHECK(OK("MAIL FROM:<\"a\\\"b\"@x.example>") && addr_is("\"a\\\"b\"@x.example"),
	    "quoted local part with an escaped quote");
	CHECK(OK("MAIL FROM:<\"\"@x.example>"), "empty quoted local part");
	CHECK(BAD("MAIL FROM:<\"abc@x.example>", 553, "5.1.7"), "unterminated quoted string");
	CHECK(BAD("MAIL FROM:<\"a\"b@x.example>", 553, "5.1.7"), "text after a quoted string");
	CHECK(OK("MAIL FROM:<!#$%&'*+-/=?^_`{|}~@x.example>"), "every atext character");
	CHECK(OK("MAIL FROM:<a@[192.0.2.7]>") && (cmd.path.flags & SMTP_PATH_LITERAL),
	    "IPv4 address literal");
	CHECK(OK("MAIL FROM:<a@[IPv6:2001:db8::7]>"), "IPv6 address literal");
	CHECK(OK("MAIL FROM:<a@[ipv6:::1]>"), "IPv6 tag case-insensitive");
	CHECK(BAD("MAIL FROM:<a@[192.0.2]>", 553, "5.1.7"), "short IPv4 literal");
	CHECK(BAD("MAIL FROM:<a@[x-tag:stuff]>", 553, "5.1.7"), "general literal refused");
	CHECK(BAD("MAIL FROM:<a@[IPv6:1.2.3.4]>", 553, "5.1.7"), "IPv4 in an IPv6 tag");
	CHECK(OK(mail_local(64)) && cmd.path.local_len == 64, "64-octet local part");
	CHECK(BAD(mail_local(65), 553, "5.1.7") && strstr(err.text, "64"), "65-octet local part");
	CHECK(OK(rcpt_domain(255)), "255-octet domain");
	CHECK(BAD(rcpt_domain(256), 501, "5.1.3") && strstr(err.text, "255"), "256-octet domain");
	CHECK(BAD("RCPT TO:<u@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.org>",
	    501, "5.1.3"), "64-octet label");
	CHECK(OK("RCPT TO:<bob@example.org>") && cmd.verb == SMTP_V_RCPT && addr_is("bob@example.org"),
	    "RCPT TO");
	CHECK(OK("RCPT TO:<Postmaster>") && (cmd.path.flags & SMTP_PATH_POSTMASTER) &&
	    addr_is("Postmaster"), "RCPT TO:<Postmaster>");
	CHECK(OK("RCPT TO:<postMASTER>"), "Postmaster case-insensitive");
	CHECK(OK("RCPT TO:<postmaster@example.org>") && !(cmd.path.flags & SMTP_PATH_POSTMASTER),
	    "postmaster@domain is an ordinary mailbox");
	CHECK(BAD("MAIL FROM:<Postmaster>", 553, "5.1.7"), "<Postmaster> is not a sender");
	CHECK(BAD("RCPT TO:<>", 501, "5.1.3"), "<> in RCPT");
	CHECK(BAD("RCPT TO:bob@example.org", 501, "5.1.3"), "RCPT without brackets");
	CHECK(BAD("RCPT FROM:<a@b>", 501, "5.5.4"), "RCPT FROM");
	CHECK(OK("RCPT TO: <a@b.example>"), "RCPT space after colon tolerated");
}

static void
test_utf8(void)
{
	CHECK(BAD("MAIL FROM:<j\xc3\xb6rg@example.org>", 553, "5.6.7"), "UTF-8 sender without SMTPUTF8");
	CHECK(OK("MAIL FROM:<j\xc3\xb6rg@example.org> SMTPUTF8") &&
	    (cmd.path.flags & SMTP_PATH_UTF8) && (cmd.params.seen & SMTP_P_SMTPUTF8),
	    "UTF-8 sender with SMTPUTF8");
	CHECK(OK("MAIL FROM:<a@\xe4\xbe\x8b\xe3\x81\x88.jp> SMTPUTF8"), "U-label domain with SMTPUTF8");
	CHECK(OK("MAIL FROM:<\"\xc3\xa9 x\"@b.example> SMTPUTF8"), "UTF-8 in a quoted local part");
	CHECK(BAD("RCPT TO:<\xd0\xb8\xd0\xb2@example.org>", 553, "5.6.7"), "UTF-8 recipient, no SMTPUTF8");
	CHECK(OKU("RCPT TO:<\xd0\xb8\xd0\xb2@example.org>"), "UTF-8 recipient in an SMTPUTF8 transaction");
	CHECK(OKU("RCPT TO:<a@b.\xf0\x9f\x93\xa7>"), "4-byte UTF-8");
	CHECK(bad_n("RCPT TO:<\xc0\xaf@example.org>", 24, SMTP_PARSE_UTF8, 501, "5.1.3"), "overlong UTF-8");
	CHECK(bad_n("RCPT TO:<\xed\xa0\x80@example.org>", 25, SMTP_PARSE_UTF8, 501, "5.1.3"), "surrogate");
	CHECK(bad_n("RCPT TO:<\xff@example.org>", 23, SMTP_PARSE_UTF8, 501, "5.1.3"), "0xff byte");
	CHECK(bad_n("RCPT TO:<\xc3@example.org>", 23, SMTP_PARSE_UTF8, 501, "5.1.3"), "truncated UTF-8");
	CHECK(BAD("MAIL FROM:<a@b.example> SMTPUTF8=yes", 501, "5.5.4"), "SMTPUTF8 with a value");
	CHECK(smtp_utf8_valid((const uint8_t *)"a\xc3\xa9", 3) && !smtp_utf8_valid((const uint8_t *)"\xf4\x90\x80\x80", 4),
	    "smtp_utf8_valid: U+10FFFF is the top");
}

static void
test_params(void)
{
	CHECK(OK("MAIL FROM:<a@b.example> SIZE=12345") && cmd.params.size == 12345 &&
	    cmd.params.seen == SMTP_P_SIZE, "SIZE");
	CHECK(OK("MAIL FROM:<a@b.example> SIZE=99999999999999999999") &&
	    cmd.params.size == UINT64_MAX, "SIZE overflow saturates");
	CHECK(BAD("MAIL FROM:<a@b.example> SIZE=123456789012345678901", 501, "5.5.4"), "SIZE over 20 digits");
	CHECK(BAD("MAIL FROM:<a@b.example> SIZE=12k", 501, "5.5.4"), "SIZE not a number");
	CHECK(BAD("MAIL FROM:<a@b.example> SIZE=", 501, "5.5.4"), "SIZE empty");
	CHECK(BAD("MAIL FROM:<a@b.example> SIZE", 501, "5.5.4"), "SIZE without value");
	CHECK(BAD("MAIL FROM:<a@b.example> SIZE=1 SIZE=2", 501, "5.5.4") &&
	    !strcmp(err.text, "Duplicate parameter"), "SIZE twice");
	CHECK(OK("MAIL FROM:<a@b.example> BODY=8BITMIME") && cmd.params.body == SMTP_BODY_8BITMIME,
	    "BODY=8BITMIME");
	CHECK(OK("MAIL FROM:<a@b.example> body=7bit") && cmd.params.body == SMTP_BODY_7BIT, "BODY=7BIT");
	CHECK(OK("MAIL FROM:<a@b.example> BODY=BINARYMIME") &&
	    cmd.params.body == SMTP_BODY_BINARYMIME, "BODY=BINARYMIME");
	CHECK(BAD("MAIL FROM:<a@b.example> BODY=9BIT", 501, "5.5.4"), "BODY bad value");
	CHECK(BAD("MAIL FROM:<a@b.example> BODY=7BIT BODY=7BIT", 501, "5.5.4"), "BODY twice");
	CHECK(OK("MAIL FROM:<a@b.example> SMTPUTF8"), "SMTPUTF8");
	CHECK(BAD("MAIL FROM:<a@b.example> SMTPUTF8 SMTPUTF8", 501, "5.5.4"), "SMTPUTF8 twice");
	CHECK(OK("MAIL FROM:<a@b.example> RET=HDRS") && cmd.params.ret == SMTP_RET_HDRS, "RET=HDRS");
	CHECK(OK("MAIL FROM:<a@b.example> RET=full") && cmd.params.ret == SMTP_RET_FULL, "RET=FULL");
	CHECK(BAD("MAIL FROM:<a@b.example> RET=BODY", 501, "5.5.4"), "RET bad value");
	CHECK(BAD("MAIL FROM:<a@b.example> RET=FULL RET=HDRS", 501, "5.5.4"), "RET twice");
	CHECK(OK("MAIL FROM:<a@b.example> ENVID=QQ314159+2Bx") && !strcmp(cmd.params.envid, "QQ314159+x"),
	    "ENVID xtext decoded");
	CHECK(BAD("MAIL FROM:<a@b.example> ENVID=a+2b", 501, "5.5.4"), "ENVID lower-case hex");
	CHECK(BAD("MAIL FROM:<a@b.example> ENVID=a+2", 501, "5.5.4"), "ENVID short hex");
	CHECK(BAD("MAIL FROM:<a@b.example> ENVID=a+0A", 501, "5.5.4"), "ENVID decoding to a control");
	CHECK(BAD("MAIL FROM:<a@b.example> ENVID=x ENVID=y", 501, "5.5.4"), "ENVID twice");
	CHECK(BAD("MAIL FROM:<a@b.example> ENVID=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 501, "5.5.4"), "ENVID over 100");
	CHECK(OK("MAIL FROM:<a@b.example> AUTH=<>") && !strcmp(cmd.params.auth, "<>"), "AUTH=<>");
	CHECK(OK("MAIL FROM:<a@b.example> AUTH=e+3Dmc2@example.com") &&
	    !strcmp(cmd.params.auth, "e=mc2@example.com"), "AUTH=xtext decoded");
	CHECK(BAD("MAIL FROM:<a@b.example> AUTH=<> AUTH=<>", 501, "5.5.4"), "AUTH twice");
	CHECK(BAD("MAIL FROM:<a@b.example> AUTH=", 501, "5.5.4"), "AUTH empty");
	CHECK(OK("RCPT TO:<a@b.example> NOTIFY=NEVER") && cmd.params.notify == SMTP_NOTIFY_NEVER,
	    "NOTIFY=NEVER");
	CHECK(OK("RCPT TO:<a@b.example> NOTIFY=SUCCESS,FAILURE,DELAY") &&
	    cmd.params.notify == (SMTP_NOTIFY_SUCCESS | SMTP_NOTIFY_FAILURE | SMTP_NOTIFY_DELAY),
	    "NOTIFY list");
	CHECK(OK("RCPT TO:<a@b.example> notify=failure") && cmd.params.notify == SMTP_NOTIFY_FAILURE,
	    "NOTIFY lower case");
	CHECK(BAD("RCPT TO:<a@b.example> NOTIFY=NEVER,DELAY", 501, "5.5.4"), "NOTIFY NEVER with others");
	CHECK(BAD("RCPT TO:<a@b.example> NOTIFY=SUCCESS,SUCCESS", 501, "5.5.4"), "NOTIFY repeated word");
	CHECK(BAD("RCPT TO:<a@b.example> NOTIFY=SUCCESS,", 501, "5.5.4"), "NOTIFY trailing comma");
	CHECK(BAD("RCPT TO:<a@b.example> NOTIFY=SOMETIMES", 501, "5.5.4"), "NOTIFY bad word");
	CHECK(BAD("RCPT TO:<a@b.example> NOTIFY=NEVER NOTIFY=NEVER", 501, "5.5.4"), "NOTIFY twice");
	CHECK(OK("RCPT TO:<a@b.example> ORCPT=rfc822;Bob+40Example.org") &&
	    !strcmp(cmd.params.orcpt_type, "rfc822") && !strcmp(cmd.params.orcpt, "Bob@Example.org"),
	    "ORCPT decoded");
	CHECK(BAD("RCPT TO:<a@b.example> ORCPT=rfc822", 501, "5.5.4"), "ORCPT without ';'");
	CHECK(BAD("RCPT TO:<a@b.example> ORCPT=;x@y", 501, "5.5.4"), "ORCPT without type");
	CHECK(BAD("RCPT TO:<a@b.example> ORCPT=rfc822;", 501, "5.5.4"), "ORCPT empty address");
	CHECK(BAD("RCPT TO:<a@b.example> ORCPT=rfc822;a ORCPT=rfc822;b", 501, "5.5.4"), "ORCPT twice");
	CHECK(OK("RCPT TO:<a@b.example> NOTIFY=DELAY ORCPT=rfc822;a@b.example") &&
	    cmd.params.seen == (SMTP_P_NOTIFY | SMTP_P_ORCPT), "NOTIFY and ORCPT");
	CHECK(OK("MAIL FROM:<a@b.example>  SIZE=1   BODY=8BITMIME") &&
	    cmd.params.seen == (SMTP_P_SIZE | SMTP_P_BODY), "several spaces tolerated");
	CHECK(OK("MAIL FROM:<> SIZE=10 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=x AUTH=<>") &&
	    cmd.params.seen == SMTP_P_MAIL, "every MAIL parameter");
	CHECK(BAD("MAIL FROM:<a@b.example> XFOO=1", 555, "5.5.4"), "unknown parameter");
	CHECK(BAD("MAIL FROM:<a@b.example> NOTIFY=NEVER", 555, "5.5.4"), "RCPT parameter on MAIL");
	CHECK(BAD("RCPT TO:<a@b.example> SIZE=1", 555, "5.5.4"), "MAIL parameter on RCPT");
	CHECK(BAD("MAIL FROM:<a@b.example> =1", 501, "5.5.4"), "parameter without keyword");
	CHECK(BAD("MAIL FROM:<a@b.example> SIZE=1=2", 501, "5.5.4"), "'=' inside a value");
	CHECK(BAD("MAIL FROM:<a@b.example> -X", 501, "5.5.4"), "keyword starting with '-'");
}

static void
test_limits(void)
{
	char line[5000];
	size_t n;

	/* 510 octets + CRLF = 512: the limit */
	memset(line, 'a', sizeof(line));
	memcpy(line, "NOOP ", 5);
	CHECK(ok_n(line, 510, 0), "NOOP line of 512 with CRLF");
	CHECK(bad_n(line, 511, 0, 500, "5.5.2") && !strcmp(err.text, "Line too long"), "NOOP line of 513");
	n = (size_t)snprintf(line, sizeof(line), "MAIL FROM:<a@%s ENVID=", rcpt_domain(255) + 11);
	memset(line + n, 'x', 100);
	n += 100;
	n += (size_t)snprintf(line + n, sizeof(line) - n, " AUTH=");
	memset(line + n, 'y', 300);
	n += 300;
	n += (size_t)snprintf(line + n, sizeof(line) - n, " SIZE=1 BODY=8BITMIME RET=HDRS");
	CHECK(n + 2 > 512 && ok_n(line, n, 0), "MAIL over 512 within the extended limit");
	lim.max_line_ext = n + 1;
	CHECK(bad_n(line, n, 0, 500, "5.5.2"), "MAIL over the extended limit");
	smtp_limits_default(&lim);
	CHECK(smtp_verb_ends_group(SMTP_V_EHLO) && smtp_verb_ends_group(SMTP_V_DATA) &&
	    smtp_verb_ends_group(SMTP_V_VRFY) && smtp_verb_ends_group(SMTP_V_EXPN) &&
	    smtp_verb_ends_group(SMTP_V_NOTIMPL) && smtp_verb_ends_group(SMTP_V_QUIT) &&
	    smtp_verb_ends_group(SMTP_V_NOOP), "RFC 2920 group enders");
	CHECK(!smtp_verb_ends_group(SMTP_V_MAIL) && !smtp_verb_ends_group(SMTP_V_RCPT) &&
	    !smtp_verb_ends_group(SMTP_V_RSET) && !smtp_verb_ends_group(SMTP_V_BDAT),
	    "MAIL, RCPT, RSET, BDAT may be grouped");
}

int
main(void)
{
	smtp_limits_default(&lim);
	test_verbs();
	test_bdat_auth();
	test_mail_rcpt();
	test_utf8();
	test_params();
	test_limits();
	return tap_done();
}
