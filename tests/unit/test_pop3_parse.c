/* test_pop3_parse.c - POP3 command lines, fed whole and in every chunk size.
 *
 * Each case runs the parser over its input and writes a transcript of the
 * results ("KEYWORD|arg|arg;" for a command, "RAW|line;" in raw mode,
 * "E<code>;" for an error).  The transcript must be the same whether the
 * input arrives at once, one byte at a time, or in any other chunk size. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../../common/proto/pop3_parse.h"
#include "tap.h"

#define ACC_MAX 4096

static char transcript[8192];

static void
add(const char *s, size_t len)
{
	size_t t = strlen(transcript);

	if (t + len < sizeof(transcript)) {
		memcpy(transcript + t, s, len);
		transcript[t + len] = '\0';
	}
}

static void
record(enum pop3_parse_result r, const struct pop3_cmd *cmd, enum pop3_parse_mode mode)
{
	char e[16];
	unsigned i;

	if (r != POP3_PARSE_OK) {
		snprintf(e, sizeof(e), "E%d;", (int)r);
		add(e, strlen(e));
		return;
	}
	add(mode == POP3_MODE_RAW ? "RAW" : cmd->keyword, strlen(mode == POP3_MODE_RAW ? "RAW" : cmd->keyword));
	for (i = 0; i < cmd->nargs; i++) {
		add("|", 1);
		add((const char *)cmd->arg[i], cmd->arglen[i]);
	}
	add(";", 1);
}

/* Parse everything complete in acc[0..*len), dropping consumed bytes. */
static void
drain(struct pop3_parser *p, enum pop3_parse_mode mode, uint8_t *acc, size_t *len)
{
	struct pop3_cmd cmd;
	size_t consumed;

	for (;;) {
		enum pop3_parse_result r = pop3_parse(p, mode, acc, *len, &cmd, &consumed);
		if (consumed > *len) {
			add("OVERCONSUMED;", 13);
			*len = 0;
			return;
		}
		if (r != POP3_PARSE_NEED_MORE)
			record(r, &cmd, mode);
		/* drop consumed bytes only after the args were copied out */
		memmove(acc, acc + consumed, *len - consumed);
		*len -= consumed;
		if (r == POP3_PARSE_NEED_MORE && consumed == 0)
			return;
	}
}

/* Feed input in chunks of chunk bytes; returns the transcript. */
static const char *
run(size_t max_line, enum pop3_parse_mode mode, const char *in, size_t inlen, size_t chunk)
{
	static uint8_t acc[ACC_MAX];
	struct pop3_parser p;
	size_t len = 0, off = 0;

	transcript[0] = '\0';
	pop3_parser_init(&p, max_line);
	while (off < inlen) {
		size_t n = inlen - off < chunk ? inlen - off : chunk;
		if (len + n > sizeof(acc)) {
			add("ACC-OVERFLOW;", 13);
			break;
		}
		memcpy(acc + len, in + off, n);
		len += n;
		off += n;
		drain(&p, mode, acc, &len);
	}
	return transcript;
}

/* Whole, byte at a time, and every other chunk size give expect. */
static void
check_case(size_t max_line, enum pop3_parse_mode mode, const char *in, size_t inlen,
    const char *expect, const char *name)
{
	char msg[160];
	size_t c;
	int ok = 1;

	snprintf(msg, sizeof(msg), "%s (whole)", name);
	CHECK(!strcmp(run(max_line, mode, in, inlen, inlen), expect), msg);
	if (strcmp(transcript, expect))
		printf("#   got \"%s\" want \"%s\"\n", transcript, expect);
	snprintf(msg, sizeof(msg), "%s (byte at a time)", name);
	CHECK(!strcmp(run(max_line, mode, in, inlen, 1), expect), msg);
	if (strcmp(transcript, expect))
		printf("#   got \"%s\" want \"%s\"\n", transcript, expect);
	for (c = 2; c < inlen; c++)
		if (strcmp(run(max_line, mode, in, inlen, c), expect) != 0) {
			printf("#   chunk %zu: got \"%s\"\n", c, transcript);
			ok = 0;
		}
	snprintf(msg, sizeof(msg), "%s (every chunk size)", name);
	CHECK(ok, msg);
}

#define CMD(in, expect, name) \
	check_case(1024, POP3_MODE_COMMAND, in, sizeof(in) - 1, expect, name)
#define CMDMAX(max, in, expect, name) \
	check_case(max, POP3_MODE_COMMAND, in, sizeof(in) - 1, expect, name)
#define RAW(in, expect, name) \
	check_case(1024, POP3_MODE_RAW, in, sizeof(in) - 1, expect, name)
#define RAWMAX(max, in, expect, name) \
	check_case(max, POP3_MODE_RAW, in, sizeof(in) - 1, expect, name)

static void
test_commands(void)
{
	CMD("USER demo\r\n", "USER|demo;", "USER demo");
	CMD("user demo\r\n", "USER|demo;", "lower-case keyword upper-cased");
	CMD("uSeR Demo\r\n", "USER|Demo;", "mixed case keyword, argument kept");
	CMD("USER demo\n", "USER|demo;", "bare LF accepted");
	CMD("NOOP\r\n", "NOOP;", "no arguments");
	CMD("PASS pass with spaces\r\n", "PASS|pass with spaces;", "PASS takes the rest of the line");
	CMD("pass  lead\r\n", "PASS| lead;", "PASS keeps a leading space in the password");
	CMD("TOP 1 10\r\n", "TOP|1|10;", "two arguments for TOP");
	CMD("TOP 1 2 3\r\n", "E-3;", "three arguments refused");
	CMD("USER  demo\r\n", "E-3;", "double space refused");
	CMD("NOOP \r\n", "E-3;", "trailing space refused");
	CMD(" NOOP\r\n", "E-3;", "leading space refused");
	CMD("\r\n", "E-3;", "empty line refused");
	CMD("\n", "E-3;", "empty bare-LF line refused");
	CMD("PASS\r\n", "PASS;", "PASS without argument parses");
	CMD("PASS \r\n", "E-3;", "PASS with an empty argument refused");
	CMD("NO_OP\r\n", "E-3;", "bad keyword character refused");
	CMD("NO\rOP\r\n", "E-3;", "CR inside the keyword refused");
	CMD("ABCDEFGHIJKLMNOP\r\n", "ABCDEFGHIJKLMNOP;", "16-char keyword accepted");
	CMD("ABCDEFGHIJKLMNOPQ\r\n", "E-3;", "17-char keyword refused");
	CMD("ABCDEFGHIJKLMNOPQRSTUVWXYZ x\r\n", "E-3;", "26-char keyword refused");
	CMD("X-TEST1 a\r\n", "X-TEST1|a;", "digits and '-' in keywords");
}

static void
test_nul_and_pipelining(void)
{
	CMD("US\0ER demo\r\nNOOP\r\n", "E-2;NOOP;", "NUL in keyword refused, next line ok");
	CMD("PASS se\0cret\r\n", "E-2;", "NUL in PASS refused, never truncated");
	CMD("NOOP\0\r\n", "E-2;", "NUL before CRLF refused");
	CMD("\0\n", "E-2;", "lone NUL refused");
	CMD("NOOP\r\nSTAT\r\n", "NOOP;STAT;", "pipelined commands in order");
	CMD("USER a\r\nPASS b c\nLIST 1\r\nQUIT\r\n", "USER|a;PASS|b c;LIST|1;QUIT;", "four pipelined");
	CMD("NOOP\r\n\r\nSTAT\r\n", "NOOP;E-3;STAT;", "empty line between commands");
	CMD("NOOP\r\nSTA", "NOOP;", "incomplete last line waits");
}

static void
test_too_long(void)
{
	CMDMAX(16, "USER abcdefghi\r\n", "USER|abcdefghi;", "line of exactly max_line accepted");
	CMDMAX(16, "USER abcdefghij\r\n", "E-1;", "line of max_line + 1 refused");
	CMDMAX(16, "USER abcdefghij\n", "USER|abcdefghij;", "max_line counts a bare LF");
	CMDMAX(16, "USER abcdefghijk\n", "E-1;", "bare-LF line over max_line refused");
	CMDMAX(16, "NOOPNOOPNOOPNOOPNOOPNOOPNOOP\r\nSTAT\r\n", "E-1;STAT;",
	    "over-long line refused once, next line parses");
	CMDMAX(16, "USER aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\nUSER b\r\n",
	    "E-1;USER|b;", "much longer line refused once");
	CMDMAX(16, "USER a\r\nPASS bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\r\nQUIT\r\n", "USER|a;E-1;QUIT;",
	    "over-long line between good ones");
	CMDMAX(16, "NOOPNOOPNOOPNOOPNOO\0POOP\r\nSTAT\r\n", "E-1;STAT;",
	    "over-long line with NUL: one refusal");
	CMDMAX(16, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "E-1;", "over-long unterminated line");
	CMDMAX(16, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\nBBBBBBBBBBBBBBBBBBBBBBBBBB\nNOOP\n",
	    "E-1;E-1;NOOP;", "two over-long lines in a row");
}

static void
test_raw(void)
{
	RAW("dXNlcg== x  y \r\n", "RAW|dXNlcg== x  y ;", "raw mode keeps the whole line");
	RAW("*\r\n", "RAW|*;", "raw abort line");
	RAW("\r\n", "RAW|;", "raw empty line");
	RAW("abc\n", "RAW|abc;", "raw bare LF");
	RAW("ab\0c\r\nxyz\r\n", "E-2;RAW|xyz;", "raw NUL refused");
	RAWMAX(16, "QUJDREVGR0hJSktMTU5PUFFSU1RV\r\n=\r\n", "E-1;RAW|=;", "raw over-long refused");
}

static void
test_contract(void)
{
	struct pop3_parser p;
	struct pop3_cmd cmd;
	size_t consumed = 99;

	pop3_parser_init(&p, 1024);
	CHECK(pop3_parse(&p, POP3_MODE_COMMAND, (const uint8_t *)"", 0, &cmd, &consumed) ==
	    POP3_PARSE_NEED_MORE && consumed == 0, "empty buffer: NEED_MORE, nothing consumed");
	CHECK(pop3_parse(&p, POP3_MODE_COMMAND, (const uint8_t *)"STAT\r\nNOOP\r\n", 12, &cmd,
	    &consumed) == POP3_PARSE_OK && consumed == 6, "consumed is one line");
	CHECK(pop3_parse(&p, POP3_MODE_COMMAND, (const uint8_t *)"USER x\r\n", 8, &cmd,
	    &consumed) == POP3_PARSE_OK && cmd.nargs == 1 && cmd.arglen[0] == 1, "args point into buf");
	CHECK(pop3_parse(&p, POP3_MODE_RAW, (const uint8_t *)"x\r\n", 3, &cmd, &consumed) ==
	    POP3_PARSE_OK && cmd.keyword[0] == '\0', "raw mode: empty keyword");
}

int
main(void)
{
	test_commands();
	test_nul_and_pipelining();
	test_too_long();
	test_raw();
	test_contract();
	return tap_done();
}
