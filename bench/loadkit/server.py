"""``tradefleet serve`` as a child process: started, probed, killed, stopped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

PASSWORD = "load-test-password-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """One server on ``database_url`` with a simulated market ``speed`` times real time."""

    workdir: Path
    database_url: str
    speed: float = 60.0
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    runs: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120.0) -> float:
        """Start and wait until ``/api/health`` answers 200; returns the seconds that took."""
        self.runs += 1
        env = {
            **os.environ,
            "TRADEFLEET_MARKET": "simulated",
            "TRADEFLEET_SPEED": str(self.speed),
            "TRADEFLEET_DATABASE_URL": self.database_url,
            "TRADEFLEET_ADMIN_PASSWORD": PASSWORD,
            "TRADEFLEET_LOG_LEVEL": "WARNING",
        }
        log = (self.workdir / f"server-{self.runs}.log").open("wb")
        started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tradefleet", "serve", "--port", str(self.port)],
            cwd=self.workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.base_url}/api/health", timeout=1).status_code == 200:
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"server did not answer within {timeout} s:\n{self.log()}")

    def log(self) -> str:
        return (self.workdir / f"server-{self.runs}.log").read_text(errors="replace")

    def logged_problems(self) -> list[str]:
        """The WARNING, ERROR and CRITICAL lines of every run's log (the server logs at
        WARNING), tracebacks left out: what went wrong that no answer showed."""
        lines = []
        for run in range(1, self.runs + 1):
            text = (self.workdir / f"server-{run}.log").read_text(errors="replace")
            lines += [
                line
                for line in text.splitlines()
                if any(level in line for level in ("WARNING", "ERROR", "CRITICAL"))
            ]
        return lines

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as when the machine loses power."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def terminate(self, timeout: float = 30.0) -> tuple[int, float]:
        """SIGTERM and wait; returns the exit code and the seconds until the exit."""
        assert self.process is not None
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise RuntimeError(f"server ignored SIGTERM for {timeout} s") from None
        return code, time.monotonic() - started

    def ensure_stopped(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.kill()
