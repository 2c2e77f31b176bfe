#!/bin/sh
# `make run`: a self-contained demo appliance under ./run on loopback ports.
set -e
TOP=$(pwd)
RUN="$TOP/run"
BIN="$TOP/build/bin"
CONF="$RUN/postern.conf"
mkdir -p "$RUN/state" "$RUN/mail"
if [ ! -f "$CONF" ]; then
	cat > "$CONF" <<CONF
# Demo configuration written by 'make run' (docs/CONFIG.md lists every key).
state_dir = $RUN/state
userdb = $RUN/state/userdb
mail_root = $RUN/mail/%d/%n
empty_root = $RUN/empty
default_domain = localhost
pop3_listen = 127.0.0.1:1110
pop3s_listen = 127.0.0.1:1995
imap_listen = 127.0.0.1:1143
imaps_listen = 127.0.0.1:1993
# LMTP (docs/LMTP.md): what Postfix or Exim deliver to
lmtp_listen = 127.0.0.1:2424, $RUN/lmtp
# SMTP, the MX for local users (docs/SMTP.md); not port 25 in the demo
smtp_listen = 127.0.0.1:2525
# metrics and /healthz for Prometheus (docs/METRICS.md); off by default
metrics_listen = 127.0.0.1:9154
# loopback demo only: allow USER/PASS without STLS from 127.0.0.1
tls_plaintext_loopback = yes
auth_fail_delay_ms = 500
CONF
fi
# a run/ made before IMAP existed: keep IMAP on loopback too
if ! grep -q '^imap_listen' "$CONF"; then
	printf 'imap_listen = 127.0.0.1:1143\nimaps_listen = 127.0.0.1:1993\n' >> "$CONF"
fi
# or before SMTP: never the product default 0.0.0.0:25
if ! grep -q '^smtp_listen' "$CONF"; then
	printf 'smtp_listen = 127.0.0.1:2525\n' >> "$CONF"
fi
# or before metrics: the endpoint on loopback
if ! grep -q '^metrics_listen' "$CONF"; then
	printf 'metrics_listen = 127.0.0.1:9154\n' >> "$CONF"
fi
export POSTERN_CONFIG="$CONF"
if ! "$BIN/posternctl" domain list | grep -qx localhost; then
	"$BIN/posternctl" domain add localhost >/dev/null
fi
for u in demo demo2; do
	if ! "$BIN/posternctl" user show "$u" >/dev/null 2>&1; then
		"$BIN/posternctl" user add "$u" -p "$u" >/dev/null
		for i in 1 2 3; do
			printf 'From: Postern <postmaster@localhost>\nTo: %s@localhost\nSubject: Demo message %s for %s\nDate: %s\nMessage-ID: <demo-%s-%s@localhost>\n\nHello %s,\n\nthis is demo message %s, stored as a Maildir++ file with LF line ends.\n.A line starting with a dot, to show dot-stuffing.\n' \
			    "$u" "$i" "$u" "$(date -R)" "$u" "$i" "$u" "$i" | "$BIN/posternctl" deliver "$u" >/dev/null
		done
		# for IMAP: a multipart with an attachment, 8-bit text, encoded words
		for f in "$TOP"/scripts/demo-mail/*.eml; do
			"$BIN/posternctl" deliver "$u" < "$f" >/dev/null
		done
		# a few folders, owned like the INBOX (Maildir++: .Name with maildirfolder)
		md="$RUN/mail/localhost/$u"
		own=$(stat -c %u:%g "$md/cur")
		for d in .Sent .Drafts .Trash .Lists .Lists.Debian; do
			mkdir -p "$md/$d/cur" "$md/$d/new" "$md/$d/tmp"
			: > "$md/$d/maildirfolder"
			chown -R "$own" "$md/$d"
			chmod -R go-rwx "$md/$d"
		done
	fi
done
# postmaster of every hosted domain (a system alias, docs/SMTP.md)
if ! "$BIN/posternctl" alias list | grep -q '^postmaster -> '; then
	"$BIN/posternctl" alias add postmaster demo@localhost >/dev/null
fi
# The addresses the master will use (the file as edited since, then any
# POSTERN_* variable over it), not the ones written above.
listen_of() {
	"$BIN/posternctl" config dump | sed -n "s/^$1 = //p" | tr -d '"' | cut -d, -f1
}
POP3=$(listen_of pop3_listen)
POP3S=$(listen_of pop3s_listen)
LMTP=$(listen_of lmtp_listen)
IMAP=$(listen_of imap_listen)
IMAPS=$(listen_of imaps_listen)
SMTP=$(listen_of smtp_listen)
METRICS=$(listen_of metrics_listen)
HOST=${POP3%:*}
PORT=${POP3##*:}
cat <<MSG

Postern demo appliance (config $CONF)
  POP3  ${POP3:-(off)}   POP3S ${POP3S:-(off)}   LMTP ${LMTP:-(off)}
  IMAP  ${IMAP:-(off)}   IMAPS ${IMAPS:-(off)}   SMTP ${SMTP:-(off)}
  METRICS ${METRICS:-(off)}
  users: demo / demo, demo2 / demo2

Try:
  curl -s pop3://demo:demo@$POP3/          # list
  curl -s pop3://demo:demo@$POP3/1         # read message 1
  python3 -c "import poplib; p=poplib.POP3('$HOST',$PORT); p.user('demo'); p.pass_('demo'); print(p.stat()); print(p.retr(1)[1]); p.quit()"
  curl -s imap://demo:demo@$IMAP/ -X 'LIST "" "*"'       # folders
  curl -s "imap://demo:demo@$IMAP/INBOX;UID=1"              # read a message
  curl -sk "imaps://demo:demo@$IMAPS/INBOX" -X 'FETCH 1:* (FLAGS ENVELOPE)'
  python3 -c "import imaplib; m=imaplib.IMAP4('${IMAP%:*}',${IMAP##*:}); m.login('demo','demo'); print(m.select('INBOX')); print(m.fetch('1:*','(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])')); m.logout()"
  mutt -f imap://demo@${IMAP%:*}:${IMAP##*:}/INBOX       # password demo
  POSTERN_CONFIG=$CONF $BIN/posternctl auth test demo -p demo
  swaks --protocol LMTP --server ${LMTP%:*} --port ${LMTP##*:} --to demo@localhost,demo2@localhost
  swaks --server ${SMTP%:*} --port ${SMTP##*:} --to demo@localhost,demo2@localhost          # SMTP, the MX
  swaks --server ${SMTP%:*} --port ${SMTP##*:} --to demo@localhost --tls                    # with STARTTLS
  swaks --server ${SMTP%:*} --port ${SMTP##*:} --to someone@example.com   # 550 5.7.1 Relaying denied
  curl -s http://$METRICS/metrics                          # Prometheus text format
  curl -s -H 'Accept: application/openmetrics-text' http://$METRICS/metrics   # OpenMetrics
  curl -si http://$METRICS/healthz                         # 200 ok, or 503 and why
  POSTERN_CONFIG=$CONF $BIN/posternctl status             # the running master (also: who, kick,
  POSTERN_CONFIG=$CONF $BIN/posternctl who                # throttle list|clear, reload, stop, health)
  python3 -c "import smtplib; c=smtplib.LMTP('${LMTP%:*}',${LMTP##*:}); print(c.sendmail('me@example.org',['demo@localhost'],b'Subject: hi\\r\\n\\r\\nhello\\r\\n')); c.quit()"

Logs follow (one key=value line per event). Ctrl-C stops.

MSG
exec "$BIN/postern-master" -c "$CONF"
