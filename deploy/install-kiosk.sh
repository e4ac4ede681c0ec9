#!/usr/bin/env bash
# Install or upgrade the hospital queue kiosk on a Debian/Ubuntu PC. Run as root from a copy
# of the source:   sudo deploy/install-kiosk.sh [--server] [--seed FILE] [--no-enable]
#   (default)      a kiosk PC: the touchscreen app under cage at boot (kiosk.service)
#   --server       the central server (deploy/kiosk-server.service)
#   --seed FILE    load departments from a seeds/ file (idempotent)
#   --no-enable    install everything but don't enable/start the service
#   --root DIR     stage into DIR instead of / (no apt, users or systemctl; for checking)
# Running it again upgrades in place: the config and the data directory are kept, and the
# database is migrated when the service starts.
set -euo pipefail

role=kiosk seed="" enable=1 root=""
while [ $# -gt 0 ]; do
  case "$1" in
    --server) role=server ;;
    --seed) seed="$2"; shift ;;
    --no-enable) enable=0 ;;
    --root) root="$2"; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "install-kiosk: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

src=$(cd "$(dirname "$0")/.." && pwd)
staged=$([ -n "$root" ] && echo 1 || echo 0)
say() { printf 'install-kiosk: %s\n' "$*"; }
[ "$staged" = 1 ] || [ "$(id -u)" = 0 ] || { echo "install-kiosk: run as root (sudo)" >&2; exit 1; }

prefix="$root/opt/kiosk" etc="$root/etc/kiosk" units="$root/etc/systemd/system"
rules="$root/etc/udev/rules.d"
if [ "$role" = kiosk ]; then data="$root/var/lib/kiosk"; else data="$root/var/lib/kiosk-server"; fi

if [ "$staged" = 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  packages=(python3 python3-venv libegl1 libgl1 libfontconfig1 libfreetype6 libglib2.0-0
            libxkbcommon0 libdbus-1-3 libusb-1.0-0)
  [ "$role" = kiosk ] && packages+=(cage seatd libwayland-cursor0 espeak-ng fonts-dejavu-core)
  say "installing system packages: ${packages[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${packages[@]}"
  if ! id kiosk >/dev/null 2>&1; then
    say "creating the unprivileged user 'kiosk'"
    useradd --system --home-dir /var/lib/kiosk --shell /usr/sbin/nologin kiosk
  fi
  for group in video render input lp; do
    getent group "$group" >/dev/null && usermod -aG "$group" kiosk
  done
fi
# systemd runs the services; in a container or chroot without it, say what to do later.
have_systemd=0
[ "$staged" = 0 ] && [ -d /run/systemd/system ] && have_systemd=1

say "installing the application into $prefix"
mkdir -p "$prefix" "$etc" "$units" "$rules" "$data"
# Debian's interpreter: the venv links to it, and the kiosk user must be able to run it (a
# Python under /root or a home directory would not be).
python=/usr/bin/python3
[ "$staged" = 1 ] && python=${PYTHON:-python3}
[ -x "$prefix/venv/bin/python" ] || "$python" -m venv "$prefix/venv"
"$prefix/venv/bin/python" -m pip install --quiet --upgrade pip
"$prefix/venv/bin/python" -m pip install --quiet --upgrade "$src"
install -m 0644 "$src/README.md" "$prefix/README.md"
rm -rf "$prefix/seeds" && cp -r "$src/seeds" "$prefix/seeds"

if [ -e "$etc/kiosk.toml" ]; then
  say "keeping the existing $etc/kiosk.toml"
else
  say "writing $etc/kiosk.toml from the commented example: edit it before the first start"
  install -m 0640 "$src/deploy/kiosk.toml.example" "$etc/kiosk.toml"
fi
install -m 0644 "$src/deploy/kiosk.toml.example" "$etc/kiosk.toml.example"

if [ "$role" = kiosk ]; then
  install -m 0644 "$src/kiosk.service" "$units/kiosk.service"
  install -m 0644 "$src/deploy/99-kiosk-printer.rules" "$rules/99-kiosk-printer.rules"
  unit=kiosk.service
else
  install -m 0644 "$src/deploy/kiosk-server.service" "$units/kiosk-server.service"
  unit=kiosk-server.service
fi

if [ "$staged" = 0 ]; then
  chown root:kiosk "$etc" "$etc/kiosk.toml" && chmod 0750 "$etc"
  chown kiosk:kiosk "$data"
  as_kiosk() { runuser -u kiosk -- env KIOSK_CONFIG="$etc/kiosk.toml" KIOSK_DATA_DIR="$data" "$@"; }
  if [ -n "$seed" ]; then
    say "loading departments from $seed"
    if [ "$role" = kiosk ]; then as_kiosk "$prefix/venv/bin/kiosk" seed "$seed"
    else as_kiosk "$prefix/venv/bin/kiosk" seed "$seed" --database "$(as_kiosk "$prefix/venv/bin/python" -c 'from kiosk.config import load_config; print(load_config().server_database_url)')"; fi
  fi
  udevadm control --reload 2>/dev/null || true
  if [ "$have_systemd" = 1 ]; then
    systemctl daemon-reload
    [ "$role" = kiosk ] && systemctl enable --now seatd.service
    if [ "$enable" = 1 ]; then
      systemctl enable "$unit"
      systemctl restart "$unit"
      say "$unit enabled and (re)started; follow it with: journalctl -u $unit -f"
    fi
  else
    say "systemd is not running on this machine: on the kiosk PC run"
    say "  systemctl daemon-reload && systemctl enable --now seatd $unit"
  fi
  say "check the installation with: sudo -u kiosk KIOSK_DATA_DIR=$data $prefix/venv/bin/kiosk doctor"
else
  say "staged into $root (no users, packages or services touched)"
fi
