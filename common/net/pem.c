/* pem.c - walking the objects of a PEM file with BearSSL's push decoder. */
#include "pem.h"

#include <bearssl.h>
#include <stdio.h>
#include <string.h>

#include "../base/buf.h"

static void
append_der(void *ctx, const void *data, size_t len)
{
	(void)buf_append(ctx, data, len);	/* overflow is checked at the end */
}

int
pem_walk(const uint8_t *text, size_t len, pem_object_cb *cb, void *ctx, const char **why_r)
{
	br_pem_decoder_context pc;
	struct buf der;
	char label[128] = "";
	size_t off = 0;
	int rc = 0, inobj = 0, ended = 0;

	*why_r = NULL;
	buf_init(&der, PEM_OBJECT_MAX + 1);
	br_pem_decoder_init(&pc);
	/* After the text, one "\n" makes the decoder finish a last line that
	 * has no line end (PLATFORM.md). */
	while (rc == 0 && !ended) {
		const uint8_t *p = off < len ? text + off : (const uint8_t *)"\n";
		size_t n = br_pem_decoder_push(&pc, p, off < len ? len - off : 1);
		if (off < len)
			off += n;
		else if (n == 1)
			ended = 1;
		switch (br_pem_decoder_event(&pc)) {
		case BR_PEM_BEGIN_OBJ:
			snprintf(label, sizeof(label), "%s", br_pem_decoder_name(&pc));
			buf_reset(&der);
			br_pem_decoder_setdest(&pc, append_der, &der);
			inobj = 1;
			break;
		case BR_PEM_END_OBJ:
			if (inobj && der.len > PEM_OBJECT_MAX) {
				*why_r = "PEM object too large";
				rc = -1;
			} else if (inobj) {
				rc = cb(ctx, label, der.data ? der.data : (const uint8_t *)"", der.len);
			}
			inobj = 0;
			break;
		case BR_PEM_ERROR:
			*why_r = "malformed PEM";
			rc = -1;
			break;
		default:
			break;
		}
	}
	if (rc == 0 && inobj) {
		*why_r = "unterminated PEM object";
		rc = -1;
	}
	buf_free(&der, 1);
	return rc;
}
