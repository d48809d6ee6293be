"""A D-Bus peer that owns org.freedesktop.secrets and never answers: a keyring that hangs.

Used by the tests to prove every keyring call is bounded by a timeout. Prints READY when the
name is owned, then reads (and ignores) messages until it is killed.
"""

from jeepney import DBusAddress, new_method_call
from jeepney.io.blocking import open_dbus_connection

BUS = DBusAddress("/org/freedesktop/DBus", bus_name="org.freedesktop.DBus", interface="org.freedesktop.DBus")


def main() -> None:
    conn = open_dbus_connection(bus="SESSION")
    reply = conn.send_and_get_reply(new_method_call(BUS, "RequestName", "su", ("org.freedesktop.secrets", 4)))
    assert reply.body[0] == 1, reply.body  # primary owner
    print("READY", flush=True)
    while True:
        conn.receive()  # swallow every call, reply to none


if __name__ == "__main__":
    main()
