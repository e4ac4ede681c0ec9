#!/usr/bin/env bash
# `make deploy-test`: install the built wheel as the README says, in a Debian 12 container booted
# with systemd 252 as PID 1 (systemd-nspawn), and check what the units promise: see inside.sh.
#   deploy/test/run.sh dist/hospital_queue_kiosk-VERSION-py3-none-any.whl
# Needs root. The Debian rootfs (debootstrap), the downloaded .debs and pip's cache are kept in
# $DEPLOY_TEST_CACHE (default /var/cache/kiosk-deploy-test) so a second run takes minutes.
# Where nspawn cannot run (not root, no namespaces) it says why and skips; under CI=1 that fails.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
cache=${DEPLOY_TEST_CACHE:-/var/cache/kiosk-deploy-test}
python=${PYTHON:-$src/.venv/bin/python}
mirror=${DEPLOY_TEST_MIRROR:-http://deb.debian.org/debian}
machine=kiosk-deploy-test
log() { printf 'deploy-test: %s\n' "$*"; }
skip() {
  log "SKIPPED: $*"
  if [ -n "${CI:-}" ]; then log "CI must run it: failing"; exit 1; fi
  exit 0
}

wheel=${1:?usage: deploy/test/run.sh WHEEL}
[ -f "$wheel" ] || { log "no such wheel: $wheel"; exit 2; }
[ "$(id -u)" = 0 ] || skip "needs root: systemd-nspawn boots a container"
command -v systemd-nspawn >/dev/null || skip "systemd-nspawn is missing (apt-get install systemd-container)"
command -v debootstrap >/dev/null || skip "debootstrap is missing (apt-get install debootstrap)"
unshare --mount --pid --uts --ipc --fork true 2>/dev/null \
  || skip "this machine cannot create namespaces (an unprivileged container?)"

start=$(date +%s)
mkdir -p "$cache/apt-archives/partial" "$cache/pip"

# -- the Debian 12 rootfs, made once -------------------------------------------------------
include=systemd,systemd-sysv,udev,dbus,python3,python3-venv,ca-certificates,curl,procps,iproute2
key=$(printf '%s %s %s' bookworm "$include" "$mirror" | sha256sum | cut -c1-12)
tarball="$cache/rootfs-bookworm-$key.tar"
if [ ! -f "$tarball" ]; then
  log "making the Debian 12 rootfs with debootstrap (once; cached in $tarball)"
  build=$(mktemp -d /var/tmp/kiosk-rootfs.XXXXXX)
  chmod 0755 "$build"  # it becomes the container's /: mktemp makes it 0700
  debootstrap --variant=minbase --include="$include" bookworm "$build" "$mirror" >"$build.log" 2>&1 \
    || { tail -20 "$build.log"; exit 1; }
  # The host's own CAs (a proxy on this network), so apt and pip work inside.
  if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$build/usr/local/share/ca-certificates/"
    chroot "$build" update-ca-certificates >/dev/null
  fi
  echo "$machine" >"$build/etc/hostname"
  mkdir -p "$build/var/log/journal"
  tar -C "$build" --numeric-owner -cf "$tarball.partial" .
  mv "$tarball.partial" "$tarball"
  rm -rf "$build" "$build.log"
fi

work=$(mktemp -d /var/tmp/kiosk-deploy-test.XXXXXX)
# The container lives in memory: dpkg's and PostgreSQL's fsyncs cost nothing, and it is gone
# at once afterwards (about 3 GB at its largest).
mount -t tmpfs -o size=${DEPLOY_TEST_TMPFS_SIZE:-8g},mode=0755 kiosk-deploy-test "$work"
root="$work/root"
nspawn_pid=""
cleanup() {
  status=$?
  if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
    inside systemctl poweroff >/dev/null 2>&1 || true
    for _ in $(seq 60); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$nspawn_pid" 2>/dev/null || true
  fi
  if [ "$status" != 0 ] && [ -f "$work/console.log" ]; then
    log "the container's console (last lines):"
    tail -30 "$work/console.log"
  fi
  if [ "$status" != 0 ] && [ -d "$root/var/log/journal" ]; then
    log "the container's journal (warnings and worse):"
    journalctl --directory="$root/var/log/journal" -p warning --no-pager 2>/dev/null | tail -80 || true
  fi
  umount "$work" 2>/dev/null || umount -l "$work"
  rmdir "$work"
  log "took $(( $(date +%s) - start )) s"
}
trap cleanup EXIT
mkdir -p "$root"
tar -C "$root" --numeric-owner -xf "$tarball"
# The container's / as Debian has it. A tarball made from mktemp's 0700 directory gives 0700,
# and then no service user can reach a file: D-Bus cannot read its config, logind never
# starts and the boot never finishes.
chmod 0755 "$root"

# -- what an IT technician copies to the PC: the source tree with the built package ---------
log "copying the source tree and $(basename "$wheel") into the container"
mkdir -p "$root/root/src/dist" "$root/root/old"
cp -r "$src/deploy" "$src/README.md" "$src/kiosk.service" "$root/root/src/"
cp "$wheel" "$root/root/src/dist/"
# The release before this one: the code as it was before the newest migration was added (its
# models match its schema), an older version number. Installed first, then upgraded to the real
# wheel, so the upgrade really migrates.
old_tree="$work/old-tree"
mkdir -p "$old_tree"
newest=$(ls "$src"/kiosk/queue/migrations/versions/[0-9]*.py | sort | tail -1)
# --follow: a migration renumbered at a rebase (0005 -> 0006) was added under its first name;
# the commit before the rename holds two migrations of one revision and no release ever had it.
added=$(git -C "$src" log --follow -1 --format=%H --diff-filter=A -- "${newest#"$src"/}" \
  2>/dev/null || true)
if [ -n "$added" ] && git -C "$src" cat-file -e "$added^" 2>/dev/null; then
  git -C "$src" archive "$added^" | tar -C "$old_tree" -xf -
else  # no history (a source tarball): the same code without the newest migration
  tar -C "$src" --exclude=./.venv --exclude=./.git --exclude=./dist --exclude=./build \
    --exclude='*.egg-info' --exclude=__pycache__ -cf - . | tar -C "$old_tree" -xf -
  rm "$old_tree/kiosk/queue/migrations/versions/$(basename "$newest")"
fi
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$old_tree/pyproject.toml")
sed -i "s/^version = \".*\"/version = \"$version.dev0\"/" "$old_tree/pyproject.toml"
"$python" -m pip wheel --quiet --no-deps --wheel-dir "$root/root/old" "$old_tree" >/dev/null
log "old release: $(basename "$root"/root/old/*.whl) (without $(basename "$newest"))"

# -- boot -----------------------------------------------------------------------------------
boot() {
  systemd-nspawn -D "$root" -b --register=no --keep-unit -M "$machine" \
    --bind="$cache/apt-archives:/var/cache/apt/archives" --bind="$cache/pip:/root/.cache/pip" \
    >"$work/console.log" 2>&1 &
  nspawn_pid=$!
  leader=""
  for _ in $(seq 120); do
    leader=$(ps --ppid "$nspawn_pid" -o pid= 2>/dev/null | head -1 | tr -d ' ' || true)
    [ -n "$leader" ] && [ "$(cat "/proc/$leader/comm" 2>/dev/null)" = systemd ] && break
    kill -0 "$nspawn_pid" 2>/dev/null || { tail -20 "$work/console.log"; skip "systemd-nspawn could not boot here"; }
    sleep 0.5
  done
  state=""
  for _ in $(seq 120); do
    state=$(inside systemctl is-system-running --wait 2>/dev/null || true)
    [ -n "$state" ] && [ "$state" != offline ] && break
    sleep 0.5
  done
  log "booted: systemd as PID 1 in the container, system $state"
}
inside() {
  nsenter -t "$leader" -m -u -i -n -p -C -r -w env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 TERM=dumb "$@"
}
reboot_container() {
  inside systemctl reboot || true
  # nspawn ends with 133 on a reboot request; booting again is the caller's job.
  wait "$nspawn_pid" || true
  nspawn_pid=""
  boot
}

port=${DEPLOY_TEST_PORT:-18181}
pg_port=${DEPLOY_TEST_PG_PORT:-15433}
env_vars=(DEPLOY_TEST_PORT="$port" DEPLOY_TEST_PG_PORT="$pg_port")
boot
inside env "${env_vars[@]}" bash /root/src/deploy/test/inside.sh install
# The ticket the installed kiosk printed (preview printer), to look at.
artifacts=${DEPLOY_TEST_ARTIFACTS:-$cache/last-run}
rm -rf "$artifacts" && mkdir -p "$artifacts"
cp "$root"/var/lib/kiosk/tickets/*.png "$artifacts/" 2>/dev/null || true
log "the ticket it printed: $(ls "$artifacts"/*.png 2>/dev/null | head -1)"
reboot_container
inside env "${env_vars[@]}" bash /root/src/deploy/test/inside.sh after-reboot
log "PASSED"
