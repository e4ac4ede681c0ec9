"""The application layer: what the screens ask for, without Qt.

`backend.py` is the kiosk's use cases (departments, issue, reprint, printer and sync status),
`issuing.py` is commit-then-print, `pin.py` the admin PIN. The screens under `kiosk/ui/` call
these through their worker thread and render what comes back; the command line calls them
directly. Nothing here imports PySide6 (an import-linter contract in pyproject.toml says so).
"""
