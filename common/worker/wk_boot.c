/* wk_boot.c - worker kit: command line, config, timeouts, sandbox, PROXY. */
#include "wk_boot.h"
#include "wk_session.h"

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "../base/daemon.h"
#include "../base/ev.h"
#include "../base/version.h"
#include "../ipc/ipc.h"
#include "../ipc/masterproto.h"
#include "../ipc/scratch.h"
#include "../base/log.h"
#include "../ipc/proto.h"
#include "../net/proxy.h"
#include "../../sandbox/sandbox.h"

int
wk_ip_is_loopback(const char *ip)
{
	/* "local:uid=N": the peer of a unix socket listener is on this host */
	return strncmp(ip, "127.", 4) == 0 || strcmp(ip, "::1") == 0 ||
	    strncmp(ip, "::ffff:127.", 11) == 0 || strncmp(ip, "local", 5) == 0;
}

static int
set_arg(void *ctx, int opt, const char *arg)
{
	struct wk_boot *b = ctx;

	switch (opt) {
	case 'p': b->proxy = 1; return 0;
	case 't': b->implicit_tls = 1; return 0;
	case 's': snprintf(b->sid, sizeof(b->sid), "%s", arg); return 0;
	case 'i': snprintf(b->ip, sizeof(b->ip), "%s", arg); return 0;
	default: return -1;
	}
}

void
wk_boot_config(struct wk_boot *b, int argc, char **argv)
{
	const struct daemon_args da = { .name = b->name, .opts = "s:i:tp",
	    .usage = "-s sid -i ip [-t] [-p]", .opt = set_arg, .ctx = b };

	b->started_ms = ev_now_ms();
	b->cfg = daemon_boot_map(&da, argc, argv);
}

/* The master's refusal of the real client, in the service's own words. */
static void
refuse(const struct wk_boot *b, const char *why)
{
	char line[192];
	int l = snprintf(line, sizeof(line), "%s %s, try again later\r\n", b->refusal, why);

	if (l > 0 && (size_t)l < sizeof(line))
		(void)!write(FD_CLIENT, line, (size_t)l);
}

/* Read exactly the header (what follows may be a TLS ClientHello), report
 * the client address to the master and take its verdict: a trusted proxy
 * was checked by the master, the real client meets the per-IP limits. */
static int
read_proxy_header(struct wk_boot *b, struct ipc_in *in, struct ipc_out *out)
{
	static const uint16_t answers[] = { MSG_WORKER_PROXY_OK, MSG_WORKER_PROXY_REFUSE };
	uint8_t hdr[PROXY_MAX];
	struct proxy_info info;
	struct pollfd pfd = { FD_CLIENT, POLLIN, 0 };
	size_t len = 0, n, used;
	ssize_t r;

	while ((n = proxy_next_read(hdr, len)) > 0 && len + n <= sizeof(hdr)) {
		if (poll(&pfd, 1, (int)(b->idle_timeout_s * 1000)) <= 0 ||
		    (r = read(FD_CLIENT, hdr + len, n)) <= 0)
			return -1;
		len += (size_t)r;
	}
	if (proxy_parse(hdr, len, &info, &used) != PROXY_OK) {
		log_event(LOG_LEVEL_WARN, "proxy_failed", "peer=%s reason=\"malformed PROXY header\"", b->ip);
		return -1;
	}
	masterproto_proxy_put(out, info.local ? "" : info.src);
	if (ipc_call(FD_CONTROL, out, in, answers, 2, 0) < 0)
		return -1;
	if (in->type == MSG_WORKER_PROXY_OK)
		return masterproto_proxy_ok_get(in, b->ip);
	if (!b->implicit_tls) {
		char why[MASTERPROTO_TEXT_MAX];
		refuse(b, masterproto_text_get(in, why) < 0 ? "refused" : why);
	}
	return -1;
}

int
wk_boot_enter(struct wk_boot *b)
{
	struct sandbox_spec spec;
	struct timeval tv;

	signal(SIGPIPE, SIG_IGN);
	/* Client I/O is non-blocking (wk_client); this bounds the few blocking
	 * writes left (a refusal line) the way the idle timeout does. */
	tv.tv_sec = (time_t)b->idle_timeout_s;
	tv.tv_usec = 0;
	if (setsockopt(FD_CLIENT, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		fatal("reason=\"client fd missing\"");
	/* A broker or the master that stops answering ends this session's
	 * wait with a temporary error instead of holding it for ever; authd
	 * may hold a failure reply for auth_fail_delay_ms. */
	if (ipc_set_timeout(FD_AUTH, (unsigned)b->cfg->auth_fail_delay_ms + BROKER_CALL_TIMEOUT_MS) < 0 ||
	    ipc_set_timeout(FD_KEYD, BROKER_CALL_TIMEOUT_MS) < 0 ||
	    ipc_set_timeout(FD_CONTROL, BROKER_CALL_TIMEOUT_MS) < 0)
		fatal("reason=\"broker channels missing\"");
	/* the master's stop and kick reach the session's loop (wk_session) */
	wk_session_signals();
	policy_spec(b->policy, b->cfg, &spec);
	sandbox_confine(&spec);
	sandbox_lock(&spec);
	if (b->proxy && read_proxy_header(b, &ipc_scratch_in, &ipc_scratch_out) < 0)
		return -1;
	return 0;
}

void
wk_boot_limit_file_size(uint64_t bytes)
{
	struct rlimit rl = { (rlim_t)bytes, (rlim_t)bytes };

	if (signal(SIGXFSZ, SIG_IGN) == SIG_ERR || setrlimit(RLIMIT_FSIZE, &rl) < 0)
		fatal("reason=\"cannot limit the file size\"");
}

const char *
wk_boot_hostname(const struct config *cfg, char *buf, size_t len)
{
	if (cfg->hostname[0] != '\0')
		return cfg->hostname;
	if (len < 2 || gethostname(buf, len - 1) < 0 || buf[0] == '\0')
		return "localhost";
	buf[len - 1] = '\0';
	return buf;
}
