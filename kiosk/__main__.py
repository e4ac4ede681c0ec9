"""`python -m kiosk` and the `kiosk` console script.

The cyclic garbage collector is paused while the program loads: start-up makes ~100,000
objects that live until the process exits (modules, classes, pydantic's validators, Qt's enums,
the widgets) and next to no garbage, and each of the ~80 collections it would trigger on the
way (~30 ms in all, on a 2-core kiosk PC) walks them again. `kiosk.cli.main` resumes it once
the arguments are parsed; `kiosk run` only once its first screen is painted, when it collects
once and freezes what start-up made (`kiosk.collector.freeze_start_up_objects`). A one-shot
command that asks for it (`kiosk issue`) ends the process once its answer is out, without the
interpreter's teardown (`kiosk.cli.exit_at_once`).
"""

import gc
import sys


def main() -> int:
    gc.disable()
    from kiosk.cli import main as cli_main

    return cli_main(console_script=True)


if __name__ == "__main__":
    sys.exit(main())
