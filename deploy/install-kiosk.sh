#!/usr/bin/env bash
# Install or upgrade the hospital queue kiosk on a Debian 12 / Ubuntu PC, from the package
# (`make dist` builds dist/hospital_queue_kiosk-VERSION-py3-none-any.whl). Run as root from a
# copy of the source tree:   deploy/install-kiosk.sh [--server] [--wheel FILE] [--seed SEEDS]
#   (default)      a kiosk PC: the touchscreen app under cage at boot (kiosk.service) and a
#                  nightly backup (kiosk-backup.timer)
#   --server       the central server (kiosk-server.service)
#   --wheel FILE   the package to install (default: the newest dist/*.whl of this tree)
#   --seed SEEDS   load departments from a seeds file or a bundled example by name
#                  (provincial-general-hospital); idempotent
#   --no-enable    install everything but don't enable or start the service
#   --root DIR     stage into DIR instead of / (no apt, users or systemctl; for checking)
# The first run writes /etc/kiosk/kiosk.toml from the example and enables the service without
# starting it: edit the config, then run this again (or systemctl start the unit). Running it
# again upgrades in place: config, data, owner and mode are kept, the versions pinned by
# deploy/constraints.txt are installed, and the database is migrated when the service starts.
set -euo pipefail

role=kiosk seed="" enable=1 root="" wheel=""
while [ $# -gt 0 ]; do
  case "$1" in
    --server) role=server ;;
    --wheel) wheel="$2"; shift ;;
    --seed) seed="$2"; shift ;;
    --no-enable) enable=0 ;;
    --root) root="$2"; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "install-kiosk: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

src=$(cd "$(dirname "$0")/.." && pwd)
staged=$([ -n "$root" ] && echo 1 || echo 0)
say() { printf 'install-kiosk: %s\n' "$*"; }
die() { printf 'install-kiosk: %s\n' "$*" >&2; exit 1; }
[ "$staged" = 1 ] || [ "$(id -u)" = 0 ] || die "run as root (su -, or sudo)"
if [ -z "$wheel" ]; then
  wheel=$(ls "$src"/dist/hospital_queue_kiosk-*.whl 2>/dev/null | sort -V | tail -1 || true)
  [ -n "$wheel" ] || die "no package in $src/dist: build it with 'make dist', or give --wheel FILE"
fi
[ -f "$wheel" ] || die "no such package: $wheel"
wheel=$(cd "$(dirname "$wheel")" && pwd)/$(basename "$wheel")
constraints="$src/deploy/constraints.txt"

prefix="$root/opt/kiosk" etc="$root/etc/kiosk" units="$root/etc/systemd/system"
rules="$root/etc/udev/rules.d"
if [ "$role" = kiosk ]; then
  data="$root/var/lib/kiosk" unit=kiosk.service doctor="doctor"
else
  data="$root/var/lib/kiosk-server" unit=kiosk-server.service doctor="doctor --server"
fi

if [ "$staged" = 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  packages=(python3 python3-venv procps)
  # cage needs Xwayland at start even for Wayland-only apps (Debian does not pull it in);
  # Qt's Wayland plugin needs the rest. fonts-dejavu-core: fontconfig's default fonts.
  [ "$role" = kiosk ] && packages+=(cage xwayland seatd libwayland-cursor0 libwayland-egl1
      libegl1 libgl1 libfontconfig1 libfreetype6 libglib2.0-0 libxkbcommon0 libdbus-1-3
      libusb-1.0-0 espeak-ng fonts-dejavu-core)
  say "installing system packages: ${packages[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${packages[@]}"
  # SupplementaryGroups= in kiosk.service fails the unit (216/GROUP) if one is missing.
  for group in video render input lp; do
    getent group "$group" >/dev/null || { say "creating the group $group"; groupadd --system "$group"; }
  done
  if ! id kiosk >/dev/null 2>&1; then
    say "creating the unprivileged user 'kiosk'"
    useradd --system --home-dir /var/lib/kiosk --shell /usr/sbin/nologin kiosk
  fi
  [ "$role" = kiosk ] && usermod -aG video,render,input,lp kiosk
fi
# systemd runs the services; in a container or chroot without it, say what to do later.
have_systemd=0
[ "$staged" = 0 ] && [ -d /run/systemd/system ] && have_systemd=1

say "installing $(basename "$wheel") ($role) into $prefix"
mkdir -p "$prefix/bin" "$etc" "$units" "$rules" "$data"
# Debian's interpreter: the venv links to it, and the kiosk user must be able to run it (a
# Python under /root or a home directory would not be).
python=/usr/bin/python3
[ "$staged" = 1 ] && python=${PYTHON:-python3}
[ -x "$prefix/venv/bin/python" ] || "$python" -m venv "$prefix/venv"
pip=("$prefix/venv/bin/python" -m pip --quiet --disable-pip-version-check)
# Exactly the pinned versions of every dependency, then this package itself even when its
# version number did not change (a rebuilt wheel).
"${pip[@]}" install --constraint "$constraints" "$wheel[$role]"
"${pip[@]}" install --no-deps --force-reinstall "$wheel"
install -m 0644 "$src/README.md" "$prefix/README.md"
install -m 0644 "$constraints" "$prefix/constraints.txt"

example="$src/deploy/kiosk.toml.example"
edited=1
if [ -e "$etc/kiosk.toml" ]; then
  say "keeping the existing $etc/kiosk.toml"
  if cmp -s "$etc/kiosk.toml" "$example" \
      || { [ -e "$etc/kiosk.toml.example" ] && cmp -s "$etc/kiosk.toml" "$etc/kiosk.toml.example"; }; then
    edited=0
  fi
else
  say "writing $etc/kiosk.toml from the commented example"
  install -m 0640 "$example" "$etc/kiosk.toml"
  edited=0
fi
install -m 0644 "$example" "$etc/kiosk.toml.example"

if [ "$role" = kiosk ]; then
  install -m 0755 "$src/deploy/kiosk-session" "$prefix/bin/kiosk-session"
  install -m 0644 "$src/kiosk.service" "$units/kiosk.service"
  install -m 0644 "$src/deploy/kiosk-backup.service" "$units/kiosk-backup.service"
  install -m 0644 "$src/deploy/kiosk-backup.timer" "$units/kiosk-backup.timer"
  install -m 0644 "$src/deploy/99-kiosk-printer.rules" "$rules/99-kiosk-printer.rules"
else
  install -m 0644 "$src/deploy/kiosk-server.service" "$units/kiosk-server.service"
fi

if [ "$staged" = 1 ]; then
  say "staged into $root (no users, packages or services touched)"
  exit 0
fi

chown root:kiosk "$etc" "$etc/kiosk.toml" && chmod 0750 "$etc"
chown kiosk:kiosk "$data"
as_kiosk() { runuser -u kiosk -- env KIOSK_CONFIG="$etc/kiosk.toml" KIOSK_DATA_DIR="$data" "$@"; }
if [ -n "$seed" ]; then
  [ "$edited" = 1 ] || [ "$role" = kiosk ] \
    || die "edit $etc/kiosk.toml first ([server] database_url names the database), then seed"
  say "loading departments from $seed"
  if [ "$role" = kiosk ]; then
    as_kiosk "$prefix/venv/bin/kiosk" seed "$seed"
  else
    url=$(as_kiosk "$prefix/venv/bin/python" -c \
      'from kiosk.config import load_config; print(load_config().server_database_url)')
    as_kiosk "$prefix/venv/bin/kiosk" seed "$seed" --database "$url"
  fi
fi
udevadm control --reload 2>/dev/null || true
check="runuser -u kiosk -- env KIOSK_DATA_DIR=$data $prefix/venv/bin/kiosk $doctor"
if [ "$have_systemd" = 0 ]; then
  say "systemd is not running on this machine: on the real PC run"
  say "  systemctl daemon-reload && systemctl enable --now $([ "$role" = kiosk ] && echo "seatd kiosk-backup.timer ")$unit"
elif [ "$enable" = 1 ]; then
  systemctl daemon-reload
  if [ "$role" = kiosk ]; then
    systemctl enable --now seatd.service kiosk-backup.timer
  fi
  systemctl enable "$unit"
  if [ "$edited" = 0 ]; then
    say "$unit is enabled but NOT started: $etc/kiosk.toml is still the example."
    say "Edit it ($([ "$role" = kiosk ] && echo "kiosk.id, printer.connection, server.url" \
        || echo "[server] database_url, host, port, cert_file, key_file")), then run this"
    say "installer again, or: systemctl start $unit"
  else
    # After five crashes in five minutes systemd refuses to start it until reset.
    systemctl reset-failed "$unit" 2>/dev/null || true
    systemctl restart "$unit"
    say "$unit enabled and (re)started; follow it with: journalctl -u $unit -f"
  fi
else
  systemctl daemon-reload
fi
say "check the installation with: $check"
