"""Run a program (light-locker) where /run/systemd/seats exists, in a private mount namespace (started by
`unshare --mount --propagation private`): a tmpfs over /run/systemd (or /run) holding an empty seats/.
The machine's own /run is untouched.

    unshare --mount --propagation private -- python with_logind_seats.py PROGRAM [ARG...]
"""

import os
import subprocess
import sys
from pathlib import Path


def main() -> None:
    top = "/run/systemd" if Path("/run/systemd").is_dir() else "/run"
    subprocess.run(["mount", "-t", "tmpfs", "vigie-test-seats", top], check=True, timeout=10)
    Path("/run/systemd/seats").mkdir(parents=True, exist_ok=True)
    os.execvp(sys.argv[1], sys.argv[1:])  # noqa: S606 - a fixed argv from the test, no shell


if __name__ == "__main__":
    main()
