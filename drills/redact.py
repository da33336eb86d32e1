"""Secrets out of everything drills writes or prints: one place, one rule.

- ``redact_url_credentials``: the password of a URL (``postgresql://user:secret@host``)
  becomes ``<redacted>``; the user and host stay, so a reader still sees where it points.
- ``redact_tree``: the same on every string of a JSON-like value (journals, summaries,
  results), keys and values alike. (A password drills knows is never put there: an
  endpoint's is redacted when it is described, drills.stack.endpoint.)
- ``StreamRedactor``: known secrets (the stack's passwords) and URL credentials removed from
  a byte stream as it is written, so that a procedure's log never holds a password, not
  even while the procedure runs, nor after the drill was killed (``redacting_pipe``).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

REDACTED = "<redacted>"
_REDACTED_B = REDACTED.encode()

#: scheme://user:password@ -> scheme://user:<redacted>@ (a URL's password holds no '/' nor
#: '@' unescaped (RFC 3986), nor whitespace and the characters that end a URL in prose)
_URL_PASSWORD = re.compile(r"(//[^:/@\s\"'<>]*):[^/@\s\"'<>]*@")
_URL_PASSWORD_B = re.compile(rb"(//[^:/@\s\"'<>]*):[^/@\s\"'<>]*@")


def redact_url_credentials(text: str) -> str:
    """``text`` with the password of every URL in it replaced."""
    return _URL_PASSWORD.sub(lambda m: f"{m.group(1)}:{REDACTED}@", text)


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` without any of ``secrets`` and without URL passwords."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return redact_url_credentials(text)


def redact_tree(value: Any, secrets: Iterable[str] = ()) -> Any:
    """A copy of a JSON-like value with every string redacted (``redact_text``)."""
    found = tuple(s for s in secrets if s)
    return _tree(value, found)


def _tree(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        return redact_text(value, secrets)
    if isinstance(value, dict):
        return {(_tree(k, secrets) if isinstance(k, str) else k): _tree(v, secrets)
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_tree(v, secrets) for v in value]
    return value


class StreamRedactor:
    """Redacts a byte stream chunk by chunk; a secret split across chunks is still caught.

    Output is held back only as far as needed: a line is released once its end is seen, or
    when more than ``hold`` bytes are pending (a secret or URL cannot span that far).
    """

    def __init__(self, secrets: Iterable[str] = (), hold: int = 4096) -> None:
        self.secrets = sorted({s.encode() for s in secrets if s}, key=len, reverse=True)
        longest = max((len(s) for s in self.secrets), default=0)
        self.hold = max(hold, 2 * longest)
        self._pending = b""

    def _clean(self, data: bytes) -> bytes:
        for secret in self.secrets:
            data = data.replace(secret, _REDACTED_B)
        return _URL_PASSWORD_B.sub(lambda m: m.group(1) + b":" + _REDACTED_B + b"@", data)

    def feed(self, chunk: bytes) -> bytes:
        """What can be written now of everything fed so far, redacted."""
        data = self._pending + chunk
        cut = data.rfind(b"\n") + 1
        if cut == 0 and len(data) <= self.hold:
            self._pending = data
            return b""
        if cut == 0:  # a long line: keep its last part back, a secret may start there
            return self._safe_prefix(data, len(data) - self.hold // 2)
        ready, self._pending = data[:cut], data[cut:]
        return self._clean(ready)

    def _safe_prefix(self, data: bytes, cut: int) -> bytes:
        """Release ``data[:cut]`` redacted, keeping back a secret that straddles the cut."""
        for secret in self.secrets:
            start = data.find(secret, max(0, cut - len(secret) + 1))
            if 0 <= start < cut < start + len(secret):
                cut = start
        # a URL's credentials straddling the cut: hold back from its '//'
        slash = data.rfind(b"//", 0, cut)
        if (slash >= 0 and cut - slash < self.hold and b"@" in data[slash:]
                and not re.search(rb"[\s\"'<>@]", data[slash:cut])):
            cut = slash
        ready, self._pending = data[:cut], data[cut:]
        return self._clean(ready)

    def close(self) -> bytes:
        """The rest, redacted."""
        rest, self._pending = self._pending, b""
        return self._clean(rest)


def redacting_pipe(log_fd: int, secrets: Iterable[str]) -> tuple[int, threading.Thread]:
    """A pipe whose read end is copied, redacted, to ``log_fd`` by a thread.

    Returns the write end (give it to the child as its stdout and stderr, then close it in
    the parent) and the thread (join it once the child is done: it ends at end of file,
    when every writer has closed the pipe, or when it is told to stop by closing). The
    thread owns ``log_fd`` and the read end and closes both.
    """
    read_end, write_end = os.pipe()
    redactor = StreamRedactor(secrets)

    def copy() -> None:
        try:
            while True:
                chunk = os.read(read_end, 65536)
                if not chunk:
                    break
                _write_all(log_fd, redactor.feed(chunk))
            _write_all(log_fd, redactor.close())
        finally:
            os.close(read_end)
            os.close(log_fd)

    thread = threading.Thread(target=copy, name="procedure-output", daemon=True)
    thread.start()
    return write_end, thread


def write_private_bytes(path: Path, data: bytes) -> None:
    """Write ``path`` readable by its owner only (0600), never through a link."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        os.fchmod(fd, 0o600)  # it existed with a wider mode
        _write_all(fd, data)
    finally:
        os.close(fd)


def keep_private(root: Path) -> None:
    """Every directory under ``root`` (and itself) 0700, every file 0600; links untouched.

    The run's own files are written private as they are made; this catches what a tool
    wrote with its own modes (a PDF renderer, a team's backup, a server's log). Contents
    are not changed: the evidence pack's checksums hold.
    """
    try:
        root.chmod(0o700)
    except OSError:
        return
    for top, dirs, files in os.walk(root):
        for name in dirs:
            _chmod(Path(top) / name, 0o700)
        for name in files:
            _chmod(Path(top) / name, 0o600)


def _chmod(path: Path, mode: int) -> None:
    try:
        if not path.is_symlink() and path.stat().st_mode & 0o777 != mode:
            path.chmod(mode)
    except OSError:
        pass  # another user's file (a server's): its directory is private all the same


def _write_all(fd: int, data: bytes) -> None:
    while data:
        written = os.write(fd, data)
        data = data[written:]
