"""Run-time hook of the Vigie bundle: the programs Vigie starts get the session's environment.

PyInstaller's gi, GTK, GdkPixbuf and Tk run-time hooks point GIO_MODULE_DIR, GI_TYPELIB_PATH,
XDG_DATA_DIRS, GTK_*, TCL_LIBRARY... at the bundle, and the bootloader may set LD_LIBRARY_PATH.
Vigie's own process needs them; apt-get, gsettings, i3lock, notify-send, restic must not inherit
them (they would load the bundle's libraries and GIO modules: gsettings would then read a blank
memory backend instead of the user's settings). This hook runs before the others (custom hooks
come first), records the values they replace, and gives every child the originals, except
where the caller chose a value of its own. A child that is Vigie again sets them anew.
"""


def _pyi_rthook():
    import functools
    import os
    import subprocess
    import sys

    keys = ("LD_LIBRARY_PATH", "GI_TYPELIB_PATH", "GIO_MODULE_DIR", "XDG_DATA_DIRS", "GTK_DATA_PREFIX",
            "GTK_EXE_PREFIX", "GTK_PATH", "PANGO_LIBDIR", "PANGO_SYSCONFDIR", "GDK_PIXBUF_MODULE_FILE",
            "TCL_LIBRARY", "TK_LIBRARY")
    original = {key: os.environ.get(key) for key in keys}
    if "LD_LIBRARY_PATH_ORIG" in os.environ:  # the bootloader's record of the user's value
        original["LD_LIBRARY_PATH"] = os.environ["LD_LIBRARY_PATH_ORIG"] or None
    elif original["LD_LIBRARY_PATH"] and getattr(sys, "_MEIPASS", "\0") in original["LD_LIBRARY_PATH"]:
        original["LD_LIBRARY_PATH"] = None

    def child_env(env):
        result = dict(os.environ if env is None else env)
        for key, value in original.items():
            bundled = os.environ.get(key)
            if bundled == value or result.get(key) != bundled:
                continue  # untouched by the bundle, or chosen by the caller
            if value is None:
                result.pop(key, None)
            else:
                result[key] = value
        return result

    init = subprocess.Popen.__init__

    @functools.wraps(init)
    def __init__(self, args, *positional, **kwargs):
        if len(positional) < 10:  # env is Popen's 11th parameter; nobody passes it by position
            kwargs["env"] = child_env(kwargs.get("env"))
        init(self, args, *positional, **kwargs)

    subprocess.Popen.__init__ = __init__


_pyi_rthook()
del _pyi_rthook
