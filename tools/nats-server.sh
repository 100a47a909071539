#!/bin/sh
# tools/nats-server.sh DEST: puts nats-server 2.10 at DEST/usr/sbin/nats-server.
#
# Debian 12's nats-server (2.9.10) has no sync_interval and fails
# JetStream's fencing under concurrency (expected last subject sequence
# checks that race), so the benchmark and the cluster run the 2.10 series
# from Debian 13's package.  The package is fetched with apt-get download
# against a sources file and a lists directory of its own, under DEST:
# the system's sources, lists and installed packages are not touched.  The
# server is a static Go binary (libc only), so it runs as unpacked.
#
# Does nothing when DEST already holds a 2.10 server.  Needs no root.
set -eu

dest=${1:?usage: tools/nats-server.sh DEST}
mkdir -p "$dest"
dest=$(cd "$dest" && pwd) # apt reads relative Dir:: paths from /
want=2.10
bin=$dest/usr/sbin/nats-server

version() {
	"$1" --version 2>/dev/null | sed -n 's/^nats-server: v//p'
}

if [ -x "$bin" ]; then
	case $(version "$bin") in
	"$want".*) exit 0 ;;
	esac
fi

apt=$dest/apt
rm -rf "$apt"
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/dl"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]" \
    "http://deb.debian.org/debian trixie main" >"$apt/sources.list"
set -- -o Dir::Etc::SourceList="$apt/sources.list" \
    -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists="$apt/lists" \
    -o Dir::Cache="$apt/cache" -o Debug::NoLocking=1 \
    -o APT::Sandbox::User="$(id -un)"

echo "fetching nats-server $want from Debian 13 (trixie) into $dest"
apt-get "$@" -qq update
candidate=$(apt-cache "$@" policy nats-server | sed -n 's/^ *Candidate: //p')
case $candidate in
"$want".*) ;;
*)
	echo "tools/nats-server.sh: Debian 13 offers nats-server '$candidate'," \
	    "not $want.x" >&2
	exit 1
	;;
esac
(cd "$apt/dl" && apt-get "$@" -qq download "nats-server=$candidate")
dpkg -x "$apt/dl"/nats-server_*.deb "$dest"
rm -rf "$apt"
got=$(version "$bin")
case $got in
"$want".*) echo "nats-server $got at $bin" ;;
*)
	echo "tools/nats-server.sh: $bin says '$got', not $want.x" >&2
	exit 1
	;;
esac
