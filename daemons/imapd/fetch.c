/* fetch.c - FETCH and SEARCH: the glue to imap_fetch.c and imap_eval.c. */
#include "imapd.h"

void
imap_cmd_fetch(struct imap *p, const struct imap_cmd *cmd)
{
	imap_no(p, cmd->tag, "FETCH is not ready");
}

void
imap_cmd_search(struct imap *p, const struct imap_cmd *cmd)
{
	imap_no(p, cmd->tag, "SEARCH is not ready");
}
