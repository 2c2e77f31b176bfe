/* import.c - `posternctl user import FORMAT FILE`: existing password hashes
 * from a Courier userdb file, a Dovecot passwd-file or a CSV, stored as
 * they are (the users keep their passwords).  The line parsers are pure
 * (common/mail/userimport.c); this file decides and writes.  Every line
 * refused says why with its number; the others are imported. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/base/buf.h"
#include "../../common/mail/userimport.h"
#include "ctl.h"

struct import_run {
	const struct ctl_args *a;
	const char *file;
	struct db *db;
	unsigned long line;
	unsigned added, updated, skipped, refused;
};

static void
refuse(struct import_run *r, const char *why)
{
	fprintf(stderr, "posternctl: %s:%lu: %s\n", r->file, r->line, why);
	r->refused++;
}

static enum userimport_format
import_format(const char *s)
{
	if (!strcmp(s, "courier"))
		return USERIMPORT_COURIER;
	if (!strcmp(s, "dovecot"))
		return USERIMPORT_DOVECOT;
	if (!strcmp(s, "csv"))
		return USERIMPORT_CSV;
	usage_error("user import: unknown format '%s' (courier, dovecot, csv)", s);
}

/* 1 if the domain of name (user@domain) is configured. */
static int
domain_known(struct db *db, const char *name)
{
	const char *dom = strchr(name, '@') + 1;
	struct buf b;
	int rc;

	buf_init(&b, 64);
	rc = db_get(db, USERDB_DBI_DOMAINS, dom, strlen(dom), &b);
	buf_free(&b, 0);
	return rc == 1;
}

/* e's password as a hash Postern checks: as it is, or {PLAIN} hashed with
 * the default scheme.  Returns NULL or a reason. */
static const char *
final_hash(struct userimport_entry *e, int allow_weak, char out[USERDB_HASH_MAX + 1])
{
	static char why[128];
	struct userdb_user probe;

	if (e->strength != USERIMPORT_STRONG && !allow_weak) {
		snprintf(why, sizeof(why), "weak scheme %s refused (--allow-weak imports it)",
		    e->scheme);
		return why;
	}
	if (e->strength == USERIMPORT_PLAIN) {
		int rc = userdb_hash_password(e->hash, NULL, out);
		explicit_bzero(e->hash, sizeof(e->hash));
		return rc < 0 ? "crypt(3) failed" : NULL;
	}
	/* a hash this libcrypt cannot compute would refuse every login */
	memset(&probe, 0, sizeof(probe));
	snprintf(probe.hash, sizeof(probe.hash), "%s", e->hash);
	if (userdb_check_password(&probe, (const uint8_t *)"", 0) == USERDB_BAD_HASH)
		return "crypt(3) cannot check this hash (bad salt or cost)";
	snprintf(out, USERDB_HASH_MAX + 1, "%s", e->hash);
	return NULL;
}

/* Fill u from e: a new record, or the stored one with e's fields over it. */
static const char *
merge(const struct userimport_entry *e, const char *hash, struct userdb_user *u)
{
	if ((e->uid == 0) != (e->gid == 0))
		return "uid and gid go together (both or neither)";
	snprintf(u->hash, sizeof(u->hash), "%s", hash);
	/* SCRAM secrets of the old password would still log in with it: an
	 * imported hash has none (the first PLAIN login cannot add them) */
	u->has_scram = u->has_cram = 0;
	explicit_bzero(&u->scram, sizeof(u->scram));
	explicit_bzero(&u->cram, sizeof(u->cram));
	if (e->uid != 0) {
		u->uid = e->uid;
		u->gid = e->gid;
	}
	if (e->quota != 0)
		u->quota = e->quota;
	if (e->mailroot[0] != '\0') {
		if (!config_path_canonical(e->mailroot))
			return "mail root is not a canonical absolute path";
		snprintf(u->mailroot, sizeof(u->mailroot), "%s", e->mailroot);
	}
	return NULL;
}

static const char *
store(struct import_run *r, const char *name, const struct userdb_user *u, int create)
{
	uint8_t rec[1024];
	long n = userdb_user_encode(u, rec, sizeof(rec));

	if (n < 0)
		return "record too large";
	if (r->a->flag_n)
		return NULL;
	if (db_put(r->db, USERDB_DBI_USERS, name, strlen(name), rec, (size_t)n, create) < 0)
		return errno == EEXIST ? "exists (created meanwhile)" : db_strerror(r->db);
	return NULL;
}

/* One parsed entry; NULL when done (added, updated, skipped), or why it
 * is refused. */
static const char *
import_entry(struct import_run *r, struct userimport_entry *e)
{
	char name[USERDB_NAME_MAX + 1], hash[USERDB_HASH_MAX + 1];
	const char *why, *verb;
	struct userdb_user u;
	int found;

	memset(&u, 0, sizeof(u));
	if ((why = new_name_refused(e->name)) != NULL)
		return why;
	if (userdb_normalize((const uint8_t *)e->name, strlen(e->name), cfg.default_domain, name,
	    &why) < 0)
		return why;
	if (!domain_known(r->db, name))
		return "domain not configured (posternctl domain add DOMAIN)";
	found = get_user(r->db, name, &u);
	if (found && !r->a->update) {
		printf("%s:%lu: %s: %s (--update replaces its hash)\n", r->file, r->line, name,
		    r->a->flag_n ? "would be skipped, exists" : "skipped, exists");
		r->skipped++;
		return NULL;
	}
	if ((why = final_hash(e, r->a->allow_weak, hash)) != NULL ||
	    (why = merge(e, hash, &u)) != NULL || (why = store(r, name, &u, !found)) != NULL)
		return why;
	explicit_bzero(hash, sizeof(hash));
	verb = found ? (r->a->flag_n ? "would update" : "updated") :
	    (r->a->flag_n ? "would add" : "added");
	printf("%s:%lu: %s: %s (%s%s)\n", r->file, r->line, name, verb, e->scheme,
	    e->strength == USERIMPORT_PLAIN ? ", hashed as yescrypt" :
	    e->strength == USERIMPORT_WEAK ? ", weak, kept as it is" : "");
	if (found)
		r->updated++;
	else
		r->added++;
	return NULL;
}

static void
import_stream(struct import_run *r, FILE *in, enum userimport_format fmt)
{
	struct userimport_entry e;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	while ((n = getline(&line, &cap, in)) >= 0) {
		const char *why;
		size_t len = (size_t)n;
		int rc;
		r->line++;
		if (len > 0 && line[len - 1] == '\n')
			len--;
		rc = userimport_parse_line(fmt, line, len, &e, &why);
		if (rc < 0)
			refuse(r, why);
		else if (rc > 0 && (why = import_entry(r, &e)) != NULL)
			refuse(r, why);
		explicit_bzero(&e, sizeof(e));
		explicit_bzero(line, cap);
	}
	free(line);
}

int
cmd_user_import(const struct ctl_args *a)
{
	struct import_run r = { .a = a, .file = a->argv[1] };
	enum userimport_format fmt = import_format(a->argv[0]);
	FILE *in = fopen(r.file, "re");

	if (in == NULL)
		die("%s: %s", r.file, strerror(errno));
	r.db = open_db(0);
	import_stream(&r, in, fmt);
	fclose(in);
	db_close(r.db);
	printf("%s%u added, %u updated, %u skipped, %u refused\n", a->flag_n ? "dry run, nothing "
	    "changed: " : "", r.added, r.updated, r.skipped, r.refused);
	return r.refused > 0 ? 1 : 0;
}
