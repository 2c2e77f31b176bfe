/* postern-resolverd: the DNSBL lookups of smtpd sessions, for the master.
 *
 * One long-running process the master starts (and restarts) like authd
 * and keyd when smtp_dnsbl lists zones.  It enters its sandbox before it
 * has a byte from the network: resolverd_uid, chroot into empty_root, no
 * capabilities, no_new_privs, seccomp with the base and I/O groups and
 * getrandom only.  It has no socket(2) or connect(2): its sockets are UDP
 * sockets the master connected to the dns_resolvers addresses and passed
 * over fd 3 (MSG_RESOLVD_SOCKET), so it can send only to them, and the
 * kernel queues on each only datagrams from that resolver's address and
 * port.  For each MSG_RESOLVD_CHECK (an id, the session, the client
 * address the master accepted) it asks every zone an A question with a
 * random id and 0x20 case, then a TXT question for a listing, and answers
 * the master once: listed, clean or error, within dns_timeout_ms.  The
 * datagrams are read by common/net/dns.c (pure, fuzzed); one that is not
 * the answer to a question in flight is dropped.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../common/base/daemon.h"
#include "../../common/base/ev.h"
#include "../../common/base/log.h"
#include "../../common/ipc/ipc.h"
#include "../../common/ipc/proto.h"
#include "../../common/ipc/resolvproto.h"
#include "../../common/net/dns.h"
#include "../../policy/policy.h"

/* Checks in flight (one per smtpd session that asked, answered within
 * dns_timeout_ms): past it a check is answered "busy" at once. */
#define CHECKS_MAX	128
/* Datagrams read per wakeup of one socket. */
#define READS_MAX	64

enum q_state { Q_DONE, Q_A, Q_TXT };
enum z_state { Z_PENDING, Z_CLEAN, Z_LISTED, Z_ERROR };

struct zone_q {
	enum q_state q;
	enum z_state z;
	uint16_t id;		/* the DNS id of the question in flight */
	uint8_t sock;
	uint8_t tries;		/* resolvers this question went to */
	uint32_t hit;		/* Z_LISTED: the answer */
	char name[DNS_NAME_MAX + 1];	/* as sent: case included */
	char text[DNS_TXT_MAX + 1];	/* Z_LISTED: its TXT; Z_ERROR: why */
};

struct check {
	uint32_t id;		/* the master's; 0 = free slot */
	char sid[RESOLVPROTO_SID_MAX];
	char ip[INET6_ADDRSTRLEN];
	uint64_t timer;
	unsigned pending;
	struct zone_q zq[DNS_ZONES_MAX];
};

static struct check checks[CHECKS_MAX];
static struct dns_zone zones[DNS_ZONES_MAX];
static unsigned nzones;
static int socks[DNS_RESOLVERS_MAX];
static unsigned nsocks;
static uint64_t timeout_ms;
static unsigned long ignored;	/* datagrams that answered nothing we asked */
static struct ipc_in inmsg;
static struct ipc_out outmsg;

static void
random_bytes(void *p, size_t n)
{
	if (getrandom(p, n, 0) != (ssize_t)n)
		fatal("reason=\"getrandom failed\" errno=%d", errno);
}

/* A DNS id no question in flight on sock has. */
static uint16_t
fresh_id(uint8_t sock)
{
	uint16_t id;
	size_t i, k;

	for (;;) {
		random_bytes(&id, sizeof(id));
		for (i = 0; i < CHECKS_MAX; i++)
			for (k = 0; k < nzones; k++)
				if (checks[i].id != 0 && checks[i].zq[k].q != Q_DONE &&
				    checks[i].zq[k].sock == sock && checks[i].zq[k].id == id)
					goto again;
		return id;
again:
		;
	}
}

static void
verdict_send(const struct dnsbl_verdict *v)
{
	resolvproto_verdict_put(&outmsg, MSG_MASTER_DNSBL_RESULT, v);
	/* never block on the master: a master that does not read loses the
	 * answer, and its own timer answers the session */
	if (ipc_send_nowait(FD_PARENT, &outmsg) < 0)
		log_event(LOG_LEVEL_WARN, "dnsbl_reply_lost", "id=%u errno=%d", v->id, errno);
}

/* The verdict: the first zone (in smtp_dnsbl's order) that lists the
 * client, else the first that failed, else clean. */
static void
finish(struct check *c)
{
	static struct dnsbl_verdict v;
	const struct zone_q *e = NULL;
	unsigned k;

	memset(&v, 0, sizeof(v));
	v.id = c->id;
	for (k = 0; k < nzones && e == NULL; k++)
		if (c->zq[k].z == Z_LISTED)
			e = &c->zq[k];
	if (e != NULL) {
		v.status = DNSBL_LISTED;
		snprintf(v.addr, sizeof(v.addr), "%u.%u.%u.%u", e->hit >> 24, e->hit >> 16 & 255,
		    e->hit >> 8 & 255, e->hit & 255);
	} else {
		for (k = 0; k < nzones && e == NULL; k++)
			if (c->zq[k].z == Z_ERROR)
				e = &c->zq[k];
		v.status = e != NULL ? DNSBL_ERROR : DNSBL_CLEAN;
	}
	if (e != NULL) {
		snprintf(v.zone, sizeof(v.zone), "%s", zones[e - c->zq].name);
		snprintf(v.text, sizeof(v.text), "%s", e->text);
	}
	if (c->timer)
		ev_cancel_timer(c->timer);
	memset(c, 0, sizeof(*c));
	verdict_send(&v);
}

static void
zone_end(struct check *c, unsigned k, enum z_state z, const char *text)
{
	struct zone_q *q = &c->zq[k];

	if (q->q == Q_DONE)
		return;
	q->q = Q_DONE;
	if (z != Z_LISTED || q->z != Z_LISTED) {
		q->z = z;
		snprintf(q->text, sizeof(q->text), "%s", text != NULL ? text : "");
	} else if (text != NULL) {
		snprintf(q->text, sizeof(q->text), "%s", text);
	}
	if (--c->pending == 0)
		finish(c);
}

/* Ask zone k's question of type of the next resolver not yet tried
 * (each check starts at its own one, so checks spread over them); when
 * none is left the zone ends in error with fail (NULL: the send's errno),
 * or, for the TXT of a listing, listed without a text. */
static void
ask(struct check *c, unsigned k, uint16_t type, const char *fail)
{
	struct zone_q *q = &c->zq[k];
	uint8_t pkt[DNS_PACKET_MAX], rnd[8];
	char why[64];
	int n = 0;

	q->q = type == DNS_TYPE_A ? Q_A : Q_TXT;
	for (; q->tries < nsocks; q->tries++) {
		q->sock = (uint8_t)(((unsigned)(c - checks) + q->tries) % nsocks);
		q->id = fresh_id(q->sock);
		/* a fresh case pattern for each question (the TXT's too) */
		random_bytes(rnd, sizeof(rnd));
		dns_0x20(q->name, rnd, sizeof(rnd));
		n = dns_query_build(pkt, sizeof(pkt), q->id, q->name, type);
		if (n > 0 && send(socks[q->sock], pkt, (size_t)n, MSG_DONTWAIT) == n)
			return;
	}
	if (fail == NULL) {
		snprintf(why, sizeof(why), "cannot send to the resolver (errno %d)", n > 0 ? errno : 0);
		fail = why;
	}
	zone_end(c, k, type == DNS_TYPE_A ? Z_ERROR : Z_LISTED, type == DNS_TYPE_A ? fail : NULL);
}

static void
expired(void *ctx)
{
	struct check *c = ctx;
	unsigned k;

	c->timer = 0;
	for (k = 0; k < nzones && c->id != 0; k++)
		if (c->zq[k].q == Q_A)
			zone_end(c, k, Z_ERROR, "no answer within dns_timeout_ms");
		else if (c->zq[k].q == Q_TXT)
			zone_end(c, k, Z_LISTED, NULL);
}

/* An A answer for zone k of c. */
static void
took_a(struct check *c, unsigned k, const struct dns_answer *a)
{
	char why[96];
	uint32_t hit = 0;

	if (a->truncated) {
		zone_end(c, k, Z_ERROR, "truncated answer");
		return;
	}
	if (a->rcode == DNS_RCODE_NXDOMAIN || (a->rcode == DNS_RCODE_NOERROR && a->naddr == 0)) {
		zone_end(c, k, Z_CLEAN, NULL);
		return;
	}
	if (a->rcode != DNS_RCODE_NOERROR) {
		snprintf(why, sizeof(why), "resolver answered rcode %u", a->rcode);
		zone_end(c, k, Z_ERROR, why);
		return;
	}
	switch (dns_listing_of(&zones[k], a->addr, a->naddr, &hit)) {
	case DNS_LISTING_YES:
		c->zq[k].z = Z_LISTED;
		c->zq[k].hit = hit;
		c->zq[k].tries = 0;
		ask(c, k, DNS_TYPE_TXT, NULL);
		return;
	case DNS_LISTING_NO:
		zone_end(c, k, Z_CLEAN, NULL);
		return;
	case DNS_LISTING_BAD:
		break;
	}
	snprintf(why, sizeof(why), "answer %u.%u.%u.%u is not a listing", a->addr[0] >> 24,
	    a->addr[0] >> 16 & 255, a->addr[0] >> 8 & 255, a->addr[0] & 255);
	log_set_session(c->sid);
	log_event(LOG_LEVEL_WARN, "dns_refused", "zone=%s reason=\"%s (outside 127.0.0.0/8 or the "
	    "list's error code)\"", zones[k].name, why);
	log_set_session(NULL);
	zone_end(c, k, Z_ERROR, why);
}

/* One datagram from resolver sock. */
static void
datagram(uint8_t sock, const uint8_t *pkt, size_t len)
{
	static struct dns_answer a;
	uint16_t id = dns_packet_id(pkt, len);
	const char *why;
	size_t i, k;
	int r;

	for (i = 0; i < CHECKS_MAX; i++) {
		struct check *c = &checks[i];
		for (k = 0; c->id != 0 && k < nzones; k++) {
			struct zone_q *q = &c->zq[k];
			if (q->q == Q_DONE || q->sock != sock || q->id != id)
				continue;
			r = dns_answer_parse(pkt, len, id, q->name, q->q == Q_A ? DNS_TYPE_A :
			    DNS_TYPE_TXT, &a, &why);
			if (r == 1)
				goto ignored;	/* the id, but another question: spoofed or stale */
			if (r < 0) {
				log_set_session(c->sid);
				log_event(LOG_LEVEL_WARN, "dns_refused", "zone=%s reason=\"malformed "
				    "answer: %s\"", zones[k].name, why);
				log_set_session(NULL);
				zone_end(c, k, q->q == Q_A ? Z_ERROR : Z_LISTED,
				    q->q == Q_A ? "malformed answer" : NULL);
			} else if (q->q == Q_A) {
				took_a(c, k, &a);
			} else {
				zone_end(c, k, Z_LISTED, a.rcode == 0 && !a.truncated ? a.txt : NULL);
			}
			return;
		}
	}
ignored:
	/* late answers of expired checks, or guesses: counted, and said at
	 * powers of two so that a flood cannot fill the log */
	ignored++;
	if ((ignored & (ignored - 1)) == 0)
		log_event(LOG_LEVEL_INFO, "dns_ignored", "count=%lu reason=\"a datagram that "
		    "answers no question in flight\"", ignored);
}

/* Every question in flight on sock goes to the next resolver, or ends in
 * error (the resolver's port answered ICMP unreachable: nobody listens
 * there). */
static void
sock_failed(uint8_t sock, int err)
{
	char why[80];
	size_t i, k;

	snprintf(why, sizeof(why), "resolver unreachable (errno %d)", err);
	for (i = 0; i < CHECKS_MAX; i++)
		for (k = 0; checks[i].id != 0 && k < nzones; k++)
			if (checks[i].zq[k].q != Q_DONE && checks[i].zq[k].sock == sock) {
				checks[i].zq[k].tries++;
				ask(&checks[i], k, checks[i].zq[k].q == Q_A ? DNS_TYPE_A : DNS_TYPE_TXT,
				    why);
			}
}

static void
on_sock(int fd, short revents, void *ctx)
{
	uint8_t pkt[DNS_PACKET_MAX + 1], sock = (uint8_t)(uintptr_t)ctx;
	ssize_t n;
	int i;

	(void)fd;
	(void)revents;
	for (i = 0; i < READS_MAX; i++) {
		n = recv(socks[sock], pkt, sizeof(pkt), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				sock_failed(sock, errno);
			return;
		}
		/* more than 512 bytes: not an answer to a question without EDNS */
		if ((size_t)n <= DNS_PACKET_MAX)
			datagram(sock, pkt, (size_t)n);
	}
}

static int
check_msg(void *ctx, struct ipc_in *in)
{
	static struct resolvd_check rq;
	struct check *c = NULL;
	size_t i;
	unsigned k;

	(void)ctx;
	if (resolvproto_check_get(in, &rq) < 0)
		return -1;
	for (i = 0; i < CHECKS_MAX && c == NULL; i++)
		if (checks[i].id == 0)
			c = &checks[i];
	if (c == NULL || nsocks == 0 || nzones == 0) {
		static struct dnsbl_verdict v;
		memset(&v, 0, sizeof(v));
		v.id = rq.id;
		v.status = DNSBL_ERROR;
		snprintf(v.text, sizeof(v.text), "%s", c == NULL ? "too many lookups in flight" :
		    "no resolver or no zone");
		verdict_send(&v);
		return 0;
	}
	memset(c, 0, sizeof(*c));
	c->id = rq.id;
	memcpy(c->sid, rq.sid, sizeof(c->sid));
	memcpy(c->ip, rq.ip, sizeof(c->ip));
	c->pending = nzones;
	for (k = 0; k < nzones; k++)
		if (dns_dnsbl_name(c->ip, zones[k].name, c->zq[k].name, sizeof(c->zq[k].name)) < 0)
			fatal("reason=\"a checked zone makes no question\"");
	c->timer = ev_add_timer(timeout_ms, expired, c);
	/* ask() may end a zone (and the whole check) at once: from the last */
	for (k = nzones; k-- > 0 && c->id == rq.id;)
		ask(c, k, DNS_TYPE_A, NULL);
	return 0;
}

static int
socket_msg(void *ctx, struct ipc_in *in)
{
	uint32_t index;

	(void)ctx;
	if (resolvproto_socket_get(in, &index) < 0 || index != nsocks) {
		ipc_in_close_fd(in);
		return -1;
	}
	socks[nsocks] = in->fd;
	in->fd = -1;
	if (ev_add_fd(socks[nsocks], POLLIN, on_sock, (void *)(uintptr_t)nsocks) < 0)
		fatal("reason=\"cannot watch a resolver socket\"");
	nsocks++;
	return 0;
}

static const struct ipc_handler master_handlers[] = {
	{ .type = MSG_RESOLVD_SOCKET, .with_fd = 1, .fn = socket_msg },
	{ .type = MSG_RESOLVD_CHECK, .fn = check_msg },
};

static void
on_master(int fd, short revents, void *ctx)
{
	int rc;

	(void)revents;
	(void)ctx;
	rc = ipc_recv(fd, &inmsg);
	if (rc == 0 || (rc < 0 && errno == ECONNRESET)) {
		log_event(LOG_LEVEL_INFO, "exit", "reason=\"the master closed the channel\"");
		ev_stop();
		return;
	}
	if (rc < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (rc < 0 || ipc_dispatch(IPC_TABLE(master_handlers), NULL, &inmsg) < 0)
		fatal("reason=\"bad message from the master\" type=0x%04x", rc == 1 ? inmsg.type : 0);
}

int
main(int argc, char **argv)
{
	static const struct daemon_args args = { .name = "resolverd", .opts = "", .usage = "" };
	struct sandbox_spec spec;
	struct config cfg;
	char err[256];
	int n;

	daemon_boot(&args, argc, argv, &cfg);
	n = dns_zones_parse(cfg.smtp_dnsbl, zones, DNS_ZONES_MAX, err, sizeof(err));
	if (n < 0)
		fatal("reason=\"smtp_dnsbl: %s\"", err);
	nzones = (unsigned)n;
	timeout_ms = cfg.dns_timeout_ms;
	policy_spec(POLICY_RESOLVERD, &cfg, &spec);
	sandbox_confine(&spec);
	sandbox_lock(&spec);
	log_event(LOG_LEVEL_INFO, "ready", "zones=%u timeout_ms=%llu", nzones,
	    (unsigned long long)timeout_ms);
	if (ev_add_fd(FD_PARENT, POLLIN, on_master, NULL) < 0)
		fatal("reason=\"cannot watch the master channel\"");
	return ev_run() < 0 ? 1 : 0;
}
