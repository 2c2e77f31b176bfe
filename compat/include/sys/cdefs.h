/* sys/cdefs.h - the few glibc header macros that libxcrypt's <crypt.h>
 * uses, for builds against musl (which has no <sys/cdefs.h>).  Only the
 * musl build puts compat/include on the include path (Makefile, LIBC). */
#ifndef POSTERN_COMPAT_SYS_CDEFS_H
#define POSTERN_COMPAT_SYS_CDEFS_H
#ifdef __cplusplus
#define __BEGIN_DECLS extern "C" {
#define __END_DECLS }
#else
#define __BEGIN_DECLS
#define __END_DECLS
#endif
#define __THROW
#endif
