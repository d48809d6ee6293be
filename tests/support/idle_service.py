"""Stand-in for the desktop's idle service on the test bus (Mutter and KDE cannot run here):
answers GNOME's org.gnome.Mutter.IdleMonitor.GetIdletime (uint64 ms) or KDE's
org.freedesktop.ScreenSaver.GetSessionIdleTime (uint32 ms) with the value given, over real D-Bus.

    idle_service.py gnome|kde MILLISECONDS      prints READY once the name is owned
"""

import sys

from jeepney import DBusAddress, MessageType, new_error, new_method_call, new_method_return
from jeepney.io.blocking import open_dbus_connection
from jeepney.low_level import HeaderFields

SERVICES = {
    "gnome": ("org.gnome.Mutter.IdleMonitor", "/org/gnome/Mutter/IdleMonitor/Core", "org.gnome.Mutter.IdleMonitor",
              "GetIdletime", "t"),
    "kde": ("org.freedesktop.ScreenSaver", "/ScreenSaver", "org.freedesktop.ScreenSaver", "GetSessionIdleTime", "u"),
}
BUS = DBusAddress("/org/freedesktop/DBus", bus_name="org.freedesktop.DBus", interface="org.freedesktop.DBus")


def main() -> None:
    name, path, interface, method, signature = SERVICES[sys.argv[1]]
    value = int(sys.argv[2])
    conn = open_dbus_connection(bus="SESSION")
    assert conn.send_and_get_reply(new_method_call(BUS, "RequestName", "su", (name, 4))).body[0] == 1
    print("READY", flush=True)
    while True:
        msg = conn.receive()
        header = msg.header
        if header.message_type != MessageType.method_call:
            continue
        called = tuple(header.fields.get(f) for f in (HeaderFields.path, HeaderFields.interface, HeaderFields.member))
        if called == (path, interface, method):
            conn.send(new_method_return(msg, signature, (value,)))
        else:
            conn.send(new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod"))


if __name__ == "__main__":
    main()
