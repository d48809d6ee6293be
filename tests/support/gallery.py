"""Screenshots of every Vigie window, in French and English, on a 1366x768 screen at 100 % and 200 %
(plus each window in dark mode), and the icon in each state in colour and in grey: what the user sees,
to look at before a UI change is called done.

    .venv/bin/python tests/support/gallery.py OUT_DIR

Each window runs its own `main` in a process of its own on a fresh Xvfb, as test_look.py does; the
status window shows the same ten cards as there, the USB pop-up the same stick."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import harness
from test_look import SCREEN, WINDOWS, window_args

RUN_MAIN = "import importlib, sys; raise SystemExit(importlib.import_module(sys.argv[1]).main(sys.argv[2:]))"
SETTLE = 2.0  # s after the window is mapped: the theme's images and the text drawn


def shoot(name: str, lang: str, dpi: int, scheme: str, out: Path) -> Path:
    services = harness.Services()
    try:
        work = Path(tempfile.mkdtemp(prefix="vigie-gallery-"))
        env = harness.isolated_env(work)
        env["DISPLAY"] = harness.start_xvfb(services, env, SCREEN, dpi=dpi)
        env = harness.desktop_colour_scheme(env, scheme)
        window = subprocess.Popen([sys.executable, "-c", RUN_MAIN, *window_args(name, work, lang)], env=env,
                                  stdin=subprocess.DEVNULL)
        try:
            harness.wait_for(lambda: harness.xdo(env, "search", "--onlyvisible", "--name", "Vigie").split(), 30,
                             f"the {name} window")
            time.sleep(SETTLE)
            suffix = "" if scheme == "prefer-light" else "-dark"
            return harness.screenshot(env, out / f"{name}-{lang}-{dpi * 100 // 96}{suffix}.png")
        finally:
            window.terminate()
            window.wait(10)
    finally:
        services.close()


def icon_strip(out: Path) -> Path:
    """Each state at 16, 32 and 64 px, in colour on the first row and in grey below."""
    from vigie.model import Severity
    from vigie.ui.icons import draw_icon

    sizes, pad = (16, 32, 64), 8
    cell = max(sizes) + pad
    strip = Image.new("RGB", (cell * len(sizes) * len(Severity), cell * 2), "white")
    for column, (severity, size) in enumerate((s, z) for s in Severity for z in sizes):
        icon = draw_icon(size, severity).convert("RGBA")
        grey = ImageOps.grayscale(icon.convert("RGB")).convert("RGBA")
        grey.putalpha(icon.getchannel("A"))
        strip.paste(icon, (column * cell, 0), icon)
        strip.paste(grey, (column * cell, cell), grey)
    path = out / "icons.png"
    strip.save(path)
    return path


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    print(icon_strip(out))
    for name in WINDOWS:
        for dpi in (96, 192):
            for lang in ("fr", "en"):
                print(shoot(name, lang, dpi, "prefer-light", out), flush=True)
        print(shoot(name, "fr", 96, "prefer-dark", out), flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
