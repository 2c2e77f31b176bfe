/* postern-auth-pgsql: authd's PostgreSQL backend (docs/AUTH.md#backends).
 *
 * One request at a time from authd's channel (fd 3): a login or a
 * recipient address, answered with one parameterised query
 * (PQexecParams-style: the values are bound, never spliced into the
 * text; the text is the operator's pgsql_password_query or
 * pgsql_user_query with $login, $local, $domain, $service turned into
 * $1...).  The row's columns become the reply (common/auth/backendq.c);
 * the password hash goes to authd, which checks it (the password never
 * reaches this process or the server).
 *
 * Confinement: its own uid (auth_helper_uid), the empty root, then the
 * one connection to the configured server, then the seccomp filter
 * (no socket, connect or open from then on).  A connection that breaks,
 * or a query that takes longer than auth_backend_timeout_ms, ends the
 * process after a temporary-failure reply: the master starts a new one,
 * which connects again before its filter.
 *
 * Linked against glibc and libpq dynamically (libpq.a pulls in OpenSSL,
 * GSSAPI and LDAP): the libraries are mapped by the loader at exec, before
 * the chroot (docs/INSTALL.md lists the packages).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "../../common/auth/backendq.h"
#include "../../common/base/config.h"
#include "../../common/base/daemon.h"
#include "../../common/base/log.h"
#include "../../common/base/ev.h"
#include "../../common/base/util.h"
#include "../../common/ipc/backendproto.h"
#include "../../common/ipc/backendsrv.h"
#include "../../common/ipc/proto.h"
#include "../../policy/policy.h"

#define FD_AUTHD	3	/* policy row: SLOT_AUTHD first */
#define EXIT_RECONNECT	75	/* EX_TEMPFAIL: the master starts a new one */

struct query {
	char text[BACKENDQ_QUERY_MAX];
	enum backendq_param order[BACKENDQ_PARAMS_MAX];
	int n;
};

static PGconn *conn;
static struct query login_q, lookup_q;
static uint64_t timeout_ms;

static void
prepare(struct query *q, const char *text, const char *key)
{
	const char *why;

	q->n = backendq_translate(text, q->text, sizeof(q->text), q->order, &why);
	if (q->n < 0)
		fatal("reason=\"%s: %s\"", key, why);	/* config_parse checked it */
}

/* The first line of libpq's message, quoted for the log. */
static const char *
pg_why(const char *msg, char *out_, size_t cap)
{
	size_t n = strcspn(msg, "\n");

	return log_quote(out_, cap, msg, (unsigned)(n > 200 ? 200 : n));
}

/* Wait for the query's result within the deadline: 0, or -1 (timeout or
 * a broken connection: the caller answers TEMP and exits). */
static int
wait_result(uint64_t deadline)
{
	struct pollfd p = { .fd = PQsocket(conn) };
	uint64_t now;
	int f;

	for (;;) {
		f = PQflush(conn);
		if (f < 0)
			return -1;
		if (f == 0 && (PQconsumeInput(conn) == 0 || !PQisBusy(conn)))
			return PQstatus(conn) == CONNECTION_OK ? 0 : -1;
		now = ev_now_ms();
		if (now >= deadline)
			return -1;
		p.events = f == 1 ? POLLIN | POLLOUT : POLLIN;
		if (poll(&p, 1, (int)(deadline - now)) < 0 && errno != EINTR)
			return -1;
	}
}

/* The row into r; the status. */
static void
row(PGresult *res, const struct backend_request *q, struct backend_reply *r)
{
	const char *why = NULL, *name;
	char quoted[128];
	int i, ncols = PQnfields(res);

	backendq_fields_init(r, q->name);
	for (i = 0; i < ncols && why == NULL; i++) {
		if (PQgetisnull(res, 0, i))
			continue;
		name = PQfname(res, i);
		if (backendq_field(r, name, strlen(name), (const uint8_t *)PQgetvalue(res, 0, i),
		    (size_t)PQgetlength(res, 0, i), &why) < 0)
			break;
	}
	if (why != NULL) {
		log_event(LOG_LEVEL_ERR, "pgsql_row", "user=\"%s\" column=%s reason=\"%s\"",
		    log_quote(quoted, sizeof(quoted), q->name, (unsigned)strlen(q->name)),
		    i < ncols ? PQfname(res, i) : "-", why);
		memset(r, 0, sizeof(*r));
		r->status = BACKEND_TEMP;
		return;
	}
	if (q->kind == BACKEND_LOOKUP)
		explicit_bzero(r->hash, sizeof(r->hash));	/* not needed: not sent */
}

/* One request: the reply into r.  Returns 0, or -1 when the connection
 * is to be given up after the reply. */
static int
run(const struct backend_request *q, struct backend_reply *r)
{
	const struct query *qq = q->kind == BACKEND_LOGIN ? &login_q : &lookup_q;
	char vals[BACKENDQ_PARAMS_MAX][USERDB_NAME_MAX + 1], why[256];
	const char *values[BACKENDQ_PARAMS_MAX];
	PGresult *res, *first = NULL;
	int i, rc = 0;

	memset(r, 0, sizeof(*r));
	r->status = BACKEND_TEMP;
	for (i = 0; i < qq->n; i++) {
		if (backendq_value(qq->order[i], q->name, q->service, vals[i], sizeof(vals[i])) < 0)
			return 0;
		values[i] = vals[i];
	}
	if (!PQsendQueryParams(conn, qq->text, qq->n, NULL, values, NULL, NULL, 0) ||
	    wait_result(ev_now_ms() + timeout_ms) < 0) {
		log_event(LOG_LEVEL_ERR, "pgsql_failed", "reason=\"%s\"",
		    PQstatus(conn) == CONNECTION_OK ? "no answer in auth_backend_timeout_ms" :
		    pg_why(PQerrorMessage(conn), why, sizeof(why)));
		return -1;
	}
	while ((res = PQgetResult(conn)) != NULL) {
		if (first == NULL)
			first = res;
		else
			PQclear(res);
	}
	if (first == NULL || PQresultStatus(first) != PGRES_TUPLES_OK) {
		log_event(LOG_LEVEL_ERR, "pgsql_failed", "reason=\"%s\"", first == NULL ? "no result" :
		    pg_why(PQresultErrorMessage(first), why, sizeof(why)));
		rc = PQstatus(conn) == CONNECTION_OK ? 0 : -1;
	} else if (PQntuples(first) == 0) {
		r->status = BACKEND_NOT_FOUND;
	} else if (PQntuples(first) > 1) {
		log_event(LOG_LEVEL_ERR, "pgsql_failed", "reason=\"the query returned %d rows for one "
		    "user\"", PQntuples(first));
	} else {
		row(first, q, r);
	}
	PQclear(first);
	return rc;
}

static void
serve(void)
{
	if (backend_serve(FD_AUTHD, run) != 0)
		exit(EXIT_RECONNECT);
	exit(0);
}

int
main(int argc, char **argv)
{
	static const struct daemon_args args = { .name = "auth-pgsql", .opts = "", .usage = "" };
	struct sandbox_spec spec;
	struct config cfg;
	char why[256], password[256] = "";
	const char *swhy;

	daemon_boot(&args, argc, argv, &cfg);
	prepare(&login_q, cfg.pgsql_password_query, "pgsql_password_query");
	prepare(&lookup_q, cfg.pgsql_user_query[0] ? cfg.pgsql_user_query : cfg.pgsql_password_query,
	    "pgsql_user_query");
	timeout_ms = cfg.auth_backend_timeout_ms;

	/* as root, before the sandbox: the password is no part of the
	 * config snapshot that every process reads */
	if (cfg.pgsql_password_file[0] != '\0' &&
	    util_read_secret(cfg.pgsql_password_file, password, sizeof(password), &swhy) < 0)
		fatal("reason=\"pgsql_password_file: %s\" path=%s", swhy, cfg.pgsql_password_file);
	policy_spec(POLICY_AUTH_PGSQL, &cfg, &spec);
	sandbox_confine(&spec);
	/* as auth_helper_uid, inside the empty root: the one connection */
	{
		const char *const keys[] = { "dbname", "password", NULL };
		const char *const vals[] = { cfg.pgsql_connection, password, NULL };
		conn = PQconnectdbParams(keys, vals, 1);	/* dbname: the whole string */
	}
	explicit_bzero(password, sizeof(password));
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
		log_event(LOG_LEVEL_ERR, "pgsql_connect_failed", "reason=\"%s\"",
		    conn ? pg_why(PQerrorMessage(conn), why, sizeof(why)) : "out of memory");
		exit(EXIT_RECONNECT);
	}
	sandbox_lock(&spec);
	log_event(LOG_LEVEL_INFO, "ready", "backend=pgsql server_version=%d", PQserverVersion(conn));
	serve();
	return 0;
}
