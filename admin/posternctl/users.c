/* users.c - `posternctl user set`: change fields of a user record in one
 * LMDB write transaction, so a concurrent `user passwd` or another `set`
 * is never lost between a read and a write.  --rename moves the record to
 * a new name in the same transaction, with the aliases that named it. */
#include <lmdb.h>
#include <stdio.h>
#include <string.h>

#include "../../common/base/util.h"
#include "../../common/mail/aliases.h"
#include "ctl.h"

/* The requested change, validated before the database is opened. */
struct user_change {
	int set_quota, set_ids, set_mailroot, set_flag;
	uint64_t quota;
	uint32_t uid, gid;
	int disable;
	char mailroot[USERDB_PATH_MAX + 1];
	char rename[USERDB_NAME_MAX + 1];	/* "" = keep the name */
	uint32_t deny, allow;		/* USERDB_USER_NO_ bits to set, to clear */
	const char *why;	/* set when the record cannot be changed */
};

/* "pop3,imap": the USERDB_USER_NO_ bits; a usage error for other names. */
static uint32_t
service_bits(const char *list)
{
	char buf[128], *save = NULL, *tok;
	uint32_t bits = 0, b;

	if (strlen(list) >= sizeof(buf))
		usage_error("user set: too long a service list");
	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		/* by the protocol's name: pop3 covers pop3s, imap imaps */
		b = strcmp(tok, "pop3") && strcmp(tok, "imap") && strcmp(tok, "submission") ? 0 :
		    userdb_service_bit(tok);
		if (b == 0)
			usage_error("user set: unknown service '%s' (pop3, imap, submission)", tok);
		bits |= b;
	}
	if (bits == 0)
		usage_error("user set: an empty service list");
	return bits;
}

/* uid/gid "0" means the configured mail_uid/mail_gid again. */
static uint32_t
id_or_default(const char *s, const char *what)
{
	return strcmp(s, "0") == 0 ? 0 : parse_id(s, what);
}

static void
change_parse(const struct ctl_args *a, struct user_change *ch)
{
	memset(ch, 0, sizeof(*ch));
	if (a->disable && a->enable)
		usage_error("user set: --disable and --enable together");
	if ((a->uid == NULL) != (a->gid == NULL))
		usage_error("user set: --uid and --gid go together");
	if (a->quota == NULL && a->uid == NULL && a->mailroot == NULL && !a->disable && !a->enable &&
	    a->rename == NULL && a->deny == NULL && a->allow == NULL)
		usage_error("user set: nothing to change");
	if (a->deny != NULL)
		ch->deny = service_bits(a->deny);
	if (a->allow != NULL)
		ch->allow = service_bits(a->allow);
	if (ch->deny & ch->allow)
		usage_error("user set: a service both in --deny and --allow");
	if (a->rename != NULL)
		normalize_new(a->rename, ch->rename);
	if (a->quota != NULL) {
		if (util_str_to_u64(a->quota, UINT64_MAX, &ch->quota) < 0)
			die("bad quota '%s' (bytes, 0 = none)", a->quota);
		ch->set_quota = 1;
	}
	if (a->uid != NULL) {
		ch->uid = id_or_default(a->uid, "uid");
		ch->gid = id_or_default(a->gid, "gid");
		if ((ch->uid == 0) != (ch->gid == 0))
			die("uid and gid are both 0 (the defaults) or neither");
		ch->set_ids = 1;
	}
	if (a->mailroot != NULL) {
		if (a->mailroot[0] != '\0')	/* "" = from the mail_root template */
			parse_mailroot(a->mailroot, ch->mailroot);
		ch->set_mailroot = 1;
	}
	ch->set_flag = a->disable || a->enable;
	ch->disable = a->disable;
}

/* The requested fields into u. */
static void
apply_fields(const struct user_change *ch, struct userdb_user *u)
{
	if (ch->set_quota)
		u->quota = ch->quota;
	if (ch->set_ids) {
		u->uid = ch->uid;
		u->gid = ch->gid;
	}
	if (ch->set_mailroot)
		memcpy(u->mailroot, ch->mailroot, sizeof(u->mailroot));
	if (ch->set_flag && ch->disable)
		u->flags |= USERDB_USER_DISABLED;
	else if (ch->set_flag)
		u->flags &= ~(uint32_t)USERDB_USER_DISABLED;
	u->flags = (u->flags | ch->deny) & ~ch->allow;
}

/* db_update callback: decode, apply, encode. */
static int
change_apply(void *ctx, const uint8_t *v, size_t vl, struct buf *out)
{
	struct user_change *ch = ctx;
	struct userdb_user u;
	uint8_t rec[1024];
	long n;

	if (userdb_user_decode(&u, v, vl) < 0) {
		ch->why = "the stored record is corrupt";
		return -1;
	}
	apply_fields(ch, &u);
	n = userdb_user_encode(&u, rec, sizeof(rec));
	explicit_bzero(&u, sizeof(u));
	if (n < 0 || buf_append(out, rec, (size_t)n) < 0) {
		ch->why = "the record does not fit";
		return -1;
	}
	return 0;
}

static int
put_str(MDB_txn *t, MDB_dbi d, const char *k, const void *v, size_t vl)
{
	MDB_val key = { strlen(k), (void *)(uintptr_t)k }, val = { vl, (void *)(uintptr_t)v };

	return mdb_put(t, d, &key, &val, 0);
}

/* An alias record naming old among its targets: v becomes the record
 * naming new there instead (a static buffer, valid until the next call).
 * Returns 1 changed, 0 not a target (or a record that does not decode:
 * left as it is). */
static int
retarget(MDB_val *v, const char *old, const char *new)
{
	static struct aliases_targets t;
	static uint8_t rec[ALIASES_RECORD_MAX];
	unsigned i, hit = 0;
	long n;

	if (aliases_decode(v->mv_data, v->mv_size, &t) < 0)
		return 0;
	for (i = 0; i < t.n; i++)
		if (strcmp(t.name[i], old) == 0) {
			snprintf(t.name[i], sizeof(t.name[i]), "%s", new);
			hit = 1;
		}
	if (!hit || (n = aliases_encode(&t, rec, sizeof(rec))) < 0)
		return 0;
	*v = (MDB_val){ (size_t)n, rec };
	return 1;
}

/* --rename: in one transaction, the record (with the other changes) under
 * the new name, the old one gone, every alias that named the old name
 * naming the new one.  A record whose mail root came from the template
 * keeps the old one, pinned: the Maildir is not moved (root would have to
 * rename a user's directory by name).  0, or -1 with ch->why. */
static int
rename_user(struct db *db, const char *old, struct user_change *ch, char pinned[USERDB_PATH_MAX + 1])
{
	struct userdb_user u;
	MDB_val k = { strlen(old), (void *)(uintptr_t)old }, v, kn;
	MDB_dbi users = db_dbi(db, USERDB_DBI_USERS), aliases = db_dbi(db, USERDB_DBI_ALIASES),
	    domains = db_dbi(db, USERDB_DBI_DOMAINS);
	const char *dom = strchr(ch->rename, '@');
	MDB_cursor *c;
	MDB_txn *t;
	uint8_t rec[1024];
	long n;
	int rc;

	pinned[0] = '\0';
	if (db_txn_begin(db, 0, &t) < 0)
		return -1;
	if ((rc = mdb_get(t, users, &k, &v)) != 0) {
		ch->why = rc == MDB_NOTFOUND ? "no such user" : "user database error";
		goto fail;
	}
	if (userdb_user_decode(&u, v.mv_data, v.mv_size) < 0) {
		ch->why = "the stored record is corrupt";
		goto fail;
	}
	kn = (MDB_val){ strlen(ch->rename), ch->rename };
	if (mdb_get(t, users, &kn, &v) == 0 || mdb_get(t, aliases, &kn, &v) == 0) {
		ch->why = "the new name is a user or an alias already";
		goto fail;
	}
	kn = (MDB_val){ dom ? strlen(dom + 1) : 0, dom ? (void *)(dom + 1) : (void *)"" };
	if (dom == NULL || mdb_get(t, domains, &kn, &v) != 0) {
		ch->why = "the new name's domain is not configured (posternctl domain add)";
		goto fail;
	}
	apply_fields(ch, &u);
	if (u.mailroot[0] == '\0') {
		char root[CONFIG_PATH_MAX];
		if (config_expand_mailroot(cfg.mail_root_template, old, root, sizeof(root)) < 0 ||
		    strlen(root) > USERDB_PATH_MAX) {
			ch->why = "the old mail root cannot be kept in the record (too long)";
			goto fail;
		}
		memcpy(u.mailroot, root, strlen(root) + 1);
		memcpy(pinned, root, strlen(root) + 1);
	}
	n = userdb_user_encode(&u, rec, sizeof(rec));
	explicit_bzero(&u, sizeof(u));
	if (n < 0) {
		ch->why = "the record does not fit";
		goto fail;
	}
	if (put_str(t, users, ch->rename, rec, (size_t)n) != 0 || mdb_del(t, users, &k, NULL) != 0)
		goto dbfail;
	explicit_bzero(rec, sizeof(rec));
	/* the aliases whose target was the old name */
	if (mdb_cursor_open(t, aliases, &c) != 0)
		goto dbfail;
	for (rc = mdb_cursor_get(c, &kn, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &kn, &v, MDB_NEXT)) {
		if (retarget(&v, old, ch->rename) == 0)
			continue;
		if (mdb_cursor_put(c, &kn, &v, MDB_CURRENT) != 0) {
			mdb_cursor_close(c);
			goto dbfail;
		}
	}
	mdb_cursor_close(c);
	if ((rc = mdb_txn_commit(t)) != 0) {
		db_set_rc(db, rc);
		return -1;
	}
	return 0;
dbfail:
	ch->why = "user database error";
fail:
	mdb_txn_abort(t);
	return -1;
}

int
cmd_user_set(const struct ctl_args *a)
{
	char name[USERDB_NAME_MAX + 1];
	struct user_change ch;
	struct db *db;
	int rc;

	normalize(a->argv[0], name);
	change_parse(a, &ch);
	db = open_db(0);
	if (ch.rename[0] != '\0') {
		char pinned[USERDB_PATH_MAX + 1];
		if (rename_user(db, name, &ch, pinned) < 0)
			die("cannot rename %s: %s", name, ch.why ? ch.why : db_strerror(db));
		db_close(db);
		printf("user %s renamed to %s\n", name, ch.rename);
		if (pinned[0] != '\0')
			printf("  its mail stays in %s (now the record's mail root)\n", pinned);
		return 0;
	}
	rc = db_update(db, USERDB_DBI_USERS, name, strlen(name), change_apply, &ch);
	if (rc == 0)
		die("no user %s", name);
	if (rc < 0)
		die("cannot change %s: %s", name, ch.why ? ch.why : db_strerror(db));
	db_close(db);
	printf("user %s changed\n", name);
	return 0;
}
