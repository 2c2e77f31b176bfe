/* glibc_abi.c - the glibc entry points that Debian's static libraries
 * (libbearssl.a, libseccomp.a, libcap-ng.a, liblmdb.a, libcrypt.a, built
 * against glibc with _FORTIFY_SOURCE) call and musl does not have, for the
 * musl build (Makefile, LIBC=musl).  Each checks what glibc's would and
 * calls musl's plain function; flag arguments (fortify levels) are ignored.
 * Not linked in the glibc build. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <syslog.h>

void *__memcpy_chk(void *d, const void *s, size_t n, size_t dlen);
void *__memmove_chk(void *d, const void *s, size_t n, size_t dlen);
void *__memset_chk(void *d, int c, size_t n, size_t dlen);
int __fprintf_chk(FILE *f, int flag, const char *fmt, ...);
int __printf_chk(int flag, const char *fmt, ...);
int __sprintf_chk(char *s, int flag, size_t slen, const char *fmt, ...);
int __snprintf_chk(char *s, size_t n, int flag, size_t slen, const char *fmt, ...);
int __asprintf_chk(char **s, int flag, const char *fmt, ...);
void __syslog_chk(int prio, int flag, const char *fmt, ...);
int __isoc99_sscanf(const char *s, const char *fmt, ...);
void __explicit_bzero_chk(void *d, size_t n, size_t dlen);
void arc4random_buf(void *buf, size_t n);
int __fxstat(int ver, int fd, struct stat *st);

void *
__memcpy_chk(void *d, const void *s, size_t n, size_t dlen)
{
	if (n > dlen)
		abort();
	return memcpy(d, s, n);
}

void *
__memmove_chk(void *d, const void *s, size_t n, size_t dlen)
{
	if (n > dlen)
		abort();
	return memmove(d, s, n);
}

void *
__memset_chk(void *d, int c, size_t n, size_t dlen)
{
	if (n > dlen)
		abort();
	return memset(d, c, n);
}

int
__fprintf_chk(FILE *f, int flag, const char *fmt, ...)
{
	va_list ap;
	int r;

	(void)flag;
	va_start(ap, fmt);
	r = vfprintf(f, fmt, ap);
	va_end(ap);
	return r;
}

int
__printf_chk(int flag, const char *fmt, ...)
{
	va_list ap;
	int r;

	(void)flag;
	va_start(ap, fmt);
	r = vprintf(fmt, ap);
	va_end(ap);
	return r;
}

/* glibc aborts when the output would pass slen; vsnprintf truncates. */
int
__sprintf_chk(char *s, int flag, size_t slen, const char *fmt, ...)
{
	va_list ap;
	int r;

	(void)flag;
	va_start(ap, fmt);
	r = vsnprintf(s, slen, fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= slen)
		abort();
	return r;
}

int
__snprintf_chk(char *s, size_t n, int flag, size_t slen, const char *fmt, ...)
{
	va_list ap;
	int r;

	(void)flag;
	if (n > slen)
		abort();
	va_start(ap, fmt);
	r = vsnprintf(s, n, fmt, ap);
	va_end(ap);
	return r;
}

int
__asprintf_chk(char **s, int flag, const char *fmt, ...)
{
	va_list ap;
	int r;

	(void)flag;
	va_start(ap, fmt);
	r = vasprintf(s, fmt, ap);
	va_end(ap);
	return r;
}

void
__syslog_chk(int prio, int flag, const char *fmt, ...)
{
	va_list ap;

	(void)flag;
	va_start(ap, fmt);
	vsyslog(prio, fmt, ap);
	va_end(ap);
}

int
__isoc99_sscanf(const char *s, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsscanf(s, fmt, ap);
	va_end(ap);
	return r;
}

void
__explicit_bzero_chk(void *d, size_t n, size_t dlen)
{
	if (n > dlen)
		abort();
	explicit_bzero(d, n);
}

/* libxcrypt's salt bytes (glibc 2.36 has arc4random_buf, musl 1.2.3 not):
 * getrandom(2), which cannot fail short of a broken kernel. */
void
arc4random_buf(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t r = getrandom(p, n, 0);

		if (r < 0)
			abort();
		p += r;
		n -= (size_t)r;
	}
}

/* The pre-2.33 glibc stat ABI (ver 1 on x86_64: the kernel's struct stat,
 * which is musl's too). */
int
__fxstat(int ver, int fd, struct stat *st)
{
	(void)ver;
	return fstat(fd, st);
}
