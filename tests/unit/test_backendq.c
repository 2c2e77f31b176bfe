/* test_backendq.c - the pure parts of the external backends: the chain
 * of auth_backends (Courier's names too), the query text's named
 * parameters (quotes left alone, positional ones refused), a backend's
 * user fields and a checkpassword program's output lines. */
#include <string.h>

#include "../../common/auth/backendq.h"
#include "tap.h"

static int
tr(const char *q, char *out, enum backendq_param *order)
{
	const char *why;

	return backendq_translate(q, out, BACKENDQ_QUERY_MAX, order, &why);
}

static int
lines(struct backend_reply *r, const char *text)
{
	const char *why;

	backendq_fields_init(r, "alice@example.com");
	return backendq_lines(r, (const uint8_t *)text, strlen(text), &why);
}

int
main(void)
{
	enum backendq_kind c[BACKENDQ_CHAIN_MAX];
	enum backendq_param o[BACKENDQ_PARAMS_MAX];
	char out[BACKENDQ_QUERY_MAX], v[64];
	struct backend_reply r;
	const char *why;
	size_t n;

	CHECK(backendq_chain("userdb", c, &n, &why) == 0 && n == 1 && c[0] == BACKENDQ_USERDB,
	    "chain: the default");
	CHECK(backendq_chain("authuserdb authpgsql", c, &n, &why) == 0 && n == 2 &&
	    c[1] == BACKENDQ_PGSQL, "chain: Courier's authmodulelist names");
	CHECK(backendq_chain("pgsql, userdb,checkpw", c, &n, &why) == 0 && n == 3 &&
	    c[0] == BACKENDQ_PGSQL && c[2] == BACKENDQ_CHECKPW, "chain: the order is kept");
	CHECK(backendq_chain("userdb pgsql userdb", c, &n, &why) < 0, "chain: a name twice refused");
	CHECK(backendq_chain("userdb pam", c, &n, &why) < 0 && strstr(why, "not in this release"),
	    "chain: pam is not in this release");
	CHECK(backendq_chain("authldap", c, &n, &why) == 0 && c[0] == BACKENDQ_LDAP, "chain: ldap");
	CHECK(backendq_ldap_expand("(&(mail=$login)(svc=$service))", 0, "*)(uid=*", "imap", out,
	    sizeof(out), &why) == 0 && strcmp(out, "(&(mail=\\2A\\29\\28uid=\\2A)(svc=imap))") == 0,
	    "ldap: filter values escaped (RFC 4515)");
	CHECK(backendq_ldap_expand("uid=$local,ou=people,dc=example", 1, "a,b+c@x", "", out,
	    sizeof(out), &why) == 0 && strcmp(out, "uid=a\\2Cb\\2Bc,ou=people,dc=example") == 0,
	    "ldap: DN values escaped (RFC 4514)");
	CHECK(backendq_ldap_expand("(uid=$user)", 0, NULL, NULL, out, sizeof(out), &why) < 0,
	    "ldap: an unknown name refused");
	CHECK(backendq_ldap_expand("(&(objectClass=posixAccount)(mail=$login))", 0, NULL, NULL, v, 2,
	    &why) == 0, "ldap: a check needs no room");
	CHECK(backendq_chain(" , ", c, &n, &why) < 0 && backendq_chain("mysql", c, &n, &why) < 0,
	    "chain: none, or unknown, refused");

	CHECK(tr("SELECT p FROM u WHERE l = $login AND s <> $service", out, o) == 2 &&
	    strcmp(out, "SELECT p FROM u WHERE l = $1 AND s <> $2") == 0 && o[0] == BACKENDQ_P_LOGIN &&
	    o[1] == BACKENDQ_P_SERVICE, "query: names become $1, $2");
	CHECK(tr("SELECT 1 WHERE a = $local AND b = $domain AND c = $local", out, o) == 3 &&
	    strcmp(out, "SELECT 1 WHERE a = $1 AND b = $2 AND c = $3") == 0 && o[2] == BACKENDQ_P_LOCAL,
	    "query: a name twice is two parameters");
	CHECK(tr("SELECT '$login', \"$x\", $$ $y $$, 'it''s' WHERE a = $login", out, o) == 1 &&
	    strcmp(out, "SELECT '$login', \"$x\", $$ $y $$, 'it''s' WHERE a = $1") == 0,
	    "query: quotes and dollar quotes are left alone");
	CHECK(tr("SELECT 1 WHERE a = $1", out, o) < 0, "query: a positional parameter refused");
	CHECK(tr("SELECT 1 WHERE a = $password", out, o) < 0, "query: an unknown name refused");
	CHECK(tr("SELECT 1 WHERE a = $login_x", out, o) < 0, "query: no prefix match");
	CHECK(tr("SELECT 'open", out, o) < 0, "query: an unterminated quote refused");
	CHECK(backendq_value(BACKENDQ_P_LOCAL, "a@b@c.example", "imap", v, sizeof(v)) == 0 &&
	    strcmp(v, "a@b") == 0 && backendq_value(BACKENDQ_P_DOMAIN, "a@b@c.example", "imap", v,
	    sizeof(v)) == 0 && strcmp(v, "c.example") == 0, "values: local and domain at the last @");

	CHECK(lines(&r, "password=$6$s$h\nmail_root=/srv/mail/alice\nuid=7200\ngid=7201\n"
	    "quota=1000S\noptions=disableimap=1,disablepop3=0\n") == 0 && strcmp(r.hash, "$6$s$h") == 0 &&
	    strcmp(r.mail_root, "/srv/mail/alice") == 0 && r.uid == 7200 && r.gid == 7201 &&
	    r.quota == 1000 && r.flags == USERDB_USER_NO_IMAP, "fields: all of them");
	CHECK(lines(&r, "user=ALICE@example.com\r\n\r\nhome=/m/a\r\n") == 0 &&
	    strcmp(r.mail_root, "/m/a") == 0, "fields: CR LF, blank lines, the user's own name");
	CHECK(lines(&r, "user=root@example.com\n") < 0, "fields: another user refused");
	CHECK(lines(&r, "maildir=../etc\n") < 0 && lines(&r, "home=/a/../b\n") < 0,
	    "fields: a mail root not canonical refused");
	CHECK(lines(&r, "uid=4294967295\n") < 0 && lines(&r, "uid=-1\n") < 0,
	    "fields: ids out of range refused");
	CHECK(lines(&r, "password=a b\n") < 0 && lines(&r, "password=a\tb\n") < 0,
	    "fields: a hash with blanks or controls refused");
	CHECK(lines(&r, "options=disableimap=2\n") < 0 && lines(&r, "options=root=1\n") < 0,
	    "fields: unknown options refused");
	CHECK(lines(&r, "no equals sign\n") < 0, "lines: not key=value refused");
	CHECK(lines(&r, "something=else\n") == 0 && r.hash[0] == '\0', "fields: unknown keys ignored");
	CHECK(lines(&r, "userPassword={CRYPT}$6$s$h\nuidNumber=7300\nhomeDirectory=/m/x\n") == 0 &&
	    strcmp(r.hash, "$6$s$h") == 0 && r.uid == 7300 && strcmp(r.mail_root, "/m/x") == 0,
	    "fields: LDAP's attribute names, {CRYPT} dropped");
	return tap_done();
}
