/* ipc.h - typed messages over SOCK_SEQPACKET with optional fd passing.
 *
 * One datagram is one message: an 8-byte header (version, flags, type,
 * payload length) and a payload of typed fields.  Writers put fields into an
 * ipc_out; readers get them from an ipc_in whose error is sticky, and
 * ipc_in_end() fails when data is short or bytes trail.  Every receiver
 * dispatches through a table of accepted types (ipc_dispatch), so unknown
 * types, wrong fd presence and malformed payloads fail closed.
 */
#ifndef POSTERN_IPC_H
#define POSTERN_IPC_H

#include <stddef.h>
#include <stdint.h>

#define IPC_VERSION	1
#define IPC_HDR_LEN	8
#define IPC_MAX_PAYLOAD	(64 * 1024)
#define IPC_MAX_MSG	(IPC_HDR_LEN + IPC_MAX_PAYLOAD)

#define IPC_FLAG_FD	0x01	/* the message carries exactly one fd */

struct ipc_out {
	uint16_t type;
	int err;
	int fd;			/* -1 or an fd to pass (not closed by send) */
	size_t len;
	uint8_t data[IPC_MAX_MSG];
};

struct ipc_in {
	uint16_t type;
	int err;
	int fd;			/* -1 or the received fd; owned by the caller */
	size_t len;		/* payload length */
	size_t off;		/* read cursor into payload */
	uint8_t data[IPC_MAX_MSG];
};

/* Start a message of the given type. */
void ipc_out_init(struct ipc_out *o, uint16_t type);
void ipc_put_u8(struct ipc_out *o, uint8_t v);
void ipc_put_u32(struct ipc_out *o, uint32_t v);
void ipc_put_u64(struct ipc_out *o, uint64_t v);
/* A byte string: u32 length then bytes. */
void ipc_put_bytes(struct ipc_out *o, const void *p, size_t len);
void ipc_put_str(struct ipc_out *o, const char *s);
/* Attach an fd to pass (the caller keeps and closes its own copy). */
void ipc_put_fd(struct ipc_out *o, int fd);

/* Send one message. Returns 0, or -1 (errno; EMSGSIZE if a put overflowed). */
int ipc_send(int sock, struct ipc_out *o);

/* The same without ever blocking: -1 with errno EAGAIN when the peer's
 * queue is full.  Brokers and the master answer peers that may be hostile
 * with this: a peer that stops reading must never stall them (a legitimate
 * worker does strict request/reply, so a full queue means it is not one). */
int ipc_send_nowait(int sock, struct ipc_out *o);

/* Bound how long a blocking send or receive on sock may wait (SO_RCVTIMEO
 * and SO_SNDTIMEO): a worker's calls to a broker that stopped answering
 * then fail with EAGAIN instead of hanging the session.  Returns 0 or -1. */
int ipc_set_timeout(int sock, unsigned ms);

/* Receive one message into in.  Returns 1 for a message, 0 on EOF, -1 on
 * error: socket error, truncated datagram or control data, bad header, more
 * than one fd, or an fd flag that does not match the fds received (any fds
 * received with a rejected message are closed).  errno EMFILE: a message
 * with an fd arrived but the fd could not be received (our fd table is
 * full); that message is lost, the peer did nothing wrong. */
int ipc_recv(int sock, struct ipc_in *in);

/* Pure decoder of a received datagram (also the fuzz entry point): check the
 * header of buf[0..len) and set in->type/len/off.  fd_present says whether the
 * kernel delivered one fd.  Returns 0 or -1. */
int ipc_decode(struct ipc_in *in, const uint8_t *buf, size_t len, int fd_present);

uint8_t ipc_get_u8(struct ipc_in *in);
uint32_t ipc_get_u32(struct ipc_in *in);
uint64_t ipc_get_u64(struct ipc_in *in);
/* Point at a byte string inside the message (valid until the next recv).
 * Returns its length; sets the sticky error if it exceeds max. */
size_t ipc_get_bytes(struct ipc_in *in, const uint8_t **p_r, size_t max);
/* Copy a text string into out (NUL-terminated); error if it holds a NUL or
 * does not fit in outlen-1 bytes. */
void ipc_get_str(struct ipc_in *in, char *out, size_t outlen);
/* 0 if every field was read without error and nothing trails, else -1. */
int ipc_in_end(struct ipc_in *in);

/* Close a received fd, if any. */
void ipc_in_close_fd(struct ipc_in *in);

/* Dispatch table row: the receiver accepts type, with or without an fd. */
struct ipc_handler {
	uint16_t type;
	uint8_t with_fd;
	int (*fn)(void *ctx, struct ipc_in *in);
};

/* Find in's type in the table, check fd presence and call the handler.
 * Returns the handler's result, or -1 for an unknown type or fd mismatch
 * (the caller then treats the peer as hostile). */
int ipc_dispatch(const struct ipc_handler *tab, size_t n, void *ctx, struct ipc_in *in);

#endif
