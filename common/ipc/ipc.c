/* ipc.c - typed messages over SOCK_SEQPACKET. */
#include "ipc.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

void
ipc_out_init(struct ipc_out *o, uint16_t type)
{
	o->type = type;
	o->err = 0;
	o->fd = -1;
	o->len = IPC_HDR_LEN;
}

static void
put_raw(struct ipc_out *o, const void *p, size_t len)
{
	if (o->err)
		return;
	if (len > sizeof(o->data) - o->len) {
		o->err = 1;
		return;
	}
	memcpy(o->data + o->len, p, len);
	o->len += len;
}

uint8_t *
ipc_put_reserve(struct ipc_out *o, size_t len)
{
	uint8_t *p;

	if (o->err || len > sizeof(o->data) - o->len) {
		o->err = 1;
		return NULL;
	}
	p = o->data + o->len;
	o->len += len;
	return p;
}

void
ipc_put_u8(struct ipc_out *o, uint8_t v)
{
	put_raw(o, &v, 1);
}

void
ipc_put_u32(struct ipc_out *o, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	put_raw(o, b, 4);
}

void
ipc_put_u64(struct ipc_out *o, uint64_t v)
{
	ipc_put_u32(o, (uint32_t)(v >> 32));
	ipc_put_u32(o, (uint32_t)v);
}

void
ipc_put_bytes(struct ipc_out *o, const void *p, size_t len)
{
	if (len > IPC_MAX_PAYLOAD) {
		o->err = 1;
		return;
	}
	ipc_put_u32(o, (uint32_t)len);
	put_raw(o, p, len);
}

void
ipc_put_str(struct ipc_out *o, const char *s)
{
	ipc_put_bytes(o, s, strlen(s));
}

void
ipc_put_fd(struct ipc_out *o, int fd)
{
	o->fd = fd;
}

static int
send_flags(int sock, struct ipc_out *o, int flags)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct msghdr msg;
	struct iovec iov;
	size_t plen = o->len - IPC_HDR_LEN;
	ssize_t n;

	if (o->err) {
		errno = EMSGSIZE;
		return -1;
	}
	o->data[0] = IPC_VERSION;
	o->data[1] = o->fd >= 0 ? IPC_FLAG_FD : 0;
	o->data[2] = (uint8_t)(o->type >> 8);
	o->data[3] = (uint8_t)o->type;
	o->data[4] = (uint8_t)(plen >> 24);
	o->data[5] = (uint8_t)(plen >> 16);
	o->data[6] = (uint8_t)(plen >> 8);
	o->data[7] = (uint8_t)plen;

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = o->data;
	iov.iov_len = o->len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (o->fd >= 0) {
		struct cmsghdr *c;
		memset(&cm, 0, sizeof(cm));
		msg.msg_control = cm.buf;
		msg.msg_controllen = sizeof(cm.buf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &o->fd, sizeof(int));
	}
	do {
		n = sendmsg(sock, &msg, MSG_NOSIGNAL | flags);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if ((size_t)n != o->len) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

int
ipc_send(int sock, struct ipc_out *o)
{
	return send_flags(sock, o, 0);
}

int
ipc_send_nowait(int sock, struct ipc_out *o)
{
	return send_flags(sock, o, MSG_DONTWAIT);
}

int
ipc_set_timeout(int sock, unsigned ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };

	if (setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		return -1;
	return 0;
}

int
ipc_decode(struct ipc_in *in, const uint8_t *buf, size_t len, int fd_present)
{
	uint32_t plen;

	in->err = 0;
	in->off = 0;
	in->len = 0;
	if (len < IPC_HDR_LEN || len > IPC_MAX_MSG)
		return -1;
	if (buf[0] != IPC_VERSION)
		return -1;
	if ((buf[1] & ~IPC_FLAG_FD) != 0)
		return -1;
	if (((buf[1] & IPC_FLAG_FD) != 0) != (fd_present != 0))
		return -1;
	in->type = (uint16_t)((buf[2] << 8) | buf[3]);
	plen = ((uint32_t)buf[4] << 24) | ((uint32_t)buf[5] << 16) |
	    ((uint32_t)buf[6] << 8) | buf[7];
	if (plen != len - IPC_HDR_LEN)
		return -1;
	in->len = plen;
	if (buf != in->data)
		memmove(in->data, buf, len);
	return 0;
}

static int
recv_fds(struct msghdr *msg, int *fd_r)
{
	struct cmsghdr *c;
	int nfds = 0, bad = 0;

	*fd_r = -1;
	for (c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c)) {
		size_t i, n;
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
			bad = 1;
			continue;
		}
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (nfds++ == 0)
				*fd_r = fd;
			else
				close(fd);
		}
	}
	if (bad || nfds > 1) {
		if (*fd_r >= 0)
			close(*fd_r);
		*fd_r = -1;
		return -1;
	}
	return 0;
}

int
ipc_recv(int sock, struct ipc_in *in)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} cm;
	struct msghdr msg;
	struct iovec iov;
	ssize_t n;
	int fd;

	in->fd = -1;
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = in->data;
	iov.iov_len = sizeof(in->data);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	do {
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if (recv_fds(&msg, &fd) < 0) {
		errno = EPROTO;
		return -1;
	}
	if (n == 0 && fd < 0)
		return 0;
	/* A message that carried an fd we could not take (our fd table is
	 * full: the kernel dropped it and set MSG_CTRUNC): the message is
	 * lost, the process is not at fault; say so apart from bad data. */
	if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) == MSG_CTRUNC && fd < 0 &&
	    n >= IPC_HDR_LEN && (in->data[1] & IPC_FLAG_FD) != 0) {
		errno = EMFILE;
		return -1;
	}
	if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 ||
	    ipc_decode(in, in->data, (size_t)n, fd >= 0) < 0) {
		if (fd >= 0)
			close(fd);
		errno = EPROTO;
		return -1;
	}
	in->fd = fd;
	return 1;
}

static const uint8_t *
get_raw(struct ipc_in *in, size_t len)
{
	const uint8_t *p;

	if (in->err || len > in->len - in->off) {
		in->err = 1;
		return NULL;
	}
	p = in->data + IPC_HDR_LEN + in->off;
	in->off += len;
	return p;
}

const uint8_t *
ipc_get_raw(struct ipc_in *in, size_t len)
{
	return get_raw(in, len);
}

uint8_t
ipc_get_u8(struct ipc_in *in)
{
	const uint8_t *p = get_raw(in, 1);
	return p ? p[0] : 0;
}

uint32_t
ipc_get_u32(struct ipc_in *in)
{
	const uint8_t *p = get_raw(in, 4);
	if (p == NULL)
		return 0;
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

uint64_t
ipc_get_u64(struct ipc_in *in)
{
	uint64_t hi = ipc_get_u32(in), lo = ipc_get_u32(in);

	return in->err ? 0 : (hi << 32) | lo;
}

size_t
ipc_get_bytes(struct ipc_in *in, const uint8_t **p_r, size_t max)
{
	uint32_t len = ipc_get_u32(in);

	*p_r = NULL;
	if (in->err || len > max) {
		in->err = 1;
		return 0;
	}
	*p_r = get_raw(in, len);
	return *p_r ? len : 0;
}

void
ipc_get_str(struct ipc_in *in, char *out, size_t outlen)
{
	const uint8_t *p;
	size_t len = ipc_get_bytes(in, &p, outlen > 0 ? outlen - 1 : 0);

	if (outlen == 0)
		return;
	out[0] = '\0';
	if (in->err)
		return;
	if (memchr(p, '\0', len) != NULL) {
		in->err = 1;
		return;
	}
	memcpy(out, p, len);
	out[len] = '\0';
}

int
ipc_text_printable(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s > 0x7e)
			return 0;
	return 1;
}

int
ipc_in_end(struct ipc_in *in)
{
	if (in->err || in->off != in->len)
		return -1;
	return 0;
}

int
ipc_in_end_no_fd(struct ipc_in *in)
{
	return ipc_in_end(in) < 0 || in->fd >= 0 ? -1 : 0;
}

void
ipc_in_close_fd(struct ipc_in *in)
{
	if (in->fd >= 0) {
		close(in->fd);
		in->fd = -1;
	}
}

/* May row i of tab be accepted on ch now? */
static int
permitted(const struct ipc_handler *h, size_t i, const struct ipc_chan *ch)
{
	if (ch == NULL)
		return h->phases == 0 && !h->once;
	if (h->phases != 0 && !(h->phases & ch->phase))
		return 0;
	return !(h->once && (ch->used & ((uint64_t)1 << i)));
}

int
ipc_dispatch_chan(const struct ipc_handler *tab, size_t n, struct ipc_chan *ch, void *ctx,
    struct ipc_in *in)
{
	size_t i;

	for (i = 0; i < n && i < 64; i++) {
		if (tab[i].type != in->type)
			continue;
		if ((in->fd >= 0) != (tab[i].with_fd != 0))
			break;
		if (tab[i].with_fd == IPC_FD_FILE) {
			struct stat st;

			if (fstat(in->fd, &st) < 0 || !S_ISREG(st.st_mode))
				break;
		}
		if (!permitted(&tab[i], i, ch)) {
			ipc_in_close_fd(in);
			return IPC_DENIED;
		}
		if (ch != NULL && tab[i].once)
			ch->used |= (uint64_t)1 << i;
		if (ch != NULL && tab[i].then != 0)
			ch->phase = tab[i].then;
		return tab[i].fn(ctx, in);
	}
	ipc_in_close_fd(in);
	return -1;
}

int
ipc_dispatch(const struct ipc_handler *tab, size_t n, void *ctx, struct ipc_in *in)
{
	return ipc_dispatch_chan(tab, n, NULL, ctx, in);
}

int
ipc_call(int sock, struct ipc_out *out, struct ipc_in *in, const uint16_t *expect,
    size_t nexpect, int with_fd)
{
	size_t i;
	int rc;

	if (ipc_send(sock, out) < 0)
		return -1;
	rc = ipc_recv(sock, in);
	if (rc <= 0) {
		if (rc == 0)
			errno = EPIPE;
		return -1;
	}
	for (i = 0; i < nexpect; i++)
		if (expect[i] == in->type && (in->fd >= 0) == (with_fd != 0))
			return 0;
	ipc_in_close_fd(in);
	errno = EPROTO;
	return -1;
}
