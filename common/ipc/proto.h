/* proto.h - the fixed descriptors of exec'd children, and the index of
 * the channels.  Each channel's messages, sizes and codec are in its own
 * header; both ends use the same one:
 *   master <-> authd, worker <-> authd   authdproto.h  MSG_AUTHD_*, MSG_MASTER_LOGIN,
 *                                                      MSG_AUTH_*
 *   master <-> keyd, worker <-> keyd     keydproto.h   MSG_KEYD_*
 *   master <-> worker (control)          masterproto.h MSG_WORKER_*, MSG_MASTER_PROXY
 *   worker <-> stored                    storeproto.h  MSG_STORE_*
 *   master <-> resolverd                 resolvproto.h MSG_RESOLVD_*, MSG_MASTER_DNSBL_RESULT
 *                                                      (and the verdict's MSG_WORKER_DNSBL)
 *   authd <-> backend helper             backendproto.h MSG_BACKEND_*
 * Message numbers are unique across channels (a message sent on the wrong
 * channel is an unknown type there).  A changed layout gets a new number,
 * so an old peer fails closed; IPC_VERSION (ipc.h) covers the framing.
 */
#ifndef POSTERN_PROTO_H
#define POSTERN_PROTO_H

/* Fixed descriptors of exec'd children (policy.c names them per process:
 * posternctl policy prints the layout). */
#define FD_CLIENT	3	/* worker: the client connection */
#define FD_CONTROL	4	/* worker: channel to master; authd/stored: to master or worker */
#define FD_AUTH		5	/* worker: channel to authd */
#define FD_KEYD		6	/* worker: channel to keyd */
#define FD_PARENT	3	/* authd, keyd: master channel; stored: worker channel */

/* How long a worker waits for one answer from authd, keyd or the master
 * (beyond authd's configured failure delay) before it gives up. */
#define BROKER_CALL_TIMEOUT_MS	30000

#endif
