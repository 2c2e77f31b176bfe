/* fuzz_config_env.c - config_apply_env(), then the snapshot the master
 * hands every child: config_format() and config_parse() of that text.
 *
 * The input is a list of NUL-separated variables, each given the
 * "POSTERN_" prefix (the dictionary has the key names).  Whatever
 * config_apply_env() accepts must load again in a child with the very same
 * values; a refusal says "environment" and stays terminated.  Only the
 * keys that differ from the defaults (config_format_changed(), `config dump
 * -n`), parsed over the defaults, give the same values too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../common/base/config.h"
#include "fuzz.h"

#define MAX_VARS 16

/* Bytes after a string's NUL are whatever an earlier, longer value left;
 * clear them so two configs with the same values compare equal. */
static void
clear_tails(struct config *c)
{
#define F(f) { c->f, sizeof(c->f) }
	const struct { char *p; size_t n; } s[] = {
		F(state_dir), F(userdb_path), F(mail_root_template), F(empty_root), F(libexec_dir),
		F(default_domain), F(pop3_listen), F(pop3_worker), F(pop3s_listen), F(lmtp_listen),
		F(lmtp_worker), F(imap_listen), F(imaps_listen), F(imap_worker), F(smtp_listen),
		F(smtp_worker), F(tls_cert_file), F(tls_key_file), F(tls_sni_dir), F(hostname),
		F(proxy_trusted), F(imap_separator), F(imap_namespace), F(imap_empty_trash),
		F(recipient_delimiter), F(control_socket), F(postmaster), F(local_domains),
		F(log_level), F(log_output), F(log_syslog_socket), F(metrics_listen),
		F(metrics_worker),
	};
#undef F
	size_t i, l;

	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		l = strnlen(s[i].p, s[i].n);
		CHECK(l < s[i].n);
		memset(s[i].p + l, 0, s[i].n - l);
	}
}

/* Split data at NULs into "POSTERN_<part>" strings (at most MAX_VARS). */
static size_t
make_env(const uint8_t *data, size_t size, char **envp)
{
	size_t n = 0, pos = 0;

	while (pos <= size && n < MAX_VARS) {
		const uint8_t *z = memchr(data + pos, '\0', size - pos);
		size_t l = z ? (size_t)(z - (data + pos)) : size - pos;

		envp[n] = malloc(8 + l + 1);
		CHECK(envp[n] != NULL);
		memcpy(envp[n], "POSTERN_", 8);
		memcpy(envp[n] + 8, data + pos, l);
		envp[n][8 + l] = '\0';
		n++;
		pos += l + 1;
	}
	envp[n] = NULL;
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config master, child;
	static char text[CONFIG_TEXT_MAX];
	char *envp[MAX_VARS + 1], err[256];
	size_t n, i;
	long len;
	int rc;

	n = make_env(data, size, envp);
	config_defaults(&master);
	memset(err, 'x', sizeof(err));
	rc = config_apply_env(&master, envp, err, sizeof(err));
	CHECK(rc == 0 || rc == -1);
	if (rc < 0) {
		CHECK(strnlen(err, sizeof(err)) < sizeof(err));
		CHECK(strncmp(err, "environment", 11) == 0);
		goto out;
	}
	len = config_format(&master, text, sizeof(text));
	CHECK(len > 0 && (size_t)len < sizeof(text));
	CHECK(config_format(&master, NULL, 0) == len);
	config_defaults(&child);
	rc = config_parse(&child, "snapshot", text, (size_t)len, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "snapshot refused: %s\n", err);
	CHECK(rc == 0);
	clear_tails(&master);
	clear_tails(&child);
	CHECK(memcmp(&master, &child, sizeof(master)) == 0);
	len = config_format_changed(&master, text, sizeof(text));
	CHECK(len >= 0 && (size_t)len < sizeof(text));
	CHECK(config_format_changed(&master, NULL, 0) == len);
	config_defaults(&child);
	CHECK(config_parse(&child, "changed", text, (size_t)len, err, sizeof(err)) == 0);
	clear_tails(&child);
	CHECK(memcmp(&master, &child, sizeof(master)) == 0);
out:
	for (i = 0; i < n; i++)
		free(envp[i]);
	return 0;
}
