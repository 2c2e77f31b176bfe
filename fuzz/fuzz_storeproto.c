/* fuzz_storeproto.c - the store channel, both directions: the IPC frame,
 * then the MSG_STORE_* decoder of its type.  Properties: a decoded message
 * is within the limits of storeproto.h, and encoding the decoded fields
 * gives back exactly the bytes received (one layout, written once). */
#include <string.h>

#include "../common/ipc/proto.h"
#include "../common/ipc/storeproto.h"
#include "fuzz.h"

static struct ipc_in in;
static struct ipc_out out;
static struct store_sizes sizes;
static struct store_uidls uidls;
static struct store_commit commit;

/* A stand-in for a received fd: the decoders only test its presence. */
#define FAKE_FD 1000

static int
decode_request(void)
{
	char sender[STORE_SENDER_MAX + 1];
	uint64_t v;
	size_t k;
	uint32_t i;

	switch (in.type) {
	case MSG_STORE_POP_OPEN:
	case MSG_STORE_IMAP_OPEN:
		if (storeproto_open_get(&in) < 0)
			return 0;
		storeproto_open_put(&out, in.type);
		return 1;
	case MSG_STORE_POP_SIZES:
	case MSG_STORE_POP_UIDLS:
	case MSG_STORE_POP_FETCH:
		if (storeproto_index_get(&in, &i) < 0)
			return 0;
		storeproto_index_put(&out, in.type, i);
		return 1;
	case MSG_STORE_POP_COMMIT:
		if (storeproto_commit_get(&in, &commit) < 0)
			return 0;
		CHECK(commit.count <= STORE_COMMIT_MAX && commit.final <= 1);
		storeproto_commit_put(&out, commit.final, commit.index, commit.count);
		return 1;
	case MSG_STORE_DELIVER:
		if (storeproto_deliver_get(&in, &v, sender) < 0)
			return 0;
		/* the sender becomes a header line: no control breaks it */
		CHECK(v <= STORE_DELIVER_MAX && in.fd >= 0 && strlen(sender) <= STORE_SENDER_MAX);
		for (k = 0; sender[k] != '\0'; k++)
			CHECK((unsigned char)sender[k] >= 0x20 && sender[k] != 0x7f);
		storeproto_deliver_put(&out, v, sender, in.fd);
		return 1;
	}
	return -1;
}

static int
decode_sizes_uidls(void)
{
	const char *p[STORE_UIDLS_PAGE];
	uint32_t i;

	if (in.type == MSG_STORE_SIZES) {
		if (storeproto_sizes_get(&in, &sizes) < 0)
			return 0;
		CHECK(sizes.count > 0 && sizes.count <= STORE_SIZES_PAGE && sizes.more <= 1);
		storeproto_sizes_put(&out, sizes.start, sizes.more, sizes.size, sizes.count);
		return 1;
	}
	if (storeproto_uidls_get(&in, &uidls) < 0)
		return 0;
	CHECK(uidls.count > 0 && uidls.count <= STORE_UIDLS_PAGE && uidls.more <= 1);
	for (i = 0; i < uidls.count; i++) {
		size_t n = strlen(uidls.uidl[i]);
		CHECK(n > 0 && n <= UIDL_MAX);
		p[i] = uidls.uidl[i];
	}
	storeproto_uidls_put(&out, uidls.start, uidls.more, p, uidls.count);
	return 1;
}

static int
decode_reply(void)
{
	char text[STORE_ERR_TEXT_MAX], name[MAILDIR_NAME_MAX + 1];
	uint64_t v;
	uint32_t code;

	switch (in.type) {
	case MSG_STORE_OK:
		if (storeproto_ok_get(&in, &v) < 0)
			return 0;
		storeproto_ok_put(&out, v);
		return 1;
	case MSG_STORE_ERR:
		if (storeproto_err_get(&in, &code, text) < 0)
			return 0;
		storeproto_err_put(&out, code, text);
		return 1;
	case MSG_STORE_SIZES:
	case MSG_STORE_UIDLS:
		return decode_sizes_uidls();
	case MSG_STORE_MSGFD:
		if (storeproto_msgfd_get(&in, &v) < 0)
			return 0;
		storeproto_msgfd_put(&out, v, in.fd);
		return 1;
	case MSG_STORE_DELIVERED:
		if (storeproto_delivered_get(&in, name) < 0)
			return 0;
		CHECK(strlen(name) > 0 && strchr(name, '/') == NULL && strchr(name, ':') == NULL);
		storeproto_delivered_put(&out, name);
		return 1;
	case MSG_STORE_CHANGED:
		if (storeproto_changed_get(&in) < 0)
			return 0;
		storeproto_changed_put(&out);
		return 1;
	}
	return -1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd_present = size > 1 && (data[1] & IPC_FLAG_FD);
	int rc;

	if (size > IPC_MAX_MSG || ipc_decode(&in, data, size, fd_present) < 0)
		return 0;
	in.fd = fd_present ? FAKE_FD : -1;
	rc = decode_request();
	if (rc < 0)
		rc = decode_reply();
	if (rc == 1) {
		/* the same fields encode to the same bytes, fd presence included */
		CHECK(out.err == 0 && out.len == IPC_HDR_LEN + in.len);
		CHECK(memcmp(out.data + IPC_HDR_LEN, in.data + IPC_HDR_LEN, in.len) == 0);
		CHECK((out.fd >= 0) == fd_present);
	}
	return 0;
}
