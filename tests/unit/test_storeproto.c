/* test_storeproto.c - the store channel's codec: every message round-trips
 * over a real socket pair, the limits are the ones both ends use, and
 * malformed messages (short, trailing, over a limit, wrong fd presence)
 * fail closed. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../common/ipc/authdproto.h"
#include "../../common/ipc/keydproto.h"
#include "../../common/ipc/masterproto.h"
#include "../../common/ipc/proto.h"
#include "../../common/ipc/storeproto.h"
#include "../../common/ipc/storeproto.h"
#include "tap.h"

static struct ipc_out out;
static struct ipc_in in;
static struct store_sizes sizes;
static struct store_uidls uidls;
static struct store_commit commit;
static int sv[2];

/* Send out and receive it into in.  Returns 0, or -1 if either failed. */
static int
transfer(void)
{
	ipc_in_close_fd(&in);
	if (ipc_send(sv[0], &out) < 0)
		return -1;
	return ipc_recv(sv[1], &in) == 1 && in.type == out.type ? 0 : -1;
}

/* Decode in again after appending one byte to its payload: must fail. */
static void
append_byte(void)
{
	in.data[IPC_HDR_LEN + in.len] = 0;
	in.len++;
	in.off = 0;
	in.err = 0;
}

static void
rewind_in(size_t len)
{
	in.len = len;
	in.off = 0;
	in.err = 0;
}

static void
test_requests(void)
{
	static const uint32_t idx[] = { 0, 7, 4000000000u };
	uint32_t i = 1;
	uint64_t len = 0;
	char sender[STORE_SENDER_MAX + 1];
	int mfd = memfd_create("m", MFD_CLOEXEC);

	storeproto_open_put(&out, MSG_STORE_POP_OPEN);
	CHECK(transfer() == 0 && storeproto_open_get(&in) == 0, "open round trip");
	append_byte();
	CHECK(storeproto_open_get(&in) == -1, "open with a trailing byte refused");
	storeproto_index_put(&out, MSG_STORE_POP_FETCH, 42);
	CHECK(transfer() == 0 && storeproto_index_get(&in, &i) == 0 && i == 42, "fetch index round trip");
	rewind_in(3);
	CHECK(storeproto_index_get(&in, &i) == -1, "short index refused");
	storeproto_commit_put(&out, 1, idx, 3);
	CHECK(transfer() == 0 && storeproto_commit_get(&in, &commit) == 0 && commit.final == 1 &&
	    commit.count == 3 && commit.index[2] == 4000000000u, "commit round trip");
	in.data[IPC_HDR_LEN] = 2;
	rewind_in(in.len);
	CHECK(storeproto_commit_get(&in, &commit) == -1, "commit final > 1 refused");
	storeproto_commit_put(&out, 0, commit.index, STORE_COMMIT_MAX);
	CHECK(transfer() == 0 && storeproto_commit_get(&in, &commit) == 0 &&
	    commit.count == STORE_COMMIT_MAX, "a full commit fits one message");
	storeproto_commit_put(&out, 0, commit.index, STORE_COMMIT_MAX + 1);
	errno = 0;
	CHECK(ipc_send(sv[0], &out) == -1 && errno == EMSGSIZE, "over STORE_COMMIT_MAX: not sent");
	storeproto_deliver_put(&out, 123, "s@example.org", mfd);
	CHECK(transfer() == 0 && in.fd >= 0 && storeproto_deliver_get(&in, &len, sender) == 0 &&
	    len == 123 && strcmp(sender, "s@example.org") == 0, "deliver round trip with its fd");
	storeproto_deliver_put(&out, 1, "", mfd);
	CHECK(transfer() == 0 && storeproto_deliver_get(&in, &len, sender) == 0 && sender[0] == '\0',
	    "deliver: the null sender");
	storeproto_deliver_put(&out, 1, "\"a b\"@example.org", mfd);
	CHECK(transfer() == 0 && storeproto_deliver_get(&in, &len, sender) == 0,
	    "deliver: a quoted local part");
	storeproto_deliver_put(&out, 1, "a@example.org>\r\nX-Evil: 1\r\nY: <b@example.org", mfd);
	CHECK(transfer() == 0 && storeproto_deliver_get(&in, &len, sender) == -1 && sender[0] == '\0',
	    "deliver: a sender that would add a header line refused");
	storeproto_deliver_put(&out, 1, "a\n@example.org", mfd);
	CHECK(transfer() == 0 && storeproto_deliver_get(&in, &len, sender) == -1, "deliver: LF refused");
	storeproto_deliver_put(&out, 1, "@relay.example:a@example.org", mfd);
	CHECK(transfer() == 0 && storeproto_deliver_get(&in, &len, sender) == -1,
	    "deliver: a source route is not a mailbox");
	storeproto_deliver_put(&out, STORE_DELIVER_MAX + 1, "", mfd);
	CHECK(transfer() == 0 && storeproto_deliver_get(&in, &len, sender) == -1,
	    "deliver over the maximum refused");
	ipc_out_init(&out, MSG_STORE_DELIVER);
	ipc_put_u64(&out, 5);
	ipc_put_str(&out, "");
	CHECK(transfer() == 0 && storeproto_deliver_get(&in, &len, sender) == -1,
	    "deliver without an fd refused");
	storeproto_index_put(&out, MSG_STORE_POP_FETCH, 1);
	ipc_put_fd(&out, mfd);
	CHECK(transfer() == 0 && storeproto_index_get(&in, &i) == -1, "an fd on an fd-less request refused");
	close(mfd);
}

static void
test_pages(void)
{
	static uint64_t sz[STORE_SIZES_PAGE];
	static const char *u[STORE_UIDLS_PAGE];
	static const char *bad[] = { "ok", "has space" };
	static char longest[UIDL_MAX + 1];
	size_t k;

	for (k = 0; k < STORE_SIZES_PAGE; k++)
		sz[k] = UINT64_MAX - k;
	storeproto_sizes_put(&out, 9, 1, sz, STORE_SIZES_PAGE);
	CHECK(transfer() == 0 && storeproto_sizes_get(&in, &sizes) == 0 && sizes.start == 9 &&
	    sizes.more == 1 && sizes.count == STORE_SIZES_PAGE && sizes.size[4095] == UINT64_MAX - 4095,
	    "a full sizes page round-trips");
	storeproto_sizes_put(&out, 0, 0, sz, 0);
	CHECK(transfer() == 0 && storeproto_sizes_get(&in, &sizes) == -1, "an empty page refused");
	memset(longest, 'x', UIDL_MAX);
	for (k = 0; k < STORE_UIDLS_PAGE; k++)
		u[k] = longest;
	storeproto_uidls_put(&out, 3, 0, u, STORE_UIDLS_PAGE);
	CHECK(transfer() == 0 && storeproto_uidls_get(&in, &uidls) == 0 &&
	    uidls.count == STORE_UIDLS_PAGE && !strcmp(uidls.uidl[511], longest),
	    "a full page of the longest UIDLs fits and round-trips");
	storeproto_uidls_put(&out, 0, 0, bad, 2);
	CHECK(transfer() == 0 && storeproto_uidls_get(&in, &uidls) == -1,
	    "a UIDL outside 0x21-0x7E refused (RFC 1939 section 7)");
	storeproto_uidls_put(&out, 0, 2, u, 1);
	CHECK(transfer() == 0 && storeproto_uidls_get(&in, &uidls) == -1, "more > 1 refused");
}

static void
test_replies(void)
{
	char text[STORE_ERR_TEXT_MAX], name[MAILDIR_NAME_MAX + 1], longtext[200];
	uint32_t code = 0;
	uint64_t v = 0;
	size_t full;

	storeproto_ok_put(&out, 77);
	CHECK(transfer() == 0 && storeproto_ok_get(&in, &v) == 0 && v == 77, "ok round trip");
	storeproto_err_put(&out, STORE_ERR_INUSE, "mailbox in use by another session");
	CHECK(transfer() == 0 && storeproto_err_get(&in, &code, text) == 0 && code == STORE_ERR_INUSE &&
	    !strcmp(text, "mailbox in use by another session"), "err round trip");
	storeproto_err_put(&out, 99, "x");
	CHECK(transfer() == 0 && storeproto_err_get(&in, &code, text) == -1, "unknown error code refused");
	memset(longtext, 'a', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	storeproto_err_put(&out, STORE_ERR_IO, longtext);
	CHECK(out.err != 0, "an error text over STORE_ERR_TEXT_MAX is not encoded");
	storeproto_delivered_put(&out, "1700000000.M1P2Q3R00000000.host,S=4,W=6");
	CHECK(transfer() == 0 && storeproto_delivered_get(&in, name) == 0 &&
	    !strcmp(name, "1700000000.M1P2Q3R00000000.host,S=4,W=6"), "delivered round trip");
	storeproto_delivered_put(&out, "../cur/x");
	CHECK(transfer() == 0 && storeproto_delivered_get(&in, name) == -1 && name[0] == '\0',
	    "a delivered name with '/' refused");
	storeproto_delivered_put(&out, "x:2,S");
	CHECK(transfer() == 0 && storeproto_delivered_get(&in, name) == -1, "a cur/-style name refused");
	/* every strict prefix of a valid message is refused */
	storeproto_msgfd_put(&out, 5, sv[0]);
	CHECK(transfer() == 0 && storeproto_msgfd_get(&in, &v) == 0 && v == 5, "msgfd round trip");
	full = in.len;
	for (code = 0; code < full; code++) {
		rewind_in(code);
		if (storeproto_msgfd_get(&in, &v) == 0)
			break;
	}
	CHECK(code == full, "every truncation of msgfd refused");
	ipc_in_close_fd(&in);
}

int
main(void)
{
	in.fd = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
		return 1;
	test_requests();
	test_pages();
	test_replies();
	return tap_done();
}
