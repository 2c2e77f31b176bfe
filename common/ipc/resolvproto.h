/* resolvproto.h - the DNSBL lookups: master <-> resolverd, and the
 * verdict the master relays to an smtpd.
 *
 * The master connects one UDP socket per dns_resolvers address and hands
 * each to resolverd (MSG_RESOLVD_SOCKET) when it starts it.  For a session
 * whose worker asks (MSG_MASTER_DNSBL, masterproto.h: once per session,
 * with no fields) the master sends MSG_RESOLVD_CHECK with the client
 * address it accepted (or the one a trusted PROXY header named): the
 * worker never names what is looked up.  resolverd asks every smtp_dnsbl
 * zone and answers MSG_MASTER_DNSBL_RESULT with the same id; the master
 * passes the verdict on as MSG_WORKER_DNSBL.  One codec for every end;
 * the decoders are pure and fuzzed (fuzz/fuzz_resolvproto.c): the master
 * reads resolverd, which reads the network, and smtpd reads the master.
 */
#ifndef POSTERN_RESOLVPROTO_H
#define POSTERN_RESOLVPROTO_H

#include <netinet/in.h>
#include <stdint.h>

#include "../net/dns.h"
#include "ipc.h"

enum resolvproto_msg {
	/* master -> resolverd */
	MSG_RESOLVD_SOCKET = 0x0d01,	/* index u32 + fd: connected to dns_resolvers[index] */
	MSG_RESOLVD_CHECK = 0x0d02,	/* id u32, sid, ip: is this client listed? */
	/* resolverd -> master */
	MSG_MASTER_DNSBL_RESULT = 0x0e01, /* struct dnsbl_verdict */
};

#define RESOLVPROTO_SID_MAX	25	/* 24 hex digits and the NUL */

struct resolvd_check {
	uint32_t id;
	char sid[RESOLVPROTO_SID_MAX];
	char ip[INET6_ADDRSTRLEN];	/* numeric */
};
void resolvproto_check_put(struct ipc_out *o, const struct resolvd_check *c);
int resolvproto_check_get(struct ipc_in *in, struct resolvd_check *c);

/* MSG_RESOLVD_SOCKET: index < DNS_RESOLVERS_MAX, the fd in in->fd. */
void resolvproto_socket_put(struct ipc_out *o, uint32_t index, int fd);
int resolvproto_socket_get(struct ipc_in *in, uint32_t *index_r);

enum dnsbl_status {
	DNSBL_CLEAN = 0,	/* no zone lists the client */
	DNSBL_LISTED = 1,	/* zone lists it: addr the answer, text its TXT or "" */
	DNSBL_ERROR = 2,	/* no zone lists it, and zone (or "" for all) could not be
				   asked: text says why */
};

struct dnsbl_verdict {
	uint32_t id;		/* the master's (0 towards the worker) */
	uint32_t status;	/* enum dnsbl_status */
	char zone[DNS_NAME_MAX + 1];	/* a zone name, "" with CLEAN */
	char addr[INET_ADDRSTRLEN];	/* LISTED: a.b.c.d, else "" */
	char text[DNS_TXT_MAX + 1];	/* printable ASCII */
};
/* type MSG_MASTER_DNSBL_RESULT or MSG_WORKER_DNSBL (masterproto.h). */
void resolvproto_verdict_put(struct ipc_out *o, uint16_t type, const struct dnsbl_verdict *v);
/* Fails on a status out of range, a zone that is not a DNS name's
 * characters, an addr that is not "" (or, LISTED, an IPv4 address), a
 * text that is not printable. */
int resolvproto_verdict_get(struct ipc_in *in, struct dnsbl_verdict *v);

#endif
