#!/usr/bin/env bash
# Runs as root inside the Debian 12 container booted by deploy/test/run.sh, with the source tree
# (and the built wheel in dist/) at /root/src and the previous release in /root/old.
#   inside.sh install        PostgreSQL, the server and a kiosk as the README says; failures,
#                            stops, the watchdog, an upgrade, the backup timer, the doctor
#   inside.sh after-reboot   everything is back after a reboot
# Each check prints "ok" or "FAIL"; the script exits 1 if any failed.
set -uo pipefail

port=${DEPLOY_TEST_PORT:?}
pg_port=${DEPLOY_TEST_PG_PORT:?}
venv=/opt/kiosk/venv
failures=0
export DEBIAN_FRONTEND=noninteractive
cd /root/src

say() { printf '\n== %s\n' "$*"; }
check() {
  local what=$1
  shift
  if "$@"; then
    printf 'ok    %s\n' "$what"
  else
    printf 'FAIL  %s\n' "$what"
    failures=$((failures + 1))
  fi
}
prop() { systemctl show -p "$2" --value "$1"; }
wait_until() {  # wait_until SECONDS COMMAND...: true once COMMAND succeeds
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}
as_kiosk() { runuser -u kiosk -- env KIOSK_DATA_DIR=/var/lib/kiosk "$@"; }
installer() {  # the installer as the README says; its output is kept in $out
  out=$(deploy/install-kiosk.sh "$@" 2>&1)
  local status=$?
  if [ "$status" = 0 ]; then  # its own lines; apt's and dpkg's only when it failed
    grep -E '^(install-kiosk|seeded|Created symlink)' <<<"$out" | sed 's/^/    | /'
  else
    sed 's/^/    | /' <<<"$out"
  fi
  return $status
}
doctor_line() { sed -n 's/^install-kiosk: check the installation with: //p' <<<"$out"; }
doctor_clean() {  # run the doctor line the installer printed: exit 0, no FAIL, no traceback
  local result status
  result=$(bash -c "$1" 2>&1)
  status=$?
  sed 's/^/    | /' <<<"$result"
  [ "$status" = 0 ] && ! grep -q "^FAIL" <<<"$result" && ! grep -q Traceback <<<"$result"
}
active() { systemctl is-active --quiet "$1"; }
app_pid() { cat /run/kiosk/app.pid 2>/dev/null; }
app_alive() { local pid; pid=$(app_pid) && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }
answers() { curl -fsS -o /dev/null "http://127.0.0.1:$port/api/v1/health"; }
# The result of a run that just ended is visible while the unit waits RestartSec= to restart.
caught_result() {  # caught_result UNIT: "Result ExecMainStatus" of the ended run
  local deadline=$((SECONDS + 90))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if [ "$(prop "$1" SubState)" = auto-restart ]; then
      echo "$(prop "$1" Result) $(prop "$1" ExecMainStatus)"
      return 0
    fi
    sleep 0.05
  done
  echo "no restart within 90 s"
}
restarted_and_ready() {  # NRestarts went above $1 and the unit is active with a live app
  [ "$(prop kiosk NRestarts)" -gt "$1" ] && active kiosk && app_alive
}
pinned_exactly() {  # the venv holds exactly the versions of deploy/constraints.txt
  "$venv/bin/python" - deploy/constraints.txt <<'EOF'
import importlib.metadata
import re
import sys

def name(text):
    return re.sub(r"[-_.]+", "-", text).lower()

pins = {}
for line in open(sys.argv[1], encoding="utf-8"):
    if line.strip() and not line.startswith("#"):
        package, _, version = line.partition("==")
        pins[name(package)] = version.strip()
own = {"hospital-queue-kiosk", "pip", "setuptools", "wheel"}
wrong = [
    f"{name(d.metadata['Name'])} {d.version} (pinned: {pins.get(name(d.metadata['Name']))})"
    for d in importlib.metadata.distributions()
    if name(d.metadata["Name"]) not in own and pins.get(name(d.metadata["Name"])) != d.version
]
print("    | " + "\n    | ".join(wrong) if wrong else "    | all pinned")
sys.exit(1 if wrong else 0)
EOF
}

write_config() {
  cat >/etc/kiosk/kiosk.toml <<EOF
# Edited by the IT technician after the first install (deploy/test/inside.sh).
[hospital]
name = "Bệnh viện Đa khoa tỉnh"
name_en = "Provincial General Hospital"
timezone = "Asia/Ho_Chi_Minh"

[kiosk]
id = "kiosk-test-1"
database_url = "sqlite:////var/lib/kiosk/kiosk.db"
fullscreen = true

[printer]
connection = "preview:/var/lib/kiosk/tickets"
paper_width_mm = 80

[server]
url = "http://127.0.0.1:$port"
token_file = "/etc/kiosk/token"
host = "127.0.0.1"
port = $port
database_url = "postgresql+psycopg://kiosk:kiosk-test-password@127.0.0.1:$pg_port/kiosk"
allow_plain_http = true
EOF
}

phase_install() {
  say "PostgreSQL from Debian's packages, as the README says (on port $pg_port: the host's network is shared)"
  mkdir -p /etc/postgresql-common
  echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.conf
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold postgresql >/dev/null
  pg=$(ls /usr/lib/postgresql | sort -V | tail -1)
  pg_createcluster -p "$pg_port" "$pg" main >/dev/null
  systemctl start "postgresql@$pg-main"
  (cd / && runuser -u postgres -- psql -p "$pg_port" -qc "CREATE ROLE kiosk LOGIN PASSWORD 'kiosk-test-password'")
  (cd / && runuser -u postgres -- createdb -p "$pg_port" -O kiosk kiosk)

  say "the central server, first install ($(basename /root/old/*.whl))"
  installer --server --wheel /root/old/*.whl
  check "installer succeeded" [ $? = 0 ]
  check "kiosk-server.service is enabled" [ "$(systemctl is-enabled kiosk-server)" = enabled ]
  check "it is not started while /etc/kiosk/kiosk.toml is the example" bash -c '! systemctl is-active -q kiosk-server'
  check "the installer says so and what to run" grep -q "NOT started" <<<"$out"
  check "a server installs without Qt" bash -c "! $venv/bin/python -c 'import PySide6' 2>/dev/null"
  check "... and with the PostgreSQL driver" "$venv/bin/python" -c "import psycopg"
  check "every package in the venv is at its deploy/constraints.txt version" pinned_exactly

  say "the config edited, the installer run again with --seed: the server starts"
  write_config
  installer --server --wheel /root/old/*.whl --seed provincial-general-hospital
  check "installer succeeded" [ $? = 0 ]
  check "kiosk-server.service is Type=notify" [ "$(prop kiosk-server Type)" = notify ]
  # No retry: `systemctl restart` of a Type=notify unit returns once READY=1 came.
  check "it answers the moment systemctl returns (READY=1 once listening)" answers
  check "its READY=1 came with the configured port (StatusText: $(prop kiosk-server StatusText))" \
    [ "$(prop kiosk-server StatusText)" = "listening on 127.0.0.1:$port" ]
  server_doctor=$(doctor_line)
  check "the installer prints the server's doctor (--server)" grep -q -- "doctor --server" <<<"$server_doctor"
  token=$(runuser -u kiosk -- "$venv/bin/kiosk" server add-device kiosk-test-1 --role kiosk | tail -1)
  install -o root -g kiosk -m 0640 /dev/null /etc/kiosk/token
  echo "$token" >/etc/kiosk/token

  say "a kiosk on the same machine ($(basename /root/old/*.whl)), cage headless via a drop-in"
  mkdir -p /etc/systemd/system/kiosk.service.d
  cat >/etc/systemd/system/kiosk.service.d/headless.conf <<'EOF'
# Only for this test: no display, no input devices in the container.
[Service]
Environment=WLR_BACKENDS=headless
Environment=WLR_LIBINPUT_NO_DEVICES=1
Environment=WLR_RENDERER=pixman
EOF
  check "the test's drop-in only adds Environment= lines" bash -c \
    "! grep -vE '^(#|\\[Service\\]\$|Environment=|\$)' /etc/systemd/system/kiosk.service.d/*.conf"
  groupdel render 2>/dev/null || true  # a machine without it: the installer must create it
  # The kiosk's own first install, with /etc/kiosk/kiosk.toml still the example.
  mv /etc/kiosk/kiosk.toml /root/kiosk.toml.edited
  installer --wheel /root/old/*.whl
  check "installer succeeded" [ $? = 0 ]
  check "kiosk.service is enabled" [ "$(systemctl is-enabled kiosk)" = enabled ]
  check "it is not started while /etc/kiosk/kiosk.toml is the example" bash -c '! systemctl is-active -q kiosk'
  check "... so nothing was recorded under the example's kiosk.id (no /var/lib/kiosk/kiosk.db)" \
    [ ! -e /var/lib/kiosk/kiosk.db ]
  check "the installer says so and what to run" grep -q "NOT started" <<<"$out"
  install -o root -g kiosk -m 0640 /root/kiosk.toml.edited /etc/kiosk/kiosk.toml
  installer --wheel /root/old/*.whl --seed provincial-general-hospital
  check "installer succeeded" [ $? = 0 ]
  check "xwayland was installed" dpkg-query -W xwayland
  check "the groups of SupplementaryGroups= exist" getent group video render input lp
  check "kiosk.service is Type=notify" [ "$(prop kiosk Type)" = notify ]
  check "kiosk.service is active (READY=1 from the app under cage)" active kiosk
  check "... with a live app" app_alive
  check "ExecStart=/ExecStop= are the installed unit's, not the drop-in's" bash -c \
    "systemctl show -p ExecStart,ExecStop kiosk | grep -c 'path=/opt/kiosk/bin/kiosk-session ' | grep -qx 2"
  check "XDG_CACHE_HOME: the app's cache is the unit's CacheDirectory, owned by kiosk" bash -c \
    "tr '\\0' '\\n' </proc/\$(cat /run/kiosk/app.pid)/environ | grep -qx XDG_CACHE_HOME=/var/cache/kiosk && \
     [ \"\$(stat -c %U /var/cache/kiosk)\" = kiosk ]"
  check "seatd and kiosk-backup.timer are enabled and active" bash -c \
    "systemctl is-active -q seatd kiosk-backup.timer && systemctl is-enabled -q seatd kiosk-backup.timer"
  kiosk_doctor=$(doctor_line)
  check "the installer prints the kiosk's doctor (not --server)" bash -c \
    "grep -q 'kiosk doctor\$' <<<'$kiosk_doctor'"

  say "a ticket through the installed kiosk, with only fonts-dejavu-core on the system"
  ticket=$(as_kiosk "$venv/bin/kiosk" issue NOI --print)
  check "issued and printed (not cancelled)" grep -q '"status": "waiting"' <<<"$ticket"
  check "the ticket image was written" bash -c 'ls /var/lib/kiosk/tickets/*.png >/dev/null'
  fonts=$(dpkg-query -W -f='${Package} ${Status}\n' 'fonts-*' 2>/dev/null | sed -n 's/ install ok installed$//p' | tr '\n' ' ')
  check "no font package but fonts-dejavu-core (got: $fonts)" [ "$fonts" = "fonts-dejavu-core " ]
  check "the system has no DejaVu Condensed Bold: the ticket's comes from the package" bash -c \
    "! find /usr/share/fonts -name 'DejaVuSansCondensed-Bold.ttf' | grep -q . && \
     $venv/bin/python -c 'from printer.ticket import FONT_DIR; assert str(FONT_DIR).startswith(\"$venv/\"), FONT_DIR'"

  say "kiosk doctor on both roles, exactly as the installer printed it"
  check "kiosk doctor --server: no failure ($server_doctor)" doctor_clean "$server_doctor"
  check "kiosk doctor: no failure ($kiosk_doctor)" doctor_clean "$kiosk_doctor"

  say "failures are failures, and are restarted"
  systemctl reset-failed kiosk
  restarts=$(prop kiosk NRestarts)
  kill -STOP "$(app_pid)"
  result=$(caught_result kiosk)
  check "SIGSTOP of the app: killed by the watchdog (Result=watchdog; got: $result)" \
    [ "${result%% *}" = watchdog ]
  check "... and restarted" wait_until 90 restarted_and_ready "$restarts"

  systemctl reset-failed kiosk
  restarts=$(prop kiosk NRestarts)
  kill -KILL "$(app_pid)"
  result=$(caught_result kiosk)
  check "kill -9 of the app: a failure (Result=exit-code ExecMainStatus=137; got: $result)" \
    [ "$result" = "exit-code 137" ]
  check "... and restarted" wait_until 90 restarted_and_ready "$restarts"

  systemctl reset-failed kiosk
  restarts=$(prop kiosk NRestarts)
  kill -KILL "$(pgrep -x cage)"
  result=$(caught_result kiosk)
  check "kill -9 of cage: a failure (Result=exit-code ExecMainStatus=137; got: $result)" \
    [ "$result" = "exit-code 137" ]
  check "... and restarted" wait_until 90 restarted_and_ready "$restarts"

  say "stop and restart end in success, not failed (cage 0.1.4 aborts on SIGTERM)"
  systemctl reset-failed kiosk
  cursor=$(journalctl -u kiosk -n0 --show-cursor | sed -n 's/^-- cursor: //p')
  systemctl stop kiosk
  check "systemctl stop: inactive, Result=success, ExecMainStatus=0 (got: $(prop kiosk ActiveState) $(prop kiosk Result) $(prop kiosk ExecMainStatus))" \
    [ "$(prop kiosk ActiveState) $(prop kiosk Result) $(prop kiosk ExecMainStatus)" = "inactive success 0" ]
  systemctl start kiosk
  check "systemctl start: active" active kiosk
  systemctl restart kiosk
  check "systemctl restart: active, Result=success" \
    [ "$(prop kiosk ActiveState) $(prop kiosk Result)" = "active success" ]
  check "no failure, abort or core dump in the journal meanwhile" bash -c \
    "! journalctl -u kiosk --after-cursor='$cursor' | grep -E 'Failed with result|status=6/ABRT|Assertion|dumped core'"

  say "a crash loop hits the start limit; IT upgrades in place, the installer recovers it"
  systemctl reset-failed kiosk
  cursor=$(journalctl -u kiosk -n0 --show-cursor | sed -n 's/^-- cursor: //p')
  deadline=$((SECONDS + 120))
  while [ "$SECONDS" -lt "$deadline" ] && [ "$(prop kiosk ActiveState)" != failed ]; do
    if app_alive; then kill -KILL "$(app_pid)"; fi
    sleep 0.3
  done
  check "the kiosk is failed: start request repeated too quickly (got: $(prop kiosk ActiveState))" \
    bash -c "[ \"\$(systemctl show -p ActiveState --value kiosk)\" = failed ] && \
      journalctl -u kiosk --after-cursor='$cursor' | grep -q 'Start request repeated too quickly'"
  tickets_before=$(as_kiosk "$venv/bin/kiosk" report --format csv | grep -c '^')
  kept() {
    stat -c '%n %U:%G %a' /etc/kiosk /etc/kiosk/kiosk.toml /etc/kiosk/token /var/lib/kiosk \
      /var/lib/kiosk/kiosk.db
    sha256sum /etc/kiosk/kiosk.toml /etc/kiosk/token
  }
  before=$(kept)
  installer --server
  check "server upgrade succeeded" [ $? = 0 ]
  installer
  check "kiosk upgrade succeeded" [ $? = 0 ]
  check "still every package at its deploy/constraints.txt version" pinned_exactly
  check "the new release is installed ($(basename dist/*.whl))" bash -c \
    "[ \"\$($venv/bin/python -c 'import importlib.metadata as m; print(m.version(\"hospital-queue-kiosk\"))')\" = \
       \"\$(basename dist/*.whl | cut -d- -f2)\" ]"
  check "the kiosk runs again after the start limit (reset-failed)" active kiosk
  check "the server runs and answers" answers
  check "config, token and data kept with their owner and mode" [ "$(kept)" = "$before" ]
  check "the tickets are all there" [ "$(as_kiosk "$venv/bin/kiosk" report --format csv | grep -c '^')" = "$tickets_before" ]
  migrated() {
    runuser -u kiosk -- "$venv/bin/python" -c "
import sys
from kiosk.queue.db import current_revision, head_revision, make_engine
revision = current_revision(make_engine(sys.argv[1]))
print(revision, head_revision())
assert revision == head_revision()" "$1"
  }
  check "the kiosk's database migrated to the newest schema" migrated "sqlite:////var/lib/kiosk/kiosk.db"
  check "the server's database migrated to the newest schema" \
    migrated "postgresql+psycopg://kiosk:kiosk-test-password@127.0.0.1:$pg_port/kiosk"

  say "the nightly backup timer fires (a night missed while off) and leaves a checked copy"
  install -d -o kiosk -g kiosk -m 0750 /var/lib/kiosk/backups
  install -o kiosk -g kiosk -m 0640 /dev/null /var/lib/kiosk/backups/kiosk-2020-01-01.db
  mkdir -p /var/lib/systemd/timers
  touch -d '3 days ago' /var/lib/systemd/timers/stamp-kiosk-backup.timer
  systemctl restart kiosk-backup.timer
  copy=/var/lib/kiosk/backups/kiosk-$(date +%F).db
  check "kiosk-backup.service ran and succeeded" wait_until 60 bash -c \
    "[ \"\$(systemctl show -p Result,ExecMainStatus,ExecMainExitTimestampMonotonic --value kiosk-backup.service | tr '\n' ' ')\" != 'success 0 0 ' ] && \
     [ \"\$(systemctl show -p Result --value kiosk-backup.service)\" = success ] && [ -f $copy ]"
  check "the copy passes integrity_check and holds the tickets" runuser -u kiosk -- "$venv/bin/python" -c "
import sqlite3, sys
db = sqlite3.connect('file:$copy?mode=ro', uri=True)
assert db.execute('PRAGMA integrity_check').fetchone()[0] == 'ok'
assert db.execute('SELECT count(*) FROM tickets').fetchone()[0] > 0"
  check "it belongs to the kiosk user" [ "$(stat -c %U "$copy")" = kiosk ]
  check "copies older than the kept days are removed" [ ! -e /var/lib/kiosk/backups/kiosk-2020-01-01.db ]
  check "the backup service runs as kiosk, hardened" [ \
    "$(prop kiosk-backup.service User) $(prop kiosk-backup.service ProtectSystem) $(prop kiosk-backup.service PrivateNetwork)" \
    = "kiosk strict yes" ]

  say "after the upgrade, the doctor on both roles"
  check "kiosk doctor --server: no failure" doctor_clean "$server_doctor"
  check "kiosk doctor: no failure" doctor_clean "$kiosk_doctor"
  printf '%s\n%s\n' "$server_doctor" "$kiosk_doctor" >/root/doctor-lines
}

phase_after_reboot() {
  say "after a reboot"
  check "kiosk-server.service active" wait_until 90 active kiosk-server
  check "kiosk.service active with a live app" wait_until 90 bash -c \
    "systemctl is-active -q kiosk && kill -0 \$(cat /run/kiosk/app.pid)"
  check "kiosk-backup.timer active" active kiosk-backup.timer
  check "the server answers" answers
  while read -r line; do
    check "doctor clean: $line" doctor_clean "$line"
  done </root/doctor-lines
}

case "${1:-}" in
  install) phase_install ;;
  after-reboot) phase_after_reboot ;;
  *) echo "usage: inside.sh install|after-reboot" >&2; exit 2 ;;
esac
if [ "$failures" != 0 ]; then
  say "$failures check(s) failed; the kiosk's journal:"
  journalctl -u kiosk -u kiosk-server -n 60 --no-pager
  exit 1
fi
