/* util.c - small pure helpers. */
#include "util.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int
util_parse_u64(const uint8_t *s, size_t len, uint64_t max, uint64_t *out_r)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 20)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(s[i] - '0'), &v))
			return -1;
	}
	if (v > max)
		return -1;
	*out_r = v;
	return 0;
}

int
util_str_to_u64(const char *s, uint64_t max, uint64_t *out_r)
{
	return util_parse_u64((const uint8_t *)s, strlen(s), max, out_r);
}

int
util_utf8_valid(const uint8_t *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t c = s[i];
		uint32_t cp;
		size_t n, k;

		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			n = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (len - i <= n)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		/* Reject overlong forms, surrogates and values past U+10FFFF. */
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
		    (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

int
util_base64_value(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long
util_base64_decode(const uint8_t *in, size_t len, uint8_t *out, size_t outcap)
{
	size_t i, o = 0;

	if (len % 4 != 0)
		return -1;
	for (i = 0; i < len; i += 4) {
		int v[4], k, pad = 0;
		for (k = 0; k < 4; k++) {
			if (in[i + k] == '=' && i + 4 == len && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad)	/* '=' followed by a non-pad char */
				return -1;
			v[k] = util_base64_value(in[i + k]);
			if (v[k] < 0)
				return -1;
		}
		uint32_t w = ((uint32_t)v[0] << 18) | ((uint32_t)v[1] << 12) |
		    ((uint32_t)v[2] << 6) | (uint32_t)v[3];
		size_t n = 3 - (size_t)pad;
		if (o + n > outcap)
			return -1;
		out[o++] = (uint8_t)(w >> 16);
		if (n > 1)
			out[o++] = (uint8_t)(w >> 8);
		if (n > 2)
			out[o++] = (uint8_t)w;
	}
	return (long)o;
}

long
util_base64_encode(const uint8_t *in, size_t len, char *out, size_t outcap)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0, need = (len + 2) / 3 * 4 + 1;

	if (need > outcap)
		return -1;
	for (i = 0; i < len; i += 3) {
		uint32_t w = (uint32_t)in[i] << 16;
		if (i + 1 < len)
			w |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			w |= in[i + 2];
		out[o++] = tab[(w >> 18) & 63];
		out[o++] = tab[(w >> 12) & 63];
		out[o++] = i + 1 < len ? tab[(w >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? tab[w & 63] : '=';
	}
	out[o] = '\0';
	return (long)o;
}

void
util_random(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fatal("reason=\"getrandom failed\" errno=%d", errno);
		}
		p += n;
		len -= (size_t)n;
	}
}

void
util_session_id(char out[25])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t r[12];
	int i;

	util_random(r, sizeof(r));
	for (i = 0; i < 12; i++) {
		out[2 * i] = hex[r[i] >> 4];
		out[2 * i + 1] = hex[r[i] & 15];
	}
	out[24] = '\0';
}

int
util_ct_equal(const void *a, const void *b, size_t len)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t d = 0;
	size_t i;

	for (i = 0; i < len; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

/* RENAME_NOREPLACE of <linux/fs.h>, which clashes with libc headers. */
#define UTIL_RENAME_NOREPLACE (1U << 0)

int
util_rename_noreplace(int olddirfd, const char *oldpath, int newdirfd, const char *newpath)
{
	return (int)syscall(SYS_renameat2, olddirfd, oldpath, newdirfd, newpath,
	    UTIL_RENAME_NOREPLACE);
}

int
util_write_all(int fd, const void *p, size_t len)
{
	const uint8_t *b = p;

	while (len > 0) {
		ssize_t w = write(fd, b, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		len -= (size_t)w;
	}
	return 0;
}

uint64_t
util_load_le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

void
util_store_le64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

void
util_civil_from_days(int64_t z, int64_t *y_r, unsigned *m_r, unsigned *d_r)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d_r = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m_r = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y_r = yoe + era * 400 + (*m_r <= 2);
}

long
util_read_secret(const char *path, char *out, size_t cap, const char **why_r)
{
	struct stat st;
	ssize_t n;
	size_t i;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);

	*why_r = "cannot open it";
	if (fd < 0 || cap < 2)
		goto fail;
	*why_r = "not a regular file";
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		goto fail;
	n = read(fd, out, cap);
	close(fd);
	fd = -1;
	*why_r = "cannot read it, or longer than the limit";
	if (n < 0 || (size_t)n >= cap)
		goto fail;
	if (n > 0 && out[n - 1] == '\n')
		n--;
	if (n > 0 && out[n - 1] == '\r')
		n--;
	for (i = 0; i < (size_t)n; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f) {
			*why_r = "a control byte in it";
			goto fail;
		}
	out[n] = '\0';
	return (long)n;
fail:
	if (fd >= 0)
		close(fd);
	if (cap > 0)
		explicit_bzero(out, cap);
	return -1;
}
