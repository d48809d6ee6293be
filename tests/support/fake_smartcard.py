"""A virtual smart card for vsmartcard's vpcd reader, presenting any ATR.

Copied from shared/harness-probes/fake_smartcard.py (reformatted for ruff; added: every command APDU
received is appended to an optional log file, so tests can prove that Vigie never sends one).

vpcd protocol: every message is a 2-byte big-endian length + payload. A 1-byte payload from vpcd is
a control code: 0=power off, 1=power on, 2=reset, 4=get ATR (answered with the ATR). Anything longer
is an APDU (answered with 90 00). Killing this process is the card being pulled out.

Usage: fake_smartcard.py ATR-HEX [port] [apdu-log]
"""

import socket
import struct
import sys
import time

atr = bytes.fromhex(sys.argv[1].replace(" ", ""))
port = int(sys.argv[2]) if len(sys.argv) > 2 else 35963
apdu_log = sys.argv[3] if len(sys.argv) > 3 else None


def recvn(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


sock = socket.create_connection(("127.0.0.1", port), timeout=10)
sock.settimeout(None)  # then wait for vpcd for as long as the card stays in
print("connected", time.monotonic(), flush=True)
try:
    while True:
        (n,) = struct.unpack("!H", recvn(sock, 2))
        msg = recvn(sock, n) if n else b""
        if n == 1:
            if msg[0] == 4:
                sock.sendall(struct.pack("!H", len(atr)) + atr)
        else:
            if apdu_log:
                with open(apdu_log, "a") as log:
                    log.write(msg.hex() + "\n")
            response = b"\x90\x00"
            sock.sendall(struct.pack("!H", len(response)) + response)
except (EOFError, OSError):
    pass
