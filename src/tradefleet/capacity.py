"""How much the server does at once, and how long anything waits: chosen, not defaulted.

The numbers fit the smallest machine we support (2 cores) and are the same on SQLite and
PostgreSQL. Nothing waits without a bound: a request that cannot get what it needs in
time answers 503 with ``Retry-After``; it never hangs.

- ``API_IN_FLIGHT`` requests are inside the application at once
  (``tradefleet.api.admission``); more wait on the event loop, in order, and answer 503
  after ``ADMISSION_SECONDS``. The loop keeps answering ``/api/health`` meanwhile.
- ``API_THREADS`` worker threads run the API's database work (``tradefleet.api.database``),
  one trip per request, handed out in arrival order; writes hold at most
  ``API_WRITE_THREADS`` of them, so writes waiting for a lock (SQLite's write lock or a
  bot's row, while an engine cycle holds it) never take every thread from the reads.
  With 3 of 4 the share is rarely reached, so under load a write waits about as long
  as a read (1 of 4 and 2 of 4 measured no better). Few threads is on purpose: the work is
  Python, under one interpreter lock, and more threads only take turns more often.
  Measured with ``bench/api_load.py`` on 2 cores, 2 to 16 threads were within the
  machine's run-to-run noise; 16 had the longest tail. A shorter interpreter switch
  interval (1 ms, 0.2 ms) did not help either. Separate threads for reads and writes (3
  and 2) answered reads sooner but writes later, a worse p95 in all.
- ``API_POOL``: a request holds a connection only while a worker thread runs its work,
  so the threads plus the backtest workers bound what is ever in use, and no request
  waits for a connection. Its ``timeout`` is only a safety net, answered with
  503. On SQLite the API's writers have a pool of the same size of their own, whose
  transactions take the write lock when they begin (``BEGIN IMMEDIATE``).
- ``ENGINE_POOL``: the engine uses one connection at a time (its cycle, a reload, a
  manual close); a few spare for the backtest workers' progress writes are not on it.
  On SQLite its reads (a sync, the fees) have a pool of this size of their own,
  whose transactions take no lock: only its writes make the API's writers wait.
- ``HEALTH_POOL``: ``/api/health`` checks the database on a connection of its own, so a
  server busy to its limits still answers its monitor within ``HEALTH_SECONDS``.
- ``SQLITE_API_BUSY_SECONDS``: how long an API write waits for SQLite's write lock (an
  engine cycle holds it while it writes) before answering 503. The engine itself waits
  ``SQLITE_ENGINE_BUSY_SECONDS``: its cycle must not fail for a burst of API writes.
- ``LOCK_WAIT_SECONDS``: how long an API write waits for a bot row that an engine
  cycle holds (PostgreSQL's ``lock_timeout``; on SQLite the wait is for the write lock,
  ``SQLITE_API_BUSY_SECONDS``) before it answers 503; a thousand-bot cycle holds them
  well under a second here.
- ``KEEP_ALIVE_SECONDS``: an idle keep-alive connection is closed after this long. A
  client must drop idle connections sooner (browsers retry an idempotent request the
  server closed under them; other clients should keep their idle expiry below this).
- ``SHUTDOWN_GRACE_SECONDS``: on SIGTERM or Ctrl-C, requests in flight get this long to
  finish before they are cancelled; then the engine stops (its cycle's transaction
  commits or rolls back first) and the process exits.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PoolSize:
    size: int
    overflow: int
    timeout: float  # seconds a checkout waits for a free connection


API_IN_FLIGHT = 32
ADMISSION_SECONDS = 15.0
API_THREADS = 4
API_WRITE_THREADS = 3
API_POOL = PoolSize(size=API_THREADS + 4, overflow=0, timeout=10.0)
ENGINE_POOL = PoolSize(size=2, overflow=3, timeout=30.0)
HEALTH_POOL = PoolSize(size=1, overflow=0, timeout=1.0)
HEALTH_SECONDS = 1.0
SQLITE_API_BUSY_SECONDS = 5.0
SQLITE_ENGINE_BUSY_SECONDS = 30.0
LOCK_WAIT_SECONDS = 5.0
SHUTDOWN_GRACE_SECONDS = 3
KEEP_ALIVE_SECONDS = 20
