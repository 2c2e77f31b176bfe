/* proto.h - the message types of every IPC channel, and the fixed fds.
 *
 * Channels (each a SOCK_SEQPACKET pair made by the master):
 *   master <-> authd    MSG_AUTHD_*  / MSG_MASTER_LOGIN, _LOOKUP_RESULT
 *                       (layouts of CONFIG and the lookup: common/ipc/authdproto.c)
 *   worker <-> authd    MSG_AUTH_*   (SASL relay; authd decides)
 *   master  -> worker   MSG_WORKER_* (the stored fd after a verified login)
 *   worker <-> stored   MSG_STORE_*  (one user's mailbox, in the view the
 *                       master chose; layouts in common/ipc/storeproto.c)
 * Bump IPC_VERSION in ipc.h when a layout changes.
 */
#ifndef POSTERN_PROTO_H
#define POSTERN_PROTO_H

/* Fixed descriptors of exec'd children. */
#define FD_CLIENT	3	/* worker: the client connection */
#define FD_CONTROL	4	/* worker: channel to master; authd/stored: to master or worker */
#define FD_AUTH		5	/* worker: channel to authd */
#define FD_KEYD		6	/* worker: channel to keyd */
#define FD_PARENT	3	/* authd, keyd: master channel; stored: worker channel */

/* How long a worker waits for one answer from authd, keyd or the master
 * (beyond authd's configured failure delay) before it gives up. */
#define BROKER_CALL_TIMEOUT_MS	30000

enum proto_msg {
	/* master -> authd */
	MSG_AUTHD_SESSION_NEW = 0x0101,	/* sid, ip, service + fd: worker channel */
	MSG_AUTHD_CONFIG = 0x0102,	/* common/ipc/authdproto.c: default_domain,
					   mail_root, mail uid, gid, fail_ip_max,
					   fail_user_max, window, delay_ms,
					   trusted_window, ipv6_prefix, max_checks/s */
	MSG_AUTHD_LOOKUP = 0x0103,	/* id u32, address: a recipient lookup */
	/* authd -> master */
	MSG_MASTER_LOGIN = 0x0201,	/* sid, user, uid, gid, mailroot */
	MSG_MASTER_LOOKUP_RESULT = 0x0202, /* id u32, status u32, user, uid u32,
					   gid u32, quota u64, mail root */
	/* worker -> authd */
	MSG_AUTH_START = 0x0301,	/* mech, has_ir u8, ir bytes (base64 text) */
	MSG_AUTH_CONTINUE = 0x0302,	/* response line (base64 text or "*") */
	MSG_AUTH_USERPASS = 0x0303,	/* user bytes, password bytes (POP3 USER/PASS) */
	/* authd -> worker */
	MSG_AUTH_CHALLENGE = 0x0401,	/* base64 text */
	MSG_AUTH_OK = 0x0402,		/* (empty) the master will send the stored fd */
	MSG_AUTH_FAIL = 0x0403,		/* code u32, text */
	/* master -> worker */
	MSG_WORKER_STORE = 0x0501,	/* + fd: the channel to this session's stored */
	MSG_WORKER_STORE_FAIL = 0x0502,	/* text */
	MSG_WORKER_PROXY_OK = 0x0503,	/* ip: the client address now in force */
	MSG_WORKER_PROXY_REFUSE = 0x0504, /* text: over a limit for that address */
	/* worker -> master: the one message a worker may send, once, and only
	 * on a PROXY-protocol listener from a trusted proxy */
	MSG_MASTER_PROXY = 0x0203,	/* client ip text ("" = LOCAL/UNKNOWN) */
	/* worker -> stored */
	MSG_STORE_POP_OPEN = 0x0601,	/* (empty) lock + snapshot the mailbox */
	MSG_STORE_POP_SIZES = 0x0602,	/* start u32 */
	MSG_STORE_POP_UIDLS = 0x0603,	/* start u32 */
	MSG_STORE_POP_FETCH = 0x0604,	/* msg index u32 (0-based) */
	MSG_STORE_POP_COMMIT = 0x0605,	/* final u8, count u32, count x index u32:
					   UPDATE state, remove these messages */
	MSG_STORE_IMAP_OPEN = 0x0611,	/* (empty) imap view: shared lock (stub) */
	MSG_STORE_DELIVER = 0x0621,	/* length u64 + fd: deliver view, one
					   message into the INBOX */
	/* stored -> worker */
	MSG_STORE_OK = 0x0701,		/* value u64 */
	MSG_STORE_ERR = 0x0702,		/* code u32 (enum store_err), text */
	MSG_STORE_SIZES = 0x0703,	/* start u32, count u32, more u8, count x u64 */
	MSG_STORE_UIDLS = 0x0704,	/* start u32, count u32, more u8, count x bytes */
	MSG_STORE_MSGFD = 0x0705,	/* crlf size u64 + fd: the message, read-only */
	MSG_STORE_DELIVERED = 0x0706,	/* file name in new/: durable, answer OK */
	/* master -> keyd */
	MSG_KEYD_SESSION_NEW = 0x0801,	/* sid, client ip ("" = PROXY listener: no
					   session cache) + fd: worker channel */
	MSG_KEYD_RETIRE = 0x0802,	/* a newer keyd took over: exit when idle */
	/* keyd -> master */
	MSG_KEYD_READY = 0x0811,	/* count u32: keys loaded, serving */
	/* worker -> keyd */
	MSG_KEYD_CHAINS_REQ = 0x0901,	/* (empty) */
	/* 0x0902 (sign a hash) and 0x0903 (KEYX with a validity flag) are
	   retired: new numbers for the new layouts, so a stale peer fails closed */
	MSG_KEYD_SIGN = 0x0906,		/* key id u32, TLS version u32, algo u32,
					   ServerKeyExchange signed_params bytes */
	MSG_KEYD_KEYX = 0x0907,		/* key id u32, client_max_version u32,
					   RSA ciphertext bytes */
	MSG_KEYD_CACHE_SAVE = 0x0904,	/* session id bytes, version u32, suite u32,
					   master secret bytes */
	MSG_KEYD_CACHE_LOAD = 0x0905,	/* session id bytes */
	/* keyd -> worker */
	MSG_KEYD_CHAIN = 0x0a01,	/* key id u32, key type u8, curve u8, names
					   count u32 + strings, certs count u32 + DER bytes */
	MSG_KEYD_CHAINS_END = 0x0a02,	/* (empty) */
	MSG_KEYD_SIGNATURE = 0x0a03,	/* signature bytes */
	MSG_KEYD_KEYX_RESULT = 0x0a08,	/* 48 bytes: the premaster secret, or a
					   pseudo-random one (no flag; was 0x0a04) */
	MSG_KEYD_CACHE_HIT = 0x0a05,	/* version u32, suite u32, master secret */
	MSG_KEYD_CACHE_MISS = 0x0a06,	/* (empty) */
	MSG_KEYD_ERR = 0x0a07,		/* text: refused (unknown key id, bad data) */
};

enum auth_fail_code {
	AUTH_FAIL_CREDENTIALS = 1,	/* wrong user or password (never says which) */
	AUTH_FAIL_THROTTLED = 2,	/* too many failures from this IP / for this user */
	AUTH_FAIL_SYNTAX = 3,		/* malformed SASL data */
	AUTH_FAIL_MECH = 4,		/* unknown mechanism */
	AUTH_FAIL_ABORTED = 5,		/* client sent "*" */
	AUTH_FAIL_TEMP = 6,		/* db or internal failure: try later */
	AUTH_FAIL_DISABLED = 7,		/* account disabled */
};

enum store_err {
	STORE_ERR_INUSE = 1,		/* another session holds the mailbox lock */
	STORE_ERR_NOMSG = 2,		/* no such message */
	STORE_ERR_GONE = 3,		/* the file was removed by another program */
	STORE_ERR_IO = 4,		/* storage failure */
	STORE_ERR_PROTO = 5,		/* request not valid now */
	STORE_ERR_TOOBIG = 6,		/* message over STORE_DELIVER_MAX or quota */
};

/* The store channel's size limits are in common/ipc/storeproto.h. */

#endif
