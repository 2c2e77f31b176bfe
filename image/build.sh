#!/bin/sh
# Build the Postern appliance image without a container engine, reproducibly.
#
#   sh image/build.sh [OUT]        (default OUT: build/image; `make image` runs this)
#
# From build/bin (static-pie binaries, no libc needed at run time) it makes:
#   OUT/rootfs/          the staged root filesystem (all files uid 0, mtime 0)
#   OUT/layer.tar        that tree as one sorted, uncompressed tar layer
#   OUT/oci/             an OCI image layout, tag postern:latest (umoci), e.g.
#                        skopeo inspect oci:build/image/oci:postern:latest
#   OUT/postern.erofs    a read-only erofs root image  (mkfs.erofs, fixed UUID/time)
#   OUT/postern.squashfs a read-only squashfs root image (mksquashfs, fixed times)
#   OUT/digest           the manifest digest of postern:latest
#
# Nothing in the output depends on the time, the umask, the build directory or
# the order readdir returns: two builds from the same binaries give the same
# manifest digest and byte-identical erofs/squashfs images.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$TOP/build/image}
BIN=$TOP/build/bin
TAG=${IMAGE_TAG:-postern:latest}
# Fixed, not the build time: the image must not change unless its content does.
EPOCH=${SOURCE_DATE_EPOCH:-0}
CREATED=$(date -u -d "@$EPOCH" +%Y-%m-%dT%H:%M:%SZ)
# Any fixed UUID will do; this one is Postern's.
EROFS_UUID=${EROFS_UUID:-9f3b2c1e-7a64-4d1f-8c55-70737465726e}
VERSION=${VERSION:-$(git -C "$TOP" describe --always --dirty 2>/dev/null || echo unknown)}
REVISION=${REVISION:-$(git -C "$TOP" rev-parse HEAD 2>/dev/null || echo unknown)}
SOURCE=${IMAGE_SOURCE:-https://example.invalid/postern}
# Every daemon make built (master, authd, keyd, stored, pop3d, and each protocol
# daemon as it lands); the master execs them from its own directory.
# postern-auth-pgsql and postern-auth-ldap (authd's PostgreSQL and LDAP
# backends) link glibc and libpq or libldap
# dynamically and are left out: the rootfs has no libc (docs/CONTAINER.md).
DAEMONS=$(cd "$BIN" 2>/dev/null && ls postern-* 2>/dev/null | grep -vx -e postern-auth-pgsql -e postern-auth-ldap | LC_ALL=C sort | tr '\n' ' ' || true)
# SMTP (the MX), POP3 and POP3S; add 143/tcp 993/tcp 587/tcp 465/tcp as those land.
PORTS="25/tcp 110/tcp 995/tcp"
case $(uname -m) in x86_64) ARCH=amd64 ;; aarch64) ARCH=arm64 ;; *) ARCH=$(uname -m) ;; esac

for t in umoci skopeo mkfs.erofs mksquashfs tar readelf strip; do
	command -v $t >/dev/null 2>&1 || { echo "image: $t not found (make deps)" >&2; exit 1; }
done
[ -n "$DAEMONS" ] || { echo "image: no $BIN/postern-* (make all)" >&2; exit 1; }
for b in $DAEMONS posternctl; do
	[ -x "$BIN/$b" ] || { echo "image: $BIN/$b missing (make all)" >&2; exit 1; }
	# The rootfs has no libc: refuse anything dynamically linked.
	if readelf -l "$BIN/$b" | grep -q 'Requesting program interpreter'; then
		echo "image: $BIN/$b is not static" >&2
		exit 1
	fi
done
umask 022
export LC_ALL=C TZ=UTC

# 1. The root filesystem: the binaries and empty mount points, nothing else.
R=$OUT/rootfs
rm -rf "$R" "$OUT/oci" "$OUT/layer.tar" "$OUT/postern.erofs" "$OUT/postern.squashfs" "$OUT/digest"
mkdir -p "$R/usr/bin" "$R/usr/libexec/postern" \
	"$R/etc/postern" "$R/var/mail" "$R/var/lib/postern" "$R/tmp" \
	"$R/proc" "$R/dev" "$R/sys" "$R/run"
for b in $DAEMONS; do
	install -m 0755 "$BIN/$b" "$R/usr/libexec/postern/$b"
	strip --strip-debug "$R/usr/libexec/postern/$b"
done
install -m 0755 "$BIN/posternctl" "$R/usr/bin/posternctl"
strip --strip-debug "$R/usr/bin/posternctl"
# The master finds its children next to its own binary (/proc/self/exe, which
# resolves this link), so it lives in libexec; the link is for operators.
ln -s ../libexec/postern/postern-master "$R/usr/bin/postern-master"
chmod 1777 "$R/tmp"
chown -R 0:0 "$R" 2>/dev/null || true
find "$R" -exec touch -h -d "@$EPOCH" {} +

# 2. One layer: sorted names, numeric owner 0, fixed mtime, no pax atime/ctime.
(cd "$R" && tar --sort=name --format=gnu --numeric-owner --owner=0 --group=0 \
	--mtime="@$EPOCH" --no-xattrs --no-acls --no-selinux \
	-cf "$OUT/layer.tar" $(ls -A | sort))

# 3. The OCI image.  Configured by POSTERN_* environment variables only:
# POSTERN_CONFIG=none says so explicitly to the master and to every
# `posternctl` run inside (a missing config file is fatal otherwise); with a
# file mounted on /etc/postern, run with -e POSTERN_CONFIG=/etc/postern/postern.conf.
L=$OUT/oci
umoci init --layout "$L"
umoci new --image "$L:$TAG"
umoci raw add-layer --image "$L:$TAG" --history.created "$CREATED" \
	--history.created_by "image/build.sh" --history.comment "postern $VERSION" \
	"$OUT/layer.tar"
set --
for p in $PORTS; do set -- "$@" --config.exposedports "$p"; done
for v in /var/mail /var/lib/postern /etc/postern; do set -- "$@" --config.volume "$v"; done
umoci config --image "$L:$TAG" --created "$CREATED" --author "Postern" \
	--architecture "$ARCH" \
	--os linux \
	--config.entrypoint /usr/libexec/postern/postern-master \
	--config.env PATH=/usr/bin --config.env POSTERN_CONFIG=none \
	--config.workingdir / --config.stopsignal SIGTERM \
	--config.label "org.opencontainers.image.title=postern" \
	--config.label "org.opencontainers.image.description=Postern privilege-separated mail server" \
	--config.label "org.opencontainers.image.version=$VERSION" \
	--config.label "org.opencontainers.image.revision=$REVISION" \
	--config.label "org.opencontainers.image.source=$SOURCE" \
	--config.label "org.opencontainers.image.created=$CREATED" \
	--manifest.annotation "org.opencontainers.image.version=$VERSION" \
	--manifest.annotation "org.opencontainers.image.revision=$REVISION" \
	--manifest.annotation "org.opencontainers.image.created=$CREATED" \
	--history.created "$CREATED" --history.created_by "image/build.sh config" \
	"$@"
# Drop the blobs of the intermediate manifests/configs: the layout then holds
# exactly one image and is itself identical between builds.
umoci gc --layout "$L"
digest=$(skopeo inspect --format '{{.Digest}}' "oci:$L:$TAG")
echo "$digest" >"$OUT/digest"

# 4. Read-only root images for embedded gateways (same tree).
mkfs.erofs --quiet -zlz4hc -x-1 --all-root -T"$EPOCH" -U"$EROFS_UUID" \
	"$OUT/postern.erofs" "$R"
mksquashfs "$R" "$OUT/postern.squashfs" -noappend -quiet -no-progress \
	-mkfs-time "$EPOCH" -all-time "$EPOCH" -all-root -no-xattrs -comp xz >/dev/null

echo "image: oci:$L:$TAG $digest"
echo "image: $(sha256sum "$OUT/postern.erofs" | cut -c1-64) postern.erofs"
echo "image: $(sha256sum "$OUT/postern.squashfs" | cut -c1-64) postern.squashfs"
