/* message.c - the selected folder: SELECT/EXAMINE (CONDSTORE), CLOSE,
 * UNSELECT, EXPUNGE and UID EXPUNGE (UIDPLUS), STORE (UNCHANGEDSINCE),
 * COPY and MOVE (COPYUID), and the sequence-set glue every command on
 * messages shares.  FETCH and SEARCH are in fetch.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../common/base/log.h"
#include "../../common/ipc/scratch.h"
#include "../../common/ipc/storeproto.h"
#include "../../common/mail/mindex.h"
#include "../../common/proto/imap_fmt.h"
#include "imapd.h"

static struct imap_range set_ranges[STORE_UIDSET_MAX * 4];
static struct store_uidset data_set;
static struct store_records data_recs;

/* UIDs into ranges, appended to set (ascending input). */
static int
set_add_uid(struct store_uidset *set, uint32_t uid)
{
	if (set->n > 0 && set->r[set->n - 1].hi + 1 == uid) {
		set->r[set->n - 1].hi = uid;
		return 0;
	}
	if (set->n > 0 && uid <= set->r[set->n - 1].hi)
		return 0;
	if (set->n >= STORE_UIDSET_MAX)
		return -1;
	set->r[set->n].lo = set->r[set->n].hi = uid;
	set->n++;
	return 0;
}

int
imap_arg_uidset(struct imap *p, const char *tag, const struct imap_arg *a, int uid,
    struct store_uidset *set)
{
	struct imap_seqset s;
	enum imap_seqset_err e;
	struct imap_view *v = &p->v;
	unsigned i;

	set->n = 0;
	if (a == NULL || a->type != IMAP_ARG_ATOM) {
		imap_bad(p, tag, "Sequence set expected");
		return -1;
	}
	imap_seqset_init(&s, set_ranges, sizeof(set_ranges) / sizeof(set_ranges[0]));
	e = imap_seqset_parse(&s, a->text, a->len);
	if (e == IMAP_SEQSET_ERR_TOO_MANY) {
		imap_no(p, tag, "[LIMIT] Too many ranges in the sequence set");
		return -1;
	}
	if (e != IMAP_SEQSET_OK) {
		imap_bad(p, tag, "Invalid sequence set");
		return -1;
	}
	if (s.searchres) {
		/* RFC 5182: "$" is the saved result, UIDs of messages still here */
		size_t k;
		/* RFC 5182 2.1: before any SEARCH ... SAVE in this folder, "$" is
		 * an empty set */
		for (k = 0; v->have_saved && k < v->nsaved; k++)
			if (imap_view_find(v, v->saved[k]) >= 0 && set_add_uid(set, v->saved[k]) < 0)
				goto too_many;
		return 0;
	}
	if (uid) {
		if (imap_seqset_resolve(&s, v->n ? v->uid[v->n - 1] : 0) != IMAP_SEQSET_OK)
			return 0;	/* "*" in an empty folder matches nothing */
		for (i = 0; i < s.n; i++) {
			if (set->n >= STORE_UIDSET_MAX)
				goto too_many;
			set->r[set->n].lo = s.r[i].lo;
			set->r[set->n].hi = s.r[i].hi;
			set->n++;
		}
		return 0;
	}
	if (imap_seqset_resolve(&s, (uint32_t)v->n) != IMAP_SEQSET_OK ||
	    (s.n > 0 && s.r[s.n - 1].hi > v->n)) {
		imap_bad(p, tag, "Message sequence number out of range");
		return -1;
	}
	for (i = 0; i < s.n; i++) {
		uint32_t q;
		for (q = s.r[i].lo; q <= s.r[i].hi; q++)
			if (set_add_uid(set, v->uid[q - 1]) < 0)
				goto too_many;
	}
	return 0;
too_many:
	imap_no(p, tag, "[LIMIT] Too many ranges in the message set");
	return -1;
}

/* --- SELECT / EXAMINE --- */

static int
select_data(struct imap *p, void *ctx)
{
	uint8_t kind;
	uint32_t i;

	(void)ctx;
	if (ipc_scratch_in.type == MSG_STORE_KEYWORDS)
		return imap_view_keywords(&p->v) < 0 ? -1 : 0;
	if (ipc_scratch_in.type != MSG_STORE_UIDSET ||
	    storeimap_uidset_get(&ipc_scratch_in, &kind, &data_set) < 0 || kind != STORE_SET_VIEW)
		return -1;
	for (i = 0; i < data_set.n; i++)
		if (imap_view_add_range(&p->v, data_set.r[i].lo, data_set.r[i].hi) < 0)
			return -1;
	return 0;
}

void
imap_cmd_select(struct imap *p, const struct imap_cmd *cmd)
{
	const int examine = !strcmp(cmd->name, "EXAMINE");
	char name[STORE_NAME_MAX + 1];
	struct store_selected st;

	if (cmd->nargs < 1 || cmd->nargs > 2 ||
	    (cmd->nargs == 2 && (cmd->args->next->type != IMAP_ARG_LIST))) {
		imap_bad(p, cmd->tag, "Syntax: SELECT mailbox [(CONDSTORE)]");
		return;
	}
	if (cmd->nargs == 2) {
		const struct imap_arg *o;
		for (o = cmd->args->next->child; o != NULL; o = o->next) {
			if (o->type != IMAP_ARG_ATOM || strcasecmp((const char *)o->text, "CONDSTORE")) {
				imap_bad(p, cmd->tag, "Unknown SELECT parameter");
				return;
			}
			p->enabled |= IMAP_EN_CONDSTORE;
		}
	}
	if (imap_arg_mailbox(p, cmd->tag, cmd->args, name) < 0)
		return;
	if (p->state == IMAP_SELECTED)
		imap_puts(p, "* OK [CLOSED] Previous mailbox closed\r\n");
	imap_view_reset(&p->v);
	p->state = IMAP_AUTHENTICATED;
	storeimap_name_put(&ipc_scratch_out, MSG_STORE_IMAP_SELECT, (uint8_t)!examine, 0, name, NULL);
	imap_store_call(p, select_data, NULL);
	if (ipc_scratch_in.type != MSG_STORE_SELECTED) {
		uint32_t code = imap_store_err();
		imap_view_reset(&p->v);
		imap_printf(p, "%s NO %s\r\n", cmd->tag, code == STORE_ERR_NOBOX ?
		    "[NONEXISTENT] No such mailbox" : code == STORE_ERR_NAME ?
		    "[CANNOT] Invalid mailbox name" : code == STORE_ERR_INUSE ?
		    "[INUSE] Mailbox in use" : "[SERVERBUG] Cannot open the mailbox");
		return;
	}
	if (storeimap_selected_get(&ipc_scratch_in, &st) < 0 || st.messages != p->v.n)
		fatal("reason=\"bad SELECT reply from stored\"");
	snprintf(p->v.name, sizeof(p->v.name), "%s", name);
	p->v.uidvalidity = st.uidvalidity;
	p->v.uidnext = st.uidnext;
	p->v.highestmodseq = st.highestmodseq;
	p->v.read_only = examine || st.read_only;
	p->v.flags_loaded = p->v.n == 0;
	p->state = IMAP_SELECTED;
	p->store_changed = 0;
	imap_send_flags(p);
	imap_printf(p, "* %zu EXISTS\r\n", p->v.n);
	if (!(p->enabled & IMAP_EN_IMAP4REV2)) {
		imap_puts(p, "* 0 RECENT\r\n");
		if (st.first_unseen != 0) {
			long at = imap_view_find(&p->v, st.first_unseen);
			if (at >= 0)
				imap_printf(p, "* OK [UNSEEN %ld] First unseen\r\n", at + 1);
		}
	}
	imap_printf(p, "* OK [UIDVALIDITY %u] UIDs valid\r\n", p->v.uidvalidity);
	imap_printf(p, "* OK [UIDNEXT %u] Predicted next UID\r\n", p->v.uidnext);
	imap_printf(p, "* OK [HIGHESTMODSEQ %llu] Highest\r\n",
	    (unsigned long long)p->v.highestmodseq);
	if (p->enabled & IMAP_EN_IMAP4REV2) {
		struct buf b;
		buf_init(&b, 1024);
		buf_printf(&b, "* LIST () \"%c\" ", p->sep);
		imap_put_mailbox(p, &b, name);
		buf_append_str(&b, "\r\n");
		imap_write(p, b.data, b.len);
		buf_free(&b, 0);
	}
	imap_printf(p, "%s OK [%s] %s completed\r\n", cmd->tag,
	    p->v.read_only ? "READ-ONLY" : "READ-WRITE", cmd->name);
}

/* --- CLOSE / UNSELECT --- */

static int
ignore_sets(struct imap *p, void *ctx)
{
	uint8_t kind;

	(void)p;
	(void)ctx;
	return ipc_scratch_in.type == MSG_STORE_UIDSET &&
	    storeimap_uidset_get(&ipc_scratch_in, &kind, &data_set) == 0 ? 0 : -1;
}

void
imap_cmd_close(struct imap *p, const struct imap_cmd *cmd)
{
	/* CLOSE expunges silently (RFC 9051 6.4.1), UNSELECT does not (RFC 3691) */
	int expunge = !strcmp(cmd->name, "CLOSE") && !p->v.read_only;

	if (cmd->nargs != 0) {
		imap_bad(p, cmd->tag, "no arguments expected");
		return;
	}
	storeimap_name_put(&ipc_scratch_out, MSG_STORE_IMAP_UNSELECT, (uint8_t)expunge, 0, NULL, NULL);
	imap_store_call(p, ignore_sets, NULL);
	imap_view_reset(&p->v);
	p->state = IMAP_AUTHENTICATED;
	if (ipc_scratch_in.type != MSG_STORE_OK) {
		imap_printf(p, "%s NO [SERVERBUG] %s failed\r\n", cmd->tag, cmd->name);
		return;
	}
	imap_printf(p, "%s OK %s completed\r\n", cmd->tag, cmd->name);
}

/* --- EXPUNGE --- */

struct gone {
	uint32_t *v;
	size_t n, cap;
};

static int
gone_add_set(struct gone *g, const struct store_uidset *s)
{
	uint32_t i, u;

	for (i = 0; i < s->n; i++)
		for (u = s->r[i].lo;; u++) {
			if (g->n == g->cap) {
				size_t cap = g->cap ? g->cap * 2 : 256;
				uint32_t *nv;
				if (cap > MINDEX_FOLDER_MAX)
					return -1;
				nv = realloc(g->v, cap * sizeof(*nv));
				if (nv == NULL)
					return -1;
				g->v = nv;
				g->cap = cap;
			}
			if (g->n > 0 && u <= g->v[g->n - 1])
				return -1;
			g->v[g->n++] = u;
			if (u == s->r[i].hi)
				break;
		}
	return 0;
}

/* Each expunged message, as "* n EXPUNGE", and out of the view. */
static void
tell_expunged(struct imap *p, const struct gone *g)
{
	imap_view_expunge(p, g->v, g->n, 1);
}

struct copy_ctx {
	struct gone expunged, src, dst;
};

static int
sets_data(struct imap *p, void *ctx)
{
	struct copy_ctx *c = ctx;
	uint8_t kind;

	(void)p;
	if (ipc_scratch_in.type != MSG_STORE_UIDSET ||
	    storeimap_uidset_get(&ipc_scratch_in, &kind, &data_set) < 0)
		return -1;
	switch (kind) {
	case STORE_SET_EXPUNGED: return gone_add_set(&c->expunged, &data_set);
	case STORE_SET_COPY_SRC: return gone_add_set(&c->src, &data_set);
	case STORE_SET_COPY_DST: return gone_add_set(&c->dst, &data_set);
	}
	return -1;
}

static void
copy_ctx_free(struct copy_ctx *c)
{
	free(c->expunged.v);
	free(c->src.v);
	free(c->dst.v);
}

void
imap_cmd_expunge(struct imap *p, const struct imap_cmd *cmd)
{
	static struct store_uidset set;
	const int uid = !strcmp(cmd->name, "UID EXPUNGE");
	struct copy_ctx c = { { 0 }, { 0 }, { 0 } };

	if ((uid && cmd->nargs != 1) || (!uid && cmd->nargs != 0)) {
		imap_bad(p, cmd->tag, uid ? "Syntax: UID EXPUNGE uid-set" : "EXPUNGE takes no arguments");
		return;
	}
	if (p->v.read_only) {
		imap_no(p, cmd->tag, "[READ-ONLY] Mailbox is read-only");
		return;
	}
	set.n = 0;
	if (uid && imap_arg_uidset(p, cmd->tag, cmd->args, 1, &set) < 0)
		return;
	storeimap_set_put(&ipc_scratch_out, MSG_STORE_IMAP_EXPUNGE, (uint8_t)!uid, NULL, set.r, set.n);
	imap_store_call(p, sets_data, &c);
	if (ipc_scratch_in.type != MSG_STORE_OK) {
		imap_printf(p, "%s NO [SERVERBUG] EXPUNGE failed\r\n", cmd->tag);
		copy_ctx_free(&c);
		return;
	}
	tell_expunged(p, &c.expunged);
	copy_ctx_free(&c);
	imap_printf(p, "%s OK %s completed\r\n", cmd->tag, cmd->name);
}

static void put_uids(struct buf *b, const struct gone *g);

static int
gone_has(const struct gone *g, uint32_t uid)
{
	size_t lo = 0, hi = g->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (g->v[mid] == uid)
			return 1;
		if (g->v[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* --- STORE --- */

struct store_ctx {
	struct gone modified;
	int keywords;
};

static int
store_data(struct imap *p, void *ctx)
{
	struct store_ctx *c = ctx;
	uint8_t kind;
	uint32_t i;

	switch (ipc_scratch_in.type) {
	case MSG_STORE_KEYWORDS:
		if (imap_view_keywords(&p->v) < 0)
			return -1;
		c->keywords = 1;
		return 0;
	case MSG_STORE_RECORDS:
		if (storeimap_records_get(&ipc_scratch_in, &data_recs) < 0)
			return -1;
		for (i = 0; i < data_recs.count; i++) {
			long at = imap_view_find(&p->v, data_recs.r[i].uid);
			if (at < 0)
				continue;	/* a message this session has not seen yet */
			p->v.flags[at] = data_recs.r[i].flags;
			p->v.modseq[at] = data_recs.r[i].modseq;
		}
		return 0;
	case MSG_STORE_UIDSET:
		if (storeimap_uidset_get(&ipc_scratch_in, &kind, &data_set) < 0 ||
		    kind != STORE_SET_MODIFIED)
			return -1;
		return gone_add_set(&c->modified, &data_set);
	}
	return -1;
}

/* A flag list (or flags without parentheses, RFC 3501 store-att-flags) in
 * stored's terms. */
static int
store_flags(struct imap *p, const struct imap_arg *a, struct store_req_store *r)
{
	struct imap_arg list;
	struct imap_flags f;
	unsigned i;

	if (a->type != IMAP_ARG_LIST) {
		/* flag *(SP flag): make a list of the remaining arguments */
		memset(&list, 0, sizeof(list));
		list.type = IMAP_ARG_LIST;
		list.child = (struct imap_arg *)(uintptr_t)a;
		for (; a != NULL; a = a->next)
			list.count++;
		a = &list;
	} else if (a->next != NULL) {
		return -1;
	}
	if (imap_flags_parse(a, &f) != IMAP_FLAGS_OK)
		return -1;
	r->flags = 0;
	if (f.system & IMAP_FLAG_SEEN) r->flags |= MINDEX_SEEN;
	if (f.system & IMAP_FLAG_ANSWERED) r->flags |= MINDEX_ANSWERED;
	if (f.system & IMAP_FLAG_FLAGGED) r->flags |= MINDEX_FLAGGED;
	if (f.system & IMAP_FLAG_DELETED) r->flags |= MINDEX_DELETED;
	if (f.system & IMAP_FLAG_DRAFT) r->flags |= MINDEX_DRAFT;
	r->kw.count = 0;
	for (i = 0; i < f.nkeywords; i++) {
		if (r->kw.count >= STORE_STORE_KEYWORDS || f.keyword[i]->len > STORE_KEYWORD_MAX)
			return -1;
		if (!p->conf.keywords) {
			/* IMAP_KEYWORDS off: only keywords the folder already has */
			unsigned k;
			for (k = 0; k < STORE_KEYWORDS_MAX; k++)
				if (!strcasecmp(p->v.kw[k], (const char *)f.keyword[i]->text))
					break;
			if (k == STORE_KEYWORDS_MAX)
				continue;
		}
		snprintf(r->kw.name[r->kw.count++], STORE_KEYWORD_MAX + 1, "%s",
		    (const char *)f.keyword[i]->text);
	}
	return 0;
}

/* The untagged FETCH of each message of set (but those in modified) with
 * its flags, gathered 64 KiB at a time: the set's ranges are walked in the
 * view (both ascending), not the view tested against the set. */
static void
store_replies(struct imap *p, const struct store_uidset *set, const struct gone *modified, int uid)
{
	const struct imap_view *v = &p->v;
	struct buf b;
	size_t i = 0;
	uint32_t r;

	buf_init(&b, 1u << 20);
	for (r = 0; r < set->n; r++) {
		size_t lo = i, hi = v->n;
		while (lo < hi) {	/* the first message of the range */
			size_t mid = lo + (hi - lo) / 2;
			if (v->uid[mid] < set->r[r].lo)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (i = lo; i < v->n && v->uid[i] <= set->r[r].hi; i++) {
			if (modified->n > 0 && gone_has(modified, v->uid[i]))
				continue;
			buf_append(&b, "* ", 2);
			buf_append_u64(&b, NULL, i + 1);
			buf_append_str(&b, " FETCH (");
			if (uid) {
				buf_append_str(&b, "UID ");
				buf_append_u64(&b, NULL, v->uid[i]);
				buf_append(&b, " ", 1);
			}
			buf_append_str(&b, "FLAGS ");
			imap_flags_text(v, v->flags[i], &b);
			if (p->enabled & IMAP_EN_CONDSTORE) {
				buf_append_str(&b, " MODSEQ (");
				buf_append_u64(&b, NULL, v->modseq[i]);
				buf_append(&b, ")", 1);
			}
			buf_append(&b, ")\r\n", 3);
			if (b.len >= 64u * 1024) {
				imap_write(p, b.data, b.len);
				buf_reset(&b);
			}
		}
	}
	if (b.len > 0)
		imap_write(p, b.data, b.len);
	buf_free(&b, 0);
}

void
imap_cmd_store(struct imap *p, const struct imap_cmd *cmd)
{
	static struct store_req_store req;
	const int uid = !strcmp(cmd->name, "UID STORE");
	const struct imap_arg *a = cmd->args, *op;
	struct store_ctx c = { { 0 }, 0 };
	const char *o;
	size_t i, oplen;
	int silent = 0;

	if (cmd->nargs < 3) {
		imap_bad(p, cmd->tag, "Syntax: STORE set [(UNCHANGEDSINCE n)] [+|-]FLAGS[.SILENT] (flags)");
		return;
	}
	memset(&req, 0, sizeof(req));
	req.unchangedsince = UINT64_MAX;
	op = a->next;
	if (op->type == IMAP_ARG_LIST) {
		/* RFC 7162 3.1.3: (UNCHANGEDSINCE mod-sequence) */
		const struct imap_arg *m = op->child;
		uint64_t n = 0;
		if (op->count != 2 || !(m->type == IMAP_ARG_ATOM &&
		    !strcasecmp((const char *)m->text, "UNCHANGEDSINCE")) ||
		    m->next->type != IMAP_ARG_ATOM) {
			imap_bad(p, cmd->tag, "Unknown STORE modifier");
			return;
		}
		for (i = 0; i < m->next->len; i++) {
			uint8_t ch = m->next->text[i];
			if (ch < '0' || ch > '9' || n > (UINT64_MAX - 9) / 10) {
				imap_bad(p, cmd->tag, "Invalid UNCHANGEDSINCE value");
				return;
			}
			n = n * 10 + (uint64_t)(ch - '0');
		}
		if (m->next->len == 0) {
			imap_bad(p, cmd->tag, "Invalid UNCHANGEDSINCE value");
			return;
		}
		req.unchangedsince = n;
		p->enabled |= IMAP_EN_CONDSTORE;
		op = op->next;
	}
	if (op == NULL || op->type != IMAP_ARG_ATOM || op->next == NULL) {
		imap_bad(p, cmd->tag, "Syntax: STORE set [+|-]FLAGS[.SILENT] (flags)");
		return;
	}
	o = (const char *)op->text;
	oplen = op->len;
	req.mode = STORE_MODE_SET;
	if (o[0] == '+' || o[0] == '-') {
		req.mode = o[0] == '+' ? STORE_MODE_ADD : STORE_MODE_REMOVE;
		o++;
		oplen--;
	}
	if (oplen == 12 && !strncasecmp(o, "FLAGS.SILENT", 12))
		silent = 1;
	else if (!(oplen == 5 && !strncasecmp(o, "FLAGS", 5))) {
		imap_bad(p, cmd->tag, "Syntax: STORE set [+|-]FLAGS[.SILENT] (flags)");
		return;
	}
	if (store_flags(p, op->next, &req) < 0) {
		imap_bad(p, cmd->tag, "Invalid flag list");
		return;
	}
	if (imap_arg_uidset(p, cmd->tag, a, uid, &req.set) < 0)
		return;
	if (p->v.read_only) {
		imap_no(p, cmd->tag, "[READ-ONLY] Mailbox is read-only");
		return;
	}
	if (req.set.n > 0) {
		uint32_t changed, unused;
		uint64_t hms;
		storeimap_store_put(&ipc_scratch_out, &req);
		imap_store_call(p, store_data, &c);
		if (ipc_scratch_in.type != MSG_STORE_STORED) {
			uint32_t code = imap_store_err();
			free(c.modified.v);
			imap_printf(p, "%s NO %s\r\n", cmd->tag, code == STORE_ERR_LIMIT ?
			    "[LIMIT] Too many keywords in this mailbox" : "[SERVERBUG] STORE failed");
			return;
		}
		if (storeimap_pair_get(&ipc_scratch_in, &changed, &unused, &hms) < 0)
			fatal("reason=\"bad STORE reply from stored\"");
		p->v.highestmodseq = hms;
	}
	if (c.keywords)
		imap_send_flags(p);
	if (!silent)
		store_replies(p, &req.set, &c.modified, uid);
	if (c.modified.n > 0) {
		/* the set names what the command named: UIDs, or numbers */
		struct gone named = { 0 };
		struct buf b;
		size_t k;
		if (!uid) {
			named.v = malloc(c.modified.n * sizeof(*named.v));
			for (k = 0; named.v != NULL && k < c.modified.n; k++) {
				long at = imap_view_find(&p->v, c.modified.v[k]);
				if (at >= 0)
					named.v[named.n++] = (uint32_t)at + 1;
			}
		}
		buf_init(&b, 4u << 20);
		buf_printf(&b, "%s OK [MODIFIED ", cmd->tag);
		put_uids(&b, uid ? &c.modified : &named);
		buf_append_str(&b, "] Conditional STORE failed\r\n");
		imap_write(p, b.data, b.len);
		buf_free(&b, 0);
		free(named.v);
	} else {
		imap_printf(p, "%s OK %s completed\r\n", cmd->tag, cmd->name);
	}
	free(c.modified.v);
}

/* --- COPY / MOVE --- */

static void
put_uids(struct buf *b, const struct gone *g)
{
	size_t k = 0;

	while (k < g->n) {
		size_t e = k;
		while (e + 1 < g->n && g->v[e + 1] == g->v[e] + 1)
			e++;
		if (k > 0)
			buf_append_str(b, ",");
		if (e == k)
			buf_printf(b, "%u", g->v[k]);
		else
			buf_printf(b, "%u:%u", g->v[k], g->v[e]);
		k = e + 1;
	}
}

void
imap_cmd_copy(struct imap *p, const struct imap_cmd *cmd)
{
	static struct store_uidset set;
	const int uid = !strncmp(cmd->name, "UID ", 4);
	const int move = strstr(cmd->name, "MOVE") != NULL;
	char name[STORE_NAME_MAX + 1];
	struct copy_ctx c = { { 0 }, { 0 }, { 0 } };
	uint32_t uidvalidity, count;
	uint64_t unused;
	struct buf b;

	if (cmd->nargs != 2) {
		imap_bad(p, cmd->tag, move ? "Syntax: MOVE set mailbox" : "Syntax: COPY set mailbox");
		return;
	}
	if (imap_arg_uidset(p, cmd->tag, cmd->args, uid, &set) < 0)
		return;
	if (imap_arg_mailbox(p, cmd->tag, cmd->args->next, name) < 0)
		return;
	if (move && p->v.read_only) {
		imap_no(p, cmd->tag, "[READ-ONLY] Mailbox is read-only");
		return;
	}
	if (set.n == 0) {
		imap_printf(p, "%s OK %s completed, no messages\r\n", cmd->tag, cmd->name);
		return;
	}
	storeimap_set_put(&ipc_scratch_out, MSG_STORE_IMAP_COPY, (uint8_t)move, name, set.r, set.n);
	imap_store_call(p, sets_data, &c);
	if (ipc_scratch_in.type != MSG_STORE_COPIED) {
		uint32_t code = imap_store_err();
		copy_ctx_free(&c);
		imap_printf(p, "%s NO %s\r\n", cmd->tag, code == STORE_ERR_NOBOX ?
		    "[TRYCREATE] No such mailbox" : code == STORE_ERR_QUOTA ?
		    "[OVERQUOTA] Quota exceeded" : code == STORE_ERR_NAME ?
		    "[CANNOT] Invalid mailbox name" : "[SERVERBUG] Copy failed");
		return;
	}
	if (storeimap_pair_get(&ipc_scratch_in, &uidvalidity, &count, &unused) < 0 ||
	    c.src.n != c.dst.n || c.src.n != count)
		fatal("reason=\"bad COPY reply from stored\"");
	if (!strcmp(name, p->v.name)) {
		/* into the selected folder: its EXISTS before the tagged OK */
		if (move)
			tell_expunged(p, &c.expunged);
		c.expunged.n = 0;
		p->store_changed = 1;
		imap_sync(p, 1);
	}
	buf_init(&b, 8u << 20);
	if (move) {
		/* RFC 6851 4.3: COPYUID in an untagged OK before the expunges */
		if (count > 0) {
			buf_printf(&b, "* OK [COPYUID %u ", uidvalidity);
			put_uids(&b, &c.src);
			buf_append_str(&b, " ");
			put_uids(&b, &c.dst);
			buf_append_str(&b, "] Moved\r\n");
			imap_write(p, b.data, b.len);
		}
		tell_expunged(p, &c.expunged);
		imap_printf(p, "%s OK %s completed\r\n", cmd->tag, cmd->name);
	} else {
		buf_printf(&b, "%s OK ", cmd->tag);
		if (count > 0) {
			buf_printf(&b, "[COPYUID %u ", uidvalidity);
			put_uids(&b, &c.src);
			buf_append_str(&b, " ");
			put_uids(&b, &c.dst);
			buf_append_str(&b, "] ");
		}
		buf_printf(&b, "%s completed\r\n", cmd->name);
		imap_write(p, b.data, b.len);
	}
	buf_free(&b, 0);
	copy_ctx_free(&c);
}
