/* masterproto.h - the worker's control channel to the master.
 *
 * The master tells a worker its session's stored channel after a verified
 * login (MSG_WORKER_STORE) and, on a PROXY-protocol listener, answers the
 * one message a worker may ever send it: the client address the trusted
 * proxy named (MSG_MASTER_PROXY).  One codec for both ends; the decoders
 * are pure and fuzzed (fuzz/fuzz_masterproto.c): the master reads bytes of
 * a possibly compromised worker here.
 */
#ifndef POSTERN_MASTERPROTO_H
#define POSTERN_MASTERPROTO_H

#include <netinet/in.h>
#include <stdint.h>

#include "ipc.h"

enum masterproto_msg {
	/* master -> worker */
	MSG_WORKER_STORE = 0x0501,	/* + fd: the channel to this session's stored */
	MSG_WORKER_STORE_FAIL = 0x0502,	/* text */
	MSG_WORKER_PROXY_OK = 0x0503,	/* ip: the client address now in force */
	MSG_WORKER_PROXY_REFUSE = 0x0504, /* text: over a limit for that address */
	MSG_WORKER_RCPT = 0x0507,	/* id u32, status u32, n u32, n x index u32: a recipient's
					 * verdict (0x0505 had one index) */
	MSG_WORKER_DELIVER = 0x0506,	/* + fd: a deliver-view stored for one recipient */
	MSG_WORKER_DNSBL = 0x0508,	/* struct dnsbl_verdict (resolvproto.h), id 0 */
	/* worker -> master: once, and only on a PROXY listener */
	MSG_MASTER_PROXY = 0x0203,	/* client ip text ("" = LOCAL/UNKNOWN) */
	/* worker -> master, only on an intake service (LMTP, SMTP): */
	MSG_MASTER_RCPT = 0x0204,	/* id u32, address: may mail for it be taken? */
	MSG_MASTER_DELIVER = 0x0205,	/* index u32: a stored for that recipient */
	MSG_MASTER_RESET = 0x0206,	/* (empty): forget the transaction's recipients */
	MSG_MASTER_DNSBL = 0x0207,	/* (empty), once: is my client on a DNSBL? */
};

#define MASTERPROTO_IP_MAX	INET6_ADDRSTRLEN	/* with the NUL */
#define MASTERPROTO_TEXT_MAX	128			/* with the NUL */

/* MSG_MASTER_PROXY: ip is "" or a numeric IPv4/IPv6 address. */
void masterproto_proxy_put(struct ipc_out *o, const char *ip);
int masterproto_proxy_get(struct ipc_in *in, char ip_r[MASTERPROTO_IP_MAX]);

/* MSG_WORKER_PROXY_OK: the address in force (numeric, never ""). */
void masterproto_proxy_ok_put(struct ipc_out *o, const char *ip);
int masterproto_proxy_ok_get(struct ipc_in *in, char ip_r[MASTERPROTO_IP_MAX]);

/* MSG_WORKER_PROXY_REFUSE and MSG_WORKER_STORE_FAIL: a reason for the
 * client (printable ASCII, the worker puts it in its refusal line). */
void masterproto_text_put(struct ipc_out *o, uint16_t type, const char *text);
int masterproto_text_get(struct ipc_in *in, char text_r[MASTERPROTO_TEXT_MAX]);

/* Mail intake.  The worker names an address, never a user: the master
 * asks authd (the recipient lookup), keeps what it resolved to in the
 * session's recipient list and answers the list's index.  After DATA the
 * worker asks for a deliver-view stored per index and hands that stored
 * the message (storeproto: MSG_STORE_DELIVER).  One lookup at a time per
 * session; at most MASTERPROTO_RCPT_MAX recipients per transaction. */
#define MASTERPROTO_ADDRESS_MAX	320	/* RFC 5321 4.5.3.1: 64 + 1 + 255 */
#define MASTERPROTO_RCPT_MAX	1000

struct master_rcpt {
	uint32_t id;			/* the worker's, echoed */
	char address[MASTERPROTO_ADDRESS_MAX + 1];
};
void masterproto_rcpt_put(struct ipc_out *o, uint32_t id, const char *address);
int masterproto_rcpt_get(struct ipc_in *in, struct master_rcpt *r);

/* The verdict: status is an enum authd_lookup_status (0 = found: index[0
 * .. n) name the users the address reaches, 1..MASTERPROTO_TARGETS_MAX
 * distinct indexes for MSG_MASTER_DELIVER, several for an alias with
 * several targets; any other status: n = 0). */
#define MASTERPROTO_TARGETS_MAX	32	/* AUTHD_LOOKUP_TARGETS_MAX */

struct master_rcpt_result {
	uint32_t id, status, n;
	uint32_t index[MASTERPROTO_TARGETS_MAX];
};
void masterproto_rcpt_result_put(struct ipc_out *o, const struct master_rcpt_result *r);
int masterproto_rcpt_result_get(struct ipc_in *in, struct master_rcpt_result *r);

/* MSG_MASTER_DELIVER: the index of a found recipient. */
void masterproto_deliver_put(struct ipc_out *o, uint32_t index);
int masterproto_deliver_get(struct ipc_in *in, uint32_t *index_r);

/* MSG_MASTER_RESET and other messages without fields. */
void masterproto_empty_put(struct ipc_out *o, uint16_t type);
int masterproto_empty_get(struct ipc_in *in);

/* MSG_WORKER_STORE and MSG_WORKER_DELIVER: no fields, the fd. */
void masterproto_fd_put(struct ipc_out *o, uint16_t type, int fd);

/* MSG_WORKER_STORE: no fields, the fd. */
void masterproto_store_put(struct ipc_out *o, int fd);
int masterproto_store_get(struct ipc_in *in);

#endif
