/* postern-auth-ldap: authd's LDAP backend (docs/AUTH.md#ldap).
 *
 * One request at a time from authd's channel (fd 3).  The user's entry is
 * found by a search under ldap_base with ldap_filter (its $login, $local,
 * $domain, $service escaped by RFC 4515), or named directly by
 * ldap_user_dn (values escaped by RFC 4514).  Then, with ldap_auth = bind,
 * the helper binds as that entry with the password (the directory checks
 * it; verified) and binds back as the service account; with ldap_auth =
 * search, the entry's userPassword ({CRYPT} hash) goes to authd, which
 * checks it, and the helper never sees a password.  The entry's other
 * attributes are the user's fields (common/auth/backendq.c).
 *
 * Confinement as postern-auth-pgsql: its own uid, the empty root, the
 * one connection (made by the service account's bind), then the filter;
 * a broken connection ends it, and the master starts a new one.  Linked
 * against glibc and libldap dynamically.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <unistd.h>

#include <ldap.h>

#include "../../common/auth/backendq.h"
#include "../../common/base/config.h"
#include "../../common/base/daemon.h"
#include "../../common/base/log.h"
#include "../../common/base/util.h"
#include "../../common/ipc/backendproto.h"
#include "../../common/ipc/backendsrv.h"
#include "../../policy/policy.h"

#define FD_AUTHD	3
#define EXIT_RECONNECT	75

static LDAP *ld;
static struct config cfg;
static struct timeval tmo;
static int bind_auth;
/* The attributes asked for (RFC 2307 and Courier's schema): the password
 * only when authd checks it (ldap_auth = search). */
static char *attrs[] = { "userPassword", "homeDirectory", "mailMessageStore", "uidNumber",
    "gidNumber", "mailQuota", NULL };

static int
simple_bind(const char *dn, const uint8_t *pw, size_t len)
{
	struct berval cred = { .bv_len = len, .bv_val = (char *)(uintptr_t)(pw ? pw : (const uint8_t *)"") };
	LDAPMessage *res = NULL;
	int msgid, rc, err = LDAP_OTHER;

	rc = ldap_sasl_bind(ld, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, &msgid);
	if (rc != LDAP_SUCCESS)
		return rc;
	rc = ldap_result(ld, msgid, LDAP_MSG_ALL, &tmo, &res);
	if (rc <= 0)
		return rc == 0 ? LDAP_TIMEOUT : LDAP_SERVER_DOWN;
	if (ldap_parse_result(ld, res, &err, NULL, NULL, NULL, NULL, 1) != LDAP_SUCCESS)
		err = LDAP_OTHER;
	return err;
}

static char bind_password[256];	/* ldap_bind_password_file's, read as root */

static int
service_bind(void)
{
	return simple_bind(cfg.ldap_bind_dn, (const uint8_t *)bind_password, strlen(bind_password));
}

/* The attributes of one entry into r. */
static int
fields(LDAPMessage *e, const struct backend_request *q, struct backend_reply *r, const char **why)
{
	BerElement *ber = NULL;
	struct berval **vals;
	char *a;
	int rc = 0;

	backendq_fields_init(r, q->name);
	for (a = ldap_first_attribute(ld, e, &ber); a != NULL && rc == 0;
	    a = ldap_next_attribute(ld, e, ber)) {
		vals = ldap_get_values_len(ld, e, a);
		if (vals != NULL && vals[0] != NULL)
			rc = backendq_field(r, a, strlen(a), (const uint8_t *)vals[0]->bv_val,
			    vals[0]->bv_len, why);
		ldap_value_free_len(vals);
		ldap_memfree(a);
	}
	if (a != NULL)
		ldap_memfree(a);
	if (ber != NULL)
		ber_free(ber, 0);
	if (q->kind == BACKEND_LOOKUP)
		explicit_bzero(r->hash, sizeof(r->hash));
	return rc;
}

/* Find the entry: 1 found (its DN in dn_r, freed by the caller), 0 none,
 * -1 a failure (why). */
static int
find(const struct backend_request *q, struct backend_reply *r, char **dn_r, const char **why)
{
	char filter[CONFIG_PATH_MAX * 2], base[CONFIG_PATH_MAX * 2];
	const char *b = cfg.ldap_base;
	LDAPMessage *res = NULL, *e;
	int rc, scope = LDAP_SCOPE_SUBTREE, n;

	*dn_r = NULL;
	if (cfg.ldap_user_dn[0] != '\0') {
		if (backendq_ldap_expand(cfg.ldap_user_dn, 1, q->name, q->service, base, sizeof(base),
		    why) < 0)
			return -1;
		b = base;
		scope = LDAP_SCOPE_BASE;
		snprintf(filter, sizeof(filter), "(objectClass=*)");
	} else if (backendq_ldap_expand(cfg.ldap_filter, 0, q->name, q->service, filter,
	    sizeof(filter), why) < 0) {
		return -1;
	}
	/* by name: LDAP's "uid" is a user name, not backendq's uid */
	rc = ldap_search_ext_s(ld, b, scope, filter, bind_auth ? attrs + 1 : attrs, 0, NULL, NULL,
	    &tmo, 2, &res);
	if (rc == LDAP_NO_SUCH_OBJECT) {
		ldap_msgfree(res);
		return 0;
	}
	if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED) {
		ldap_msgfree(res);
		*why = ldap_err2string(rc);
		return rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT ? -2 : -1;
	}
	n = ldap_count_entries(ld, res);
	if (n != 1) {
		ldap_msgfree(res);
		*why = "the search found more than one entry for one user";
		return n == 0 ? 0 : -1;
	}
	e = ldap_first_entry(ld, res);
	if (fields(e, q, r, why) < 0) {
		ldap_msgfree(res);
		return -1;
	}
	*dn_r = ldap_get_dn(ld, e);
	ldap_msgfree(res);
	return *dn_r != NULL ? 1 : -1;
}

/* One request; 0, or -1 when the connection is to be given up. */
static int
run(const struct backend_request *q, struct backend_reply *r)
{
	const char *why = "failed";
	char quoted[128], *dn = NULL;
	int rc = find(q, r, &dn, &why), b;

	if (rc <= 0) {
		if (rc < 0)
			log_event(LOG_LEVEL_ERR, "ldap_failed", "user=\"%s\" reason=\"%s\"",
			    log_quote(quoted, sizeof(quoted), q->name, (unsigned)strlen(q->name)), why);
		memset(r, 0, sizeof(*r));
		r->status = rc == 0 ? BACKEND_NOT_FOUND : BACKEND_TEMP;
		return rc == -2 ? -1 : 0;
	}
	if (bind_auth && q->kind == BACKEND_LOGIN) {
		/* an empty password would be an unauthenticated bind (RFC 4513
		 * 5.1.2), which succeeds: never a login */
		b = q->passlen == 0 ? LDAP_INVALID_CREDENTIALS : simple_bind(dn, q->pass, q->passlen);
		if (b == LDAP_SUCCESS) {
			r->verified = 1;
		} else {
			memset(r, 0, sizeof(*r));
			r->status = b == LDAP_INVALID_CREDENTIALS ? BACKEND_BAD_PASSWORD : BACKEND_TEMP;
		}
		if (q->passlen > 0 && service_bind() != LDAP_SUCCESS) {
			log_event(LOG_LEVEL_ERR, "ldap_failed", "reason=\"cannot bind as ldap_bind_dn "
			    "again\"");
			rc = -1;
		}
	}
	ldap_memfree(dn);
	return rc < 0 ? -1 : 0;
}

/* TLS to the directory (ldaps:// or ldap_starttls): the certificate of
 * the server must chain to ldap_tls_ca_file and name the host of
 * ldap_uri.  The context is made now, reading the CA file, before the
 * sandbox; the handshake comes with the connection. */
static void
tls_context(void)
{
	int demand = LDAP_OPT_X_TLS_DEMAND, zero = 0;

	if (!cfg.ldap_starttls && strncasecmp(cfg.ldap_uri, "ldaps://", 8) != 0)
		return;
	if (ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, cfg.ldap_tls_ca_file) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero) != LDAP_OPT_SUCCESS)
		fatal("reason=\"cannot make the TLS context (ldap_tls_ca_file %s)\"",
		    cfg.ldap_tls_ca_file);
}

int
main(int argc, char **argv)
{
	static const struct daemon_args a = { .name = "auth-ldap", .opts = "", .usage = "" };
	struct sandbox_spec spec;
	int v = LDAP_VERSION3, rc;
	const char *why;

	daemon_boot(&a, argc, argv, &cfg);
	bind_auth = strcmp(cfg.ldap_auth, "bind") == 0;
	tmo.tv_sec = (time_t)(cfg.auth_backend_timeout_ms / 1000);
	tmo.tv_usec = (suseconds_t)(cfg.auth_backend_timeout_ms % 1000) * 1000;
	if (cfg.ldap_bind_password_file[0] != '\0' && util_read_secret(cfg.ldap_bind_password_file,
	    bind_password, sizeof(bind_password), &why) < 0)
		fatal("reason=\"ldap_bind_password_file: %s\" path=%s", why, cfg.ldap_bind_password_file);
	if (ldap_initialize(&ld, cfg.ldap_uri) != LDAP_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tmo) != LDAP_OPT_SUCCESS)
		fatal("reason=\"ldap_uri is not usable\"");
	tls_context();	/* as root: the CA file is outside the empty root */
	policy_spec(POLICY_AUTH_LDAP, &cfg, &spec);
	sandbox_confine(&spec);
	/* as auth_helper_uid, inside the empty root: the one connection */
	if (cfg.ldap_starttls && (rc = ldap_start_tls_s(ld, NULL, NULL)) != LDAP_SUCCESS) {
		log_event(LOG_LEVEL_ERR, "ldap_connect_failed", "reason=\"StartTLS: %s\"",
		    ldap_err2string(rc));
		exit(EXIT_RECONNECT);
	}
	if ((rc = service_bind()) != LDAP_SUCCESS) {
		log_event(LOG_LEVEL_ERR, "ldap_connect_failed", "reason=\"%s\"", ldap_err2string(rc));
		exit(EXIT_RECONNECT);
	}
	sandbox_lock(&spec);
	log_event(LOG_LEVEL_INFO, "ready", "backend=ldap auth=%s", cfg.ldap_auth);
	if (backend_serve(FD_AUTHD, run) != 0)
		exit(EXIT_RECONNECT);
	return 0;
}
