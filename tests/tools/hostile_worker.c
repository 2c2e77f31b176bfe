/* hostile_worker - a test program the master runs in place of pop3d
 * (config pop3_worker = ...).  It holds exactly what a compromised worker
 * holds (fd 3 client, fd 4 master control, fd 5 authd, the pop3d sandbox)
 * and, on command from the test over the client socket, speaks the
 * worker's side of the IPC protocols with forged or out-of-order messages.
 * It reports what happened, one line per command, on the client socket. */
#include <fcntl.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../common/base/config.h"
#include "../../common/ipc/ipc.h"
#include "../../common/auth/backendq.h"
#include "../../common/ipc/authdproto.h"
#include "../../common/ipc/keydproto.h"
#include "../../common/ipc/masterproto.h"
#include "../../common/ipc/proto.h"
#include "../../common/ipc/resolvproto.h"
#include "../../common/ipc/storeimap.h"
#include "../../common/ipc/storeproto.h"
#include "../../policy/policy.h"

static struct ipc_in in;
static struct ipc_out out;
static int store_fd = -1;

static void
say(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(FD_CLIENT, line, (size_t)n) < 0)
		exit(0);
}

/* recv with a deadline: 1 message, 0 EOF, -1 error, -2 nothing in time. */
static int
recv_wait(int fd, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };

	if (poll(&p, 1, ms) <= 0)
		return -2;
	return ipc_recv(fd, &in);
}

static void
forge_login(int fd, const char *user)
{
	ipc_out_init(&out, MSG_MASTER_LOGIN);
	ipc_put_str(&out, "000000000000000000000000");
	ipc_put_str(&out, user);
	ipc_put_u32(&out, 7100);
	ipc_put_u32(&out, 7100);
	ipc_put_str(&out, "/tmp");
	say(ipc_send(fd, &out) == 0 ? "sent" : "send-failed");
}

/* FDS <authd|keyd|master|store> N: a well-formed request of that channel
 * with N descriptors attached (the receivers take at most one, and none
 * with these types): the kernel truncates what does not fit.  Reports
 * whether the peer then closed the channel (it must: the request is
 * refused) and whether it is still alive for the next session (the test
 * looks at that). */
static void
cmd_fds(const char *peer, unsigned n)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(64 * sizeof(int))];
	} cm;
	struct msghdr msg;
	struct iovec iov;
	struct cmsghdr *c;
	int fds[64], fd, rc;
	unsigned i;

	fd = !strcmp(peer, "authd") ? FD_AUTH : !strcmp(peer, "keyd") ? FD_KEYD :
	    !strcmp(peer, "master") ? FD_CONTROL : store_fd;
	if (fd < 0 || n == 0 || n > 64) {
		say("fds-bad-args");
		return;
	}
	/* a valid first message of each channel */
	if (fd == FD_AUTH) {
		ipc_out_init(&out, MSG_AUTH_USERPASS);
		ipc_put_bytes(&out, "demo", 4);
		ipc_put_bytes(&out, "x", 1);
	} else if (fd == FD_KEYD) {
		ipc_out_init(&out, MSG_KEYD_CHAINS_REQ);
	} else if (fd == FD_CONTROL) {
		masterproto_proxy_put(&out, "192.0.2.1");
	} else {
		ipc_out_init(&out, MSG_STORE_IMAP_QUOTA);
	}
	out.data[0] = IPC_VERSION;
	out.data[1] = IPC_FLAG_FD;
	out.data[2] = (uint8_t)(out.type >> 8);
	out.data[3] = (uint8_t)out.type;
	out.data[4] = (uint8_t)((out.len - IPC_HDR_LEN) >> 24);
	out.data[5] = (uint8_t)((out.len - IPC_HDR_LEN) >> 16);
	out.data[6] = (uint8_t)((out.len - IPC_HDR_LEN) >> 8);
	out.data[7] = (uint8_t)(out.len - IPC_HDR_LEN);
	for (i = 0; i < n; i++)
		fds[i] = FD_CLIENT;
	memset(&cm, 0, sizeof(cm));
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = out.data;
	iov.iov_len = out.len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = CMSG_SPACE(n * sizeof(int));
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(n * sizeof(int));
	memcpy(CMSG_DATA(c), fds, n * sizeof(int));
	if (sendmsg(fd, &msg, MSG_NOSIGNAL) < 0) {
		say("fds-send-failed %d", errno);
		return;
	}
	rc = recv_wait(fd, 10000);
	say(rc == 0 ? "fds-closed" : rc == 1 ? "fds-answered 0x%04x" : "fds-error %d",
	    rc == 1 ? in.type : rc);
}

static void
cmd_login(const char *user, const char *pass)
{
	int rc;

	ipc_out_init(&out, MSG_AUTH_USERPASS);
	ipc_put_bytes(&out, user, strlen(user));
	ipc_put_bytes(&out, pass, strlen(pass));
	if (ipc_send(FD_AUTH, &out) < 0) {
		say("authd-send-failed");
		return;
	}
	rc = recv_wait(FD_AUTH, 10000);
	if (rc == 0) {
		say("authd-closed");
		return;
	}
	if (rc != 1) {
		say("authd-error %d", rc);
		return;
	}
	if (in.type == MSG_AUTH_FAIL) {
		say("auth-fail %u", ipc_get_u32(&in));
		return;
	}
	if (in.type != MSG_AUTH_OK) {
		say("auth-other 0x%04x", in.type);
		return;
	}
	rc = recv_wait(FD_CONTROL, 10000);
	if (rc == 1 && in.type == MSG_WORKER_STORE && in.fd >= 0) {
		store_fd = in.fd;
		say("auth-ok store-fd");
	} else {
		say("auth-ok no-store %d", rc);
	}
}

static void
cmd_fetch(unsigned long idx)
{
	char *subj;
	ssize_t n;
	char buf[4096];

	ipc_out_init(&out, MSG_STORE_POP_FETCH);
	ipc_put_u32(&out, (uint32_t)idx);
	if (ipc_send(store_fd, &out) < 0 || recv_wait(store_fd, 10000) != 1) {
		say("store-failed");
		return;
	}
	if (in.type == MSG_STORE_ERR) {
		say("fetch-err %u", ipc_get_u32(&in));
		return;
	}
	if (in.type != MSG_STORE_MSGFD || in.fd < 0) {
		say("fetch-other 0x%04x", in.type);
		return;
	}
	n = pread(in.fd, buf, sizeof(buf) - 1, 0);
	close(in.fd);
	buf[n > 0 ? n : 0] = '\0';
	subj = strstr(buf, "Subject:");
	if (subj != NULL)
		subj[strcspn(subj, "\r\n")] = '\0';
	say("fetch-ok %s", subj ? subj : "(no subject)");
}

/* Send out to stored and report its answer as "WHAT ok N", "WHAT err N" or
 * "WHAT stored-closed". */
static void
store_report(const char *what)
{
	int rc;

	if (ipc_send(store_fd, &out) < 0) {
		say("%s send-failed", what);
		return;
	}
	rc = recv_wait(store_fd, 10000);
	if (rc == 0)
		say("%s stored-closed", what);
	else if (rc == 1 && in.type == MSG_STORE_OK)
		say("%s ok %llu", what, (unsigned long long)ipc_get_u64(&in));
	else if (rc == 1 && in.type == MSG_STORE_ERR)
		say("%s err %u", what, ipc_get_u32(&in));
	else
		say("%s rc=%d type=0x%04x", what, rc, in.type);
}

static void
store_simple(uint16_t type, const char *what)
{
	ipc_out_init(&out, type);
	store_report(what);
}

/* The deliver view's request, sent to the view the master chose (pop3):
 * a worker must not be able to write into the Maildir.  The fd is the
 * channel itself: the filter allows no memfd, and stored must refuse the
 * request before it reads anything. */
static void
store_deliver(void)
{
	ipc_out_init(&out, MSG_STORE_DELIVER);
	ipc_put_u64(&out, 5);
	ipc_put_str(&out, "");
	ipc_put_fd(&out, store_fd);
	store_report("deliver");
}

/* The IMAP view (run as imap_worker): a request with a folder name, its
 * data messages skipped, the final reply reported as "WHAT final 0xTYPE
 * [messages=N|err N]" or "WHAT stored-closed". */
static void
imap_report(const char *what)
{
	int rc;

	if (ipc_send(store_fd, &out) < 0) {
		say("%s send-failed", what);
		return;
	}
	for (;;) {
		rc = recv_wait(store_fd, 10000);
		if (rc == 0) {
			say("%s stored-closed", what);
			return;
		}
		if (rc != 1) {
			say("%s rc=%d", what, rc);
			return;
		}
		if (in.fd >= 0 && in.type != MSG_STORE_MSGFD)
			ipc_in_close_fd(&in);
		if (in.type == MSG_STORE_FOLDERS || in.type == MSG_STORE_KEYWORDS ||
		    in.type == MSG_STORE_RECORDS || in.type == MSG_STORE_META ||
		    in.type == MSG_STORE_UIDSET || in.type == MSG_STORE_CHANGED)
			continue;
		break;
	}
	if (in.type == MSG_STORE_SELECTED) {
		struct store_selected st;
		if (storeimap_selected_get(&in, &st) == 0)
			say("%s selected messages=%u", what, st.messages);
		else
			say("%s selected-malformed", what);
	} else if (in.type == MSG_STORE_ERR) {
		say("%s err %u", what, ipc_get_u32(&in));
	} else if (in.type == MSG_STORE_MSGFD) {
		/* the fd must be read-only: a worker cannot rewrite a message */
		char b[64];
		ssize_t r = read(in.fd, b, sizeof(b));
		ssize_t w = write(in.fd, "X", 1);
		say("%s msgfd read=%zd write=%s", what, r, w < 0 ? strerror(errno) : "allowed");
		close(in.fd);
		in.fd = -1;
	} else {
		say("%s final 0x%04x", what, in.type);
	}
}

static void
imap_cmd(const char *cmd, const char *a)
{
	if (!strcmp(cmd, "IMAP-OPEN")) {
		ipc_out_init(&out, MSG_STORE_IMAP_OPEN);
		imap_report("imap-open");
	} else if (!strcmp(cmd, "IMAP-SELECT") && a) {
		storeimap_name_put(&out, MSG_STORE_IMAP_SELECT, 1, 0, a, NULL);
		imap_report("imap-select");
	} else if (!strcmp(cmd, "IMAP-STATUS") && a) {
		storeimap_name_put(&out, MSG_STORE_IMAP_STATUS, 0, 0, a, NULL);
		imap_report("imap-status");
	} else if (!strcmp(cmd, "IMAP-CREATE") && a) {
		storeimap_name_put(&out, MSG_STORE_IMAP_CREATE, 0, 0, a, NULL);
		imap_report("imap-create");
	} else if (!strcmp(cmd, "IMAP-MSGFD") && a) {
		storeimap_uid_put(&out, (uint32_t)strtoul(a, NULL, 10));
		imap_report("imap-msgfd");
	} else if (!strcmp(cmd, "IMAP-FLAGS")) {
		storeimap_empty_put(&out, MSG_STORE_IMAP_FLAGS);
		imap_report("imap-flags");
	} else if (!strcmp(cmd, "IMAP-LOGOUT")) {
		storeimap_empty_put(&out, MSG_STORE_IMAP_LOGOUT);
		imap_report("imap-logout");
	} else if (!strcmp(cmd, "IMAP-RAWNAME") && a) {
		/* a name the codec would refuse to encode (over-long, NUL-free) */
		ipc_out_init(&out, MSG_STORE_IMAP_SELECT);
		ipc_put_u8(&out, 1);
		ipc_put_str(&out, a);
		imap_report("imap-rawname");
	} else {
		say("unknown");
	}
}

/* Ask keyd to sign a SHA-256-sized hash with key id; report the outcome. */
static void
keyd_sign(unsigned long id)
{
	uint8_t hash[32] = { 1, 2, 3 };
	int rc;

	ipc_out_init(&out, MSG_KEYD_SIGN);
	ipc_put_u32(&out, (uint32_t)id);
	ipc_put_u32(&out, 0xff04);	/* SHA-256 */
	ipc_put_bytes(&out, hash, sizeof(hash));
	if (ipc_send(FD_KEYD, &out) < 0) {
		say("keyd-send-failed");
		return;
	}
	rc = recv_wait(FD_KEYD, 10000);
	if (rc == 0)
		say("keyd-closed");
	else if (rc == 1 && in.type == MSG_KEYD_SIGNATURE)
		say("keyd-signed");
	else if (rc == 1 && in.type == MSG_KEYD_ERR)
		say("keyd-refused");
	else
		say("keyd-other %d", rc);
}

static void
keyd_badtype(void)
{
	ipc_out_init(&out, MSG_AUTH_USERPASS);
	ipc_put_bytes(&out, "demo", 4);
	ipc_put_bytes(&out, "demo", 4);
	if (ipc_send(FD_KEYD, &out) < 0) {
		say("keyd-send-failed");
		return;
	}
	say(recv_wait(FD_KEYD, 10000) == 0 ? "keyd-closed" : "keyd-open");
}

/* --- a peer that stops reading (the broker-freeze attack) ----------- */

/* Send up to n requests that each get an immediate reply (an unknown SASL
 * mechanism: no delay, no throttle count) and read none of the replies,
 * until authd drops the channel.  Reports how many went out. */
/* Send, waiting for room when our queue is full (we never read replies):
 * -1 once the broker has closed the channel, or after 10 s without room. */
static int
send_or_wait(int fd)
{
	struct pollfd p = { fd, POLLOUT, 0 };

	while (ipc_send_nowait(fd, &out) < 0) {
		if (errno != EAGAIN || poll(&p, 1, 10000) <= 0 || (p.revents & (POLLERR | POLLHUP)))
			return -1;
	}
	return 0;
}

/* The same against keyd: cache lookups (each answered at once), unread. */
static void
flood_keyd(unsigned long n)
{
	uint8_t id[32] = { 0 };
	unsigned long i;

	for (i = 0; i < n; i++) {
		ipc_out_init(&out, MSG_KEYD_CACHE_LOAD);
		ipc_put_bytes(&out, id, sizeof(id));
		if (send_or_wait(FD_KEYD) < 0)
			break;
	}
	say("flooded %lu", i);
}

/* Ask for the certificate chains and read them all: keyd still answers. */
static void
keyd_chains(void)
{
	int n = 0, rc;

	ipc_out_init(&out, MSG_KEYD_CHAINS_REQ);
	if (ipc_send(FD_KEYD, &out) < 0) {
		say("keyd-send-failed");
		return;
	}
	while ((rc = recv_wait(FD_KEYD, 10000)) == 1 && in.type == MSG_KEYD_CHAIN)
		n++;
	say(rc == 1 && in.type == MSG_KEYD_CHAINS_END ? "keyd-chains %d" : "keyd-chains-failed %d", n);
}

static void
flood_authd(unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++) {
		ipc_out_init(&out, MSG_AUTH_START);
		ipc_put_str(&out, "NOPE");
		ipc_put_u8(&out, 0);
		ipc_put_bytes(&out, "", 0);
		if (send_or_wait(FD_AUTH) < 0)
			break;
	}
	say("flooded %lu", i);
}

/* --- the shared-log attack ------------------------------------------ */

/* Try to rewrite the log's history: clear O_APPEND on fd 2, seek to 0 and
 * write a forged authd line; report what each step returned. */
static void
log_rewrite(void)
{
	static const char forged[] = "ts=2000-01-01T00:00:00.000Z proc=authd pid=1 sid=000000000000"
	    "000000000000 level=info event=login service=pop3 ip=127.0.0.1 user=FORGED@localhost\n";
	int fl = fcntl(2, F_GETFL);
	int clr = fl < 0 ? -1 : fcntl(2, F_SETFL, fl & ~O_APPEND);
	off_t off = lseek(2, 0, SEEK_SET);
	ssize_t w = write(2, forged, sizeof(forged) - 1);

	say("rewrite clear=%d seek=%lld write=%zd", clr, (long long)off, w);
}

/* n log lines as fast as we can write them. */
static void
log_flood(unsigned long n)
{
	char line[128];
	unsigned long i;

	for (i = 0; i < n; i++) {
		int l = snprintf(line, sizeof(line), "level=info event=flood n=%lu\n", i);
		if (write(2, line, (size_t)l) < 0)
			break;
	}
	say("logged %lu", i);
}

/* ---- keyd private-key operations and session cache (branch sec-keyd) ----
 * Long byte strings (ciphertexts, signed_params) are staged first with
 * KEYD-DATA <hex> lines (appended; KEYD-DATA-CLEAR empties), because a
 * command line holds at most 511 bytes. */
static uint8_t kd_data[1024];
static size_t kd_len;

static int
kd_hex(const char *hex, uint8_t *dst, size_t cap, size_t *len_r)
{
	size_t n = strlen(hex), i;

	if (n % 2 != 0 || n / 2 > cap)
		return -1;
	for (i = 0; i < n / 2; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		dst[i] = (uint8_t)v;
	}
	*len_r = n / 2;
	return 0;
}

static void
kd_stage(const char *hex)
{
	size_t n;

	if (kd_hex(hex, kd_data + kd_len, sizeof(kd_data) - kd_len, &n) < 0) {
		say("bad-hex");
		return;
	}
	kd_len += n;
	say("staged %zu", kd_len);
}

/* Print a received byte string as hex after a prefix. */
static void
kd_say_bytes(const char *prefix, const uint8_t *p, size_t n)
{
	char hex[2 * 64 + 1];
	size_t i;

	for (i = 0; i < n && i < 64; i++)
		snprintf(hex + 2 * i, 3, "%02x", p[i]);
	hex[2 * i] = '\0';
	say("%s %s", prefix, hex);
}

/* Send out to keyd and report its answer: the reply type's meaning, and for
 * a KEYX result the payload length (a bare 48-byte string is 52) and bytes. */
static void
kd_call(void)
{
	const uint8_t *p;
	size_t plen, n;
	int rc;

	if (ipc_send(FD_KEYD, &out) < 0) {
		say("keyd-send-failed");
		return;
	}
	rc = recv_wait(FD_KEYD, 10000);
	if (rc == 0) {
		say("keyd-closed");
		return;
	}
	if (rc != 1) {
		say("keyd-other %d", rc);
		return;
	}
	plen = in.len;
	if (in.type == MSG_KEYD_KEYX_RESULT || in.type == 0x0a04) {
		char prefix[64];
		uint32_t flag = in.type == 0x0a04 ? ipc_get_u32(&in) : 0;
		n = ipc_get_bytes(&in, &p, 64);
		snprintf(prefix, sizeof(prefix), "keyx payload=%zu%s", plen,
		    in.type == 0x0a04 ? (flag ? " flag=1" : " flag=0") : "");
		kd_say_bytes(prefix, p, n);
	} else if (in.type == MSG_KEYD_SIGNATURE) {
		say("keyd-signed len=%zu", ipc_get_bytes(&in, &p, 1024));
	} else if (in.type == MSG_KEYD_CACHE_HIT) {
		(void)ipc_get_u32(&in);
		(void)ipc_get_u32(&in);
		n = ipc_get_bytes(&in, &p, 48);
		kd_say_bytes("cache-hit", p, n);
	} else if (in.type == MSG_KEYD_CACHE_MISS) {
		say("cache-miss");
	} else if (in.type == MSG_KEYD_ERR) {
		say("keyd-refused");
	} else {
		say("keyd-type 0x%04x", in.type);
	}
}

/* KEYD-KEYX <id> <client_version hex>: the staged ciphertext. */
static void
kd_keyx(const char *id, const char *ver)
{
	ipc_out_init(&out, MSG_KEYD_KEYX);
	ipc_put_u32(&out, (uint32_t)strtoul(id, NULL, 10));
	ipc_put_u32(&out, (uint32_t)strtoul(ver, NULL, 16));
	ipc_put_bytes(&out, kd_data, kd_len);
	kd_call();
}

/* KEYD-KEYX-V0 <id>: the layout before sec-keyd (type 0x0903, no version). */
static void
kd_keyx_v0(const char *id)
{
	ipc_out_init(&out, 0x0903);
	ipc_put_u32(&out, (uint32_t)strtoul(id, NULL, 10));
	ipc_put_bytes(&out, kd_data, kd_len);
	kd_call();
}

/* KEYD-SIGN-TBS <id> <version hex> <algo hex>: the staged signed_params. */
static void
kd_sign_tbs(const char *id, const char *ver, const char *algo)
{
	ipc_out_init(&out, MSG_KEYD_SIGN);
	ipc_put_u32(&out, (uint32_t)strtoul(id, NULL, 10));
	ipc_put_u32(&out, (uint32_t)strtoul(ver, NULL, 16));
	ipc_put_u32(&out, (uint32_t)strtoul(algo, NULL, 16));
	ipc_put_bytes(&out, kd_data, kd_len);
	kd_call();
}

/* KEYD-SIGN-V0 <id> <algo hex>: the layout before sec-keyd (type 0x0902):
 * the staged bytes as a ready hash value. */
static void
kd_sign_v0(const char *id, const char *algo)
{
	ipc_out_init(&out, 0x0902);
	ipc_put_u32(&out, (uint32_t)strtoul(id, NULL, 10));
	ipc_put_u32(&out, (uint32_t)strtoul(algo, NULL, 16));
	ipc_put_bytes(&out, kd_data, kd_len);
	kd_call();
}

/* KEYD-CACHE-SAVE <hex id> <hex master> (no answer) / KEYD-CACHE-LOAD <hex id>. */
static void
kd_cache(const char *idhex, const char *mshex)
{
	uint8_t id[64], ms[64];
	size_t idl, msl = 0;

	if (kd_hex(idhex, id, sizeof(id), &idl) < 0 ||
	    (mshex != NULL && kd_hex(mshex, ms, sizeof(ms), &msl) < 0)) {
		say("bad-hex");
		return;
	}
	ipc_out_init(&out, mshex ? MSG_KEYD_CACHE_SAVE : MSG_KEYD_CACHE_LOAD);
	ipc_put_bytes(&out, id, idl);
	if (mshex != NULL) {
		ipc_put_u32(&out, 0x0303);
		ipc_put_u32(&out, 0xc02b);
		ipc_put_bytes(&out, ms, msl);
		say(ipc_send(FD_KEYD, &out) == 0 ? "sent" : "send-failed");
		return;
	}
	kd_call();
}

/* The sec-keyd commands; returns 1 if cmd was one of them. */
static int
kd_run(const char *cmd, const char *a, const char *b, const char *c)
{
	if (!strcmp(cmd, "KEYD-DATA") && a)
		kd_stage(a);
	else if (!strcmp(cmd, "KEYD-DATA-CLEAR"))
		say("staged %zu", kd_len = 0);
	else if (!strcmp(cmd, "KEYD-KEYX") && a && b)
		kd_keyx(a, b);
	else if (!strcmp(cmd, "KEYD-KEYX-V0") && a)
		kd_keyx_v0(a);
	else if (!strcmp(cmd, "KEYD-SIGN-TBS") && a && b && c)
		kd_sign_tbs(a, b, c);
	else if (!strcmp(cmd, "KEYD-SIGN-V0") && a && b)
		kd_sign_v0(a, b);
	else if (!strcmp(cmd, "KEYD-CACHE-SAVE") && a && b)
		kd_cache(a, b);
	else if (!strcmp(cmd, "KEYD-CACHE-LOAD") && a)
		kd_cache(a, NULL);
	else
		return 0;
	return 1;
}
/* ---- end of the sec-keyd block ---- */
/* ---- Signals and executable memory (seccomp argument filters) ----------
 * Each command makes one call the pop3d filter must refuse, or a control
 * call it must allow, and reports "<name> ok" / "<name> err <errno>" if it
 * survives.  A refused call kills the worker (SIGSYS): the test sees EOF. */

static pid_t start_pgrp;	/* taken before the sandbox: getpgrp is not allowed */

static void
report(const char *what, long rc)
{
	if (rc < 0)
		say("%s err %d", what, errno);
	else
		say("%s ok", what);
}

/* Route SIGIO for the client socket to the group we started in: before
 * setsid() in spawn.c that was the master's, shared with every worker. */
static void
cmd_fcntl_attack(const char *what)
{
	struct f_owner_ex owner = { F_OWNER_PGRP, start_pgrp };

	if (!strcmp(what, "SETOWN-MASTER"))
		report("setown", fcntl(FD_CLIENT, F_SETOWN, -start_pgrp));
	else if (!strcmp(what, "SETOWN-EX"))
		report("setown-ex", fcntl(FD_CLIENT, F_SETOWN_EX, &owner));
	else if (!strcmp(what, "SETSIG"))
		report("setsig", fcntl(FD_CLIENT, F_SETSIG, SIGKILL));
	else if (!strcmp(what, "ASYNC"))
		report("async", fcntl(FD_CLIENT, F_SETFL, O_ASYNC | O_NONBLOCK));
	else if (!strcmp(what, "SETLEASE"))
		report("setlease", fcntl(FD_CLIENT, F_SETLEASE, F_RDLCK));
	else if (!strcmp(what, "NOTIFY"))
		report("notify", fcntl(FD_CLIENT, F_NOTIFY, DN_MODIFY));
	else if (!strcmp(what, "IOCTL-SETOWN"))
		report("ioctl-setown", ioctl(FD_CLIENT, FIOSETOWN, &start_pgrp));
	else if (!strcmp(what, "KILL-GROUP"))
		report("kill-group", kill(0, 0));
	else
		say("unknown");
}

/* What glibc and our code do with fd flags must keep working. */
static void
cmd_fcntl_allowed(void)
{
	int fl = fcntl(FD_CLIENT, F_GETFL), fd = fcntl(FD_CLIENT, F_GETFD);

	if (fl < 0 || fd < 0 || fcntl(FD_CLIENT, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl(FD_CLIENT, F_SETFL, fl) < 0 || fcntl(FD_CLIENT, F_SETFD, fd) < 0)
		say("fcntl-allowed err %d", errno);
	else
		say("fcntl-allowed ok");
}

static void
cmd_memory(const char *what)
{
	long pg = sysconf(_SC_PAGESIZE);
	void *p = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		say("mmap-rw err %d", errno);
		return;
	}
	if (!strcmp(what, "MPROTECT-EXEC"))
		report("mprotect-exec", mprotect(p, (size_t)pg, PROT_READ | PROT_EXEC));
	else if (!strcmp(what, "MPROTECT-RWX"))
		report("mprotect-rwx", mprotect(p, (size_t)pg, PROT_READ | PROT_WRITE | PROT_EXEC));
	else if (!strcmp(what, "PKEY-MPROTECT-EXEC"))
		report("pkey-mprotect-exec", syscall(SYS_pkey_mprotect, p, pg, PROT_READ | PROT_EXEC, -1));
	else if (!strcmp(what, "MMAP-EXEC"))
		report("mmap-exec", mmap(NULL, (size_t)pg, PROT_READ | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED ? -1 : 0);
	else if (!strcmp(what, "MEMORY-ALLOWED"))
		report("memory-allowed", mprotect(p, (size_t)pg, PROT_READ));
	else
		say("unknown");
	munmap(p, (size_t)pg);
}

static int
run_sandbox_probe(const char *cmd)
{
	static const char *const fcntl_cmds[] = { "SETOWN-MASTER", "SETOWN-EX", "SETSIG", "ASYNC",
	    "SETLEASE", "NOTIFY", "IOCTL-SETOWN", "KILL-GROUP" };
	static const char *const mem_cmds[] = { "MPROTECT-EXEC", "MPROTECT-RWX", "PKEY-MPROTECT-EXEC",
	    "MMAP-EXEC", "MEMORY-ALLOWED" };
	size_t i;

	for (i = 0; i < sizeof(fcntl_cmds) / sizeof(fcntl_cmds[0]); i++)
		if (!strcmp(cmd, fcntl_cmds[i])) {
			cmd_fcntl_attack(cmd);
			return 1;
		}
	for (i = 0; i < sizeof(mem_cmds) / sizeof(mem_cmds[0]); i++)
		if (!strcmp(cmd, mem_cmds[i])) {
			cmd_memory(cmd);
			return 1;
		}
	if (!strcmp(cmd, "FCNTL-ALLOWED")) {
		cmd_fcntl_allowed();
		return 1;
	}
	return 0;
}
/* ---- end of signals and executable memory ------------------------------ */

/* Mail intake on the control channel: a recipient (and, with "twice", a
 * second one before the first is answered), or a stored for an index. */
static void
intake_rcpt(const char *address, int twice)
{
	static struct master_rcpt_result r;
	int rc;

	masterproto_rcpt_put(&out, 1, address);
	if (ipc_send(FD_CONTROL, &out) < 0 || (twice && ipc_send(FD_CONTROL, &out) < 0)) {
		say("send-failed");
		return;
	}
	rc = recv_wait(FD_CONTROL, 10000);
	if (rc == 1 && in.type == MSG_WORKER_RCPT && masterproto_rcpt_result_get(&in, &r) == 0) {
		say("rcpt status=%u index=%u", r.status, r.n > 0 ? r.index[0] : 0);
		return;
	}
	say(rc == 0 ? "ctl-closed" : rc == -2 ? "no-answer" : "bad-answer");
}

/* The session's DNSBL check: it names nothing (the master looks up the
 * client it accepted); a second request kills the worker. */
static void
intake_dnsbl(void)
{
	static struct dnsbl_verdict v;
	int rc;

	masterproto_empty_put(&out, MSG_MASTER_DNSBL);
	if (ipc_send(FD_CONTROL, &out) < 0) {
		say("send-failed");
		return;
	}
	rc = recv_wait(FD_CONTROL, 10000);
	if (rc == 1 && in.type == MSG_WORKER_DNSBL && resolvproto_verdict_get(&in, &v) == 0) {
		say("dnsbl status=%u zone=%s answer=%s", v.status, v.zone, v.addr);
		return;
	}
	say(rc == 0 ? "ctl-closed" : rc == -2 ? "no-answer" : "bad-answer");
}

static void
intake_deliver(uint32_t index)
{
	int rc;

	masterproto_deliver_put(&out, index);
	if (ipc_send(FD_CONTROL, &out) < 0) {
		say("send-failed");
		return;
	}
	rc = recv_wait(FD_CONTROL, 10000);
	if (rc == 1 && in.type == MSG_WORKER_DELIVER && in.fd >= 0) {
		if (store_fd >= 0)
			close(store_fd);
		store_fd = in.fd;
		say("deliver-fd");
		return;
	}
	ipc_in_close_fd(&in);
	say(rc == 0 ? "ctl-closed" : rc == 1 && in.type == MSG_WORKER_STORE_FAIL ? "deliver-fail" :
	    "bad-answer");
}

static void
run(char *line)
{
	char *cmd = strtok(line, " \r\n"), *a = strtok(NULL, " \r\n"), *b = strtok(NULL, " \r\n");

	if (cmd == NULL)
		return;
	if (kd_run(cmd, a, b, strtok(NULL, " \r\n")))	/* sec-keyd */
		return;
	if (!strcmp(cmd, "FORGE-MASTER") && a)
		forge_login(FD_CONTROL, a);
	else if (!strcmp(cmd, "FORGE-AUTHD") && a) {
		forge_login(FD_AUTH, a);
		say(recv_wait(FD_AUTH, 10000) == 0 ? "authd-closed" : "authd-open");
	} else if (!strcmp(cmd, "FORGE-BACKEND")) {
		/* the master's MSG_AUTHD_BACKEND on the worker's own authd
		 * channel, offering this worker's authd channel as a backend
		 * helper's: authd would send it other sessions' names */
		ipc_out_init(&out, MSG_AUTHD_BACKEND);
		ipc_put_u8(&out, BACKENDQ_PGSQL);
		ipc_put_u32(&out, (uint32_t)getpid());
		ipc_put_fd(&out, FD_AUTH);
		say(ipc_send(FD_AUTH, &out) == 0 ? "sent" : "send-failed");
		say(recv_wait(FD_AUTH, 10000) == 0 ? "authd-closed" : "authd-open");
	} else if (!strcmp(cmd, "LOGIN") && a && b)
		cmd_login(a, b);
	else if (!strcmp(cmd, "WAIT-STORE"))
		say(recv_wait(FD_CONTROL, 1000) == -2 ? "no-store" : "store-arrived");
	else if (!strcmp(cmd, "OPEN") && store_fd >= 0)
		store_simple(MSG_STORE_POP_OPEN, "open");
	else if (!strcmp(cmd, "BADTYPE") && store_fd >= 0)
		store_simple(0x7777, "badtype");
	else if (!strcmp(cmd, "DELIVER") && store_fd >= 0)
		store_deliver();
	else if (!strcmp(cmd, "FETCH") && a && store_fd >= 0)
		cmd_fetch(strtoul(a, NULL, 10));
	else if (!strcmp(cmd, "FORGE-PROXY") && a) {
		/* claim a client address on a listener without the PROXY protocol */
		ipc_out_init(&out, MSG_MASTER_PROXY);
		ipc_put_str(&out, a);
		say(ipc_send(FD_CONTROL, &out) == 0 ? "sent" : "send-failed");
	} else if (!strcmp(cmd, "INTAKE-RCPT") && a)
		intake_rcpt(a, b != NULL && !strcmp(b, "twice"));
	else if (!strcmp(cmd, "INTAKE-RESET")) {
		masterproto_empty_put(&out, MSG_MASTER_RESET);
		say(ipc_send(FD_CONTROL, &out) == 0 ? "sent" : "send-failed");
	} else if (!strcmp(cmd, "INTAKE-DNSBL"))
		intake_dnsbl();
	else if (!strcmp(cmd, "INTAKE-DELIVER") && a)
		intake_deliver((uint32_t)strtoul(a, NULL, 10));
	else if (!strcmp(cmd, "KEYD-SIGN") && a)
		keyd_sign(strtoul(a, NULL, 10));
	else if (!strcmp(cmd, "KEYD-BADTYPE"))
		keyd_badtype();
	else if (!strcmp(cmd, "FLOOD-KEYD") && a)
		flood_keyd(strtoul(a, NULL, 10));
	else if (!strcmp(cmd, "KEYD-CHAINS"))
		keyd_chains();
	else if (!strcmp(cmd, "FLOOD-AUTHD") && a)
		flood_authd(strtoul(a, NULL, 10));
	else if (!strcmp(cmd, "LOG-REWRITE"))
		log_rewrite();
	else if (!strcmp(cmd, "LOG-FLOOD") && a)
		log_flood(strtoul(a, NULL, 10));
	else if (run_sandbox_probe(cmd))
		;
	else if (!strcmp(cmd, "QUIT"))
		exit(0);
	else if (!strncmp(cmd, "IMAP-", 5) && store_fd >= 0)
		imap_cmd(cmd, a);
	else if (!strcmp(cmd, "FDS") && a && b)
		cmd_fds(a, (unsigned)strtoul(b, NULL, 10));
	else if (!strcmp(cmd, "CONTROL-CONNECT") && a) {
		/* the master's control socket: no list holds socket(2) */
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", a);
		report("control-connect", fd < 0 ? -1 :
		    connect(fd, (struct sockaddr *)&sun, sizeof(sun)));
	} else if (!strcmp(cmd, "MEMFD")) {
		/* in imapd's filter (APPEND), not in pop3d's: SIGSYS there */
		int fd = memfd_create("hostile", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		say(fd >= 0 ? "memfd ok" : "memfd failed");
		if (fd >= 0)
			close(fd);
	}
	else
		say("unknown");
}

int
main(int argc, char **argv)
{
	const char *cfgpath = "/etc/postern/postern.conf", *base;
	struct sandbox_spec spec;
	struct config cfg;
	char err[256], line[512];
	size_t len = 0;
	int opt;

	while ((opt = getopt(argc, argv, "c:s:i:")) != -1)
		if (opt == 'c')
			cfgpath = optarg;
	if (config_load(&cfg, cfgpath, err, sizeof(err)) < 0)
		return 1;
	start_pgrp = getpgrp();
	/* run as imap_worker (installed under a name with "imap"), it takes
	 * imapd's sandbox: the one a compromised imapd would hold.  The name,
	 * not the path: a checkout in a directory named like "wt-imap" is no
	 * imap_worker */
	base = strrchr(argv[0], '/');
	base = base != NULL ? base + 1 : argv[0];
	policy_spec(strstr(base, "imap") != NULL ? POLICY_IMAPD : POLICY_POP3D, &cfg, &spec);
	sandbox_confine(&spec);
	sandbox_lock(&spec);
	say("+OK hostile worker ready");
	for (;;) {
		ssize_t n = read(FD_CLIENT, line + len, sizeof(line) - 1 - len);
		char *nl;
		if (n <= 0)
			return 0;
		len += (size_t)n;
		line[len] = '\0';
		while ((nl = strchr(line, '\n')) != NULL) {
			size_t l = (size_t)(nl - line) + 1;
			char one[512];
			memcpy(one, line, l);
			one[l] = '\0';
			memmove(line, line + l, len - l + 1);
			len -= l;
			run(one);
		}
		if (len == sizeof(line) - 1)
			len = 0;
	}
}
