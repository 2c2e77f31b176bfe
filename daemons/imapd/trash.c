/* trash.c - Courier's IMAP_EMPTYTRASH (imap_empty_trash = "Trash:7,..."):
 * at login, messages older than that many days (by internal date, the
 * delivery time) leave the named folders.  It runs with the session's own
 * requests to stored (SELECT, META, STORE \Deleted, UID EXPUNGE, UNSELECT),
 * so it can do nothing the client could not; a folder that does not exist
 * is skipped.  Off by default. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../common/base/log.h"
#include "../../common/ipc/scratch.h"
#include "../../common/ipc/storeproto.h"
#include "../../common/mail/mindex.h"
#include "imapd.h"

static struct store_uidset view_set;

/* SELECT's UIDs (the purge needs no flags) */
static int
select_data(struct imap *p, void *ctx)
{
	uint8_t kind;
	uint32_t i;

	(void)ctx;
	if (ipc_scratch_in.type == MSG_STORE_KEYWORDS)
		return imap_view_keywords(&p->v) < 0 ? -1 : 0;
	if (ipc_scratch_in.type != MSG_STORE_UIDSET ||
	    storeimap_uidset_get(&ipc_scratch_in, &kind, &view_set) < 0 || kind != STORE_SET_VIEW)
		return -1;
	for (i = 0; i < view_set.n; i++)
		if (imap_view_add_range(&p->v, view_set.r[i].lo, view_set.r[i].hi) < 0)
			return -1;
	return 0;
}

static int
skip_data(struct imap *p, void *ctx)
{
	(void)p;
	(void)ctx;
	/* RECORDS, KEYWORDS and UIDSET pages of STORE and EXPUNGE */
	return ipc_scratch_in.type == MSG_STORE_RECORDS || ipc_scratch_in.type == MSG_STORE_KEYWORDS ||
	    ipc_scratch_in.type == MSG_STORE_UIDSET ? 0 : -1;
}

static void
purge(void *ctx, const char *name, unsigned days)
{
	static struct store_req_store req;
	struct imap *p = ctx;
	int64_t cutoff = (int64_t)time(NULL) - (int64_t)days * 86400;
	uint64_t *size = NULL;
	int64_t *date = NULL;
	uint32_t *old = NULL;
	size_t n = 0, i, from;

	imap_view_reset(&p->v);
	storeimap_name_put(&ipc_scratch_out, MSG_STORE_IMAP_SELECT, 1, 0, name, NULL);
	imap_store_call(p, select_data, NULL);
	if (ipc_scratch_in.type != MSG_STORE_SELECTED) {
		imap_view_reset(&p->v);
		return;		/* no such folder: nothing to purge */
	}
	if (p->v.n > 0) {
		size = malloc(p->v.n * sizeof(*size));
		date = malloc(p->v.n * sizeof(*date));
		old = malloc(p->v.n * sizeof(*old));
	}
	if (p->v.n > 0 && size != NULL && date != NULL && old != NULL) {
		imap_load_meta(p, p->v.uid, p->v.n, size, date);
		for (i = 0; i < p->v.n; i++)
			if (date[i] != 0 && date[i] < cutoff)
				old[n++] = p->v.uid[i];
		for (from = 0; from < n;) {
			memset(&req, 0, sizeof(req));
			req.mode = STORE_MODE_ADD;
			req.flags = MINDEX_DELETED;
			req.unchangedsince = UINT64_MAX;
			imap_uids_to_set(old, n, &from, &req.set);
			storeimap_store_put(&ipc_scratch_out, &req);
			imap_store_call(p, skip_data, NULL);
			/* UID EXPUNGE of exactly these (RFC 4315): \Deleted the user
			 * set on younger ones stays */
			storeimap_set_put(&ipc_scratch_out, MSG_STORE_IMAP_EXPUNGE, 0, NULL, req.set.r,
			    req.set.n);
			imap_store_call(p, skip_data, NULL);
		}
		log_event(LOG_LEVEL_INFO, "trash_purged", "ip=%s folder=\"%s\" days=%u removed=%zu", p->ip,
		    name, days, n);
	}
	free(size);
	free(date);
	free(old);
	storeimap_name_put(&ipc_scratch_out, MSG_STORE_IMAP_UNSELECT, 0, 0, NULL, NULL);
	imap_store_call(p, skip_data, NULL);
	imap_view_reset(&p->v);
}

void
imap_empty_trash(struct imap *p)
{
	if (p->cfg->imap_empty_trash[0] != '\0')
		(void)config_empty_trash(p->cfg->imap_empty_trash, purge, p);
}
