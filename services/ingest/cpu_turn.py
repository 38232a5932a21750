"""One thread of a process at a time in the CPU-bound steps of a poll: parsing a feed, storing a batch.

A worker runs many threads so that polls can wait on slow hosts side by side. With the GIL only
one of them runs Python at a time anyway, and threads that take turns in the middle of a parse
spend more CPU on switching and cold caches than they save (measured on the ingest benchmark: a
quarter more CPU per feed with eight threads than with two). So the CPU-bound steps queue here,
one after another, while the waiting on hosts still overlaps freely.

A store holds the turn for its whole transaction, so no two transactions of one process wait on
each other's locks while one of them waits for the turn.
"""

from __future__ import annotations

import threading

cpu_turn = threading.Lock()
