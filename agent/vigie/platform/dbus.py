"""D-Bus method calls with a timeout (jeepney, pure Python), on the session bus unless told. Linux only."""

from __future__ import annotations

from jeepney import DBusAddress, DBusErrorResponse, new_method_call
from jeepney.io.blocking import open_dbus_connection
from jeepney.wrappers import unwrap_msg

from vigie.model import T
from vigie.platform.base import ToolFailed, ToolTimeout


def call(bus_name: str, path: str, interface: str, method: str, signature: str = "", body: tuple = (),
         timeout: float = 2.0, bus: str = "SESSION") -> tuple:
    """Call a method on the session bus (bus="SYSTEM": the system bus, where logind is); raise
    ToolFailed (error reply, no bus) or ToolTimeout."""
    address = DBusAddress(path, bus_name=bus_name, interface=interface)
    try:
        with open_dbus_connection(bus=bus, auth_timeout=timeout) as connection:
            reply = connection.send_and_get_reply(new_method_call(address, method, signature, body), timeout=timeout)
            return tuple(unwrap_msg(reply))  # raises DBusErrorResponse on an error reply
    except DBusErrorResponse as exc:
        raise ToolFailed(T("The desktop service {service} refused the request.", service=bus_name),
                         f"{exc.name}: {exc.data}") from exc
    except TimeoutError as exc:
        raise ToolTimeout(T("The desktop service {service} did not answer.", service=bus_name), method) from exc
    except (OSError, KeyError, ValueError) as exc:  # no such bus, bad address
        raise ToolFailed(T("The session bus cannot be reached."), f"{bus} bus: {exc}") from exc
