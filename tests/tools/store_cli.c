/* store_cli - the worker's side of the IMAP view (storeimap.h) for tests:
 * commands on stdin, one line per message of each reply on stdout, built
 * on the same codec imapd uses, so every reply stored sends is also
 * decoded (a reply that does not decode prints "BAD").
 *
 *   store_cli FD        FD: the worker's end of a channel to postern-stored
 *
 * Commands (one a line; SET is "1:5,7,9:4294967295"; names have no spaces):
 *   open | list [sub] | select NAME | examine NAME | unselect | close | sync
 *   flags | logout
 *   meta SET | msgfd UID | store set|add|remove FLAGS KWS UNCHANGEDSINCE SET
 *   expunge all|SET | copy NAME SET | move NAME SET
 *   append NAME FLAGS KWS DATE FILE|pipe [LEN] | part I N NAME FLAGS KWS DATE FILE
 *   | status NAME | create NAME [ATTR]
 *   delete NAME | rename FROM TO | subscribe NAME | unsubscribe NAME | quota
 *   raw TYPE [HEX]      send a message of any type and read one reply
 *   changed MS          wait up to MS ms for a MSG_STORE_CHANGED sent from now
 * FLAGS are letters of S R F T D or "-"; KWS keywords joined by ',' or "-";
 * UNCHANGEDSINCE a number or "-".  MSG_STORE_CHANGED arriving during a
 * reply is not printed.  Output lines: OK v, ERR code text, FOLDERS n
 * attr=name..., KEYWORDS n slot=name..., RECORDS n uid:flags:modseq...,
 * META n uid:flags:modseq:size:date..., UIDSET kind SET, SELECTED uidvalidity
 * uidnext messages unseen first_unseen highestmodseq read_only, SYNCED /
 * STORED / COPIED / APPENDED a b v, STATUS messages uidnext uidvalidity
 * unseen deleted recent size highestmodseq, QUOTA su sl mu ml, MSGFD size
 * length hex, CHANGED / NOCHANGE, EOF, BAD type (BADDATA for a data message).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/ipc/ipc.h"
#include "../../common/ipc/proto.h"
#include "../../common/ipc/storeimap.h"
#include "../../common/ipc/storeproto.h"

static struct ipc_in in;
static struct ipc_out out;
static int sock;
static int changed_seen;	/* a MSG_STORE_CHANGED came during a reply */

/* Big decoded pages. */
static struct store_folders folders;
static struct store_records records;
static struct store_meta meta;
static struct store_uidset uidset;
static struct store_keywords keywords;
static struct store_req_store req_store;
static struct store_req_append req_append;

static int
parse_set(const char *s, struct store_uidset *set)
{
	char *end;

	set->n = 0;
	if (strcmp(s, "-") == 0)
		return 0;
	while (*s != '\0') {
		unsigned long lo = strtoul(s, &end, 10), hi = lo;
		if (end == s || set->n == STORE_UIDSET_MAX)
			return -1;
		s = end;
		if (*s == ':') {
			hi = strtoul(s + 1, &end, 10);
			s = end;
		}
		set->r[set->n].lo = (uint32_t)lo;
		set->r[set->n].hi = (uint32_t)hi;
		set->n++;
		if (*s == ',')
			s++;
		else if (*s != '\0')
			return -1;
	}
	return 0;
}

static void
print_set(const struct store_uidset *set)
{
	uint32_t i;

	for (i = 0; i < set->n; i++)
		printf("%s%" PRIu32 ":%" PRIu32, i ? "," : "", set->r[i].lo, set->r[i].hi);
}

static uint32_t
parse_flags(const char *s)
{
	static const char letters[] = "SRFTD";
	uint32_t f = 0;
	const char *p;

	for (; *s != '\0' && *s != '-'; s++)
		if ((p = strchr(letters, *s)) != NULL)
			f |= 1u << (p - letters);
	return f;
}

static void
parse_kws(const char *s, struct store_kwlist *k)
{
	char buf[4096], *tok, *save = NULL;

	k->count = 0;
	if (strcmp(s, "-") == 0)
		return;
	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok != NULL && k->count < STORE_STORE_KEYWORDS;
	    tok = strtok_r(NULL, ",", &save))
		snprintf(k->name[k->count++], sizeof(k->name[0]), "%s", tok);
}

static void
print_msgfd(void)
{
	char buf[4096];
	uint64_t size;
	ssize_t n;
	size_t i;

	if (storeproto_msgfd_get(&in, &size) < 0) {
		printf("BAD 0x%04x\n", in.type);
		ipc_in_close_fd(&in);
		return;
	}
	n = pread(in.fd, buf, sizeof(buf), 0);
	printf("MSGFD %" PRIu64 " %zd ", size, n);
	for (i = 0; n > 0 && i < (size_t)n; i++)
		printf("%02x", (unsigned char)buf[i]);
	printf("\n");
	ipc_in_close_fd(&in);
}

/* Print the message in; 1 if it is a final one. */
static int
print_data(void)
{
	uint32_t i;
	uint8_t kind;

	switch (in.type) {
	case MSG_STORE_FOLDERS:
		if (storeimap_folders_get(&in, &folders) < 0)
			break;
		printf("FOLDERS %" PRIu32, folders.count);
		for (i = 0; i < folders.count; i++)
			printf(" %" PRIu32 "=%s", folders.f[i].attr, folders.f[i].name);
		printf("\n");
		return 0;
	case MSG_STORE_KEYWORDS:
		if (storeimap_keywords_get(&in, &keywords) < 0)
			break;
		printf("KEYWORDS %u", keywords.count);
		for (i = 0; i < keywords.count; i++)
			printf(" %u=%s", keywords.slot[i], keywords.name[i]);
		printf("\n");
		return 0;
	case MSG_STORE_RECORDS:
		if (storeimap_records_get(&in, &records) < 0)
			break;
		printf("RECORDS %" PRIu32, records.count);
		for (i = 0; i < records.count; i++)
			printf(" %" PRIu32 ":%" PRIu32 ":%" PRIu64, records.r[i].uid, records.r[i].flags,
			    records.r[i].modseq);
		printf("\n");
		return 0;
	case MSG_STORE_META:
		if (storeimap_meta_get(&in, &meta) < 0)
			break;
		printf("META %" PRIu32, meta.count);
		for (i = 0; i < meta.count; i++)
			printf(" %" PRIu32 ":%" PRIu32 ":%" PRIu64 ":%" PRIu64 ":%" PRId64, meta.m[i].uid,
			    meta.m[i].flags, meta.m[i].modseq, meta.m[i].size, meta.m[i].date);
		printf("\n");
		return 0;
	case MSG_STORE_UIDSET:
		if (storeimap_uidset_get(&in, &kind, &uidset) < 0)
			break;
		printf("UIDSET %u ", kind);
		print_set(&uidset);
		printf("\n");
		return 0;
	default:
		return -1;
	}
	printf("BADDATA 0x%04x\n", in.type);
	return 0;
}

static int
print_final(void)
{
	struct store_selected sel;
	struct store_status st;
	struct store_quota q;
	char text[STORE_ERR_TEXT_MAX];
	uint32_t a, b;
	uint64_t v;

	switch (in.type) {
	case MSG_STORE_OK:
		if (storeproto_ok_get(&in, &v) < 0)
			break;
		printf("OK %" PRIu64 "\n", v);
		return 1;
	case MSG_STORE_ERR:
		if (storeproto_err_get(&in, &a, text) < 0)
			break;
		printf("ERR %" PRIu32 " %s\n", a, text);
		return 1;
	case MSG_STORE_MSGFD:
		print_msgfd();
		return 1;
	case MSG_STORE_SELECTED:
		if (storeimap_selected_get(&in, &sel) < 0)
			break;
		printf("SELECTED %" PRIu32 " %" PRIu32 " %" PRIu32 " %" PRIu32 " %" PRIu32 " %" PRIu64
		    " %u\n", sel.uidvalidity, sel.uidnext, sel.messages, sel.unseen, sel.first_unseen,
		    sel.highestmodseq, sel.read_only);
		return 1;
	case MSG_STORE_SYNCED:
	case MSG_STORE_STORED:
	case MSG_STORE_COPIED:
	case MSG_STORE_APPENDED:
		if (storeimap_pair_get(&in, &a, &b, &v) < 0)
			break;
		printf("%s %" PRIu32 " %" PRIu32 " %" PRIu64 "\n", in.type == MSG_STORE_SYNCED ? "SYNCED" :
		    in.type == MSG_STORE_STORED ? "STORED" : in.type == MSG_STORE_COPIED ? "COPIED" :
		    "APPENDED", a, b, v);
		return 1;
	case MSG_STORE_STATUS:
		if (storeimap_status_get(&in, &st) < 0)
			break;
		printf("STATUS %" PRIu32 " %" PRIu32 " %" PRIu32 " %" PRIu32 " %" PRIu32 " %" PRIu32
		    " %" PRIu64 " %" PRIu64 "\n", st.messages, st.uidnext, st.uidvalidity, st.unseen,
		    st.deleted, st.recent, st.size, st.highestmodseq);
		return 1;
	case MSG_STORE_QUOTA:
		if (storeimap_quota_get(&in, &q) < 0)
			break;
		printf("QUOTA %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", q.storage_used,
		    q.storage_limit, q.messages_used, q.messages_limit);
		return 1;
	default:
		printf("BAD 0x%04x\n", in.type);
		ipc_in_close_fd(&in);
		return 1;
	}
	printf("BAD 0x%04x\n", in.type);
	return 1;
}

/* Send out, print the reply's messages up to its final one. */
static void
call(void)
{
	int rc;

	if (ipc_send(sock, &out) < 0) {
		printf("EOF\n");
		return;
	}
	for (;;) {
		rc = ipc_recv(sock, &in);
		if (rc <= 0) {
			printf("EOF\n");
			return;
		}
		if (in.type == MSG_STORE_CHANGED) {
			changed_seen = 1;
			continue;
		}
		if (print_data() == 0)
			continue;
		print_final();
		return;
	}
}

static void
wait_changed(int ms)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };

	changed_seen = 0;
	while (poll(&p, 1, ms) == 1) {
		if (ipc_recv(sock, &in) <= 0) {
			printf("EOF\n");
			return;
		}
		if (in.type == MSG_STORE_CHANGED) {
			printf("CHANGED\n");
			return;
		}
		printf("BAD 0x%04x\n", in.type);
		return;
	}
	printf("NOCHANGE\n");
}

/* A sealed memfd with the bytes of file path (as imapd makes one). */
static int
memfd_of(const char *path, uint64_t *len_r)
{
	char buf[65536];
	int fd = memfd_create("append", MFD_CLOEXEC | MFD_ALLOW_SEALING), src = open(path, O_RDONLY);
	ssize_t n;

	*len_r = 0;
	if (fd < 0 || src < 0)
		return -1;
	while ((n = read(src, buf, sizeof(buf))) > 0) {
		if (write(fd, buf, (size_t)n) != n)
			return -1;
		*len_r += (uint64_t)n;
	}
	close(src);
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0)
		return -1;
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static int
do_append(char **t, int nt)
{
	uint64_t len;
	int fd;

	if (nt < 6)
		return -1;
	memset(&req_append, 0, sizeof(req_append));
	snprintf(req_append.name, sizeof(req_append.name), "%s", t[1]);
	req_append.flags = parse_flags(t[2]);
	parse_kws(t[3], &req_append.kw);
	req_append.date = strtoll(t[4], NULL, 10);
	if (!strcmp(t[5], "pipe")) {	/* not a file: stored refuses it */
		int p[2];
		if (pipe(p) < 0)
			return -1;
		storeimap_append_put(&out, &req_append, p[0]);
		call();
		close(p[0]);
		close(p[1]);
		return 0;
	}
	if ((fd = memfd_of(t[5], &len)) < 0)
		return -1;
	req_append.len = nt > 6 ? strtoull(t[6], NULL, 10) : len;
	storeimap_append_put(&out, &req_append, fd);
	call();
	close(fd);
	return 0;
}

/* part I N NAME FLAGS KWS DATE FILE: one message of a MULTIAPPEND */
static int
do_part(char **t, int nt)
{
	uint64_t len;
	int fd;

	if (nt != 8)
		return -1;
	memset(&req_append, 0, sizeof(req_append));
	req_append.part = (uint32_t)strtoul(t[1], NULL, 10);
	req_append.parts = (uint32_t)strtoul(t[2], NULL, 10);
	snprintf(req_append.name, sizeof(req_append.name), "%s", t[3]);
	req_append.flags = parse_flags(t[4]);
	parse_kws(t[5], &req_append.kw);
	req_append.date = strtoll(t[6], NULL, 10);
	if ((fd = memfd_of(t[7], &len)) < 0)
		return -1;
	req_append.len = len;
	storeimap_append_put(&out, &req_append, fd);
	call();
	close(fd);
	return 0;
}

static int
do_store(char **t, int nt)
{
	if (nt != 6 || parse_set(t[5], &req_store.set) < 0)
		return -1;
	req_store.mode = !strcmp(t[1], "add") ? STORE_MODE_ADD : !strcmp(t[1], "remove") ?
	    STORE_MODE_REMOVE : STORE_MODE_SET;
	req_store.flags = parse_flags(t[2]);
	parse_kws(t[3], &req_store.kw);
	req_store.unchangedsince = strcmp(t[4], "-") ? strtoull(t[4], NULL, 10) : UINT64_MAX;
	storeimap_store_put(&out, &req_store);
	call();
	return 0;
}

static int
do_raw(char **t, int nt)
{
	const char *h = nt > 2 ? t[2] : "";
	size_t i;

	ipc_out_init(&out, (uint16_t)strtoul(t[1], NULL, 0));
	for (i = 0; h[i] != '\0' && h[i + 1] != '\0'; i += 2) {
		char b[3] = { h[i], h[i + 1], '\0' };
		ipc_put_u8(&out, (uint8_t)strtoul(b, NULL, 16));
	}
	call();
	return 0;
}

/* One command; -1 for a line that is not one. */
static int
command(char **t, int nt)
{
	const char *c = t[0];

	if (!strcmp(c, "open")) storeproto_open_put(&out, MSG_STORE_IMAP_OPEN);
	else if (!strcmp(c, "list"))
		storeimap_name_put(&out, MSG_STORE_IMAP_LIST, nt > 1, 0, NULL, NULL);
	else if ((!strcmp(c, "select") || !strcmp(c, "examine")) && nt == 2)
		storeimap_name_put(&out, MSG_STORE_IMAP_SELECT, c[0] == 's', 0, t[1], NULL);
	else if (!strcmp(c, "unselect") || !strcmp(c, "close"))
		storeimap_name_put(&out, MSG_STORE_IMAP_UNSELECT, c[0] == 'c', 0, NULL, NULL);
	else if (!strcmp(c, "sync")) storeimap_empty_put(&out, MSG_STORE_IMAP_SYNC);
	else if (!strcmp(c, "flags")) storeimap_empty_put(&out, MSG_STORE_IMAP_FLAGS);
	else if (!strcmp(c, "logout")) storeimap_empty_put(&out, MSG_STORE_IMAP_LOGOUT);
	else if (!strcmp(c, "quota")) storeimap_empty_put(&out, MSG_STORE_IMAP_QUOTA);
	else if (!strcmp(c, "meta") && nt == 2 && parse_set(t[1], &uidset) == 0)
		storeimap_set_put(&out, MSG_STORE_IMAP_META, 0, NULL, uidset.r, uidset.n);
	else if (!strcmp(c, "msgfd") && nt == 2) storeimap_uid_put(&out, (uint32_t)strtoul(t[1], NULL, 10));
	else if (!strcmp(c, "store")) return do_store(t, nt);
	else if (!strcmp(c, "expunge") && nt == 2 && !strcmp(t[1], "all"))
		storeimap_set_put(&out, MSG_STORE_IMAP_EXPUNGE, 1, NULL, NULL, 0);
	else if (!strcmp(c, "expunge") && nt == 2 && parse_set(t[1], &uidset) == 0)
		storeimap_set_put(&out, MSG_STORE_IMAP_EXPUNGE, 0, NULL, uidset.r, uidset.n);
	else if ((!strcmp(c, "copy") || !strcmp(c, "move")) && nt == 3 && parse_set(t[2], &uidset) == 0)
		storeimap_set_put(&out, MSG_STORE_IMAP_COPY, c[0] == 'm', t[1], uidset.r, uidset.n);
	else if (!strcmp(c, "append")) return do_append(t, nt);
	else if (!strcmp(c, "part")) return do_part(t, nt);
	else if (!strcmp(c, "status") && nt == 2)
		storeimap_name_put(&out, MSG_STORE_IMAP_STATUS, 0, 0, t[1], NULL);
	else if (!strcmp(c, "create") && nt >= 2)
		storeimap_name_put(&out, MSG_STORE_IMAP_CREATE, 0,
		    nt > 2 ? (uint32_t)strtoul(t[2], NULL, 0) : 0, t[1], NULL);
	else if (!strcmp(c, "delete") && nt == 2)
		storeimap_name_put(&out, MSG_STORE_IMAP_DELETE, 0, 0, t[1], NULL);
	else if (!strcmp(c, "rename") && nt == 3)
		storeimap_name_put(&out, MSG_STORE_IMAP_RENAME, 0, 0, t[1], t[2]);
	else if ((!strcmp(c, "subscribe") || !strcmp(c, "unsubscribe")) && nt == 2)
		storeimap_name_put(&out, MSG_STORE_IMAP_SUBSCRIBE, c[0] == 's', 0, t[1], NULL);
	else if (!strcmp(c, "raw") && nt >= 2) return do_raw(t, nt);
	else if (!strcmp(c, "changed") && nt == 2) {
		wait_changed(atoi(t[1]));
		return 0;
	} else
		return -1;
	call();
	return 0;
}

int
main(int argc, char **argv)
{
	static char line[1 << 16];
	char *t[16], *save;
	int nt;

	if (argc != 2) {
		fprintf(stderr, "usage: store_cli FD\n");
		return 2;
	}
	sock = atoi(argv[1]);
	(void)ipc_set_timeout(sock, 120000);	/* a stored that hangs fails the test */
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		save = NULL;
		nt = 0;
		for (char *p = strtok_r(line, " ", &save); p != NULL && nt < 16; p = strtok_r(NULL, " ", &save))
			t[nt++] = p;
		if (nt == 0)
			continue;
		if (command(t, nt) < 0)
			printf("USAGE %s\n", t[0]);
	}
	return 0;
}
