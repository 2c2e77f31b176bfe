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
	/* worker -> master: once, and only on a PROXY listener */
	MSG_MASTER_PROXY = 0x0203,	/* client ip text ("" = LOCAL/UNKNOWN) */
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

/* MSG_WORKER_STORE: no fields, the fd. */
void masterproto_store_put(struct ipc_out *o, int fd);
int masterproto_store_get(struct ipc_in *in);

#endif
