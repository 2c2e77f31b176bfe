/* fetch.c - FETCH (RFC 9051 6.4.5, BINARY RFC 3516, CONDSTORE RFC 7162) and
 * SEARCH (6.4.4, ESEARCH RFC 4731, SEARCHRES RFC 5182): the glue between
 * the view, stored and the pure planners (common/mail/imap_fetch.c,
 * imap_eval.c).  Messages come from stored as read-only fds and are read
 * here, so every byte of a message is parsed inside this jail. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/base/log.h"
#include "../../common/ipc/scratch.h"
#include "../../common/ipc/storeproto.h"
#include "../../common/mail/imap_eval.h"
#include "../../common/mail/imap_fetch.h"
#include "../../common/mail/mindex.h"
#include "../../common/proto/imap_search.h"
#include "imapd.h"

/* Largest message file read into memory (a file another MTA delivered may
 * be larger than imap_max_message_size). */
#define FETCH_MSG_MAX	(200u << 20)
#define HEADER_CHUNK	16384

static struct imap_fetch_plan plan;
static struct store_records recs_page;

/* --- messages --- */

/* Read message uid from stored into b: the header only (with its blank
 * line, or the whole of a short message) when !whole.  Returns 0, or -1
 * if the message is gone (expunged by another session or program). */
static int
load_msg(struct imap *p, uint32_t uid, int whole, struct buf *b)
{
	uint64_t size;
	int fd;

	buf_reset(b);
	storeimap_uid_put(&ipc_scratch_out, uid);
	imap_store_call(p, NULL, NULL);
	if (ipc_scratch_in.type != MSG_STORE_MSGFD)
		return -1;
	if (storeproto_msgfd_get(&ipc_scratch_in, &size) < 0)
		fatal("reason=\"bad MSGFD reply from stored\"");
	fd = ipc_scratch_in.fd;
	ipc_scratch_in.fd = -1;
	for (;;) {
		ssize_t r;
		if (buf_reserve(b, HEADER_CHUNK) < 0) {
			close(fd);
			return -1;
		}
		r = read(fd, b->data + b->len, b->cap - b->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		b->len += (size_t)r;
		if (!whole) {
			/* the blank line that ends the header */
			size_t from = b->len > (size_t)r + 3 ? b->len - (size_t)r - 3 : 0;
			size_t k;
			int done = 0;
			for (k = from; k + 1 < b->len; k++)
				if (b->data[k] == '\n' && (b->data[k + 1] == '\n' ||
				    (b->data[k + 1] == '\r' && k + 2 < b->len && b->data[k + 2] == '\n'))) {
					done = 1;
					break;
				}
			if (done)
				break;
		}
	}
	close(fd);
	return 0;
}

/* --- the kept structures (ENVELOPE, BODY, BODYSTRUCTURE from stored) --- */

#define STRUCTS_CHUNK	256	/* messages asked for at once */

/* What stored sent for one chunk of the FETCH's messages. */
struct structs_chunk {
	const uint32_t *uids;	/* the chunk's UIDs, ascending */
	size_t n, at;
	struct buf text;	/* every text, one after the other */
	size_t off[STRUCTS_CHUNK];
	uint32_t env_len[STRUCTS_CHUNK], body_len[STRUCTS_CHUNK], bs_len[STRUCTS_CHUNK];
	uint8_t have[STRUCTS_CHUNK];
};

static struct store_structs structs_page;

static int
structs_data(struct imap *p, void *ctx)
{
	struct structs_chunk *c = ctx;
	uint32_t i;

	(void)p;
	if (ipc_scratch_in.type != MSG_STORE_STRUCTS ||
	    storeimap_structs_get(&ipc_scratch_in, &structs_page) < 0)
		return -1;
	for (i = 0; i < structs_page.count; i++) {
		const struct store_struct *e = &structs_page.s[i];
		while (c->at < c->n && c->uids[c->at] < e->uid)
			c->at++;
		if (c->at == c->n || c->uids[c->at] != e->uid)
			continue;
		c->off[c->at] = c->text.len;
		if (buf_append(&c->text, e->env, e->env_len) < 0 ||
		    buf_append(&c->text, e->body, e->body_len) < 0 ||
		    buf_append(&c->text, e->bs, e->bs_len) < 0)
			return -1;
		c->env_len[c->at] = e->env_len;
		c->body_len[c->at] = e->body_len;
		c->bs_len[c->at] = e->bs_len;
		c->have[c->at] = 1;
	}
	return 0;
}

/* Ask stored for the structures of uids[0..n) (n <= STRUCTS_CHUNK). */
static void
load_structs(struct imap *p, const uint32_t *uids, size_t n, struct structs_chunk *c)
{
	static struct store_uidset set;
	size_t from = 0;

	c->uids = uids;
	c->n = n;
	c->at = 0;
	buf_reset(&c->text);
	memset(c->have, 0, sizeof(c->have));
	while (from < n) {
		imap_uids_to_set(uids, n, &from, &set);
		storeimap_set_put(&ipc_scratch_out, MSG_STORE_IMAP_STRUCTS, 0, NULL, set.r, set.n);
		c->at = 0;
		imap_store_call(p, structs_data, c);
		if (ipc_scratch_in.type != MSG_STORE_OK)
			return;	/* what came stays; the rest is read from the files */
	}
}

/* --- FETCH --- */

static int
seen_data(struct imap *p, void *ctx)
{
	uint32_t i;

	(void)ctx;
	if (ipc_scratch_in.type == MSG_STORE_KEYWORDS)
		return imap_view_keywords(&p->v) < 0 ? -1 : 0;
	if (ipc_scratch_in.type != MSG_STORE_RECORDS ||
	    storeimap_records_get(&ipc_scratch_in, &recs_page) < 0)
		return -1;
	for (i = 0; i < recs_page.count; i++) {
		long at = imap_view_find(&p->v, recs_page.r[i].uid);
		if (at >= 0) {
			p->v.flags[at] = recs_page.r[i].flags;
			p->v.modseq[at] = recs_page.r[i].modseq;
		}
	}
	return 0;
}

/* A non-PEEK body fetch sets \Seen first (RFC 9051 6.4.5), in one STORE. */
static void
mark_seen(struct imap *p, const uint32_t *uids, size_t n)
{
	static struct store_req_store req;
	size_t from = 0;

	while (from < n) {
		memset(&req, 0, sizeof(req));
		req.mode = STORE_MODE_ADD;
		req.flags = MINDEX_SEEN;
		req.unchangedsince = UINT64_MAX;
		imap_uids_to_set(uids, n, &from, &req.set);
		storeimap_store_put(&ipc_scratch_out, &req);
		imap_store_call(p, seen_data, NULL);
		if (ipc_scratch_in.type != MSG_STORE_STORED)
			return;	/* the fetch goes on; flags stay as they were */
	}
}

void
imap_cmd_fetch(struct imap *p, const struct imap_cmd *cmd)
{
	static struct store_uidset set;
	static struct buf msg;
	const int uid = !strcmp(cmd->name, "UID FETCH");
	const struct imap_arg *att, *mods;
	const char *err = NULL;
	uint32_t *target = NULL, *unseen = NULL, *chunk_uids = NULL;
	struct structs_chunk *chunk = NULL;
	uint8_t *newly = NULL;
	uint64_t *size = NULL;
	int64_t *date = NULL;
	size_t nt = 0, nu = 0, i, gone = 0, before;
	struct buf flags;
	int rc;

	if (cmd->nargs < 2 || cmd->nargs > 3) {
		imap_bad(p, cmd->tag, "Syntax: FETCH set items [(modifiers)]");
		return;
	}
	att = cmd->args->next;
	mods = att->next;
	if (mods != NULL && mods->type != IMAP_ARG_LIST) {
		imap_bad(p, cmd->tag, "Syntax: FETCH set items [(modifiers)]");
		return;
	}
	if (imap_fetch_parse(att, mods, uid, &plan, &err) < 0) {
		imap_printf(p, "%s BAD %s\r\n", cmd->tag, err != NULL ? err : "Invalid FETCH items");
		return;
	}
	if (imap_arg_uidset(p, cmd->tag, cmd->args, uid, &set) < 0)
		return;
	if (plan.changedsince_set)
		p->enabled |= IMAP_EN_CONDSTORE;
	target = malloc((p->v.n ? p->v.n : 1) * sizeof(*target));
	newly = calloc(p->v.n ? p->v.n : 1, 1);
	if (target == NULL || newly == NULL)
		goto nomem;
	/* the messages, in sequence order (their UIDs ascend with it) */
	for (i = 0; i < p->v.n; i++) {
		uint32_t u = p->v.uid[i];
		size_t lo = 0, hi = set.n;
		int in = 0;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (u < set.r[mid].lo)
				hi = mid;
			else if (u > set.r[mid].hi)
				lo = mid + 1;
			else {
				in = 1;
				break;
			}
		}
		if (!in || (plan.changedsince_set && p->v.modseq[i] <= plan.changedsince))
			continue;
		target[nt++] = (uint32_t)i;
	}
	if (plan.sets_seen && !p->v.read_only) {
		unseen = malloc((nt ? nt : 1) * sizeof(*unseen));
		if (unseen == NULL)
			goto nomem;
		for (i = 0; i < nt; i++)
			if (!(p->v.flags[target[i]] & MINDEX_SEEN)) {
				unseen[nu++] = p->v.uid[target[i]];
				newly[target[i]] = 1;
			}
		if (nu > 0)
			mark_seen(p, unseen, nu);
	}
	if (plan.need & IMAP_FETCH_NEED_META) {
		uint32_t *uids = malloc((nt ? nt : 1) * sizeof(*uids));
		size = malloc((nt ? nt : 1) * sizeof(*size));
		date = malloc((nt ? nt : 1) * sizeof(*date));
		if (uids == NULL || size == NULL || date == NULL) {
			free(uids);
			goto nomem;
		}
		for (i = 0; i < nt; i++)
			uids[i] = p->v.uid[target[i]];
		imap_load_meta(p, uids, nt, size, date);
		free(uids);
	}
	if (msg.max == 0)
		buf_init(&msg, FETCH_MSG_MAX);
	if (plan.structs_only) {
		chunk = calloc(1, sizeof(*chunk));
		chunk_uids = malloc(STRUCTS_CHUNK * sizeof(*chunk_uids));
		if (chunk == NULL || chunk_uids == NULL)
			goto nomem;
		buf_init(&chunk->text, 64u << 20);
	}
	buf_init(&flags, 8192);
	for (i = 0; i < nt; i++) {
		size_t at = target[i];
		struct imap_fetch_structs st;
		struct imap_fetch_msg m = {
			.seq = (uint32_t)at + 1, .uid = p->v.uid[at], .modseq = p->v.modseq[at],
			.size = size != NULL ? size[i] : 0, .date = date != NULL ? date[i] : 0,
			.add_flags = newly[at] && !plan.flags_asked,
		};
		if (chunk != NULL) {
			size_t k = i % STRUCTS_CHUNK;
			if (k == 0) {
				size_t j, cn = nt - i < STRUCTS_CHUNK ? nt - i : STRUCTS_CHUNK;
				for (j = 0; j < cn; j++)
					chunk_uids[j] = p->v.uid[target[i + j]];
				load_structs(p, chunk_uids, cn, chunk);
			}
			if (chunk->have[k]) {
				st.env = chunk->text.data + chunk->off[k];
				st.env_len = chunk->env_len[k];
				st.body = st.env + st.env_len;
				st.body_len = chunk->body_len[k];
				st.bs = st.body + st.body_len;
				st.bs_len = chunk->bs_len[k];
				m.st = &st;
			}
		}
		if (m.st == NULL && (plan.need & (IMAP_FETCH_NEED_HEADER | IMAP_FETCH_NEED_BODY))) {
			if (load_msg(p, m.uid, (plan.need & IMAP_FETCH_NEED_BODY) != 0, &msg) < 0) {
				gone++;
				continue;
			}
			m.msg = msg.data != NULL ? msg.data : (const uint8_t *)"";
			m.len = msg.len;
		}
		buf_reset(&flags);
		imap_flags_text(&p->v, p->v.flags[at], &flags);
		buf_append(&flags, "", 1);
		m.flags = (const char *)flags.data;
		/* answers are gathered and written 64 KiB at a time */
		if (p->out.len >= 65536) {
			imap_write(p, p->out.data, p->out.len);
			buf_reset(&p->out);
		}
		before = p->out.len;
		rc = imap_fetch_render(&plan, &m, &p->out);
		if (rc < 0) {
			imap_write(p, p->out.data, before);
			buf_reset(&p->out);
		}
		if (rc == IMAP_FETCH_ERR_CTE) {
			buf_free(&flags, 0);
			imap_no(p, cmd->tag, "[UNKNOWN-CTE] Cannot decode the transfer encoding of that part");
			goto out;
		}
		if (rc < 0) {
			buf_free(&flags, 0);
			imap_no(p, cmd->tag, "[LIMIT] Response too large");
			goto out;
		}
		p->fetch_count++;
		p->fetch_bytes += p->out.len - before;
	}
	imap_write(p, p->out.data, p->out.len);
	buf_reset(&p->out);
	buf_free(&flags, 0);
	if (msg.cap > (1u << 20))
		buf_free(&msg, 0);	/* keep an idle session small */
	if (gone > 0)
		imap_no(p, cmd->tag, "[EXPUNGEISSUED] Some messages were expunged meanwhile");
	else
		imap_printf(p, "%s OK %s completed\r\n", cmd->tag, cmd->name);
	goto out;
nomem:
	imap_no(p, cmd->tag, "[LIMIT] Out of memory");
out:
	if (chunk != NULL)
		buf_free(&chunk->text, 0);
	free(chunk);
	free(chunk_uids);
	free(target);
	free(newly);
	free(unseen);
	free(size);
	free(date);
	if (p->out.cap > (1u << 20))
		buf_free(&p->out, 0);
}

/* --- SEARCH --- */

static int
keyword_bit(void *arg, const uint8_t *name, size_t len, uint32_t *bit_r)
{
	const struct imap_view *v = arg;
	unsigned i;

	for (i = 0; i < STORE_KEYWORDS_MAX; i++)
		if (strlen(v->kw[i]) == len && !strncasecmp(v->kw[i], (const char *)name, len)) {
			*bit_r = MINDEX_KEYWORD0 << i;
			return 1;
		}
	return 0;
}

/* Does the tree use MODSEQ (RFC 7162 3.1.5: the answer then carries the
 * highest MODSEQ of the matches)? */
static int
uses_modseq(const struct imap_search_key *k, unsigned depth)
{
	for (; k != NULL; k = k->next) {
		if (k->op == IMAP_SK_MODSEQ)
			return 1;
		if (k->child != NULL && depth < 64 && uses_modseq(k->child, depth + 1))
			return 1;
	}
	return 0;
}

static void
put_set(struct buf *b, const uint32_t *v, size_t n)
{
	size_t k = 0;

	while (k < n) {
		size_t e = k;
		while (e + 1 < n && v[e + 1] == v[e] + 1)
			e++;
		if (k > 0)
			buf_append_str(b, ",");
		if (e == k)
			buf_printf(b, "%u", v[k]);
		else
			buf_printf(b, "%u:%u", v[k], v[e]);
		k = e + 1;
	}
}

void
imap_cmd_search(struct imap *p, const struct imap_cmd *cmd)
{
	static struct buf msg;
	const int uid = !strcmp(cmd->name, "UID SEARCH");
	struct imap_search_limits lim;
	struct imap_search s;
	struct imap_eval_ctx ctx;
	enum imap_search_err e;
	uint32_t *hits = NULL, *hit_uid = NULL;
	uint64_t *size = NULL, maxmod = 0;
	int64_t *date = NULL;
	size_t nh = 0, i;
	unsigned needs, ret;
	int modseq, esearch, parsed = 0, done = 0;
	struct buf b;

	memset(&ctx, 0, sizeof(ctx));
	imap_search_limits_default(&lim);
	lim.max_keys = (unsigned)p->conf.max_search_keys;
	if (imap_search_init(&s, &lim) < 0) {
		imap_no(p, cmd->tag, "[LIMIT] Out of memory");
		return;
	}
	e = imap_search_parse(&s, cmd->args);
	parsed = e == IMAP_SEARCH_OK;
	if (e != IMAP_SEARCH_OK) {
		imap_printf(p, "%s BAD %s\r\n", cmd->tag, imap_search_err_text(e));
		goto out;
	}
	ctx.charset = DECODE_CS_UNKNOWN;
	if (s.charset != NULL) {
		if (imap_eval_charset(s.charset, s.charset_len) < 0) {
			imap_printf(p, "%s NO [BADCHARSET (%s)] Unsupported charset\r\n", cmd->tag,
			    imap_eval_charsets());
			goto out;
		}
		ctx.charset = decode_charset_lookup(s.charset, s.charset_len);
	}
	ctx.max_seq = (uint32_t)p->v.n;
	ctx.max_uid = p->v.n ? p->v.uid[p->v.n - 1] : 0;
	ctx.keyword = keyword_bit;
	ctx.keyword_arg = &p->v;
	ctx.saved = p->v.saved;
	ctx.nsaved = p->v.have_saved ? p->v.nsaved : 0;
	modseq = uses_modseq(s.root, 0);
	if (modseq)
		p->enabled |= IMAP_EN_CONDSTORE;
	needs = imap_eval_needs(&s);
	if (needs & (IMAP_FETCH_NEED_HEADER | IMAP_FETCH_NEED_BODY)) {
		ctx.scratch = imap_eval_scratch_new(FETCH_MSG_MAX);
		if (ctx.scratch == NULL) {
			imap_no(p, cmd->tag, "[LIMIT] Out of memory");
			goto out;
		}
	}
	if ((needs & IMAP_FETCH_NEED_META) && p->v.n > 0) {
		size = malloc(p->v.n * sizeof(*size));
		date = malloc(p->v.n * sizeof(*date));
		if (size == NULL || date == NULL) {
			imap_no(p, cmd->tag, "[LIMIT] Out of memory");
			goto out;
		}
		imap_load_meta(p, p->v.uid, p->v.n, size, date);
	}
	hits = malloc((p->v.n ? p->v.n : 1) * sizeof(*hits));
	hit_uid = malloc((p->v.n ? p->v.n : 1) * sizeof(*hit_uid));
	if (hits == NULL || hit_uid == NULL) {
		imap_no(p, cmd->tag, "[LIMIT] Out of memory");
		goto out;
	}
	if (msg.max == 0)
		buf_init(&msg, FETCH_MSG_MAX);
	for (i = 0; i < p->v.n; i++) {
		struct imap_eval_msg m = {
			.seq = (uint32_t)i + 1, .uid = p->v.uid[i], .flags = p->v.flags[i],
			.modseq = p->v.modseq[i], .size = size ? size[i] : 0, .date = date ? date[i] : 0,
		};
		int r = imap_eval_match(&s, &ctx, &m);
		if (r == IMAP_EVAL_UNKNOWN) {
			if (load_msg(p, m.uid, (needs & IMAP_FETCH_NEED_BODY) != 0, &msg) < 0)
				continue;	/* gone: it matches nothing */
			m.msg = msg.data != NULL ? msg.data : (const uint8_t *)"";
			m.len = msg.len;
			r = imap_eval_match(&s, &ctx, &m);
		}
		if (r < 0) {
			imap_no(p, cmd->tag, "[LIMIT] Search failed (a limit was reached)");
			goto out;
		}
		if (r == 1) {
			hits[nh] = uid ? m.uid : m.seq;
			hit_uid[nh] = m.uid;
			nh++;
			if (m.modseq > maxmod)
				maxmod = m.modseq;
		}
	}
	if (msg.cap > (1u << 20))
		buf_free(&msg, 0);
	esearch = s.esearch || (p->enabled & IMAP_EN_IMAP4REV2);
	ret = s.esearch ? s.ret : IMAP_SEARCH_RET_ALL;
	if (ret == 0)
		ret = IMAP_SEARCH_RET_ALL;	/* RETURN () */
	if (ret & IMAP_SEARCH_RET_SAVE) {
		/* RFC 5182 2.4: with MIN or MAX alone, only those are saved */
		uint32_t *sv = NULL;
		size_t ns = 0;
		if (nh > 0 && (ret & (IMAP_SEARCH_RET_MIN | IMAP_SEARCH_RET_MAX)) &&
		    !(ret & (IMAP_SEARCH_RET_ALL | IMAP_SEARCH_RET_COUNT))) {
			sv = malloc(2 * sizeof(*sv));
			if (sv != NULL) {
				if (ret & IMAP_SEARCH_RET_MIN)
					sv[ns++] = hit_uid[0];
				if ((ret & IMAP_SEARCH_RET_MAX) && (ns == 0 || hit_uid[nh - 1] != sv[0]))
					sv[ns++] = hit_uid[nh - 1];
			}
		} else if (nh > 0) {
			sv = malloc(nh * sizeof(*sv));
			if (sv != NULL) {
				memcpy(sv, hit_uid, nh * sizeof(*sv));
				ns = nh;
			}
		}
		free(p->v.saved);
		p->v.saved = sv;
		p->v.nsaved = sv != NULL ? ns : 0;
		p->v.have_saved = 1;
	}
	buf_init(&b, 64u << 20);
	if (esearch) {
		if (ret != IMAP_SEARCH_RET_SAVE) {
			buf_printf(&b, "* ESEARCH (TAG \"%s\")", cmd->tag);
			if (uid)
				buf_append_str(&b, " UID");
			if ((ret & IMAP_SEARCH_RET_MIN) && nh > 0)
				buf_printf(&b, " MIN %u", hits[0]);
			if ((ret & IMAP_SEARCH_RET_MAX) && nh > 0)
				buf_printf(&b, " MAX %u", hits[nh - 1]);
			if (ret & IMAP_SEARCH_RET_COUNT)
				buf_printf(&b, " COUNT %zu", nh);
			if ((ret & IMAP_SEARCH_RET_ALL) && nh > 0) {
				buf_append_str(&b, " ALL ");
				put_set(&b, hits, nh);
			}
			if (modseq && nh > 0)
				buf_printf(&b, " MODSEQ %llu", (unsigned long long)maxmod);
			buf_append_str(&b, "\r\n");
		}
	} else {
		buf_append_str(&b, "* SEARCH");
		for (i = 0; i < nh; i++)
			buf_printf(&b, " %u", hits[i]);
		if (modseq && nh > 0)
			buf_printf(&b, " (MODSEQ %llu)", (unsigned long long)maxmod);
		buf_append_str(&b, "\r\n");
	}
	imap_write(p, b.data, b.len);
	buf_free(&b, 0);
	imap_printf(p, "%s OK %s completed\r\n", cmd->tag, cmd->name);
	done = 1;
out:
	/* RFC 5182 2.1: a SEARCH ... SAVE that fails leaves "$" empty */
	if (!done && parsed && (s.ret & IMAP_SEARCH_RET_SAVE)) {
		free(p->v.saved);
		p->v.saved = NULL;
		p->v.nsaved = 0;
		p->v.have_saved = 1;
	}
	if (ctx.scratch != NULL)
		imap_eval_scratch_free(ctx.scratch);
	imap_search_free(&s);
	free(hits);
	free(hit_uid);
	free(size);
	free(date);
}
