/* namechars.c - the set of bytes a login name may have. */
#include "namechars.h"

#include <string.h>

static void
allow(struct namechars *nc, unsigned c)
{
	nc->map[c >> 3] |= (uint8_t)(1u << (c & 7));
}

int
namechars_parse(const char *spec, int utf8, uint64_t max, struct namechars *nc,
    const char **why_r)
{
	size_t i, n = strlen(spec);
	unsigned c;

	memset(nc, 0, sizeof(*nc));
	if (n == 0 || n > NAMECHARS_SPEC_MAX) {
		*why_r = "empty or longer than 255 characters";
		return -1;
	}
	if (max == 0 || max > 255) {
		*why_r = "auth_username_max must be 1 to 255";
		return -1;
	}
	nc->max = (size_t)max;
	for (i = 0; i < n; i++) {
		unsigned char lo = (unsigned char)spec[i], hi;
		if (lo <= 0x20 || lo >= 0x7f) {
			*why_r = "only printable ASCII characters (8-bit: auth_username_utf8)";
			return -1;
		}
		/* a '-' between two characters is a range; first or last it is itself */
		if (i + 2 < n && spec[i + 1] == '-') {
			hi = (unsigned char)spec[i + 2];
			if (hi <= 0x20 || hi >= 0x7f || hi < lo) {
				*why_r = "a range whose end comes before its start";
				return -1;
			}
			for (c = lo; c <= hi; c++)
				allow(nc, c);
			i += 2;
			continue;
		}
		allow(nc, lo);
	}
	if (utf8)
		for (c = 0x80; c <= 0xff; c++)
			allow(nc, c);
	return 0;
}

enum namechars_verdict
namechars_check(const struct namechars *nc, const uint8_t *name, size_t len)
{
	size_t i;

	if (len == 0 || len > nc->max)
		return NAMECHARS_LENGTH;
	for (i = 0; i < len; i++)
		if (!(nc->map[name[i] >> 3] & (1u << (name[i] & 7))))
			return NAMECHARS_CHARS;
	return NAMECHARS_OK;
}
