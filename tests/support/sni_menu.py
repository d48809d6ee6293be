"""Read or click the tray menu of a StatusNotifierItem over D-Bus, as an SNI host does (no pixels).

    sni_menu.py labels            print the menu labels of the first registered item, one per line
    sni_menu.py click LABEL       send the "clicked" event to the item with that label
    sni_menu.py title             print the item's Title (pystray's tooltip)
    sni_menu.py --pid PID ...     the same on the item of that process, found without the watcher
Exit 0 on success, 2 when the label is absent, 3 when no item is registered, 4 when the menu kept changing.
"""

import sys
import time

from gi.repository import Gio, GLib

STALE_RETRIES = 5
REGISTRATION_WAIT = 10.0  # s
BUS = Gio.bus_get_sync(Gio.BusType.SESSION, None)


def call(dest, path, iface, method, args=None):
    return BUS.call_sync(dest, path, iface, method, args, None, Gio.DBusCallFlags.NONE, 5000, None).unpack()


def item_path(service):
    def walk(path):
        node = Gio.DBusNodeInfo.new_for_xml(call(service, path, "org.freedesktop.DBus.Introspectable",
                                                 "Introspect")[0])
        if any(i.name == "org.kde.StatusNotifierItem" for i in node.interfaces):
            return path
        for child in node.nodes:
            found = walk(path.rstrip("/") + "/" + child.path)
            if found:
                return found
        return None

    return walk("/")


def item_props(entry):
    """An entry of RegisteredStatusNotifierItems: "busname/path" (gtk-sni-tray, KDE), "busname@/path"
    (GNOME Shell's AppIndicator extension) or a bus name alone."""
    service, _, path = entry.partition("/")
    service = service.rstrip("@")
    path = "/" + path if path else item_path(service)
    return service, call(service, path, "org.freedesktop.DBus.Properties", "GetAll",
                         GLib.Variant("(s)", ("org.kde.StatusNotifierItem",)))[0]


def item_of_process(pid):
    """The item a process exports, found by its bus connection's process, without the watcher: GNOME
    Shell drops its StatusNotifierWatcher (the AppIndicator extension) while the screen is locked, yet the
    application's item and menu stay on the bus."""
    names = call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "ListNames")[0]
    for name in names:
        if not name.startswith(":"):
            continue
        try:
            owner = call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                         "GetConnectionUnixProcessID", GLib.Variant("(s)", (name,)))[0]
            if owner == pid:
                path = item_path(name)
                if path:
                    return item_props(f"{name}{path}")
        except GLib.Error:
            continue  # a connection that left meanwhile
    sys.exit(3)


def first_item():
    """Vigie's item (by its Id or Title) when the desktop shows others too (a power manager), else the first."""
    # The agent logs "tray visible" once pystray has asked for its item; the watcher registers it a moment
    # later (CI saw none listed under load). A host learns it from ItemRegistered: wait as long for it.
    deadline = time.monotonic() + REGISTRATION_WAIT
    while not (items := registered_items()) and time.monotonic() < deadline:
        time.sleep(0.1)
    if not items:
        sys.exit(3)
    found = [item_props(entry) for entry in items]
    for service, props in found:
        if "vigie" in f"{props.get('Id', '')} {props.get('Title', '')}".lower():
            return service, props
    return found[0]


def registered_items():
    return call("org.kde.StatusNotifierWatcher", "/StatusNotifierWatcher", "org.freedesktop.DBus.Properties", "Get",
                GLib.Variant("(ss)", ("org.kde.StatusNotifierWatcher", "RegisteredStatusNotifierItems")))[0]


def menu_entries(service, menu_path):
    _revision, layout = call(service, menu_path, "com.canonical.dbusmenu", "GetLayout",
                             GLib.Variant("(iias)", (0, -1, ["label"])))
    entries = []

    def walk(node):
        node_id, props, children = node
        if "label" in props:
            entries.append((node_id, props["label"].replace("_", "")))
        for child in children:
            walk(child)

    for child in layout[2]:  # the root node is the menu itself, not an entry
        walk(child)
    return entries


def main():
    if sys.argv[1] == "--pid":  # --pid PID: that process's item, found without the watcher
        pid = int(sys.argv[2])
        del sys.argv[1:3]
        service, props = item_of_process(pid)
    else:
        service, props = first_item()
    if sys.argv[1] == "title":
        print(props.get("Title", ""))
        return
    entries = menu_entries(service, props["Menu"])
    if sys.argv[1] == "labels":
        print("\n".join(label for _, label in entries))
        return
    for _attempt in range(STALE_RETRIES):
        ids = [node_id for node_id, label in entries if label == sys.argv[2]]
        if not ids:
            sys.exit(2)
        try:
            call(service, props["Menu"], "com.canonical.dbusmenu", "Event",
                 GLib.Variant("(isvu)", (ids[0], "clicked", GLib.Variant("s", ""), int(time.time()))))
            return
        except GLib.Error as exc:
            # pystray rebuilds the whole menu (new ids) when the agent's state changes; a host then
            # re-reads the layout on LayoutUpdated. Between our GetLayout and Event, the ids went stale.
            if "does not refer to a menu item" not in exc.message:
                raise
            time.sleep(0.2)
            entries = menu_entries(service, props["Menu"])
    sys.exit(4)


if __name__ == "__main__":
    main()
