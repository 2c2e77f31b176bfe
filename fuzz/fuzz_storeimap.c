/* fuzz_storeimap.c - the IMAP view of the store channel (storeimap.h),
 * both directions: the IPC frame, then the decoder of its type.
 * Properties: a decoded message is within the limits of storeimap.h (UID
 * sets valid, pages at most their size, records ascending), and encoding
 * the decoded fields gives back exactly the bytes received (one layout,
 * written once, for stored and imapd). */
#include <string.h>

#include "../common/ipc/storeimap.h"
#include "fuzz.h"
#include "ipcmsg.h"

static struct ipc_in in;
static struct ipc_out out;
static struct store_req_name name;
static struct store_req_store store;
static struct store_req_append append;
static struct store_uidset set;
static struct store_folders folders;
static struct store_keywords keywords;
static struct store_records records;
static struct store_meta meta;

static void
check_set(const struct store_uidset *s)
{
	CHECK(s->n <= STORE_UIDSET_MAX && storeimap_uidset_valid(s->r, s->n));
}

static void
check_kwlist(const struct store_kwlist *k)
{
	uint8_t i;

	CHECK(k->count <= STORE_STORE_KEYWORDS);
	for (i = 0; i < k->count; i++)
		CHECK(k->name[i][0] != '\0' && strlen(k->name[i]) <= STORE_KEYWORD_MAX);
}

/* Requests carrying a name (and flags): one codec by type. */
static int
decode_named(void)
{
	if (storeimap_name_get(&in, &name) < 0)
		return 0;
	CHECK(name.u8 <= 1 && strlen(name.name) <= STORE_NAME_MAX);
	storeimap_name_put(&out, in.type, name.u8, name.attr, name.name, name.name2);
	return 1;
}

static int
decode_request(void)
{
	char n[STORE_NAME_MAX + 1];
	uint32_t uid;
	uint8_t u8;

	switch (in.type) {
	case MSG_STORE_IMAP_LIST:
	case MSG_STORE_IMAP_SELECT:
	case MSG_STORE_IMAP_UNSELECT:
	case MSG_STORE_IMAP_STATUS:
	case MSG_STORE_IMAP_CREATE:
	case MSG_STORE_IMAP_DELETE:
	case MSG_STORE_IMAP_RENAME:
	case MSG_STORE_IMAP_SUBSCRIBE:
		return decode_named();
	case MSG_STORE_IMAP_SYNC:
	case MSG_STORE_IMAP_QUOTA:
	case MSG_STORE_IMAP_LOGOUT:
	case MSG_STORE_IMAP_FLAGS:
		if (storeimap_empty_get(&in) < 0)
			return 0;
		storeimap_empty_put(&out, in.type);
		return 1;
	case MSG_STORE_IMAP_META:
	case MSG_STORE_IMAP_STRUCTS:
	case MSG_STORE_IMAP_EXPUNGE:
	case MSG_STORE_IMAP_COPY:
		if (storeimap_set_get(&in, &u8, n, &set) < 0)
			return 0;
		check_set(&set);
		CHECK(u8 <= 1 && (in.type != MSG_STORE_IMAP_COPY || n[0] != '\0'));
		storeimap_set_put(&out, in.type, u8, n, set.r, set.n);
		return 1;
	case MSG_STORE_IMAP_MSGFD:
		if (storeimap_uid_get(&in, &uid) < 0)
			return 0;
		CHECK(uid != 0);
		storeimap_uid_put(&out, uid);
		return 1;
	case MSG_STORE_IMAP_STORE:
		if (storeimap_store_get(&in, &store) < 0)
			return 0;
		check_set(&store.set);
		check_kwlist(&store.kw);
		CHECK(store.mode <= STORE_MODE_REMOVE && (store.flags & ~0x1fu) == 0);
		storeimap_store_put(&out, &store);
		return 1;
	case MSG_STORE_IMAP_APPEND:
	case MSG_STORE_IMAP_APPEND_PART:
		if (storeimap_append_get(&in, &append) < 0)
			return 0;
		check_kwlist(&append.kw);
		CHECK(in.fd >= 0 && append.len <= STORE_APPEND_MAX && append.date >= 0 &&
		    append.name[0] != '\0');
		CHECK(in.type == MSG_STORE_IMAP_APPEND ? append.parts == 0 :
		    append.parts >= 2 && append.parts <= STORE_APPEND_PARTS_MAX &&
		    append.part < append.parts);
		storeimap_append_put(&out, &append, in.fd);
		return 1;
	}
	return -1;
}

static int
decode_data(void)
{
	uint32_t i;
	uint8_t kind;

	switch (in.type) {
	case MSG_STORE_FOLDERS:
		if (storeimap_folders_get(&in, &folders) < 0)
			return 0;
		CHECK(folders.count <= STORE_FOLDERS_PAGE);
		storeimap_folders_put(&out, folders.f, folders.count);
		return 1;
	case MSG_STORE_KEYWORDS:
		if (storeimap_keywords_get(&in, &keywords) < 0)
			return 0;
		CHECK(keywords.count <= STORE_KEYWORDS_MAX);
		storeimap_keywords_put(&out, &keywords);
		return 1;
	case MSG_STORE_RECORDS:
		if (storeimap_records_get(&in, &records) < 0)
			return 0;
		CHECK(records.count <= STORE_RECORDS_PAGE);
		for (i = 1; i < records.count; i++)
			CHECK(records.r[i].uid > records.r[i - 1].uid);
		storeimap_records_put(&out, records.r, records.count);
		return 1;
	case MSG_STORE_META:
		if (storeimap_meta_get(&in, &meta) < 0)
			return 0;
		CHECK(meta.count <= STORE_META_PAGE);
		for (i = 1; i < meta.count; i++)
			CHECK(meta.m[i].uid > meta.m[i - 1].uid);
		storeimap_meta_put(&out, meta.m, meta.count);
		return 1;
	case MSG_STORE_STRUCTS: {
		static struct store_structs st;
		if (storeimap_structs_get(&in, &st) < 0)
			return 0;
		CHECK(st.count <= STORE_STRUCTS_PAGE);
		storeimap_structs_start(&out);
		for (i = 0; i < st.count; i++) {
			CHECK(st.s[i].uid != 0 && (uint64_t)st.s[i].env_len + st.s[i].body_len +
			    st.s[i].bs_len <= STORE_STRUCT_TEXT_MAX);
			CHECK(storeimap_structs_add(&out, &st.s[i]) == 0);
		}
		return 1;
	}
	case MSG_STORE_UIDSET:
		if (storeimap_uidset_get(&in, &kind, &set) < 0)
			return 0;
		check_set(&set);
		CHECK(kind >= STORE_SET_EXPUNGED && kind <= STORE_SET_VIEW);
		storeimap_uidset_put(&out, kind, set.r, set.n);
		return 1;
	}
	return -1;
}

static int
decode_final(void)
{
	struct store_selected sel;
	struct store_status st;
	struct store_quota q;
	uint32_t a, b;
	uint64_t v;

	switch (in.type) {
	case MSG_STORE_SELECTED:
		if (storeimap_selected_get(&in, &sel) < 0)
			return 0;
		CHECK(sel.unseen <= sel.messages && sel.read_only <= 1);
		storeimap_selected_put(&out, &sel);
		return 1;
	case MSG_STORE_SYNCED:
	case MSG_STORE_STORED:
	case MSG_STORE_COPIED:
	case MSG_STORE_APPENDED:
		if (storeimap_pair_get(&in, &a, &b, &v) < 0)
			return 0;
		storeimap_pair_put(&out, in.type, a, b, v);
		return 1;
	case MSG_STORE_STATUS:
		if (storeimap_status_get(&in, &st) < 0)
			return 0;
		CHECK(st.unseen <= st.messages && st.deleted <= st.messages);
		storeimap_status_put(&out, &st);
		return 1;
	case MSG_STORE_QUOTA:
		if (storeimap_quota_get(&in, &q) < 0)
			return 0;
		storeimap_quota_put(&out, &q);
		return 1;
	}
	return -1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int rc;

	if (fuzz_ipc_message(&in, data, size) < 0)
		return 0;
	rc = decode_request();
	if (rc < 0)
		rc = decode_data();
	if (rc < 0)
		rc = decode_final();
	if (rc == 1) {
		/* the same fields encode to the same bytes, fd presence included */
		CHECK_REENCODES(out, in);
		CHECK((out.fd >= 0) == (in.fd >= 0));
	}
	return 0;
}
