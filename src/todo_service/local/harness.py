"""A server in a child process on a loopback port: started, waited for, stopped.

`LocalServer` runs any local server (the embedded moto server, dynalite, cognito-local) on a
free loopback port and stops it again; the dev runner, the tests and the benchmarks use it alike.
"""

from __future__ import annotations

import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Final

LOOPBACK: Final = "127.0.0.1"
START_TIMEOUT_S: Final = 30.0
STOP_TIMEOUT_S: Final = 5.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


class LocalServer:
    """A server child process on a loopback port, started and stopped as a context manager."""

    def __init__(
        self,
        argv: Callable[[int], Sequence[str]],
        name: str,
        port: int = 0,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self._argv = argv
        self.name = name
        self.port = port or free_port()
        # The child's environment: ours, unless given (the tests start services with their own).
        self._env = None if env is None else dict(env)
        # The child's working directory: ours, unless given (cognito-local keeps its state and
        # reads its configuration under its working directory).
        self._cwd = cwd
        self._process: subprocess.Popen[bytes] | None = None
        self.final_output = ""
        # The child's output goes to a file, not a pipe: an unread pipe fills and blocks it.
        self._output: IO[bytes] | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def start(self) -> LocalServer:
        self._output = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self._process = subprocess.Popen(
            list(self._argv(self.port)),
            stdin=subprocess.DEVNULL,
            stdout=self._output,
            stderr=subprocess.STDOUT,
            env=self._env,
            cwd=self._cwd,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                output = self.output()
                self.stop()
                raise RuntimeError(f"{self.name} exited at start-up:\n{output[-2000:]}")
            if self._answers():
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer on port {self.port} in {START_TIMEOUT_S} s")

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.endpoint_url, timeout=1):
                return True
        except urllib.error.HTTPError:
            return True  # any HTTP answer means the server is up
        except OSError:
            return False

    def output(self) -> str:
        """What the child has printed so far, for error messages."""
        if self._output is None:
            return ""
        self._output.seek(0)
        return self._output.read().decode(errors="replace")

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> int | None:
        """SIGTERM, then SIGKILL after `timeout_s`; the exit code (None if never started)."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._output is not None:
            # Kept for the caller: what a stopped server said is often the point (shutdown).
            self.final_output = self.output()
            self._output.close()
            self._output = None
        return None if process is None else process.returncode

    def kill(self) -> None:
        """SIGKILL, as a crash or an out-of-memory kill would: no clean-up in the child."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
        self.stop()

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
