#!/bin/sh
# Install the Debian packages Postern needs to build, run and test.
# As root: installs what is missing. Otherwise: prints the apt-get line.
set -e
PKGS="gcc make libc6-dev libbearssl-dev libseccomp-dev libcap-ng-dev liblmdb-dev lmdb-utils
libcrypt-dev clang libclang-rt-14-dev llvm-14 python3 curl fetchmail openssl procps
gnutls-bin swaks libnet-ssleay-perl libio-socket-ssl-perl isync mutt offlineimap3 getmail6 util-linux umoci skopeo runc squashfs-tools erofs-utils fail2ban
python3-prometheus-client
lintian groff-base man-db"
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
apt-get update -qq || true
apt-get install -y -qq --no-install-recommends $missing >/dev/null
