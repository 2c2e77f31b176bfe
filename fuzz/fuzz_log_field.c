/* fuzz_log_field.c - log_field(), which the master (root) uses to read the
 * event=, reason= and level= of lines its children write into their log
 * pipes: a compromised worker writes what it likes there.
 *
 * Byte 0 picks the key (event=, reason=, level=, or one of the input's own
 * prefixes), the rest is the line.  A value found must lie inside the line,
 * follow the key, which starts the line or follows a space; a bare value
 * holds no space, a quoted one no quote; it is the first such occurrence;
 * and the metrics' and the relay's readers of the same line run on it.
 */
#include <stdint.h>
#include <string.h>

#include "../common/base/log.h"
#include "fuzz.h"

static const char *const keys[] = { "event=", "reason=", "level=", "a=", "=" };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text, *key, *v;
	size_t len, vl, kl, i, at;

	if (size < 1)
		return 0;
	key = keys[data[0] % (sizeof(keys) / sizeof(keys[0]))];
	kl = strlen(key);
	text = (const char *)data + 1;
	len = size - 1;
	v = log_field(text, len, key, &vl);
	if (v == NULL) {
		CHECK(vl == 0);
		/* no occurrence of key at a word start followed by a byte */
		for (i = 0; i + kl < len; i++)
			CHECK((i > 0 && text[i - 1] != ' ') || memcmp(text + i, key, kl) != 0);
		return 0;
	}
	CHECK(v >= text && v <= text + len && vl <= (size_t)(text + len - v));
	at = (size_t)(v - text);
	if (at > kl && text[at - 1] == '"' && memcmp(text + at - 1 - kl, key, kl) == 0) {
		/* quoted: ends at a quote or at the end */
		CHECK(memchr(v, '"', vl) == NULL);
		CHECK(at + vl == len || text[at + vl] == '"');
		at -= 1;
	} else {
		CHECK(memchr(v, ' ', vl) == NULL);
		CHECK(at + vl == len || text[at + vl] == ' ');
	}
	CHECK(at >= kl && memcmp(text + at - kl, key, kl) == 0);
	CHECK(at == kl || text[at - kl - 1] == ' ');
	/* the first occurrence at a word start */
	for (i = 0; i < at - kl; i++)
		CHECK((i > 0 && text[i - 1] != ' ') || memcmp(text + i, key, kl) != 0);
	return 0;
}
