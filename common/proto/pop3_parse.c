/* pop3_parse.c - the POP3 command-line parser (RFC 1939 section 3, RFC 2449). */
#include "pop3_parse.h"

#include <string.h>

void
pop3_parser_init(struct pop3_parser *p, size_t max_line)
{
	p->max_line = max_line;
	p->skipping = 0;
}

/* Does the keyword take the rest of the line as one argument?  RFC 1939
 * leaves PASS with spaces to the server; most clients send them as-is. */
static int
takes_rest(const char *kw)
{
	return strcmp(kw, "PASS") == 0;
}

static enum pop3_parse_result
split_command(const uint8_t *line, size_t ll, struct pop3_cmd *cmd)
{
	size_t i = 0, k = 0;

	while (i < ll && line[i] != ' ') {
		uint8_t c = line[i];
		if (k >= POP3_KEYWORD_MAX)
			return POP3_PARSE_ERR_SYNTAX;
		if (c >= 'a' && c <= 'z')
			c = (uint8_t)(c - 32);
		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'))
			return POP3_PARSE_ERR_SYNTAX;
		cmd->keyword[k++] = (char)c;
		i++;
	}
	cmd->keyword[k] = '\0';
	if (k == 0)
		return POP3_PARSE_ERR_SYNTAX;
	while (i < ll) {
		size_t start;
		/* exactly one space separates arguments (RFC 1939 section 3) */
		i++;
		if (cmd->nargs == POP3_MAX_ARGS)
			return POP3_PARSE_ERR_SYNTAX;
		start = i;
		if (takes_rest(cmd->keyword)) {
			i = ll;
		} else {
			while (i < ll && line[i] != ' ')
				i++;
		}
		if (i == start)
			return POP3_PARSE_ERR_SYNTAX;
		cmd->arg[cmd->nargs] = line + start;
		cmd->arglen[cmd->nargs] = i - start;
		cmd->nargs++;
	}
	return POP3_PARSE_OK;
}

/* Parse the line at the front of buf (no skipping pending). */
static enum pop3_parse_result
parse_line(struct pop3_parser *p, enum pop3_parse_mode mode,
    const uint8_t *buf, size_t len, struct pop3_cmd *cmd, size_t *consumed_r)
{
	const uint8_t *nl = memchr(buf, '\n', len);
	size_t ll;

	if (nl == NULL) {
		if (len >= p->max_line) {
			/* refuse now; drop what we have and the rest of the line */
			p->skipping = 1;
			*consumed_r = len;
			return POP3_PARSE_ERR_TOO_LONG;
		}
		return POP3_PARSE_NEED_MORE;
	}
	*consumed_r = (size_t)(nl - buf) + 1;
	if (*consumed_r > p->max_line)
		return POP3_PARSE_ERR_TOO_LONG;
	ll = (size_t)(nl - buf);
	if (ll > 0 && buf[ll - 1] == '\r')
		ll--;
	if (memchr(buf, '\0', ll) != NULL)
		return POP3_PARSE_ERR_NUL;
	if (mode == POP3_MODE_RAW) {
		cmd->nargs = 1;
		cmd->arg[0] = buf;
		cmd->arglen[0] = ll;
		return POP3_PARSE_OK;
	}
	if (ll == 0)
		return POP3_PARSE_ERR_SYNTAX;
	/* a bare CR inside a command line would end up in an argument */
	if (memchr(buf, '\r', ll) != NULL)
		return POP3_PARSE_ERR_SYNTAX;
	return split_command(buf, ll, cmd);
}

enum pop3_parse_result
pop3_parse(struct pop3_parser *p, enum pop3_parse_mode mode,
    const uint8_t *buf, size_t len, struct pop3_cmd *cmd, size_t *consumed_r)
{
	enum pop3_parse_result r;
	size_t skip = 0, used = 0;

	memset(cmd, 0, sizeof(*cmd));
	*consumed_r = 0;
	if (p->skipping) {
		const uint8_t *nl = memchr(buf, '\n', len);
		if (nl == NULL) {
			*consumed_r = len;
			return POP3_PARSE_NEED_MORE;
		}
		/* End of the refused line: go on with what follows it, so a
		 * pipelined command is never left waiting in the buffer. */
		skip = (size_t)(nl - buf) + 1;
		p->skipping = 0;
	}
	r = parse_line(p, mode, buf + skip, len - skip, cmd, &used);
	*consumed_r = skip + used;
	return r;
}
