/* certs.c - loading certificates and private keys (keyd; posternctl's
 * config check links it to load the same pairs the same way).
 *
 * A certificate file holds the chain, leaf first, and may also hold the key
 * (one combined PEM, as Courier required); a separate key file may be given
 * instead.  Every key must match its leaf certificate's public key.  With
 * no certificate configured, a self-signed ECDSA P-256 certificate is made
 * once under state_dir/tls/ (key file mode 0600). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../common/base/buf.h"
#include "../../common/base/log.h"
#include "../../common/net/pem.h"
#include "../../common/base/util.h"
#include "keyd.h"

#define PEM_FILE_MAX (1024 * 1024)

struct pem_state {
	struct keyd_key *key;
	int want_certs;		/* take CERTIFICATE objects */
	int want_key;		/* take a private key object */
	const char *why;
};

static int
read_file(const char *path, struct buf *out)
{
	uint8_t chunk[8192];
	ssize_t n;
	/* symlinks are followed: certbot's live/ files are links */
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (buf_append(out, chunk, (size_t)n) < 0) {
			close(fd);
			return -1;
		}
	close(fd);
	return n < 0 ? -1 : 0;
}

static int
take_object(struct pem_state *st, const char *name, const uint8_t *der, size_t len)
{
	struct keyd_key *k = st->key;

	if (!strcmp(name, "CERTIFICATE")) {
		uint8_t *copy;
		if (!st->want_certs)
			return 0;
		if (k->nchain == KEYD_MAX_CHAIN) {
			st->why = "certificate chain too long";
			return -1;
		}
		copy = malloc(len);
		if (copy == NULL)
			return -1;
		memcpy(copy, der, len);
		k->chain[k->nchain].data = copy;
		k->chain[k->nchain].data_len = len;
		k->nchain++;
		return 0;
	}
	if (!strcmp(name, "ENCRYPTED PRIVATE KEY")) {
		st->why = "encrypted private keys are not supported";
		return -1;
	}
	if (strcmp(name, "PRIVATE KEY") && strcmp(name, "EC PRIVATE KEY") &&
	    strcmp(name, "RSA PRIVATE KEY"))
		return 0;
	if (!st->want_key)
		return 0;
	if (k->sk != NULL) {
		st->why = "more than one private key";
		return -1;
	}
	k->sk = calloc(1, sizeof(*k->sk));
	if (k->sk == NULL)
		return -1;
	br_skey_decoder_init(k->sk);
	br_skey_decoder_push(k->sk, der, len);
	if (br_skey_decoder_last_error(k->sk) != 0) {
		st->why = "private key cannot be decoded (Ed25519 and encrypted keys are not supported)";
		return -1;
	}
	return 0;
}

static int
take_cb(void *ctx, const char *label, const uint8_t *der, size_t len)
{
	return take_object(ctx, label, der, len);
}

static int
load_pem_file(struct pem_state *st, const char *path)
{
	const char *why;
	struct buf b;
	int rc;

	buf_init(&b, PEM_FILE_MAX);
	if (read_file(path, &b) < 0) {
		st->why = errno == ENOBUFS ? "file too large" : strerror(errno);
		buf_free(&b, 1);
		return -1;
	}
	rc = pem_walk(b.data, b.len, take_cb, st, &why);
	if (rc < 0 && why != NULL)
		st->why = why;
	buf_free(&b, 1);
	return rc;
}

/* The leaf's public key must be the one of the private key. */
static int
check_pair(struct keyd_key *k, const char **why)
{
	br_x509_decoder_context dc;
	const br_x509_pkey *pk;

	br_x509_decoder_init(&dc, NULL, NULL);
	br_x509_decoder_push(&dc, k->chain[0].data, k->chain[0].data_len);
	pk = br_x509_decoder_get_pkey(&dc);
	if (pk == NULL) {
		*why = "leaf certificate cannot be decoded";
		return -1;
	}
	/* BearSSL counts days from 1 January of year 0; 1970 is day 719528 */
	k->not_after = ((int64_t)dc.notafter_days - 719528) * 86400 + dc.notafter_seconds;
	k->type = br_skey_decoder_key_type(k->sk);
	if (pk->key_type != k->type) {
		*why = "key type differs from the certificate's";
		return -1;
	}
	if (k->type == BR_KEYTYPE_EC) {
		const br_ec_private_key *sk = br_skey_decoder_get_ec(k->sk);
		unsigned char q[BR_EC_KBUF_PUB_MAX_SIZE];
		br_ec_public_key pub;
		size_t ql = br_ec_compute_pub(br_ec_get_default(), &pub, q, sk);
		k->curve = sk->curve;
		if (ql == 0 || pk->key.ec.curve != sk->curve || pk->key.ec.qlen != ql ||
		    memcmp(pk->key.ec.q, q, ql) != 0) {
			*why = "private key does not match the certificate";
			return -1;
		}
		return 0;
	}
	{
		const br_rsa_private_key *sk = br_skey_decoder_get_rsa(k->sk);
		unsigned char n[512];
		size_t nl = br_rsa_compute_modulus_get_default()(NULL, sk), off = 0;
		if (nl == 0 || nl > sizeof(n) || br_rsa_compute_modulus_get_default()(n, sk) != nl) {
			*why = "RSA key unusable";
			return -1;
		}
		while (off < pk->key.rsa.nlen && pk->key.rsa.n[off] == 0)
			off++;
		if (pk->key.rsa.nlen - off != nl || memcmp(pk->key.rsa.n + off, n, nl) != 0) {
			*why = "private key does not match the certificate";
			return -1;
		}
	}
	return 0;
}

/* One pair into keys (not logged: keyd_load logs what it serves).  what
 * names the config key the pair comes from, for messages. */
static int
add_key(struct keyd_keys *keys, const char *what, const char *cert, const char *keyfile,
    const char *sni_name, char *err, size_t errlen)
{
	struct keyd_key *k;
	struct pem_state st = { NULL, 1, 1, NULL };

	if (keys->n == KEYD_MAX_KEYS) {
		snprintf(err, errlen, "%s %s: too many certificates", what, cert);
		return -1;
	}
	k = &keys->k[keys->n];
	memset(k, 0, sizeof(*k));
	snprintf(k->source, sizeof(k->source), "%s", cert);
	snprintf(k->what, sizeof(k->what), "%s", what);
	st.key = k;
	st.want_key = keyfile == NULL || keyfile[0] == '\0';
	if (load_pem_file(&st, cert) < 0)
		goto bad;
	if (!st.want_key) {
		struct pem_state ks = { k, 0, 1, NULL };
		if (load_pem_file(&ks, keyfile) < 0) {
			snprintf(err, errlen, "tls_key_file %s: %s", keyfile, ks.why ? ks.why : "unreadable");
			return -1;
		}
	}
	st.why = k->nchain == 0 ? "no CERTIFICATE in file" : k->sk == NULL ? "no private key found "
	    "(set tls_key_file, or put the key in this file)" : NULL;
	if (st.why != NULL || check_pair(k, &st.why) < 0)
		goto bad;
	if (x509_cert_names(k->chain[0].data, k->chain[0].data_len, &k->names) < 0) {
		st.why = "leaf certificate is malformed";
		goto bad;
	}
	if (sni_name != NULL && k->names.n < X509_MAX_NAMES) {
		memmove(&k->names.name[1], &k->names.name[0], k->names.n * sizeof(k->names.name[0]));
		snprintf(k->names.name[0], sizeof(k->names.name[0]), "%s", sni_name);
		k->names.n++;
	}
	keys->n++;
	return 0;
bad:
	snprintf(err, errlen, "%s %s: %s", what, cert, st.why ? st.why : "unreadable");
	return -1;
}

static int
load_sni_dir(struct keyd_keys *keys, const char *dir, char *err, size_t errlen)
{
	char path[CONFIG_PATH_MAX + 300];
	struct dirent **ents;
	int n, k, rc = 0;

	/* sorted, so that the order (and the default) does not depend on the
	 * filesystem */
	n = scandir(dir, &ents, NULL, alphasort);
	if (n < 0) {
		snprintf(err, errlen, "tls_sni_dir %s: %s", dir, strerror(errno));
		return -1;
	}
	for (k = 0; k < n && rc == 0; k++) {
		struct dirent *de = ents[k];
		size_t l = strlen(de->d_name);
		char name[X509_NAME_MAX + 1];
		if (l < 5 || strcmp(de->d_name + l - 4, ".pem") != 0 || l - 4 > X509_NAME_MAX)
			continue;
		memcpy(name, de->d_name, l - 4);
		name[l - 4] = '\0';
		if (!x509_host_valid((const uint8_t *)name, l - 4))
			continue;
		for (char *c = name; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c + 32);
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		rc = add_key(keys, "tls_sni_dir", path, NULL, name, err, errlen);
	}
	for (k = 0; k < n; k++)
		free(ents[k]);
	free(ents);
	return rc;
}

static int
write_file(const char *path, mode_t mode, const char *label, const uint8_t *der, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	int rc;

	if (fd < 0)
		return -1;
	rc = x509_write_pem(fd, label, der, len);
	if (rc == 0 && fsync(fd) < 0)
		rc = -1;
	close(fd);
	return rc;
}

/* First start without a certificate: make one (ECDSA P-256, 10 years), so
 * TLS works out of the box.  Existing files are reused. */
static int
ensure_selfsigned(const struct config *cfg, char *cert, char *key, size_t len, char *err,
    size_t errlen)
{
	uint8_t certder[2048], keyder[256], seed[48];
	size_t cl = sizeof(certder), kl = sizeof(keyder);
	br_hmac_drbg_context rng;
	char dir[CONFIG_PATH_MAX], host[256];
	struct stat st;
	time_t now = time(NULL);
	int rc;

	snprintf(dir, sizeof(dir), "%.1000s/tls", cfg->state_dir);
	snprintf(cert, len, "%s/selfsigned.pem", dir);
	snprintf(key, len, "%s/selfsigned.key", dir);
	if (stat(cert, &st) == 0 && stat(key, &st) == 0)
		return 0;
	/* one half left by an interrupted first start: make both again */
	unlink(cert);
	unlink(key);
	if ((mkdir(cfg->state_dir, 0755) < 0 && errno != EEXIST) ||
	    (mkdir(dir, 0700) < 0 && errno != EEXIST)) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (cfg->hostname[0] != '\0')
		snprintf(host, sizeof(host), "%.255s", cfg->hostname);
	else if (gethostname(host, sizeof(host)) < 0 || !x509_host_valid((uint8_t *)host, strlen(host)))
		snprintf(host, sizeof(host), "localhost");
	util_random(seed, sizeof(seed));
	br_hmac_drbg_init(&rng, &br_sha256_vtable, seed, sizeof(seed));
	explicit_bzero(seed, sizeof(seed));
	rc = x509_selfsigned_p256(&rng.vtable, host, (uint64_t)now - 3600,
	    (uint64_t)now + 10ULL * 366 * 86400, certder, &cl, keyder, &kl);
	explicit_bzero(&rng, sizeof(rng));
	/* key first with 0600: a crash between the two writes leaves no
	 * certificate without its key */
	if (rc < 0 || write_file(key, 0600, "EC PRIVATE KEY", keyder, kl) < 0 ||
	    write_file(cert, 0644, "CERTIFICATE", certder, cl) < 0) {
		explicit_bzero(keyder, sizeof(keyder));
		unlink(key);
		snprintf(err, errlen, "cannot create self-signed certificate in %s: %s", dir,
		    rc < 0 ? "generation failed" : strerror(errno));
		return -1;
	}
	explicit_bzero(keyder, sizeof(keyder));
	log_event(LOG_LEVEL_WARN, "tls_selfsigned", "name=%s cert=%s reason=\"no tls_cert_file "
	    "configured; clients will not trust it\"", host, cert);
	return 0;
}

/* The i-th entry of a comma-separated list, trimmed; -1 past the end, -2
 * for an entry that is empty or holds a space (a list written with spaces). */
static int
list_item(const char *list, unsigned i, char *out, size_t len)
{
	const char *p = list;
	size_t l;

	while (*p == ' ')
		p++;
	if (*p == '\0')
		return -1;
	while (i > 0 && (p = strchr(p, ',')) != NULL) {
		p++;
		i--;
	}
	if (p == NULL)
		return -1;
	while (*p == ' ')
		p++;
	l = strcspn(p, ",");
	while (l > 0 && p[l - 1] == ' ')
		l--;
	if (l == 0 || memchr(p, ' ', l) != NULL || l >= len)
		return -2;
	snprintf(out, len, "%.*s", (int)l, p);
	return 0;
}

/* Every pair the config names: tls_cert_file with tls_key_file, then the
 * files of tls_sni_dir (keyd.h). */
int
keyd_check(const struct config *cfg, struct keyd_keys *keys, char *err, size_t errlen)
{
	char cert[CONFIG_PATH_MAX + 32], key[CONFIG_PATH_MAX + 32];
	unsigned i;

	keys->n = 0;
	for (i = 0;; i++) {
		int rc = list_item(cfg->tls_cert_file, i, cert, sizeof(cert)), kr;
		if (rc == -1)
			break;
		/* an empty key entry means "the key is in the certificate file" */
		kr = list_item(cfg->tls_key_file, i, key, sizeof(key));
		if (rc == -2 || (kr == -2 && strchr(cfg->tls_key_file, ' ') != NULL)) {
			snprintf(err, errlen, "tls_cert_file/tls_key_file entry %u: empty or not "
			    "comma-separated", i + 1);
			return -1;
		}
		if (kr < 0)
			key[0] = '\0';
		if (add_key(keys, "tls_cert_file", cert, key, NULL, err, errlen) < 0)
			return -1;
	}
	if (list_item(cfg->tls_key_file, i, key, sizeof(key)) == 0) {
		snprintf(err, errlen, "tls_key_file %s: a key without its certificate (tls_key_file "
		    "has more entries than tls_cert_file)", key);
		return -1;
	}
	if (cfg->tls_sni_dir[0] != '\0' && load_sni_dir(keys, cfg->tls_sni_dir, err, errlen) < 0)
		return -1;
	return 0;
}

void
keyd_time_iso(int64_t t, char out[KEYD_TIME_ISO_LEN])
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, KEYD_TIME_ISO_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, KEYD_TIME_ISO_LEN, "-");
}

int
keyd_load(const struct config *cfg, struct keyd_keys *keys, char *err, size_t errlen)
{
	char cert[CONFIG_PATH_MAX + 32], key[CONFIG_PATH_MAX + 32], when[KEYD_TIME_ISO_LEN];
	size_t i;

	if (keyd_check(cfg, keys, err, errlen) < 0)
		return -1;
	if (keys->n == 0) {
		if (ensure_selfsigned(cfg, cert, key, sizeof(cert), err, errlen) < 0)
			return -1;
		if (add_key(keys, "self-signed", cert, key, NULL, err, errlen) < 0)
			return -1;
	}
	for (i = 0; i < keys->n; i++) {
		const struct keyd_key *k = &keys->k[i];
		keyd_time_iso(k->not_after, when);
		log_event(LOG_LEVEL_INFO, "tls_cert", "file=%s type=%s names=%u first=%s not_after=%s",
		    k->source, k->type == BR_KEYTYPE_EC ? "ecdsa" : "rsa", k->names.n,
		    k->names.n ? k->names.name[0] : "-", when);
	}
	return 0;
}

int
keyd_expiry(const struct keyd_key *k, int64_t now, uint64_t warn_days, int64_t *days_r)
{
	int64_t left = k->not_after - now;

	*days_r = left / 86400;
	if (left <= 0)
		return -1;
	return (uint64_t)left < warn_days * 86400 ? 1 : 0;
}
