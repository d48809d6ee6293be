"""Stand-ins, on a PRIVATE system bus, for what a real login has and this machine lacks (no systemd booted
here, no display manager): GDM's manager (GNOME Shell builds its lock screen only when GDM answers, see
its loginManager.js) and a small logind (Manager, user/self, one session c1). Everything on the session
bus (the shell, its screen saver, Vigie) is real.

The session behaves as logind's does where the shells and Vigie look: SetLockedHint changes LockedHint and
emits PropertiesChanged; Lock and Unlock are re-emitted as the session's signals (what `loginctl
lock-session` / `unlock-session` do; KDE's screen locker obeys them, which is how a test unlocks KDE).

With --lightdm, LightDM's seat and session too, for light-locker: it does not lock by itself, it asks
LightDM to (Session.Lock, or Seat.SwitchToGreeter). LightDM then does what its seat.c does: the greeter's
session becomes the seat's active one (our session's Active turns false, PropertiesChanged on the session
and the seat's ActiveSession) and our session is locked through logind (its Lock signal). The password
typed at the greeter is the test's GreeterSignIn call (interface org.vigie.Test): our session unlocked
through logind (Unlock signal, which light-locker obeys), then active again.

    desktop_system_bus.py CALLS_LOG [--lightdm]   prints "ready" once the names are owned
"""

import sys

from gi.repository import Gio, GLib

GDM = """<node><interface name="org.gnome.DisplayManager.Manager">
<method name="RegisterSession"><arg type="a{sv}" direction="in"/></method>
<method name="RegisterDisplay"><arg type="a{ss}" direction="in"/></method>
<property name="Version" type="s" access="read"/></interface></node>"""
LOGIN = """<node><interface name="org.freedesktop.login1.Manager">
<method name="CanSuspend"><arg type="s" direction="out"/></method>
<method name="CanRebootToBootLoaderMenu"><arg type="s" direction="out"/></method>
<method name="ListSessions"><arg type="a(susso)" direction="out"/></method>
<method name="GetSession"><arg type="s" direction="in"/><arg type="o" direction="out"/></method>
<method name="GetSessionByPID"><arg type="u" direction="in"/><arg type="o" direction="out"/></method>
<method name="LockSession"><arg type="s" direction="in"/></method>
<method name="UnlockSession"><arg type="s" direction="in"/></method>
<method name="Inhibit"><arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="s" direction="in"/>
<arg type="s" direction="in"/><arg type="h" direction="out"/></method>
<signal name="PrepareForSleep"><arg type="b"/></signal></interface></node>"""
USER = """<node><interface name="org.freedesktop.login1.User">
<property name="Display" type="(so)" access="read"/><property name="Sessions" type="a(so)" access="read"/>
</interface></node>"""
SESSION = """<node><interface name="org.freedesktop.login1.Session">
<method name="SetLockedHint"><arg type="b" direction="in"/></method>
<method name="Lock"/><method name="Unlock"/>
<signal name="Lock"/><signal name="Unlock"/>
<property name="Active" type="b" access="read"/><property name="LockedHint" type="b" access="read"/>
<property name="Class" type="s" access="read"/><property name="Id" type="s" access="read"/>
</interface></node>"""
LIGHTDM_SEAT = """<node><interface name="org.freedesktop.DisplayManager.Seat">
<method name="SwitchToGreeter"/><method name="Lock"/>
<property name="CanSwitch" type="b" access="read"/><property name="Sessions" type="ao" access="read"/>
</interface></node>"""
LIGHTDM_SESSION = """<node><interface name="org.freedesktop.DisplayManager.Session">
<method name="Lock"/><property name="Seat" type="o" access="read"/><property name="UserName" type="s" access="read"/>
</interface></node>"""
GREETER = """<node><interface name="org.vigie.Test.Greeter"><method name="GreeterSignIn"/></interface></node>"""
SESSION_PATH = "/org/freedesktop/login1/session/c1"
SESSION_INTERFACE = "org.freedesktop.login1.Session"
LOGIND_SEAT_PATH = "/org/freedesktop/login1/seat/seat0"
DM_SEAT_PATH, DM_SESSION_PATH = "/org/freedesktop/DisplayManager/Seat0", "/org/freedesktop/DisplayManager/Session0"
state = {"locked": False, "active": True}
calls = open(sys.argv[1], "a", buffering=1) if len(sys.argv) > 1 and sys.argv[1] != "--lightdm" else sys.stderr  # noqa: SIM115 - for the life of the process


def method(conn, sender, path, iface, name, params, invocation):
    calls.write(f"{iface}.{name}{params.unpack() if params else ''}\n")
    if name in ("CanSuspend", "CanRebootToBootLoaderMenu"):
        invocation.return_value(GLib.Variant("(s)", ("na",)))
    elif name == "ListSessions":
        invocation.return_value(GLib.Variant("(a(susso))", ([("c1", 0, "root", "seat0", SESSION_PATH)],)))
    elif name in ("GetSession", "GetSessionByPID"):
        invocation.return_value(GLib.Variant("(o)", (SESSION_PATH,)))
    elif name == "SetLockedHint":
        state["locked"] = params.unpack()[0]
        changed = {"LockedHint": GLib.Variant("b", state["locked"])}
        conn.emit_signal(None, SESSION_PATH, "org.freedesktop.DBus.Properties", "PropertiesChanged",
                         GLib.Variant("(sa{sv}as)", (SESSION_INTERFACE, changed, [])))
        invocation.return_value(None)
    elif iface.startswith("org.freedesktop.DisplayManager.") and name in ("Lock", "SwitchToGreeter"):
        switch_session(conn, active=False)  # the greeter in front
        conn.emit_signal(None, SESSION_PATH, SESSION_INTERFACE, "Lock", None)
        invocation.return_value(None)
    elif name == "GreeterSignIn":  # the right password typed at the greeter: back to our session
        conn.emit_signal(None, SESSION_PATH, SESSION_INTERFACE, "Unlock", None)
        switch_session(conn, active=True)
        invocation.return_value(None)
    elif name in ("Lock", "Unlock", "LockSession", "UnlockSession"):
        conn.emit_signal(None, SESSION_PATH, SESSION_INTERFACE, name.replace("Session", ""), None)
        invocation.return_value(None)
    elif name == "Inhibit":
        invocation.return_dbus_error("org.freedesktop.DBus.Error.NotSupported", "stand-in")
    else:
        invocation.return_value(None)


def switch_session(conn, active: bool) -> None:
    """LightDM activating the greeter's session, or ours again, through logind."""
    state["active"] = active
    conn.emit_signal(None, SESSION_PATH, "org.freedesktop.DBus.Properties", "PropertiesChanged",
                     GLib.Variant("(sa{sv}as)", (SESSION_INTERFACE, {"Active": GLib.Variant("b", active)}, [])))
    seat_session = ("c1", SESSION_PATH) if active else ("c2", "/org/freedesktop/login1/session/c2")
    conn.emit_signal(None, LOGIND_SEAT_PATH, "org.freedesktop.DBus.Properties", "PropertiesChanged",
                     GLib.Variant("(sa{sv}as)", ("org.freedesktop.login1.Seat",
                                                 {"ActiveSession": GLib.Variant("(so)", seat_session)}, [])))


def get_property(conn, sender, path, iface, name):
    if path == DM_SEAT_PATH:
        return {"CanSwitch": GLib.Variant("b", True), "Sessions": GLib.Variant("ao", [DM_SESSION_PATH])}[name]
    return {
        "Seat": GLib.Variant("o", DM_SEAT_PATH),
        "UserName": GLib.Variant("s", "root"),
        "Version": GLib.Variant("s", "43.0"),
        "Display": GLib.Variant("(so)", ("c1", SESSION_PATH)),
        "Sessions": GLib.Variant("a(so)", [("c1", SESSION_PATH)]),
        "Active": GLib.Variant("b", state["active"]),
        "LockedHint": GLib.Variant("b", state["locked"]),
        "Class": GLib.Variant("s", "user"),
        "Id": GLib.Variant("s", "c1"),
    }[name]


def export(conn, xml, path):
    info = Gio.DBusNodeInfo.new_for_xml(xml).interfaces[0]
    conn.register_object(path, info, method, get_property, None)


def main():
    bus = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
    export(bus, GDM, "/org/gnome/DisplayManager/Manager")
    export(bus, LOGIN, "/org/freedesktop/login1")
    export(bus, USER, "/org/freedesktop/login1/user/self")
    export(bus, SESSION, SESSION_PATH)
    names = ["org.gnome.DisplayManager", "org.freedesktop.login1"]
    if "--lightdm" in sys.argv:
        export(bus, LIGHTDM_SEAT, DM_SEAT_PATH)
        export(bus, LIGHTDM_SESSION, DM_SESSION_PATH)
        export(bus, GREETER, DM_SEAT_PATH)
        names.append("org.freedesktop.DisplayManager")
    for name in names:
        bus.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "RequestName",
                      GLib.Variant("(su)", (name, 4)), None, 0, -1, None)
    print("ready", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
