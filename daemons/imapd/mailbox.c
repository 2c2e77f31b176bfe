/* mailbox.c - folders as the client sees them: names (namespace prefix,
 * modified UTF-7), LIST/LSUB with LIST-EXTENDED (RFC 5258) and LIST-STATUS
 * (RFC 5819), NAMESPACE (RFC 2342), STATUS, CREATE (CREATE-SPECIAL-USE,
 * RFC 6154), DELETE, RENAME, SUBSCRIBE, APPEND (MULTIAPPEND, RFC 3502) and
 * the QUOTA commands (RFC 9208, read only). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../common/base/log.h"
#include "../../common/base/util.h"
#include "../../common/ipc/scratch.h"
#include "../../common/ipc/storeproto.h"
#include "../../common/mail/folders.h"
#include "../../common/mail/mindex.h"
#include "../../common/proto/imap_fmt.h"
#include "../../common/proto/imap_list.h"
#include "../../common/proto/mutf7.h"
#include "../../policy/policy.h"
#include "imapd.h"

static int
is_astring(const struct imap_arg *a)
{
	return a != NULL && (a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_QUOTED ||
	    (a->type == IMAP_ARG_LITERAL && !(a->flags & (IMAP_ARGF_STREAMED | IMAP_ARGF_LITERAL8))));
}

/* The wire form (mUTF-7) of a client name into UTF-8. */
static int
decode_name(const struct imap_arg *a, char *out, size_t cap)
{
	size_t len;

	if (memchr(a->text, '\0', a->len) != NULL)
		return -1;
	return mutf7_decode(a->text, a->len, out, cap, &len) == MUTF7_OK ? 0 : -1;
}

static int
is_inbox(const char *s)
{
	return strcasecmp(s, "INBOX") == 0;
}

int
imap_arg_mailbox(struct imap *p, const char *tag, const struct imap_arg *a,
    char name_r[STORE_NAME_MAX + 1])
{
	char utf8[MUTF7_NAME_MAX + 1];
	const char *rest;
	size_t len;

	if (!is_astring(a)) {
		imap_bad(p, tag, "Mailbox name expected");
		return -1;
	}
	if (decode_name(a, utf8, sizeof(utf8)) < 0) {
		imap_no(p, tag, "[CANNOT] Invalid modified UTF-7 in mailbox name");
		return -1;
	}
	if (is_inbox(utf8)) {
		strcpy(name_r, "INBOX");
		return 0;
	}
	rest = utf8;
	if (p->nslen > 0) {
		if (strncasecmp(utf8, p->ns, p->nslen) != 0) {
			imap_printf(p, "%s NO [CANNOT] Mailbox names start with \"%s\"\r\n", tag, p->ns);
			return -1;
		}
		rest = utf8 + p->nslen;
	}
	len = strlen(rest);
	/* CREATE "a." names the folder a (RFC 9051 6.3.4) */
	if (len > 0 && rest[len - 1] == p->sep)
		len--;
	if (len == 0 || len > STORE_NAME_MAX ||
	    mutf7_mailbox_check((const uint8_t *)rest, len, p->sep, 0) != MUTF7_MBOX_OK) {
		imap_no(p, tag, "[CANNOT] Invalid mailbox name");
		return -1;
	}
	memcpy(name_r, rest, len);
	name_r[len] = '\0';
	if (is_inbox(name_r))
		strcpy(name_r, "INBOX");
	return 0;
}

/* The client's form of stored's name: namespace prefix + name, mUTF-7. */
static int
wire_name(struct imap *p, const char *name, char *out, size_t cap)
{
	char full[STORE_NAME_MAX + 64 + 1];
	size_t len;

	if (!strcmp(name, "INBOX"))
		snprintf(full, sizeof(full), "INBOX");
	else if (snprintf(full, sizeof(full), "%s%s", p->ns, name) >= (int)sizeof(full))
		return -1;
	return mutf7_encode((const uint8_t *)full, strlen(full), out, cap, &len) == MUTF7_OK ? 0 : -1;
}

int
imap_put_mailbox(struct imap *p, struct buf *b, const char *name)
{
	char w[MUTF7_NAME_MAX + 1];

	if (wire_name(p, name, w, sizeof(w)) < 0)
		return -1;
	/* a quoted string always: an atom could not hold every name */
	return imap_put_string(b, (const uint8_t *)w, strlen(w));
}

/* The store error of the final reply as a tagged NO. */
static void
reply_err(struct imap *p, const char *tag, const char *what)
{
	uint32_t code = imap_store_err();
	const char *text;

	switch (code) {
	case STORE_ERR_NOBOX: text = "[NONEXISTENT] No such mailbox"; break;
	case STORE_ERR_EXISTS: text = "[ALREADYEXISTS] Mailbox exists"; break;
	case STORE_ERR_NAME: text = "[CANNOT] Invalid mailbox name"; break;
	case STORE_ERR_DENIED: text = "[CANNOT] Not permitted"; break;
	case STORE_ERR_QUOTA: text = "[OVERQUOTA] Quota exceeded"; break;
	case STORE_ERR_LIMIT: text = "[LIMIT] Server limit reached"; break;
	case STORE_ERR_TOOBIG: text = "[TOOBIG] Message too large"; break;
	case STORE_ERR_INUSE: text = "[INUSE] Mailbox in use"; break;
	default: text = "[SERVERBUG] Mail storage failed"; break;
	}
	imap_printf(p, "%s NO %s (%s)\r\n", tag, text, what);
}

/* --- LIST --- */

struct folder {
	char name[STORE_NAME_MAX + 1];
	char wire[MUTF7_NAME_MAX + 1];
	uint32_t attr;
	int subscribed_only;		/* from the subscription file, may not exist */
};

struct folder_list {
	struct folder *v;
	size_t n, cap;
};

static struct store_folders folders_page;

static int
list_data(struct imap *p, void *ctx)
{
	struct folder_list *l = ctx;
	uint32_t i;

	if (ipc_scratch_in.type != MSG_STORE_FOLDERS ||
	    storeimap_folders_get(&ipc_scratch_in, &folders_page) < 0)
		return -1;
	for (i = 0; i < folders_page.count; i++) {
		struct folder *f;
		if (l->n == l->cap) {
			size_t cap = l->cap ? l->cap * 2 : 32;
			struct folder *nv;
			if (cap > 2 * FOLDERS_LIST_MAX)
				return -1;
			nv = realloc(l->v, cap * sizeof(*nv));
			if (nv == NULL)
				return -1;
			l->v = nv;
			l->cap = cap;
		}
		f = &l->v[l->n];
		snprintf(f->name, sizeof(f->name), "%s", folders_page.f[i].name);
		f->attr = folders_page.f[i].attr;
		f->subscribed_only = 0;
		if (wire_name(p, f->name, f->wire, sizeof(f->wire)) < 0)
			continue;	/* not expressible: not listed */
		l->n++;
	}
	return 0;
}

static int
load_folders(struct imap *p, int subscribed, struct folder_list *l)
{
	storeimap_name_put(&ipc_scratch_out, MSG_STORE_IMAP_LIST, (uint8_t)subscribed, 0, NULL, NULL);
	imap_store_call(p, list_data, l);
	return ipc_scratch_in.type == MSG_STORE_OK ? 0 : -1;
}

#define SEL_SUBSCRIBED	0x1
#define SEL_SPECIALUSE	0x2
#define SEL_RECURSIVE	0x4
#define RET_SUBSCRIBED	0x1
#define RET_CHILDREN	0x2
#define RET_SPECIALUSE	0x4
#define RET_STATUS	0x8

static const struct { uint32_t bit; const char *name; } special[] = {
	{ FOLDERS_SENT, "\\Sent" }, { FOLDERS_TRASH, "\\Trash" }, { FOLDERS_DRAFTS, "\\Drafts" },
	{ FOLDERS_JUNK, "\\Junk" }, { FOLDERS_ARCHIVE, "\\Archive" },
};

static void
status_line(struct imap *p, const char *name, unsigned items);

#define ST_MESSAGES	0x01
#define ST_UIDNEXT	0x02
#define ST_UIDVALIDITY	0x04
#define ST_UNSEEN	0x08
#define ST_DELETED	0x10
#define ST_SIZE		0x20
#define ST_RECENT	0x40
#define ST_HMS		0x80

static int
status_items(const struct imap_arg *l, unsigned *items_r)
{
	static const struct { const char *name; unsigned bit; } names[] = {
		{ "MESSAGES", ST_MESSAGES }, { "UIDNEXT", ST_UIDNEXT },
		{ "UIDVALIDITY", ST_UIDVALIDITY }, { "UNSEEN", ST_UNSEEN },
		{ "DELETED", ST_DELETED }, { "SIZE", ST_SIZE }, { "RECENT", ST_RECENT },
		{ "HIGHESTMODSEQ", ST_HMS },
	};
	const struct imap_arg *a;
	size_t i;

	*items_r = 0;
	if (l == NULL || l->type != IMAP_ARG_LIST || l->count == 0)
		return -1;
	for (a = l->child; a != NULL; a = a->next) {
		if (a->type != IMAP_ARG_ATOM)
			return -1;
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!strcasecmp((const char *)a->text, names[i].name))
				break;
		if (i == sizeof(names) / sizeof(names[0]))
			return -1;
		*items_r |= names[i].bit;
	}
	return 0;
}

static int
atom_is(const struct imap_arg *a, const char *s)
{
	return a != NULL && a->type == IMAP_ARG_ATOM && !strcasecmp((const char *)a->text, s);
}

/* A subscribed name that "%" does not reach, under a parent it does:
 * LSUB answers the parent \Noselect (RFC 3501 6.3.9), LIST (SUBSCRIBED
 * RECURSIVEMATCH) with CHILDINFO (RFC 5258 3.5); each parent once, and
 * none that is subscribed itself (it was listed already). */
static void
list_parents(struct imap *p, const struct folder_list *subs, const char *pat, int lsub,
    int recursive)
{
	char seen[16][MUTF7_NAME_MAX + 1];
	size_t nseen = 0, i, k;

	if (!lsub && !recursive)
		return;
	for (i = 0; i < subs->n; i++) {
		char parent[MUTF7_NAME_MAX + 1];
		const char *w = subs->v[i].wire, *sep;
		if (imap_list_match(pat, w, p->sep))
			continue;
		for (sep = strchr(w, p->sep); sep != NULL; sep = strchr(sep + 1, p->sep)) {
			size_t len = (size_t)(sep - w);
			int dup = 0;
			if (len >= sizeof(parent))
				break;
			memcpy(parent, w, len);
			parent[len] = '\0';
			if (!imap_list_match(pat, parent, p->sep))
				continue;
			for (k = 0; k < subs->n && !dup; k++)
				dup = !strcmp(subs->v[k].wire, parent);
			for (k = 0; k < nseen && !dup; k++)
				dup = !strcmp(seen[k], parent);
			if (dup)
				break;
			if (nseen < sizeof(seen) / sizeof(seen[0]))
				snprintf(seen[nseen++], sizeof(seen[0]), "%s", parent);
			{
				struct buf b;
				buf_init(&b, 4096);
				buf_printf(&b, lsub ? "* LSUB (\\Noselect) \"%c\" " : "* LIST () \"%c\" ",
				    p->sep);
				imap_put_string(&b, (const uint8_t *)parent, len);
				if (!lsub)
					buf_append_str(&b, " (\"CHILDINFO\" (\"SUBSCRIBED\"))");
				buf_append_str(&b, "\r\n");
				imap_write(p, b.data, b.len);
				buf_free(&b, 0);
			}
			break;
		}
	}
}

void
imap_cmd_list(struct imap *p, const struct imap_cmd *cmd)
{
	const int lsub = !strcmp(cmd->name, "LSUB");
	const struct imap_arg *a = cmd->args, *ref, *pats, *x;
	unsigned sel = 0, ret = 0, st_items = 0;
	struct folder_list all = { 0 }, subs = { 0 };
	char refs[MUTF7_NAME_MAX + 1];
	size_t i, k;
	int have_children = 0;

	/* LIST [(selection)] reference patterns [RETURN (options)] */
	if (!lsub && a != NULL && a->type == IMAP_ARG_LIST) {
		for (x = a->child; x != NULL; x = x->next) {
			if (atom_is(x, "SUBSCRIBED"))
				sel |= SEL_SUBSCRIBED;
			else if (atom_is(x, "SPECIAL-USE"))
				sel |= SEL_SPECIALUSE;
			else if (atom_is(x, "RECURSIVEMATCH"))
				sel |= SEL_RECURSIVE;
			else if (atom_is(x, "REMOTE"))
				;	/* no remote mailboxes here */
			else {
				imap_bad(p, cmd->tag, "Unknown LIST selection option");
				return;
			}
		}
		/* RFC 5258 3: RECURSIVEMATCH needs another selection option */
		if ((sel & SEL_RECURSIVE) && !(sel & (SEL_SUBSCRIBED | SEL_SPECIALUSE))) {
			imap_bad(p, cmd->tag, "RECURSIVEMATCH alone is not allowed");
			return;
		}
		a = a->next;
	}
	ref = a;
	pats = ref != NULL ? ref->next : NULL;
	if (!is_astring(ref) || pats == NULL ||
	    (!is_astring(pats) && (lsub || pats->type != IMAP_ARG_LIST || pats->count == 0))) {
		imap_bad(p, cmd->tag, lsub ? "Syntax: LSUB reference pattern" :
		    "Syntax: LIST [(options)] reference pattern [RETURN (options)]");
		return;
	}
	x = pats->next;
	if (x != NULL) {
		if (lsub || !atom_is(x, "RETURN") || x->next == NULL || x->next->type != IMAP_ARG_LIST ||
		    x->next->next != NULL) {
			imap_bad(p, cmd->tag, "Syntax: ... RETURN (options)");
			return;
		}
		for (x = x->next->child; x != NULL; x = x->next) {
			if (atom_is(x, "SUBSCRIBED"))
				ret |= RET_SUBSCRIBED;
			else if (atom_is(x, "CHILDREN"))
				ret |= RET_CHILDREN;
			else if (atom_is(x, "SPECIAL-USE"))
				ret |= RET_SPECIALUSE;
			else if (atom_is(x, "STATUS")) {
				if (status_items(x->next, &st_items) < 0) {
					imap_bad(p, cmd->tag, "Syntax: RETURN (STATUS (items))");
					return;
				}
				ret |= RET_STATUS;
				x = x->next;
			} else {
				imap_bad(p, cmd->tag, "Unknown LIST return option");
				return;
			}
		}
	}
	if (ref->len >= sizeof(refs) || memchr(ref->text, '\0', ref->len) != NULL) {
		imap_bad(p, cmd->tag, "Reference name too long");
		return;
	}
	memcpy(refs, ref->text, ref->len);
	refs[ref->len] = '\0';

	/* LIST "" "": the hierarchy delimiter and root (RFC 9051 6.3.9) */
	if (is_astring(pats) && pats->len == 0) {
		imap_printf(p, "* %s (\\Noselect) \"%c\" \"\"\r\n", lsub ? "LSUB" : "LIST", p->sep);
		imap_printf(p, "%s OK %s completed\r\n", cmd->tag, cmd->name);
		return;
	}
	if (load_folders(p, 0, &all) < 0) {
		reply_err(p, cmd->tag, cmd->name);
		goto out;
	}
	if ((lsub || (sel & SEL_SUBSCRIBED)) && load_folders(p, 1, &subs) < 0) {
		reply_err(p, cmd->tag, cmd->name);
		goto out;
	}
	/* Under a namespace "INBOX.", every folder is an inferior of INBOX. */
	if (p->nslen > 0 && strncasecmp(p->ns, "INBOX", 5) == 0 && p->nslen == 6)
		have_children = all.n > 1;
	for (i = 0; i < all.n; i++)
		if (!strcmp(all.v[i].name, "INBOX") && p->nslen == 6 && have_children) {
			all.v[i].attr &= ~(uint32_t)FOLDERS_HASNOCHILDREN;
			all.v[i].attr |= FOLDERS_HASCHILDREN;
		}
	/* subscribed names that are not folders: \NonExistent (RFC 5258) */
	for (i = 0; i < subs.n; i++) {
		for (k = 0; k < all.n && strcmp(all.v[k].name, subs.v[i].name) != 0; k++)
			;
		if (k < all.n)
			all.v[k].attr |= FOLDERS_SUBSCRIBED;
		else
			subs.v[i].subscribed_only = 1;
	}
	for (x = is_astring(pats) ? pats : pats->child; x != NULL; x = is_astring(pats) ? NULL : x->next) {
		char pat[IMAP_LIST_PATTERN_MAX + 1];
		const struct folder_list *src = lsub || (sel & SEL_SUBSCRIBED) ? &subs : &all;
		if (!is_astring(x) || ref->len + x->len >= sizeof(pat) ||
		    memchr(x->text, '\0', x->len) != NULL) {
			imap_bad(p, cmd->tag, "Bad pattern");
			goto out;
		}
		memcpy(pat, refs, ref->len);
		memcpy(pat + ref->len, x->text, x->len);
		pat[ref->len + x->len] = '\0';
		imap_list_canon(pat, p->sep);
		for (i = 0; i < src->n; i++) {
			const struct folder *f = &src->v[i];
			uint32_t attr = f->attr;
			struct buf b;
			const char *sp = "";
			if (!imap_list_match(pat, f->wire, p->sep))
				continue;
			if (src == &subs) {
				/* its live attributes, when it exists */
				for (k = 0; k < all.n && strcmp(all.v[k].name, f->name) != 0; k++)
					;
				attr = k < all.n ? all.v[k].attr : 0;
				attr |= FOLDERS_SUBSCRIBED;
			}
			if ((sel & SEL_SPECIALUSE) && !(attr & (FOLDERS_SENT | FOLDERS_TRASH |
			    FOLDERS_DRAFTS | FOLDERS_JUNK | FOLDERS_ARCHIVE)))
				continue;
			buf_init(&b, 4096);
			buf_printf(&b, "* %s (", lsub ? "LSUB" : "LIST");
			if (src == &subs && f->subscribed_only && !lsub) {
				buf_append_str(&b, "\\NonExistent");
				sp = " ";
			} else if (attr & FOLDERS_NOSELECT) {
				buf_append_str(&b, "\\Noselect");
				sp = " ";
			}
			if (!lsub && !(src == &subs && f->subscribed_only)) {
				if (attr & FOLDERS_HASCHILDREN) {
					buf_printf(&b, "%s\\HasChildren", sp);
					sp = " ";
				} else if (attr & FOLDERS_HASNOCHILDREN) {
					buf_printf(&b, "%s\\HasNoChildren", sp);
					sp = " ";
				}
			}
			if (!lsub && ((sel & SEL_SUBSCRIBED) || (ret & RET_SUBSCRIBED)) &&
			    (attr & FOLDERS_SUBSCRIBED)) {
				buf_printf(&b, "%s\\Subscribed", sp);
				sp = " ";
			}
			if (!lsub)
				for (k = 0; k < sizeof(special) / sizeof(special[0]); k++)
					if (attr & special[k].bit) {
						buf_printf(&b, "%s%s", sp, special[k].name);
						sp = " ";
					}
			buf_printf(&b, ") \"%c\" ", p->sep);
			imap_put_string(&b, (const uint8_t *)f->wire, strlen(f->wire));
			buf_append_str(&b, "\r\n");
			imap_write(p, b.data, b.len);
			buf_free(&b, 0);
			if ((ret & RET_STATUS) && !(attr & FOLDERS_NOSELECT) &&
			    !(src == &subs && f->subscribed_only))
				status_line(p, f->name, st_items);
		}
		if (src == &subs && strchr(pat, '%') != NULL)
			list_parents(p, &subs, pat, lsub, (sel & SEL_RECURSIVE) != 0);
	}
	imap_printf(p, "%s OK %s completed\r\n", cmd->tag, cmd->name);
out:
	free(all.v);
	free(subs.v);
}

void
imap_cmd_namespace(struct imap *p, const struct imap_cmd *cmd)
{
	struct buf b;

	if (cmd->nargs != 0) {
		imap_bad(p, cmd->tag, "NAMESPACE takes no arguments");
		return;
	}
	buf_init(&b, 512);
	buf_append_str(&b, "* NAMESPACE ((");
	imap_put_string(&b, (const uint8_t *)p->ns, p->nslen);
	buf_printf(&b, " \"%c\")) NIL NIL\r\n", p->sep);
	imap_write(p, b.data, b.len);
	buf_free(&b, 0);
	imap_ok(p, cmd->tag, "NAMESPACE completed");
}

/* --- STATUS --- */

/* stored's STATUS of a folder; 0, or -1 when stored refused (the caller
 * answers; LIST-STATUS skips what it cannot tell). */
static int
status_query(struct imap *p, const char *name, struct store_status *st)
{
	storeimap_name_put(&ipc_scratch_out, MSG_STORE_IMAP_STATUS, 0, 0, name, NULL);
	imap_store_call(p, NULL, NULL);
	if (ipc_scratch_in.type != MSG_STORE_STATUS)
		return -1;
	if (storeimap_status_get(&ipc_scratch_in, st) < 0)
		fatal("reason=\"bad STATUS reply from stored\"");
	return 0;
}

static void
status_print(struct imap *p, const char *name, unsigned items, const struct store_status *st)
{
	struct buf b;
	const char *sp = "";

	buf_init(&b, 1024);
	buf_append_str(&b, "* STATUS ");
	imap_put_mailbox(p, &b, name);
	buf_append_str(&b, " (");
#define ITEM(bit, fmt, v) if (items & (bit)) { buf_printf(&b, "%s" fmt, sp, v); sp = " "; }
	ITEM(ST_MESSAGES, "MESSAGES %u", st->messages);
	ITEM(ST_UIDNEXT, "UIDNEXT %u", st->uidnext);
	ITEM(ST_UIDVALIDITY, "UIDVALIDITY %u", st->uidvalidity);
	ITEM(ST_UNSEEN, "UNSEEN %u", st->unseen);
	ITEM(ST_DELETED, "DELETED %u", st->deleted);
	ITEM(ST_SIZE, "SIZE %llu", (unsigned long long)st->size);
	ITEM(ST_RECENT, "RECENT %u", st->recent);
	ITEM(ST_HMS, "HIGHESTMODSEQ %llu", (unsigned long long)st->highestmodseq);
#undef ITEM
	buf_append_str(&b, ")\r\n");
	imap_write(p, b.data, b.len);
	buf_free(&b, 0);
}

static void
status_line(struct imap *p, const char *name, unsigned items)
{
	struct store_status st;

	if (status_query(p, name, &st) == 0)
		status_print(p, name, items, &st);
}

void
imap_cmd_status(struct imap *p, const struct imap_cmd *cmd)
{
	char name[STORE_NAME_MAX + 1];
	struct store_status st;
	unsigned items;

	if (cmd->nargs != 2) {
		imap_bad(p, cmd->tag, "Syntax: STATUS mailbox (items)");
		return;
	}
	if (status_items(cmd->args->next, &items) < 0) {
		imap_bad(p, cmd->tag, "Syntax: STATUS mailbox (MESSAGES UIDNEXT UIDVALIDITY UNSEEN "
		    "DELETED SIZE HIGHESTMODSEQ)");
		return;
	}
	if (imap_arg_mailbox(p, cmd->tag, cmd->args, name) < 0)
		return;
	if (items & ST_HMS)
		p->enabled |= IMAP_EN_CONDSTORE;	/* RFC 7162 3.1: a CONDSTORE-enabling command */
	if (status_query(p, name, &st) < 0) {
		reply_err(p, cmd->tag, "STATUS");
		return;
	}
	status_print(p, name, items, &st);
	imap_ok(p, cmd->tag, "STATUS completed");
}

/* --- CREATE DELETE RENAME SUBSCRIBE --- */

void
imap_cmd_create(struct imap *p, const struct imap_cmd *cmd)
{
	char name[STORE_NAME_MAX + 1];
	uint32_t attr = 0;
	const struct imap_arg *o = cmd->args != NULL ? cmd->args->next : NULL;

	if (cmd->nargs < 1 || cmd->nargs > 2) {
		imap_bad(p, cmd->tag, "Syntax: CREATE mailbox [(USE (attributes))]");
		return;
	}
	/* RFC 6154 section 3: CREATE name (USE (\Sent ...)) */
	if (o != NULL) {
		const struct imap_arg *u, *x;
		size_t k;
		if (o->type != IMAP_ARG_LIST || o->count != 2 || !atom_is(o->child, "USE") ||
		    (u = o->child->next)->type != IMAP_ARG_LIST) {
			imap_bad(p, cmd->tag, "Syntax: CREATE mailbox (USE (attributes))");
			return;
		}
		for (x = u->child; x != NULL; x = x->next) {
			for (k = 0; k < sizeof(special) / sizeof(special[0]); k++)
				if (atom_is(x, special[k].name))
					break;
			if (k == sizeof(special) / sizeof(special[0])) {
				imap_no(p, cmd->tag, "[USEATTR] Unknown special-use attribute");
				return;
			}
			attr |= special[k].bit;
		}
	}
	if (imap_arg_mailbox(p, cmd->tag, cmd->args, name) < 0)
		return;
	if (!strcmp(name, "INBOX")) {
		imap_no(p, cmd->tag, "[ALREADYEXISTS] INBOX always exists");
		return;
	}
	storeimap_name_put(&ipc_scratch_out, MSG_STORE_IMAP_CREATE, 0, attr, name, NULL);
	imap_store_call(p, NULL, NULL);
	if (ipc_scratch_in.type == MSG_STORE_OK) {
		imap_ok(p, cmd->tag, "CREATE completed");
		return;
	}
	if (attr != 0 && imap_store_err() == STORE_ERR_DENIED)
		imap_no(p, cmd->tag, "[USEATTR] That special use does not go with that name here");
	else
		reply_err(p, cmd->tag, "CREATE");
}

void
imap_cmd_delete(struct imap *p, const struct imap_cmd *cmd)
{
	char name[STORE_NAME_MAX + 1];

	if (cmd->nargs != 1) {
		imap_bad(p, cmd->tag, "Syntax: DELETE mailbox");
		return;
	}
	if (imap_arg_mailbox(p, cmd->tag, cmd->args, name) < 0)
		return;
	if (!strcmp(name, "INBOX")) {
		imap_no(p, cmd->tag, "[CANNOT] INBOX cannot be deleted");
		return;
	}
	storeimap_name_put(&ipc_scratch_out, MSG_STORE_IMAP_DELETE, 0, 0, name, NULL);
	imap_store_call(p, NULL, NULL);
	if (ipc_scratch_in.type == MSG_STORE_OK)
		imap_ok(p, cmd->tag, "DELETE completed");
	else
		reply_err(p, cmd->tag, "DELETE");
}

void
imap_cmd_rename(struct imap *p, const struct imap_cmd *cmd)
{
	char from[STORE_NAME_MAX + 1], to[STORE_NAME_MAX + 1];

	if (cmd->nargs != 2) {
		imap_bad(p, cmd->tag, "Syntax: RENAME from to");
		return;
	}
	if (imap_arg_mailbox(p, cmd->tag, cmd->args, from) < 0 ||
	    imap_arg_mailbox(p, cmd->tag, cmd->args->next, to) < 0)
		return;
	if (!strcmp(to, "INBOX")) {
		imap_no(p, cmd->tag, "[ALREADYEXISTS] INBOX always exists");
		return;
	}
	storeimap_name_put(&ipc_scratch_out, MSG_STORE_IMAP_RENAME, 0, 0, from, to);
	imap_store_call(p, NULL, NULL);
	if (ipc_scratch_in.type == MSG_STORE_OK)
		imap_ok(p, cmd->tag, "RENAME completed");
	else
		reply_err(p, cmd->tag, "RENAME");
}

void
imap_cmd_subscribe(struct imap *p, const struct imap_cmd *cmd)
{
	char name[STORE_NAME_MAX + 1];
	int on = !strcmp(cmd->name, "SUBSCRIBE");

	if (cmd->nargs != 1) {
		imap_bad(p, cmd->tag, on ? "Syntax: SUBSCRIBE mailbox" : "Syntax: UNSUBSCRIBE mailbox");
		return;
	}
	if (imap_arg_mailbox(p, cmd->tag, cmd->args, name) < 0)
		return;
	storeimap_name_put(&ipc_scratch_out, MSG_STORE_IMAP_SUBSCRIBE, (uint8_t)on, 0, name, NULL);
	imap_store_call(p, NULL, NULL);
	if (ipc_scratch_in.type == MSG_STORE_OK)
		imap_printf(p, "%s OK %s completed\r\n", cmd->tag, cmd->name);
	else
		reply_err(p, cmd->tag, cmd->name);
}

/* --- APPEND --- */

void
imap_append_reset(struct imap *p)
{
	unsigned i;

	for (i = 0; i < IMAP_APPEND_MAX_MSGS; i++)
		if (p->append_fd[i] >= 0) {
			close(p->append_fd[i]);
			p->append_fd[i] = -1;
		}
	p->nappend = 0;
	p->append_failed = 0;
}

static int
new_memfd(void)
{
	return memfd_create("imap-append", MFD_CLOEXEC | MFD_ALLOW_SEALING);
}

/* A streamed literal: chunks in order, "left" counts down to 0. */
void
imap_append_chunk(struct imap *p, const uint8_t *data, size_t len, uint32_t size, uint32_t left)
{
	unsigned k = p->nappend;

	(void)size;
	if (k >= IMAP_APPEND_MAX_MSGS) {
		p->append_failed = 1;
		return;
	}
	if (p->append_fd[k] < 0) {
		p->append_fd[k] = new_memfd();
		p->append_len[k] = 0;
		if (p->append_fd[k] < 0)
			p->append_failed = 1;
	}
	if (p->append_fd[k] >= 0 && !p->append_failed) {
		if (util_write_all(p->append_fd[k], data, len) < 0)
			p->append_failed = 1;
		p->append_len[k] += len;
	}
	if (left == 0)
		p->nappend++;
}

/* The flags of APPEND in stored's terms. */
static int
append_flags(struct imap *p, const struct imap_arg *l, struct store_req_append *r)
{
	struct imap_flags f;
	unsigned i;

	if (imap_flags_parse(l, &f) != IMAP_FLAGS_OK)
		return -1;
	r->flags = 0;
	if (f.system & IMAP_FLAG_SEEN) r->flags |= MINDEX_SEEN;
	if (f.system & IMAP_FLAG_ANSWERED) r->flags |= MINDEX_ANSWERED;
	if (f.system & IMAP_FLAG_FLAGGED) r->flags |= MINDEX_FLAGGED;
	if (f.system & IMAP_FLAG_DELETED) r->flags |= MINDEX_DELETED;
	if (f.system & IMAP_FLAG_DRAFT) r->flags |= MINDEX_DRAFT;
	r->kw.count = 0;
	if (!p->conf.keywords)
		return 0;	/* IMAP_KEYWORDS=0: keywords are dropped, as Courier does */
	for (i = 0; i < f.nkeywords; i++) {
		if (r->kw.count >= STORE_STORE_KEYWORDS || f.keyword[i]->len > STORE_KEYWORD_MAX)
			return -1;
		snprintf(r->kw.name[r->kw.count++], STORE_KEYWORD_MAX + 1, "%s",
		    (const char *)f.keyword[i]->text);
	}
	return 0;
}

void
imap_cmd_append(struct imap *p, const struct imap_cmd *cmd)
{
	static struct store_req_append req[IMAP_APPEND_MAX_MSGS];
	char name[STORE_NAME_MAX + 1], uids[24];
	const struct imap_arg *a;
	unsigned nmsg = 0, streamed = 0, i;
	uint32_t uidvalidity = 0, first = 0, last = 0;
	uint64_t unused;
	int fds[IMAP_APPEND_MAX_MSGS];

	if (cmd->nargs < 2) {
		imap_bad(p, cmd->tag, "Syntax: APPEND mailbox [(flags)] [date-time] literal");
		return;
	}
	if (imap_arg_mailbox(p, cmd->tag, cmd->args, name) < 0)
		return;
	/* parse every message first: nothing is appended from a bad command */
	for (a = cmd->args->next; a != NULL; a = a->next) {
		struct store_req_append *r;
		if (nmsg >= IMAP_APPEND_MAX_MSGS) {
			imap_bad(p, cmd->tag, "Too many messages in one APPEND");
			return;
		}
		r = &req[nmsg];
		memset(r, 0, sizeof(*r));
		snprintf(r->name, sizeof(r->name), "%s", name);
		if (a->type == IMAP_ARG_LIST) {
			if (append_flags(p, a, r) < 0) {
				imap_bad(p, cmd->tag, "Invalid flag list");
				return;
			}
			a = a->next;
		}
		if (a != NULL && a->type == IMAP_ARG_QUOTED) {
			int tz;
			if (imap_datetime_parse(a->text, a->len, &r->date, &tz) < 0) {
				imap_bad(p, cmd->tag, "Invalid date-time");
				return;
			}
			/* valid syntax, but the Maildir name and the index keep
			 * times from 1970 on */
			if (r->date <= 0) {
				imap_no(p, cmd->tag, "[CANNOT] Dates before 1970 cannot be kept");
				return;
			}
			a = a->next;
		}
		if (a == NULL || a->type != IMAP_ARG_LITERAL) {
			imap_bad(p, cmd->tag, "Syntax: APPEND mailbox [(flags)] [date-time] literal");
			return;
		}
		if (a->flags & IMAP_ARGF_STREAMED) {
			if (streamed >= p->nappend || p->append_failed) {
				imap_no(p, cmd->tag, "[SERVERBUG] Message could not be kept");
				return;
			}
			fds[nmsg] = p->append_fd[streamed];
			r->len = p->append_len[streamed];
			streamed++;
		} else {
			fds[nmsg] = -1;
			r->len = a->len;
		}
		if (r->len > p->conf.max_message) {
			imap_no(p, cmd->tag, "[TOOBIG] Message too large");
			return;
		}
		req[nmsg].date = r->date;
		nmsg++;
		if (a->next != NULL && a->next->type != IMAP_ARG_LIST && a->next->type != IMAP_ARG_QUOTED &&
		    a->next->type != IMAP_ARG_LITERAL) {
			imap_bad(p, cmd->tag, "Syntax: APPEND mailbox [(flags)] [date-time] literal ...");
			return;
		}
	}
	/* hand each message over as a sealed memfd */
	for (a = cmd->args->next, i = 0; i < nmsg; a = a->next) {
		int fd;
		if (a->type != IMAP_ARG_LITERAL)
			continue;
		fd = fds[i];
		if (fd < 0) {
			fd = new_memfd();
			if (fd < 0 || util_write_all(fd, a->text, a->len) < 0) {
				if (fd >= 0)
					close(fd);
				imap_no(p, cmd->tag, "[SERVERBUG] Message could not be kept");
				return;
			}
		}
		if (fcntl(fd, F_ADD_SEALS, POLICY_LMTPD_SEALS) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
			if (fds[i] < 0)
				close(fd);
			imap_no(p, cmd->tag, "[SERVERBUG] Message could not be kept");
			return;
		}
		/* MULTIAPPEND: every message a part, all or none (RFC 3502) */
		if (nmsg > 1) {
			req[i].part = i;
			req[i].parts = nmsg;
		}
		storeimap_append_put(&ipc_scratch_out, &req[i], fd);
		imap_store_call(p, NULL, NULL);
		if (fds[i] < 0)
			close(fd);
		if (i + 1 < nmsg && ipc_scratch_in.type == MSG_STORE_OK) {
			i++;
			continue;	/* kept by stored until the last part */
		}
		if (ipc_scratch_in.type != MSG_STORE_APPENDED) {
			if (imap_store_err() == STORE_ERR_NOBOX)
				imap_no(p, cmd->tag, "[TRYCREATE] No such mailbox");
			else
				reply_err(p, cmd->tag, "APPEND");
			return;		/* nothing was appended */
		}
		if (storeimap_pair_get(&ipc_scratch_in, &uidvalidity, &last, &unused) < 0 ||
		    last < nmsg)
			fatal("reason=\"bad APPEND reply from stored\"");
		/* one transaction: the UIDs are consecutive */
		first = last - nmsg + 1;
		i++;
	}
	snprintf(uids, sizeof(uids), first == last ? "%u" : "%u:%u", first, last);
	/* into the selected folder: its EXISTS comes before the OK (6.3.12) */
	if (p->state == IMAP_SELECTED && !strcmp(name, p->v.name)) {
		p->store_changed = 1;
		imap_sync(p, 1);
	}
	imap_printf(p, "%s OK [APPENDUID %u %s] APPEND completed\r\n", cmd->tag, uidvalidity, uids);
}

/* --- QUOTA (RFC 9208): reported, set by the administrator --- */

void
imap_cmd_getquota(struct imap *p, const struct imap_cmd *cmd)
{
	struct store_quota q;
	struct buf b;
	const char *sp = "";

	if (!strcmp(cmd->name, "SETQUOTA")) {
		imap_no(p, cmd->tag, "[CANNOT] Quotas are set by the administrator");
		return;
	}
	if (cmd->nargs != 1 || !is_astring(cmd->args)) {
		imap_bad(p, cmd->tag, "Syntax: GETQUOTA root / GETQUOTAROOT mailbox");
		return;
	}
	if (!strcmp(cmd->name, "GETQUOTAROOT")) {
		char name[STORE_NAME_MAX + 1];
		if (imap_arg_mailbox(p, cmd->tag, cmd->args, name) < 0)
			return;
	} else if (cmd->args->len != 0) {
		imap_no(p, cmd->tag, "[NONEXISTENT] No such quota root (the root is \"\")");
		return;
	}
	storeimap_empty_put(&ipc_scratch_out, MSG_STORE_IMAP_QUOTA);
	imap_store_call(p, NULL, NULL);
	if (ipc_scratch_in.type != MSG_STORE_QUOTA || storeimap_quota_get(&ipc_scratch_in, &q) < 0) {
		reply_err(p, cmd->tag, cmd->name);
		return;
	}
	buf_init(&b, 1024);
	if (!strcmp(cmd->name, "GETQUOTAROOT")) {
		buf_append_str(&b, "* QUOTAROOT ");
		imap_put_string(&b, cmd->args->text, cmd->args->len);
		if (q.storage_limit || q.messages_limit)
			buf_append_str(&b, " \"\"");
		buf_append_str(&b, "\r\n");
	} else if (!q.storage_limit && !q.messages_limit) {
		buf_free(&b, 0);
		imap_no(p, cmd->tag, "[NONEXISTENT] No quota is set");
		return;
	}
	if (q.storage_limit || q.messages_limit) {
		buf_append_str(&b, "* QUOTA \"\" (");
		if (q.storage_limit) {
			buf_printf(&b, "STORAGE %llu %llu", (unsigned long long)((q.storage_used + 1023) / 1024),
			    (unsigned long long)(q.storage_limit / 1024));
			sp = " ";
		}
		if (q.messages_limit)
			buf_printf(&b, "%sMESSAGE %llu %llu", sp, (unsigned long long)q.messages_used,
			    (unsigned long long)q.messages_limit);
		buf_append_str(&b, ")\r\n");
	}
	imap_write(p, b.data, b.len);
	buf_free(&b, 0);
	imap_printf(p, "%s OK %s completed\r\n", cmd->tag, cmd->name);
}
