"""CPS card watch: card pulled out → CardRemoved event latency, and the watch thread's idle cost.

Real pcscd with a vpcd virtual reader and a virtual CPS card (tests/support/pcsc.py); the watcher
runs in this process. Latency is from killing the card process to the event being submitted: pcscd
polls vpcd every 400 ms, so it spreads over 0–0.4 s here (a CCID USB reader signals at once).
Targets (issue 10): the lock follows within 0.6 s (the lock itself is measured with the agent);
zero wake-ups of the watch thread while nothing happens.

    .venv/bin/python bench/cps_watch.py [--cycles 20] [--idle-seconds 30]
"""

from __future__ import annotations

import argparse
import math
import queue
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from support import pcsc  # noqa: E402 - the same real services as the tests
from vigie.features.cps_card.events import CardInserted, CardReaders, CardRemoved  # noqa: E402
from vigie.features.cps_card.watch import CardWatcher  # noqa: E402

POLL = 0.4  # pcscd's polling period of vpcd


def next_event(events: queue.Queue, kind: type, timeout: float = 10) -> float:
    """Submission time of the next event of this kind."""
    deadline = time.monotonic() + timeout
    while True:
        at, event = events.get(timeout=max(0.0, deadline - time.monotonic()))
        if isinstance(event, kind):
            return at


def thread_counters(thread: threading.Thread) -> tuple[int, float]:
    """Context switches and CPU seconds of one thread of this process."""
    task = Path(f"/proc/self/task/{thread.native_id}")
    switches = sum(int(line.split()[1]) for line in (task / "status").read_text().splitlines()
                   if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")))
    fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
    return switches, (int(fields[11]) + int(fields[12])) / 100


def p95(values: list[float]) -> float:
    return sorted(values)[math.ceil(0.95 * len(values)) - 1]  # nearest rank


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cycles", type=int, default=20)
    parser.add_argument("--idle-seconds", type=float, default=30)
    args = parser.parse_args()
    events: queue.Queue = queue.Queue()
    with tempfile.TemporaryDirectory() as tmp:
        daemon = pcsc.Pcscd(Path(tmp))
        daemon.start()
        watcher = CardWatcher(lambda event: events.put((time.monotonic(), event)))
        thread = threading.Thread(target=watcher.run, name="vigie-card-watch", daemon=True)
        thread.start()
        try:
            next_event(events, CardReaders)
            inserted, removed = [], []
            for cycle in range(args.cycles):
                card = daemon.insert(pcsc.CPS_ATR)
                start = time.monotonic()
                inserted.append(next_event(events, CardInserted) - start)
                time.sleep((cycle * 0.137) % POLL)  # pull at every phase of pcscd's poll, not always the same
                pulled = daemon.pull(card)
                removed.append(next_event(events, CardRemoved) - pulled)

            card = daemon.insert(pcsc.CPS_ATR)  # idle with the card in: the usual state of the day
            next_event(events, CardInserted)
            time.sleep(1)
            before = thread_counters(thread)
            time.sleep(args.idle_seconds)
            after = thread_counters(thread)
        finally:
            watcher.stop()
            daemon.close()
    print(f"card pulled out -> CardRemoved over {args.cycles} cycles: median {statistics.median(removed):.3f} s, "
          f"p95 {p95(removed):.3f} s (min {min(removed):.3f}, max {max(removed):.3f})  "
          f"target <= 0.6 s -> {'OK' if p95(removed) <= 0.6 else 'OVER'}")
    print(f"card inserted -> CardInserted: median {statistics.median(inserted):.3f} s, p95 {p95(inserted):.3f} s")
    wakeups, cpu = after[0] - before[0], after[1] - before[1]
    print(f"watch thread while idle for {args.idle_seconds:g} s (card in the reader): {wakeups} wake-ups "
          f"(context switches), {cpu:.2f} s CPU  target 0 -> {'OK' if wakeups == 0 else 'OVER'}")


if __name__ == "__main__":
    main()
