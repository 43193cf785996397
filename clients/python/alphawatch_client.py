"""Attach a training run to an alphawatch monitor.

Standard library and numpy only; torch is needed only for :meth:`Monitor.watch`.

    mon = Monitor("http://127.0.0.1:9400", run="resnet-dropout0.2")
    mon.send("fc1", activations, step=100)            # one batch, synchronous
    handle = mon.watch(model, layers=["fc1", "fc2"], every=10, max_rows=256)
    ...                                                 # train; hooks never wait on the network
    mon.close()                                         # flush, then report what was dropped

The server's answers follow its HTTP API (docs/http-api.md): 202 accepted; 4xx errors carry
``{"error": ..., "detail": ...}``; 429 means the monitor is busy and is retried after
``Retry-After``.
"""

import http.client
import io
import json
import logging
import queue
import threading
import time
import urllib.parse

import numpy as np

__all__ = ["Monitor", "AlphawatchError", "encode_npy"]

log = logging.getLogger("alphawatch")


class AlphawatchError(Exception):
    """The server refused a batch (a 4xx other than 429, or 429 beyond the retries)."""

    def __init__(self, status, error, detail):
        super().__init__(f"HTTP {status} {error}: {detail}")
        self.status = status
        self.error = error
        self.detail = detail


def encode_npy(array, latent=None):
    """A request body: the 2-D float32 array as .npy, followed by the latent array for probes."""
    a = np.asarray(array)
    if a.ndim != 2:
        raise ValueError(f"activations must be 2-D [samples, units], got shape {a.shape}")
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(a, dtype=np.float32), allow_pickle=False)
    if latent is not None:
        z = np.asarray(latent, dtype=np.float64)
        if z.ndim == 1:
            z = z[:, None]
        if z.shape[0] != a.shape[0]:
            raise ValueError(f"latent has {z.shape[0]} rows, activations have {a.shape[0]}")
        np.save(buf, np.ascontiguousarray(z), allow_pickle=False)
    return buf.getvalue()


class Monitor:
    """A connection to one run on an alphawatch server.

    ``send`` is synchronous. ``watch`` hands batches to a background sender through a bounded
    queue: when the queue is full the batch is dropped and counted, so the training step never
    waits on the network.
    """

    def __init__(self, url, run, token=None, queue_size=64, timeout=30.0, max_retries=20):
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"url must be http(s)://host:port, got {url!r}")
        self.url = url.rstrip("/")
        self.run = run
        self._token = token
        self._parsed = parsed
        self._timeout = timeout
        self._max_retries = max_retries
        self._queue = queue.Queue(maxsize=queue_size)
        self._lock = threading.Lock()
        self._stats = {"sent": 0, "rows_sent": 0, "dropped_queue_full": 0, "retried_429": 0,
                       "failed": 0}
        self._errors = []
        self._local = threading.local()
        self._sender = None
        self._closed = False
        self._hooks = []
        self.step = None  # when set, watch() tags batches with it instead of a forward counter

    # ---- synchronous API ----------------------------------------------------------------------
    def send(self, layer, array, step, kind="train", repeat=None, latent=None):
        """POST one batch and return the server's JSON answer; raises AlphawatchError on refusal."""
        body = encode_npy(array, latent)
        query = {"step": int(step), "kind": kind}
        if repeat is not None:
            query["repeat"] = int(repeat)
        path = (f"/v1/runs/{urllib.parse.quote(self.run, safe='')}/layers/"
                f"{urllib.parse.quote(layer, safe='')}/batches?{urllib.parse.urlencode(query)}")
        rows = int(np.shape(array)[0])
        for attempt in range(self._max_retries + 1):
            status, headers, payload = self._request("POST", path, body)
            if status == 202:
                with self._lock:
                    self._stats["sent"] += 1
                    self._stats["rows_sent"] += rows
                return json.loads(payload)
            if status == 429 and attempt < self._max_retries:
                with self._lock:
                    self._stats["retried_429"] += 1
                time.sleep(_retry_after(headers))
                continue
            doc = _json_or_text(payload)
            raise AlphawatchError(status, doc.get("error", "?"), doc.get("detail", payload[:200]))
        raise AssertionError("unreachable")

    def spectrum(self, layer):
        """The latest spectrum document of a layer (GET .../spectrum)."""
        path = (f"/v1/runs/{urllib.parse.quote(self.run, safe='')}/layers/"
                f"{urllib.parse.quote(layer, safe='')}/spectrum")
        status, _, payload = self._request("GET", path, None)
        doc = _json_or_text(payload)
        if status != 200:
            raise AlphawatchError(status, doc.get("error", "?"), doc.get("detail", ""))
        return doc

    def _connection(self):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            cls = http.client.HTTPSConnection if self._parsed.scheme == "https" else http.client.HTTPConnection
            conn = cls(self._parsed.hostname, self._parsed.port, timeout=self._timeout)
            self._local.conn = conn
        return conn

    def _request(self, method, path, body):
        headers = {"Content-Type": "application/octet-stream"} if body is not None else {}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        for attempt in range(3):
            conn = self._connection()
            try:
                conn.request(method, path, body=body, headers=headers)
                res = conn.getresponse()
                payload = res.read().decode("utf-8", "replace")
                if res.getheader("Connection", "").lower() == "close":
                    conn.close()
                    self._local.conn = None
                return res.status, res, payload
            except (ConnectionError, http.client.HTTPException, OSError):
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    raise
                time.sleep(0.2 * (attempt + 1))
        raise AssertionError("unreachable")

    # ---- background sending for hooks ---------------------------------------------------------
    def submit(self, layer, array, step, kind="train"):
        """Queue a batch for the background sender; returns False (and counts a drop) when full."""
        self._ensure_sender()
        try:
            self._queue.put_nowait((layer, array, step, kind))
            return True
        except queue.Full:
            with self._lock:
                self._stats["dropped_queue_full"] += 1
            return False

    def _ensure_sender(self):
        if self._sender is None:
            self._sender = threading.Thread(target=self._drain, name="alphawatch-sender", daemon=True)
            self._sender.start()

    def _drain(self):
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                layer, array, step, kind = item
                try:
                    self.send(layer, array, step, kind=kind)
                except Exception as e:  # a refused or failed batch must not kill the sender
                    with self._lock:
                        self._stats["failed"] += 1
                        if len(self._errors) < 10:
                            self._errors.append(str(e))
                    log.warning("alphawatch: batch for %s at step %s not sent: %s", layer, step, e)
            finally:
                self._queue.task_done()

    def watch(self, module, layers=None, every=1, max_rows=None, conv="flatten"):
        """Register forward hooks that stream layer outputs to the monitor.

        layers: names from ``module.named_modules()`` (default: every leaf module).
        every: send on every N-th forward call of each layer.
        max_rows: keep at most this many rows of each batch.
        conv: for outputs with more than 2 dimensions, "flatten" (N, C*H*W) or "mean" (N, C,
              averaged over the spatial dimensions).
        Returns a handle whose ``remove()`` detaches the hooks.
        """
        import torch  # only needed here

        if conv not in ("flatten", "mean"):
            raise ValueError("conv must be 'flatten' or 'mean'")
        if every < 1:
            raise ValueError("every must be >= 1")
        named = dict(module.named_modules())
        if layers is None:
            layers = [n for n, m in named.items() if n and not any(True for _ in m.children())]
        missing = [n for n in layers if n not in named]
        if missing:
            raise KeyError(f"no such submodules: {missing}")
        calls = {}
        handles = []

        def make_hook(name):
            def hook(_mod, _inp, out):
                if isinstance(out, (tuple, list)):
                    out = out[0]
                if not isinstance(out, torch.Tensor):
                    return
                n = calls.get(name, 0)
                calls[name] = n + 1
                if n % every:
                    return
                with torch.no_grad():
                    t = out.detach()
                    if t.dim() > 2:
                        t = t.flatten(1) if conv == "flatten" else t.flatten(2).mean(dim=2)
                    elif t.dim() == 1:
                        t = t[:, None]
                    if max_rows is not None and t.shape[0] > max_rows:
                        t = t[:max_rows]
                    array = t.to("cpu", dtype=torch.float32).numpy().copy()
                self.submit(name, array, self.step if self.step is not None else n)
            return hook

        for name in layers:
            handles.append(named[name].register_forward_hook(make_hook(name)))
        self._hooks.extend(handles)
        return _Handle(handles)

    def flush(self, timeout=None):
        """Wait until every queued batch was sent (or failed). Returns False on timeout."""
        if self._sender is None:
            return True
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def stats(self):
        with self._lock:
            s = dict(self._stats)
        s["queued"] = self._queue.qsize()
        s["errors"] = list(self._errors)
        return s

    def close(self, timeout=60.0):
        """Detach hooks, send what is queued, stop the sender and log a summary."""
        if self._closed:
            return self.stats()
        self._closed = True
        for h in self._hooks:
            h.remove()
        self.flush(timeout)
        if self._sender is not None:
            self._queue.put(None)
            self._sender.join(timeout)
        s = self.stats()
        if s["dropped_queue_full"] or s["failed"]:
            log.warning("alphawatch: %d batches sent, %d dropped (queue full), %d failed",
                        s["sent"], s["dropped_queue_full"], s["failed"])
        return s

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _Handle:
    def __init__(self, handles):
        self._handles = handles

    def remove(self):
        for h in self._handles:
            h.remove()


def _retry_after(headers):
    try:
        return max(0.05, float(headers.getheader("Retry-After", "1")))
    except (TypeError, ValueError):
        return 1.0


def _json_or_text(payload):
    try:
        doc = json.loads(payload)
        return doc if isinstance(doc, dict) else {"detail": payload}
    except ValueError:
        return {"detail": payload}
