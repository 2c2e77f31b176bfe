/* users.c - `posternctl user set`: change fields of a user record in one
 * LMDB write transaction, so a concurrent `user passwd` or another `set`
 * is never lost between a read and a write. */
#include <stdio.h>
#include <string.h>

#include "../../common/base/util.h"
#include "ctl.h"

/* The requested change, validated before the database is opened. */
struct user_change {
	int set_quota, set_ids, set_mailroot, set_flag;
	uint64_t quota;
	uint32_t uid, gid;
	int disable;
	char mailroot[USERDB_PATH_MAX + 1];
	const char *why;	/* set when the record cannot be changed */
};

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
	if (a->quota == NULL && a->uid == NULL && a->mailroot == NULL && !a->disable && !a->enable)
		usage_error("user set: nothing to change");
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
	if (ch->set_quota)
		u.quota = ch->quota;
	if (ch->set_ids) {
		u.uid = ch->uid;
		u.gid = ch->gid;
	}
	if (ch->set_mailroot)
		memcpy(u.mailroot, ch->mailroot, sizeof(u.mailroot));
	if (ch->set_flag && ch->disable)
		u.flags |= USERDB_USER_DISABLED;
	else if (ch->set_flag)
		u.flags &= ~(uint32_t)USERDB_USER_DISABLED;
	n = userdb_user_encode(&u, rec, sizeof(rec));
	explicit_bzero(&u, sizeof(u));
	if (n < 0 || buf_append(out, rec, (size_t)n) < 0) {
		ch->why = "the record does not fit";
		return -1;
	}
	return 0;
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
	rc = db_update(db, USERDB_DBI_USERS, name, strlen(name), change_apply, &ch);
	if (rc == 0)
		die("no user %s", name);
	if (rc < 0)
		die("cannot change %s: %s", name, ch.why ? ch.why : db_strerror(db));
	db_close(db);
	printf("user %s changed\n", name);
	return 0;
}
