"""Real ``baraza`` processes for tests that need them: several servers on one
database, a server killed with SIGKILL, the browser tests' server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def baraza(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(BIN / "baraza"), *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode:
        pytest.fail(f"baraza {' '.join(args[:2])} failed:\n{done.stdout}{done.stderr}")
    return done.stdout.strip()


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited ({process.returncode}):\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    pytest.fail(f"the server was not ready within {within:.0f} s:\n{log.read_text()}")


@dataclass
class Served:
    """One ``baraza serve`` subprocess."""

    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    @classmethod
    def start(
        cls, env: dict[str, str], log: Path, port: int | None = None, within: float = 30.0
    ) -> Served:
        """Start a server (on ``port``, to come back where it was after a kill), ready
        ``within`` seconds."""
        port = port or free_port()
        return cls._run([str(BIN / "baraza"), "serve", "--port", str(port)], port, env, log, within)

    @classmethod
    def uvicorn(cls, env: dict[str, str], log: Path, workers: int, within: float = 60.0) -> Served:
        """``uvicorn bot.app:create_app --factory --workers N``: N worker processes behind
        one port, each a whole app (webhooks, sender, scheduler), as the README says."""
        port = free_port()
        command = [
            str(BIN / "uvicorn"), "bot.app:create_app", "--factory",
            "--workers", str(workers), "--host", "127.0.0.1", "--port", str(port),
        ]  # fmt: skip
        return cls._run(command, port, env, log, within)

    @classmethod
    def _run(
        cls, command: list[str], port: int, env: dict[str, str], log: Path, within: float
    ) -> Served:
        with log.open("ab") as out:
            process = subprocess.Popen(
                command, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
            )
        served = cls(process, f"http://127.0.0.1:{port}", log)
        wait_ready(served.base_url, process, log, within)
        return served

    def kill(self) -> None:
        """SIGKILL: no shutdown, no last writes, as when a machine loses power."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
