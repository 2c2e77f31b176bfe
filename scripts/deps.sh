#!/bin/sh
# Install the Debian packages Postern needs to build, run and test.
# As root: installs what is missing. Otherwise: prints the apt-get line.
set -e
PKGS="gcc make libc6-dev musl-tools libbearssl-dev libseccomp-dev libcap-ng-dev liblmdb-dev lmdb-utils
libcrypt-dev clang libclang-rt-14-dev llvm-14 python3 curl fetchmail openssl procps
gnutls-bin swaks libnet-ssleay-perl libio-socket-ssl-perl isync mutt offlineimap3 getmail6 util-linux umoci skopeo runc squashfs-tools erofs-utils fail2ban
python3-prometheus-client
lintian groff-base man-db
postfix dovecot-lmtpd dnsmasq-base
gsasl
postgresql libpq-dev
slapd ldap-utils libldap-dev"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "missing packages:$missing"
	echo "run: sudo apt-get install -y$missing"
	exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# postgresql and slapd (test_auth_pgsql and test_auth_ldap start throwaway
# servers of their own; libpq-dev and libldap-dev build the helpers) and postfix (tests/integration/test_postfix.py runs a private instance of its
# own; dovecot-lmtpd is bench/lmtp.py's peer): the package must neither
# configure nor start the machine's mail system. "No configuration" keeps
# /etc/postfix/main.cf unwritten; a policy-rc.d that denies every start
# (101) keeps the postinst from starting any service, and goes afterwards
# if we put it there.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
# slapd: no configuration of its own (no /etc/ldap/slapd.d database, no admin password)
echo "slapd slapd/no_configuration boolean true" | debconf-set-selections
policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	policy=/usr/sbin/policy-rc.d
fi
apt-get update -qq || true
apt-get install -y -qq --no-install-recommends $missing >/dev/null
[ -n "$policy" ] && rm -f "$policy"
if command -v postfix >/dev/null && postfix status >/dev/null 2>&1; then
	echo "deps.sh: the postfix package started the system's Postfix: stop it (postfix stop)" >&2
	exit 1
fi
