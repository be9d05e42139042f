#!/bin/bash
# Builds the Debian package from a configured build directory, installs it
# on this machine, starts onewindowd from the installed files the way the
# systemd unit does, checks that it serves (a case deployed from the
# packaged examples is finished by the packaged simulated departments, and
# an online backup is taken), stops it and purges the package.
#
#   sudo deploy/package-test.sh BUILD_DIR
#
# Needs root and Debian 12 with the build dependencies installed (the
# package's run-time libraries come with them). Idempotent: an earlier
# install of the package is purged first, and what the test itself adds
# (/var/lib/onewindow, the example definition) is removed at the end when it
# was not there before. With systemd running (`systemctl` sees
# /run/systemd/system) the unit itself is started; otherwise its ExecStart
# line runs as its User= in its WorkingDirectory=.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
if [ "$(id -u)" != 0 ]; then
  echo "$0: must run as root (apt-get install)" >&2
  exit 2
fi
build=$(realpath "$1")
t0=$(date +%s)
# One package test at a time on a machine (same package, port and state
# directory); dpkg and apt wait for each other's lock up to 2 minutes.
exec 9>/run/lock/onewindow-package-test.lock
flock -w 300 9 || { echo "$0: another package test holds the lock" >&2; exit 1; }
apt_opts=(-y -q -o DPkg::Lock::Timeout=120)
say() { echo "package-test: $*"; }
fail() { echo "package-test: FAIL: $*" >&2; exit 1; }

unit=/usr/lib/systemd/system/onewindowd.service
with_systemd=0
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
  with_systemd=1
fi
state_existed=0
[ -e /var/lib/onewindow ] && state_existed=1
pid=""
work=$(mktemp -d)

cleanup() {
  set +e
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; fi
  if [ "$with_systemd" = 1 ]; then systemctl stop onewindowd 2>/dev/null; fi
  rm -f /etc/onewindow/workflows/food-licence.asl.yaml \
        /etc/onewindow/workflows/food-licence.service.yaml
  apt-get purge "${apt_opts[@]}" onewindow >/dev/null 2>&1
  if [ "$state_existed" = 0 ]; then rm -rf /var/lib/onewindow; fi
  rmdir /etc/onewindow/workflows /etc/onewindow 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# ---- build the package ----
cmake --build "$build" -j"$(nproc)" --target onewindowd owctl ow-adapter-sim \
  ow-adapter-http >/dev/null
rm -f "$build"/onewindow_*.deb
(cd "$build" && cpack -G DEB >"$work/cpack.log" 2>&1) ||
  { cat "$work/cpack.log" >&2; fail "cpack"; }
deb=$(ls "$build"/onewindow_*.deb)
say "$(basename "$deb"): $(stat -c %s "$deb") bytes"

# ---- install (after purging an earlier install) ----
if dpkg -s onewindow >/dev/null 2>&1; then
  [ "$with_systemd" = 1 ] && systemctl stop onewindowd 2>/dev/null || true
  apt-get purge "${apt_opts[@]}" onewindow >/dev/null
fi
DEBIAN_FRONTEND=noninteractive apt-get install "${apt_opts[@]}" "$deb" \
  >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "apt-get install"; }
for f in /usr/bin/onewindowd /usr/bin/owctl /usr/bin/ow-adapter-sim \
         /usr/bin/ow-adapter-http "$unit" /etc/onewindow/onewindow.yaml; do
  [ -e "$f" ] || fail "$f not installed"
done
dpkg-query -W -f='${Conffiles}\n' onewindow | grep -q /etc/onewindow/onewindow.yaml ||
  fail "onewindow.yaml is not a conffile"
getent passwd onewindow >/dev/null || fail "no onewindow user"

# Every shared library the binaries need comes from a package in Depends.
depends=$(dpkg-query -W -f='${Depends}' onewindow)
# (Direct NEEDED entries only; their own dependencies are their packages'.)
for lib in $(for b in onewindowd owctl ow-adapter-sim ow-adapter-http; do
               ldd /usr/bin/$b | awk -v need=" $(objdump -p /usr/bin/$b |
                 awk '/NEEDED/{printf "%s ", $2}')" \
                 '/=> \// && index(need, " " $1 " ") {print $3}'
             done | sort -u); do
  pkg=$(dpkg -S "$lib" 2>/dev/null || dpkg -S "$(realpath "$lib")" 2>/dev/null ||
        dpkg -S "/usr$lib" 2>/dev/null || true)
  pkg=${pkg%%:*}
  [ -n "$pkg" ] || fail "$lib belongs to no package"
  case ", $depends," in
    *", $pkg "* | *", $pkg,"*) ;;
    *) case "$pkg" in libc6 | libgcc-s1 | libstdc++6) ;;
         *) fail "$lib ($pkg) is not in Depends: $depends" ;; esac ;;
  esac
done
[ "$with_systemd" = 1 ] && systemd-analyze verify "$unit" 2>&1 | grep -v "^$" || true

# An example service deployed at start from /etc/onewindow/workflows.
cp /usr/share/onewindow/workflows/food-licence.asl.yaml \
   /usr/share/onewindow/workflows/food-licence.service.yaml /etc/onewindow/workflows/

# ---- start it as the unit does ----
addr=$(sed -n 's/^listen: *//p' /etc/onewindow/onewindow.yaml)
if [ "$with_systemd" = 1 ]; then
  systemctl start onewindowd
else
  exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
  user=$(sed -n 's/^User=//p' "$unit")
  wd=$(sed -n 's/^WorkingDirectory=//p' "$unit")
  install -d -o "$user" -g "$user" -m 0750 "$wd"   # StateDirectory=
  # shellcheck disable=SC2086
  (cd "$wd" && umask 0027 && exec setpriv --reuid="$user" --regid="$user" --init-groups -- $exec_start) \
    >"$work/onewindowd.log" 2>&1 &
  pid=$!
fi
owctl=(/usr/bin/owctl --addr "$addr")
up=0
for _ in $(seq 1 150); do
  if "${owctl[@]}" workflow list >/dev/null 2>&1; then up=1; break; fi
  sleep 0.2
done
if [ "$up" = 0 ]; then
  cat "$work/onewindowd.log" >&2 2>/dev/null || journalctl -u onewindowd --no-pager | tail -40 >&2
  fail "onewindowd does not serve on $addr"
fi
say "onewindowd serves on $addr ($([ "$with_systemd" = 1 ] && echo systemd || echo "setpriv as the unit's User=, no systemd"))"
"${owctl[@]}" workflow list | grep -q food-licence || fail "food-licence not deployed at start"

# A case, finished by the packaged simulated departments.
id=$("${owctl[@]}" case submit --service food-licence \
       --data /usr/share/onewindow/workflows/food-licence.input.json \
       --request-id "package-test-$t0-$$")
[ -n "$id" ] || fail "case submit printed no case number"
sims=()
for d in DSF CB IAM; do
  runuser -u nobody -- /usr/bin/ow-adapter-sim --department $d --addr "$addr" \
    --latency-ms 10 >>"$work/sim.log" 2>&1 &
  sims+=($!)
done
done_=0
for _ in $(seq 1 150); do
  if "${owctl[@]}" --json case get "$id" | grep -q '"SUCCEEDED"'; then done_=1; break; fi
  sleep 0.2
done
kill -TERM "${sims[@]}" 2>/dev/null || true
wait "${sims[@]}" 2>/dev/null || true
[ "$done_" = 1 ] || { "${owctl[@]}" case get "$id" >&2; cat "$work/sim.log" >&2; fail "case $id did not succeed"; }
say "case $id succeeded"

# An online backup into the state directory, as the service user owns it.
bdir=/var/lib/onewindow/backups/package-test-$t0-$$
"${owctl[@]}" admin backup --to "$bdir" >/dev/null || fail "admin backup"
[ "$(stat -c %U "$bdir/CURRENT")" = onewindow ] || fail "backup not owned by onewindow"
rm -rf "$bdir"

# ---- stop (drains on SIGTERM, exit 0) and purge ----
if [ "$with_systemd" = 1 ]; then
  systemctl stop onewindowd
else
  kill -TERM "$pid"
  rc=0
  wait "$pid" || rc=$?
  pid=""
  [ "$rc" = 0 ] || { cat "$work/onewindowd.log" >&2; fail "onewindowd exited $rc on SIGTERM"; }
fi
rm -f /etc/onewindow/workflows/food-licence.*
apt-get purge "${apt_opts[@]}" onewindow >/dev/null
[ ! -e /usr/bin/onewindowd ] || fail "purge left /usr/bin/onewindowd"
[ ! -e /etc/onewindow/onewindow.yaml ] || fail "purge left the conffile"
say "OK in $(( $(date +%s) - t0 )) s"
