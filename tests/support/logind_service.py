"""Stand-in for systemd-logind on a private system bus (no logind runs here: this machine was not
booted with systemd, and a real logind would take over the seats of the machine the tests run on).

It answers, over real D-Bus, what Vigie asks logind: Manager.GetSession(id) and GetSessionByPID(pid)
give the one session's object path; Properties.Get on it gives its Active and LockedHint flags.
The test changes a flag by writing "Active false" (or "LockedHint true"…) on its stdin; it answers
"OK" once the new value is served.

    logind_service.py SESSION_ID    prints READY once org.freedesktop.login1 is owned

In a test: `bus = LogindStandIn(services, env, "c2")` starts a private system bus and the service and
sets DBUS_SYSTEM_BUS_ADDRESS and XDG_SESSION_ID in env; `bus.set("Active", False)`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

SYSTEM_BUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""
NAME = "org.freedesktop.login1"
MANAGER = ("/org/freedesktop/login1", "org.freedesktop.login1.Manager")
SESSION_INTERFACE = "org.freedesktop.login1.Session"


class LogindStandIn:
    """A private system bus with the stand-in on it; the env given points at both."""

    def __init__(self, services, env: dict[str, str], session_id: str = "c2", active: bool = True) -> None:
        socket = Path(env["XDG_RUNTIME_DIR"]) / "system_bus_socket"
        conf = Path(env["XDG_RUNTIME_DIR"]) / "system-bus.conf"
        conf.write_text(SYSTEM_BUS_CONF.format(socket=socket))
        read_fd, write_fd = os.pipe()
        services.start(["dbus-daemon", "--config-file", str(conf), "--nofork", f"--print-address={write_fd}"],
                       env, pass_fds=(write_fd,))
        os.close(write_fd)
        with os.fdopen(read_fd) as pipe:
            env["DBUS_SYSTEM_BUS_ADDRESS"] = pipe.readline().strip()
        env["XDG_SESSION_ID"] = session_id
        self.proc = services.start([sys.executable, __file__, session_id], env, stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "READY"
        self._lock = threading.Lock()
        self.set("Active", active)

    def set(self, flag: str, value: bool) -> None:
        with self._lock:
            self.proc.stdin.write(f"{flag} {str(value).lower()}\n")
            self.proc.stdin.flush()
            assert self.proc.stdout.readline().strip() == "OK"


def main() -> None:
    from jeepney import DBusAddress, MessageType, new_error, new_method_call, new_method_return
    from jeepney.io.blocking import open_dbus_connection
    from jeepney.low_level import HeaderFields

    session_id = sys.argv[1]
    session_path = f"/org/freedesktop/login1/session/{session_id}"
    flags = {"Active": True, "LockedHint": False}
    flags_lock = threading.Lock()

    def read_commands() -> None:
        for line in sys.stdin:
            flag, value = line.split()
            with flags_lock:
                flags[flag] = value == "true"
            print("OK", flush=True)

    bus = DBusAddress("/org/freedesktop/DBus", bus_name="org.freedesktop.DBus", interface="org.freedesktop.DBus")
    conn = open_dbus_connection(bus="SYSTEM")
    assert conn.send_and_get_reply(new_method_call(bus, "RequestName", "su", (NAME, 4))).body[0] == 1
    threading.Thread(target=read_commands, daemon=True).start()
    print("READY", flush=True)
    while True:
        msg = conn.receive()
        if msg.header.message_type != MessageType.method_call:
            continue
        path, interface, member = (msg.header.fields.get(f) for f in
                                   (HeaderFields.path, HeaderFields.interface, HeaderFields.member))
        if (path, interface, member) == (*MANAGER, "GetSession"):
            if msg.body[0] == session_id:
                conn.send(new_method_return(msg, "o", (session_path,)))
            else:
                conn.send(new_error(msg, "org.freedesktop.login1.NoSuchSession", "s", ("no such session",)))
        elif (path, interface, member) == (*MANAGER, "GetSessionByPID"):
            conn.send(new_method_return(msg, "o", (session_path,)))
        elif (path, interface, member) == (session_path, "org.freedesktop.DBus.Properties", "Get") \
                and len(msg.body) == 2 and msg.body[0] == SESSION_INTERFACE and msg.body[1] in flags:
            with flags_lock:
                value = flags[msg.body[1]]
            conn.send(new_method_return(msg, "v", (("b", value),)))
        else:
            conn.send(new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod"))


if __name__ == "__main__":
    main()
