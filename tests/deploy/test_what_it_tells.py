"""What an IT technician reads on a kiosk PC or the server names commands that work there:
minimal Debian has no `sudo`, and the doctor runs as the service's user with its data directory
(the line the installer prints last)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "deploy" / "kiosk.toml.example"
INSTALLER = ROOT / "deploy" / "install-kiosk.sh"
KIOSK_DOCTOR = (
    "runuser -u kiosk -- env KIOSK_DATA_DIR=/var/lib/kiosk /opt/kiosk/venv/bin/kiosk doctor"
)


def deployment_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split("\n## Deployment\n", 1)[1].split("\n## ", 1)[0]


def test_no_sudo_where_a_kiosk_or_server_is_set_up() -> None:
    # /etc/kiosk/kiosk.toml is this file; the README's Deployment section is the procedure.
    for name, text in [
        ("the example config", EXAMPLE.read_text(encoding="utf-8")),
        ("README Deployment", deployment_section()),
    ]:
        assert not re.search(r"\bsudo\s+[-/\w]", text), f"{name} tells to use sudo"


def test_the_example_configs_doctor_line_is_the_installers() -> None:
    # The installer's line, as it builds it for a kiosk (check=... with doctor="doctor").
    installer = INSTALLER.read_text(encoding="utf-8")
    assert (
        'check="runuser -u kiosk -- env KIOSK_DATA_DIR=$data $prefix/venv/bin/kiosk $doctor"'
        in (installer)
    )
    assert KIOSK_DOCTOR in EXAMPLE.read_text(encoding="utf-8")
    assert KIOSK_DOCTOR in deployment_section()
