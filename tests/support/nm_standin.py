"""Sets up the NetworkManager stand-in for the Wi-Fi test: no Wi-Fi hardware exists here, so no real
NetworkManager can run. python-dbusmock's networkmanager template (started by the test on a private
system bus) gets one Wi-Fi device joined to one access point; the real nmcli then reads it over D-Bus.
Runs under the system Python, where the python3-dbusmock package lives.

    nm_standin.py SSID WPA_FLAGS RSN_FLAGS     (NM80211ApSecurityFlags; 0 0 is an open network)
"""

import sys

import dbus
import dbusmock

NM = "org.freedesktop.NetworkManager"
PSK = 0x100  # the only security the template's AddWiFiConnection knows; the real flags are set after


def main() -> None:
    ssid, wpa, rsn = sys.argv[1], int(sys.argv[2], 0), int(sys.argv[3], 0)
    bus = dbus.SystemBus()
    manager = dbus.Interface(bus.get_object(NM, "/org/freedesktop/NetworkManager"), dbusmock.MOCK_IFACE)
    device = manager.AddWiFiDevice("mock_wlan0", "wlan0", 100)  # 100: NM_DEVICE_STATE_ACTIVATED
    secured = PSK if wpa or rsn else 0
    access_point = manager.AddAccessPoint(device, "Mock_AP1", ssid, "00:23:f8:7e:12:bb", 2, 2412, 54000, 76, secured)
    manager.AddAccessPoint(device, "Mock_AP2", "Voisin", "00:23:f8:7e:12:bc", 2, 2437, 54000, 40, PSK)
    connection = manager.AddWiFiConnection(device, "Mock_Con1", ssid, "")
    manager.AddActiveConnection([device], connection, access_point, "Mock_Active1", 2)
    point = dbus.Interface(bus.get_object(NM, access_point), dbusmock.MOCK_IFACE)
    point.UpdateProperties(f"{NM}.AccessPoint", {"WpaFlags": dbus.UInt32(wpa), "RsnFlags": dbus.UInt32(rsn)})
    wireless = dbus.Interface(bus.get_object(NM, device), dbusmock.MOCK_IFACE)
    wireless.AddProperty(f"{NM}.Device.Wireless", "ActiveAccessPoint", dbus.ObjectPath(access_point))
    print("READY", flush=True)


if __name__ == "__main__":
    main()
