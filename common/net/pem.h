/* pem.h - walking the objects of a PEM file (pure; files are read by the
 * caller).  Used by keyd for certificate and key files; fuzzed. */
#ifndef POSTERN_PEM_H
#define POSTERN_PEM_H

#include <stddef.h>
#include <stdint.h>

#define PEM_OBJECT_MAX	(256 * 1024)	/* largest decoded object */

/* Called for each complete object with its label ("CERTIFICATE", ...) and
 * decoded DER.  Return 0 to go on, -1 to stop the walk with an error. */
typedef int pem_object_cb(void *ctx, const char *label, const uint8_t *der, size_t len);

/* Decode every PEM object in text[0..len) and call cb for each.  Returns
 * 0, or -1: with *why_r set for malformed PEM (bad base64, unterminated
 * object, object over PEM_OBJECT_MAX), or with *why_r NULL when cb stopped
 * the walk (cb keeps its own reason). */
int pem_walk(const uint8_t *text, size_t len, pem_object_cb *cb, void *ctx, const char **why_r);

#endif
