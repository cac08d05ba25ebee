#!/usr/bin/env bash
# Proves the install path of scripts/ensure-services.sh: runs it on a fresh Debian bookworm (debootstrap,
# minbase: no Redis, no PostgreSQL) inside its own network namespace, so the host's services on 6379/5432
# are out of sight. apt reaches the Debian mirror through a small forwarding proxy on a veth pair.
# Needs root, debootstrap (apt-get install -y debootstrap) and the network to Debian's mirror. Not part of
# CI (it takes minutes); run it after changing ensure-services.sh.
set -euo pipefail
root=${ROOTFS:-/tmp/kisjobs-rootfs}
ns=kjfresh
here=$(cd "$(dirname "$0")" && pwd)

cleanup() {
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && kill "$(basename "$p")" 2>/dev/null || true
  done
  sleep 1
  for m in dev/pts dev proc sys; do umount "$root/$m" 2>/dev/null || true; done
  [ -n "${proxy_pid:-}" ] && kill "$proxy_pid" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  ip link del kj-veth-h 2>/dev/null || true
}
trap cleanup EXIT

[ -x "$root/bin/bash" ] || debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian

ip netns add "$ns"
ip link add kj-veth-h type veth peer name kj-veth-c
ip link set kj-veth-c netns "$ns"
ip addr add 10.201.0.1/24 dev kj-veth-h && ip link set kj-veth-h up
ip netns exec "$ns" ip addr add 10.201.0.2/24 dev kj-veth-c
ip netns exec "$ns" ip link set kj-veth-c up
ip netns exec "$ns" ip link set lo up

node -e '
const http = require("node:http");
http.createServer((req, res) => {
  const url = new URL(req.url);
  const up = http.request({ host: url.hostname, port: url.port || 80, path: url.pathname + url.search,
    method: req.method, headers: { ...req.headers, host: url.host } }, (r) => {
    res.writeHead(r.statusCode ?? 502, r.headers); r.pipe(res); });
  up.on("error", (e) => { res.writeHead(502); res.end(String(e)); });
  req.pipe(up);
}).listen(3128, "10.201.0.1");' &
proxy_pid=$!
sleep 1

mount -t proc proc "$root/proc"; mount --bind /dev "$root/dev"; mount --bind /dev/pts "$root/dev/pts"
mount -t sysfs sys "$root/sys"
cp "$here/ensure-services.sh" "$root/ensure-services.sh"
in_root() { ip netns exec "$ns" chroot "$root" env http_proxy=http://10.201.0.1:3128 PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }

in_root bash /ensure-services.sh
in_root redis-cli -h 127.0.0.1 ping
in_root psql -h 127.0.0.1 -U postgres -d postgres -Atc 'select 1'
in_root bash /ensure-services.sh # a second run changes nothing
echo "fresh-machine install path: OK"
