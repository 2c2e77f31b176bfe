/* test_userimport.c - the Courier, Dovecot and CSV line parsers of
 * `posternctl user import`, and the hash classification. */
#include <stdio.h>
#include <string.h>

#include "../../common/mail/userimport.h"
#include "tap.h"

#define H6 "$6$saltsalt$Xl0cDIUdzKq8h8yHdkqR5p7dJq1tN2gT0bL0FMmYb6qZ4m4KzLwqf4ZcAq9ZmP9uT0n7yUqfR4vQ2d8wXr3Xk."

static int
parse(enum userimport_format f, const char *line, struct userimport_entry *e, const char **why)
{
	*why = NULL;
	return userimport_parse_line(f, line, strlen(line), e, why);
}

static void
test_courier(void)
{
	struct userimport_entry e;
	const char *why;

	CHECK(parse(USERIMPORT_COURIER, "alice@example.org\tuid=8|gid=12|home=/home/alice/|"
	    "systempw=" H6 "|quota=1000S,20C|shell=/bin/sh", &e, &why) == 1, "courier: full line");
	CHECK(!strcmp(e.name, "alice@example.org") && e.uid == 8 && e.gid == 12 &&
	    e.quota == 1000 && !strcmp(e.mailroot, "/home/alice/Maildir") &&
	    !strcmp(e.scheme, "sha512-crypt") && e.strength == USERIMPORT_STRONG &&
	    !strcmp(e.hash, H6), "courier: fields, home + /Maildir");
	CHECK(parse(USERIMPORT_COURIER, "bob\thome=/h/bob|mail=/m/bob|systempw=" H6, &e, &why) == 1 &&
	    !strcmp(e.mailroot, "/m/bob"), "courier: mail= wins over home= before it");
	CHECK(parse(USERIMPORT_COURIER, "bob\tmail=/m/bob|home=/h/bob|systempw=" H6, &e, &why) == 1 &&
	    !strcmp(e.mailroot, "/m/bob"), "courier: mail= wins over home= after it");
	CHECK(parse(USERIMPORT_COURIER, "bob\tpop3pw=$1$ab$cd|systempw=" H6, &e, &why) == 1 &&
	    e.strength == USERIMPORT_STRONG, "courier: systempw over pop3pw");
	CHECK(parse(USERIMPORT_COURIER, "bob uid=1|systempw=" H6, &e, &why) == -1 &&
	    !strcmp(why, "no TAB after the address"), "courier: no TAB");
	CHECK(parse(USERIMPORT_COURIER, "bob\tuid=8", &e, &why) == -1 && strstr(why, "systempw"),
	    "courier: no password");
	CHECK(parse(USERIMPORT_COURIER, "bob\tuid=0|systempw=" H6, &e, &why) == -1 &&
	    strstr(why, "root"), "courier: uid 0 refused");
	CHECK(parse(USERIMPORT_COURIER, "bob\tquota=10X|systempw=" H6, &e, &why) == -1,
	    "courier: bad quota");
	CHECK(parse(USERIMPORT_COURIER, "bob\thome=rel|systempw=" H6, &e, &why) == -1,
	    "courier: relative home");
	CHECK(parse(USERIMPORT_COURIER, "bob\tsystempw=!" H6, &e, &why) == -1 &&
	    strstr(why, "locked"), "courier: locked hash");
	CHECK(parse(USERIMPORT_COURIER, "# comment", &e, &why) == 0 &&
	    parse(USERIMPORT_COURIER, "   ", &e, &why) == 0, "courier: comment and blank");
}

static void
test_dovecot(void)
{
	struct userimport_entry e;
	const char *why;

	CHECK(parse(USERIMPORT_DOVECOT, "erin:{SHA512-CRYPT}" H6 ":1001:1002::/home/erin::x=y",
	    &e, &why) == 1 && !strcmp(e.name, "erin") && !strcmp(e.hash, H6) && e.uid == 1001 &&
	    e.gid == 1002 && e.mailroot[0] == '\0', "dovecot: prefix stripped, ids, home not taken");
	CHECK(parse(USERIMPORT_DOVECOT, "f:{BLF-CRYPT}$2y$05$abcdefghijklmnopqrstuuOQiyCxlgf",
	    &e, &why) == 1 && !strcmp(e.scheme, "bcrypt"), "dovecot: BLF-CRYPT");
	CHECK(parse(USERIMPORT_DOVECOT, "f:{SHA256-CRYPT}$5$ab$cd", &e, &why) == 1 &&
	    !strcmp(e.scheme, "sha256-crypt"), "dovecot: SHA256-CRYPT");
	CHECK(parse(USERIMPORT_DOVECOT, "f:{CRYPT}$y$j9T$ab$cd", &e, &why) == 1 &&
	    !strcmp(e.scheme, "yescrypt"), "dovecot: CRYPT with yescrypt");
	CHECK(parse(USERIMPORT_DOVECOT, "f:{SHA512-CRYPT}$1$ab$cd", &e, &why) == -1 &&
	    strstr(why, "form"), "dovecot: prefix and hash disagree");
	CHECK(parse(USERIMPORT_DOVECOT, "f:{MD5-CRYPT}$1$ab$cd", &e, &why) == 1 &&
	    e.strength == USERIMPORT_WEAK, "dovecot: MD5-CRYPT is weak");
	CHECK(parse(USERIMPORT_DOVECOT, "f:{PLAIN}secret:::", &e, &why) == 1 &&
	    e.strength == USERIMPORT_PLAIN && !strcmp(e.hash, "secret"), "dovecot: PLAIN");
	CHECK(parse(USERIMPORT_DOVECOT, "f:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", &e, &why) == -1,
	    "dovecot: SHA refused");
	CHECK(parse(USERIMPORT_DOVECOT, "f:{SHA512-CRYPT", &e, &why) == -1, "dovecot: open brace");
	CHECK(parse(USERIMPORT_DOVECOT, "f", &e, &why) == -1, "dovecot: no colon");
	CHECK(parse(USERIMPORT_DOVECOT, ":" H6, &e, &why) == -1, "dovecot: empty name");
	CHECK(parse(USERIMPORT_DOVECOT, "f:" H6 ":x:1", &e, &why) == -1, "dovecot: bad uid");
}

static void
test_csv_and_hashes(void)
{
	struct userimport_entry e;
	const char *why;

	CHECK(parse(USERIMPORT_CSV, "user,hash,quota", &e, &why) == 0, "csv: header");
	CHECK(parse(USERIMPORT_CSV, "kim," H6 ",500\r", &e, &why) == 1 && e.quota == 500 &&
	    !strcmp(e.hash, H6), "csv: three fields, CR dropped");
	CHECK(parse(USERIMPORT_CSV, "kim," H6, &e, &why) == 1 && e.quota == 0, "csv: two fields");
	CHECK(parse(USERIMPORT_CSV, "kim", &e, &why) == -1, "csv: one field");
	CHECK(parse(USERIMPORT_CSV, "kim," H6 ",1,2", &e, &why) == -1, "csv: four fields");
	CHECK(parse(USERIMPORT_CSV, "kim," H6 ",1S", &e, &why) == -1, "csv: no Courier suffix");
	CHECK(parse(USERIMPORT_CSV, "kim,abNANd1rDfiNc", &e, &why) == 1 &&
	    !strcmp(e.scheme, "des-crypt") && e.strength == USERIMPORT_WEAK, "csv: DES is weak");
	CHECK(parse(USERIMPORT_CSV, "kim,$2a$05$abc", &e, &why) == 1 &&
	    e.strength == USERIMPORT_WEAK, "csv: $2a$ is weak");
	CHECK(parse(USERIMPORT_CSV, "kim,$2b$05$abc", &e, &why) == 1 &&
	    e.strength == USERIMPORT_STRONG, "csv: $2b$ is strong");
	CHECK(parse(USERIMPORT_CSV, "kim,$3$abc", &e, &why) == -1 && strstr(why, "unknown"),
	    "csv: unknown scheme");
	CHECK(parse(USERIMPORT_CSV, "kim,$6$a b", &e, &why) == -1, "csv: space in hash");
	CHECK(parse(USERIMPORT_CSV, "kim,", &e, &why) == -1, "csv: empty hash");
	CHECK(userimport_parse_line(USERIMPORT_CSV, "k\0m,x", 5, &e, &why) == -1,
	    "csv: NUL refused");
}

/* What --allow-weak relies on: a DES hash is checked at login, a locked
 * one of the same length is not. */
static void
test_des_login(void)
{
	struct userdb_user u;

	memset(&u, 0, sizeof(u));
	snprintf(u.hash, sizeof(u.hash), "abNANd1rDfiNc");	/* crypt("secret", "ab") */
	CHECK(userdb_check_password(&u, (const uint8_t *)"secret", 6) == USERDB_OK, "des: right");
	CHECK(userdb_check_password(&u, (const uint8_t *)"Secret", 6) == USERDB_BAD_PASSWORD,
	    "des: wrong");
	snprintf(u.hash, sizeof(u.hash), "!bNANd1rDfiNc");
	CHECK(userdb_check_password(&u, (const uint8_t *)"secret", 6) == USERDB_BAD_HASH,
	    "des: locked");
	snprintf(u.hash, sizeof(u.hash), "*");
	CHECK(userdb_check_password(&u, (const uint8_t *)"secret", 6) == USERDB_BAD_HASH,
	    "des: star");
}

int
main(void)
{
	test_des_login();
	test_courier();
	test_dovecot();
	test_csv_and_hashes();
	return tap_done();
}
