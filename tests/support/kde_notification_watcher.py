"""Read KDE Plasma's own notification list: register as a notification watcher with plasmashell
(org.kde.NotificationManager.RegisterWatcher, what KDE Connect does); plasmashell then calls
org.kde.NotificationWatcher.Notify on us for every notification it shows, with its id, texts and actions.
Each one is printed as a JSON line: {"id", "summary", "body", "actions": {key: label}}.

    kde_notification_watcher.py   prints "ready" once registered
"""

import json

from jeepney import DBusAddress, MessageType, new_method_call, new_method_return
from jeepney.io.blocking import open_dbus_connection
from jeepney.low_level import HeaderFields


def main() -> None:
    connection = open_dbus_connection(bus="SESSION")
    manager = DBusAddress("/org/freedesktop/Notifications", bus_name="org.freedesktop.Notifications",
                          interface="org.kde.NotificationManager")
    connection.send_and_get_reply(new_method_call(manager, "RegisterWatcher"), timeout=10)
    print("ready", flush=True)
    while True:
        message = connection.receive()
        if message.header.message_type != MessageType.method_call:
            continue
        member = message.header.fields.get(HeaderFields.member)
        if member == "Notify":
            notification_id, _app, _replaces, _icon, summary, body, actions = message.body[:7]
            pairs = dict(zip(actions[::2], actions[1::2], strict=False))
            print(json.dumps({"id": notification_id, "summary": summary, "body": body, "actions": pairs}), flush=True)
        connection.send(new_method_return(message))


if __name__ == "__main__":
    main()
