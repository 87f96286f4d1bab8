"""A follower process for tests: follows sessions concurrently until each finishes.

    python -m tests.support.follower STORE SESSION_ID...

Prints `SEEN <id> <count> <ok>` per session, where ok says the seqs arrived as 1..count in
order with no gap or duplicate.
"""

from __future__ import annotations

import sys

from contextree.progress import EventStore
from contextree.progress.follow import Follower


def main() -> None:
    store = EventStore.open(sys.argv[1], create=False)
    followers = [Follower(store, sid) for sid in sys.argv[2:]]
    seen: dict[str, list[int]] = {f.session_id: [] for f in followers}
    while not all(f.finished for f in followers):
        got_any = False
        for follower in followers:
            events = follower.poll()
            seen[follower.session_id].extend(e.seq for e in events)
            got_any = got_any or bool(events)
        if not got_any:
            import time

            time.sleep(0.002)
    for sid, seqs in seen.items():
        ok = seqs == list(range(1, len(seqs) + 1))
        print(f"SEEN {sid} {len(seqs)} {ok}", flush=True)
    store.close()


if __name__ == "__main__":
    main()
