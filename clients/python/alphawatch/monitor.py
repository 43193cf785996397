"""The Monitor: attach a training run to an alphawatch server.

    from alphawatch import Monitor
    mon = Monitor("http://127.0.0.1:9400", run="resnet-dropout0.2")
    mon.watch(model, ["layer3", "fc"])   # forward hooks, training-mode passes only
    for step, batch in enumerate(loader):
        mon.step = step
        ...                               # train; hooks never wait on the network
    mon.close()                           # sends what is left, bounded by its timeout

By default each watched layer's rows are aggregated on the trainer (count, mean, co-moment in
float64 on the batch's device) and sent as one partial accumulator per layer every
``flush_seconds``; the monitor merges them exactly. ``aggregate=False`` streams the rows instead.
"""

import atexit
import collections
import collections.abc
import contextlib
import http.client
import logging
import socket
import threading
import time
import urllib.parse
import weakref

import numpy as np

from .moments import PRECISIONS, Moments
from .npy import encode_npy
from . import _json

log = logging.getLogger("alphawatch")

_RETRYABLE = (408, 429)
READY_BYTES = 64 << 20  # full partials a layer may hold while the server catches up (at least 2)
REQUEST_BYTES = 16 << 20  # partials of a layer sent back to back in one request, up to this (at least 1)


def _partial_bytes_of(dims):
    return 8 * (dims * (dims + 1) // 2 + dims) + 40


def _partial_bytes(moments):
    return _partial_bytes_of(moments.dims)


class AlphawatchError(Exception):
    """The server refused a request (a 4xx other than 408/429, or 408/429 beyond the retries)."""

    def __init__(self, status, error, detail):
        super().__init__(f"HTTP {status} {error}: {detail}")
        self.status = status
        self.error = error
        self.detail = detail


class _Http:
    """One HTTP connection per thread; every request finishes by a deadline."""

    def __init__(self, url, token, timeout):
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"url must be http(s)://host:port, got {url!r}")
        self.parsed = parsed
        self.token = token
        self.timeout = timeout
        self.local = threading.local()
        self.open = weakref.WeakSet()  # every thread's connection, for abort()

    def _connection(self, seconds):
        conn = getattr(self.local, "conn", None)
        if conn is None:
            cls = http.client.HTTPSConnection if self.parsed.scheme == "https" else http.client.HTTPConnection
            conn = cls(self.parsed.hostname, self.parsed.port, timeout=seconds)
            self.local.conn = conn
            self.open.add(conn)
        conn.timeout = seconds
        if conn.sock is not None:
            conn.sock.settimeout(seconds)
        return conn

    def drop(self):
        conn = getattr(self.local, "conn", None)
        if conn is not None:
            conn.close()
            self.local.conn = None

    def close_all(self):
        for conn in list(self.open):
            conn.close()

    def abort(self):
        """Ends every request in flight now (their threads see an OSError)."""
        for conn in list(self.open):
            sock = conn.sock
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def request(self, method, path, body, deadline):
        """(status, retry_after seconds or None, payload text); raises OSError when the server is
        unreachable or silent until the deadline."""
        headers = {"Content-Type": "application/octet-stream"} if body is not None else {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline passed before the request")
        conn = self._connection(max(0.05, min(self.timeout, left)))
        try:
            conn.request(method, path, body=body, headers=headers)
            res = conn.getresponse()
            payload = res.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as e:
            self.drop()
            raise OSError(str(e) or e.__class__.__name__) from e
        if (res.getheader("Connection") or "").lower() == "close":
            self.drop()
        return res.status, _retry_after(res.getheader("Retry-After")), payload


def _retry_after(value):
    """Retry-After in seconds: delta-seconds or an HTTP date (RFC 9110); 1 s when missing or unreadable."""
    if value is None:
        return None
    try:
        return max(0.05, float(value))
    except ValueError:
        pass
    try:
        from email.utils import parsedate_to_datetime
        return max(0.05, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, IndexError):
        return 1.0


class _Layer:
    """One watched layer: its moments (aggregating) or its queue of rows (streaming), its counts."""

    def __init__(self, name):
        self.name = name
        self.lock = threading.Lock()
        self.moments = None        # aggregating: rows since the last flush
        self.ready = collections.deque()  # full partials (max_partial_samples rows) waiting to be sent
        self.limit = None          # the server's max_partial_samples for this layer (0: none; None: not known yet)
        self.learning = False      # the first partial has been asked for
        self.warned_slow = False
        self.batches = 0           # batches added since the last flush
        self.pass0 = None          # aggregating repeats: (pass 0 rows, step) waiting for pass 1
        self.rows_queue = collections.deque()  # streaming: (array, step, repeat, latent, kind)
        self.stopped = False       # the server refused this layer: nothing more is sent
        self.stats = dict.fromkeys(("recorded", "sent", "merged", "dropped", "refused", "failed", "bytes"), 0)

    def queued_rows(self):
        rows = sum(int(a.shape[0]) for a, *_ in self.rows_queue) + sum(m.count for m in self.ready)
        return rows + (self.moments.count if self.moments is not None else 0)


class _Core:
    """Everything the hooks and the background sender share. Holds no reference to the Monitor, so
    that an abandoned Monitor is collected and its finalizer ends the sender."""

    def __init__(self, http_, run, source, aggregate, precision, flush_seconds, flush_batches, queue_batches,
                 max_retries):
        self.http = http_
        self.run = run
        self.source = source
        self.aggregate = aggregate
        self.precision = precision
        self.flush_seconds = flush_seconds
        self.flush_batches = flush_batches
        self.queue_batches = queue_batches
        self.max_retries = max_retries
        self.layers = collections.OrderedDict()
        self.lock = threading.Lock()      # guards layers, the flush generations and errors
        self.wake = threading.Event()
        self.stopped = threading.Event()  # the sender must end now
        self.flush_wanted = 0             # generation of the newest flush request
        self.flush_done = 0               # generation of the newest completed flush
        self.deadline = None              # set by close: send what is left by then
        self.last_flush = time.monotonic()
        self.errors = []
        self.thread = None
        self.hooks = []
        self.closed = False
        self.step = None
        self.repeat = None

    def path(self, layer, kind, params=None):
        q = urllib.parse.quote
        params = dict(params or {})
        if self.source is not None:
            params["source"] = self.source
        query = "?" + urllib.parse.urlencode(params) if params else ""
        return f"/v1/runs/{q(self.run, safe='')}/layers/{q(layer, safe='')}/{kind}{query}"

    def layer(self, name):
        layer = self.layers.get(name)
        if layer is None:
            with self.lock:
                layer = self.layers.setdefault(name, _Layer(name))
        return layer

    # ---- the trainer's side: must stay cheap ----
    def record(self, name, rows, step, repeat=None, kind="train", latent=None):
        """Adds rows of a layer (aggregating) or queues a copy (streaming); False when dropped."""
        if self.closed:
            raise RuntimeError("this alphawatch Monitor is closed")
        layer = self.layer(name)
        if layer.stopped:
            return False
        n = int(rows.shape[0])
        if self.aggregate and kind == "train" and latent is None:
            with layer.lock:
                layer.stats["recorded"] += n
                due = False
                try:
                    self._aggregate(layer, rows, step, repeat)
                except ValueError as e:  # a layer whose width changed: refused here, like the server would
                    layer.stats["dropped"] += n
                    self._refuse(layer, f"not aggregated: {e}")
                    return False
                layer.batches += 1
                if not layer.learning:  # the layer's first rows go at once: the answer tells its limit
                    layer.learning = due = True
                due = due or (self.flush_batches is not None and layer.batches >= self.flush_batches)
        else:
            array = _cpu_copy(rows)
            with layer.lock:
                layer.stats["recorded"] += n
                if len(layer.rows_queue) >= self.queue_batches:
                    layer.stats["dropped"] += n
                    return False
                layer.rows_queue.append((array, step, repeat, latent, kind))
            due = True
        if self.thread is None:
            self.start()
        if due:
            if self.aggregate:
                with self.lock:
                    self.flush_wanted += 1
            self.wake.set()
        return True

    def _aggregate(self, layer, rows, step, repeat):
        """Adds rows to the layer's moments. A partial holds at most the server's
        max_partial_samples (a sliding window's pane): a batch that fills it is split there and
        the full partial is handed to the sender, so the window keeps its span exactly."""
        if repeat is None:
            while rows.shape[0]:
                if layer.moments is None:
                    layer.moments = Moments(rows.shape[1], self.precision)
                room = layer.limit - layer.moments.count if layer.limit else rows.shape[0]
                part, rows = (rows, rows[:0]) if room >= rows.shape[0] else (rows[:room], rows[room:])
                layer.moments.add(part, step)
                if layer.limit and layer.moments.count >= layer.limit:
                    self._ready(layer)
            return
        if layer.moments is None:
            layer.moments = Moments(rows.shape[1], self.precision)
        if repeat == 0:
            layer.pass0 = (_copy64(rows), step)
        else:
            first, layer.pass0 = layer.pass0, None
            if first is None or tuple(first[0].shape) != tuple(rows.shape):
                raise ValueError("repeat pass 1 without a matching repeat pass 0 (same number of rows)")
            layer.moments.add_pairs(first[0], rows, step)

    def _ready(self, layer):
        """Moves the layer's full moments to its ready partials (the sender is woken when a
        request's worth waits); beyond what memory allows (the server does not keep up), the
        oldest is dropped and counted."""
        layer.ready.append(layer.moments)
        layer.moments = None
        if len(layer.ready) * _partial_bytes(layer.ready[0]) >= REQUEST_BYTES:
            self.wake.set()
        if len(layer.ready) > self.max_ready(layer.ready[0].dims):
            old = layer.ready.popleft()
            layer.stats["dropped"] += old.count
            if not layer.warned_slow:
                layer.warned_slow = True
                log.warning("alphawatch: layer %s: the monitor does not take partials as fast as they fill; "
                            "the oldest are dropped (counted in stats()['layers'])", layer.name)

    def max_ready(self, dims):
        return max(2, READY_BYTES // _partial_bytes_of(dims))

    def _refuse(self, layer, error):
        first = not layer.stopped
        layer.stopped = True
        if first:
            log.warning("alphawatch: layer %s is not sent any more: %s", layer.name, error)
        self._error(layer, error)

    def _error(self, layer, error):
        with self.lock:
            if len(self.errors) < 20:
                self.errors.append(f"{layer.name}: {error}")

    # ---- the sender thread ----
    def start(self):
        with self.lock:
            if self.thread is None:
                self.thread = threading.Thread(target=self.loop, name="alphawatch-sender", daemon=True)
                self.thread.start()

    def loop(self):
        try:
            while not self.stopped.is_set():
                self.wake.wait(0.2)
                self.wake.clear()
                if self.stopped.is_set():
                    return
                stopping = self.deadline is not None
                with self.lock:
                    wanted = self.flush_wanted
                if self.aggregate:
                    timed = time.monotonic() - self.last_flush >= self.flush_seconds
                    if timed:
                        self.last_flush = time.monotonic()
                    self.send_partials(stopping or wanted > self.flush_done, timed)
                else:
                    self.send_rows()
                with self.lock:
                    self.flush_done = max(self.flush_done, wanted)
                if stopping and (self.empty() or time.monotonic() >= self.deadline):
                    return
        except Exception as e:  # the sender must never take the trainer down
            log.error("alphawatch: sender stopped by an error: %r", e)
        finally:
            self.http.drop()
            _abandoned.discard(threading.current_thread())

    def empty(self):
        for layer in list(self.layers.values()):
            with layer.lock:
                if layer.rows_queue or layer.ready or (layer.moments is not None and not layer.moments.empty()):
                    return False
        return True

    def send_partials(self, everything, timed):
        """Sends full partials when a request's worth waits, or on time; and with everything
        (close, flush(), a layer's first rows) or, on time without a server limit, what each
        layer holds now. Partials of a layer travel back to back in requests of REQUEST_BYTES."""
        for layer in list(self.layers.values()):
            with layer.lock:
                if layer.stopped:
                    layer.stats["dropped"] += sum(m.count for m in layer.ready)
                    layer.ready.clear()
                    continue
                waiting = sum(_partial_bytes(m) for m in layer.ready)
                batch = list(layer.ready) if everything or timed or waiting >= REQUEST_BYTES else []
                layer.ready.clear() if batch else None
                now = everything or (timed and not layer.limit)
                if now and layer.moments is not None and not layer.moments.empty():
                    batch.append(layer.moments)
                    layer.moments, layer.batches = None, 0
            at = 0
            while at < len(batch):
                group = [batch[at]]
                size = _partial_bytes(batch[at])
                while at + len(group) < len(batch) and size + _partial_bytes(batch[at + len(group)]) <= REQUEST_BYTES:
                    size += _partial_bytes(batch[at + len(group)])
                    group.append(batch[at + len(group)])
                body = b"".join(m.encode() for m in group)
                delivered = self.post(layer, self.path(layer.name, "partials"), body, sum(m.count for m in group))
                if delivered is None:  # not delivered: kept, in order, for the next attempt
                    with layer.lock:
                        layer.ready.extendleft(reversed(batch[at:]))
                    break
                if not delivered:  # refused for good: the layer is stopped
                    with layer.lock:
                        layer.stats["dropped"] += sum(m.count for m in batch[at:])
                    break
                at += len(group)

    def send_rows(self):
        # Round-robin over layers: the first hook in forward order cannot starve the others.
        progressed = True
        while progressed and not self.stopped.is_set():
            progressed = False
            for layer in list(self.layers.values()):
                with layer.lock:
                    if not layer.rows_queue:
                        continue
                    array, step, repeat, latent, kind = layer.rows_queue.popleft()
                progressed = True
                rows = int(array.shape[0])
                params = {"step": int(step), "kind": kind}
                if repeat is not None:
                    params["repeat"] = int(repeat)
                delivered = False if layer.stopped else self.post(
                    layer, self.path(layer.name, "batches", params), encode_npy(array, latent), rows)
                if delivered is None and self.deadline is not None and not self.stopped.is_set():
                    with layer.lock:  # closing: try again until the deadline, like aggregated moments
                        layer.rows_queue.appendleft((array, step, repeat, latent, kind))
                    self.stopped.wait(0.1)
                    return
                if not delivered:
                    with layer.lock:
                        layer.stats["dropped"] += rows

    def post(self, layer, path, body, rows):
        """True when accepted, False when refused for good, None when it could not be delivered."""
        own = time.monotonic() + self.http.timeout * (self.max_retries + 1)
        for attempt in range(self.max_retries + 1):
            deadline = self.deadline or own  # close() may bring it forward at any moment
            if self.stopped.is_set():
                return None
            try:
                status, retry_after, payload = self.http.request("POST", path, body, deadline)
            except OSError as e:
                with layer.lock:
                    layer.stats["failed"] += 1
                self._error(layer, str(e))
                if self.deadline is not None or time.monotonic() >= deadline:
                    return None
                self.stopped.wait(min(0.2 * (attempt + 1), 2.0))
                continue
            if status == 202:
                limit = _json.loads_or_text(payload).get("max_partial_samples")
                with layer.lock:
                    if isinstance(limit, int) and limit >= 0:
                        layer.limit = limit
                    layer.stats["sent"] += 1
                    layer.stats["merged"] += rows
                    layer.stats["bytes"] += len(body)
                return True
            doc = _json.loads_or_text(payload)
            error = f"HTTP {status} {doc.get('error', '?')}: {doc.get('detail', payload[:200])}"
            if status in _RETRYABLE:
                wait = retry_after if retry_after is not None else 1.0
                with layer.lock:
                    layer.stats["failed"] += 1
                if attempt == self.max_retries or time.monotonic() + wait >= (self.deadline or own):
                    self._error(layer, error)
                    return None
                self.stopped.wait(wait)
                continue
            with layer.lock:
                layer.stats["refused"] += 1
                self._refuse(layer, error)
            return False
        return None

    # ---- ending ----
    def close(self, timeout):
        """Detaches the hooks, lets the sender send what is left until timeout, then ends it."""
        if self.closed:
            return
        self.closed = True
        for h in self.hooks:
            h.remove()
        if self.thread is not None:
            self.deadline = time.monotonic() + max(0.0, timeout)
            self.wake.set()
            self.thread.join(max(0.0, timeout) + 0.5)
            if self.thread.is_alive():  # stuck in a request: end it
                self.stopped.set()
                self.http.abort()
                self.thread.join(0.4)
        self.stopped.set()
        self.http.close_all()
        for layer in self.layers.values():
            with layer.lock:  # what could not be sent in time
                layer.stats["dropped"] += layer.queued_rows()
                layer.rows_queue.clear()
                layer.ready.clear()
                layer.moments = None
                layer.pass0 = None

    def abandon(self):
        """A Monitor collected without close(): the sender sends what is left (for at most
        ABANDONED_SECONDS) and ends by itself; nothing waits for it but interpreter exit."""
        if self.closed:
            return
        self.closed = True
        for h in self.hooks:
            h.remove()
        if self.thread is not None and self.thread.is_alive():
            log.warning("alphawatch: a Monitor of run %s was not closed; sending what is left", self.run)
            self.deadline = time.monotonic() + ABANDONED_SECONDS
            _abandoned.add(self.thread)
            self.wake.set()


ABANDONED_SECONDS = 5.0
_abandoned = set()


@atexit.register
def _join_abandoned():
    # Registered before any finalizer, so it runs after them: their senders get their few seconds.
    deadline = time.monotonic() + ABANDONED_SECONDS
    for thread in list(_abandoned):
        thread.join(max(0.0, deadline - time.monotonic()))


def _cpu_copy(rows):
    """A host copy of rows: later in-place changes (ReLU(inplace=True)) must not reach it."""
    if hasattr(rows, "detach"):
        t = rows.detach()
        return (t.clone() if t.device.type == "cpu" else t.to("cpu")).numpy()
    return np.array(rows, copy=True)


def _copy64(rows):
    if hasattr(rows, "detach"):
        import torch
        return rows.detach().to(torch.float64, copy=True)
    return np.array(rows, dtype=np.float64, copy=True)


class Monitor:
    """A connection to one run on an alphawatch server (thread-safe).

    url, run: the server and the run name. token: the bearer token (or None).
    source: a name for this sender, recorded per layer by the monitor and keeping repeat passes of
        different senders apart; default "rank<N>" under torch.distributed, else none.
    aggregate: True (default): each layer's rows are added to moments on the trainer, and one
        partial accumulator per layer is sent every flush_seconds (or every flush_batches batches
        of a layer) and at close(); False streams the rows (at most queue_batches waiting per
        layer; more are dropped and counted).
    precision: "float64" (default; exact) or "float32" (half the CPU cost of the Gram matrix;
        error measured in docs/attach-pytorch.md).
    timeout: seconds per request; close(timeout) bounds the end.
    """

    def __init__(self, url, run, token=None, source=None, aggregate=True, precision="float64", flush_seconds=5.0,
                 flush_batches=None, queue_batches=16, timeout=10.0, max_retries=20):
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
        if flush_batches is not None and flush_batches < 1:
            raise ValueError("flush_batches must be >= 1 (or None)")
        if source is None:
            rank = _distributed_rank()
            source = None if rank is None else f"rank{rank}"
        self.url = url.rstrip("/")
        self.run = run
        self.source = source
        self.aggregate = bool(aggregate)
        self._core = _Core(_Http(url, token, timeout), run, source, self.aggregate, precision, float(flush_seconds),
                           flush_batches, int(queue_batches), int(max_retries))
        weakref.finalize(self, self._core.abandon)

    @property
    def step(self):
        """The training step hooks tag rows with; None: each layer's forward count."""
        return self._core.step

    @step.setter
    def step(self, value):
        self._core.step = None if value is None else int(value)

    # ---- synchronous API ----
    def send(self, layer, array, step, kind="train", repeat=None, latent=None):
        """POSTs one batch of rows now and returns the server's JSON answer; raises AlphawatchError."""
        self._check_open()
        params = {"step": int(step), "kind": kind}
        if repeat is not None:
            params["repeat"] = int(repeat)
        return self._post_now(self._core.path(layer, "batches", params), encode_npy(array, latent))

    def send_partial(self, layer, moments):
        """POSTs a :class:`Moments` of a layer now (the sufficient statistics of its rows)."""
        self._check_open()
        return self._post_now(self._core.path(layer, "partials"), moments.encode())

    def _post_now(self, path, body):
        core = self._core
        deadline = time.monotonic() + core.http.timeout * (core.max_retries + 1)
        for attempt in range(core.max_retries + 1):
            status, retry_after, payload = core.http.request("POST", path, body, deadline)
            if status == 202:
                return _json.loads_or_text(payload)
            if status in _RETRYABLE and attempt < core.max_retries:
                time.sleep(retry_after if retry_after is not None else 1.0)
                continue
            doc = _json.loads_or_text(payload)
            raise AlphawatchError(status, doc.get("error", "?"), doc.get("detail", payload[:200]))
        raise AssertionError("unreachable")

    def spectrum(self, layer):
        """The layer's current spectrum document (GET .../spectrum); also works after close()."""
        core = self._core
        status, _, payload = core.http.request("GET", core.path(layer, "spectrum"), None,
                                               time.monotonic() + core.http.timeout)
        if core.closed:
            core.http.drop()
        doc = _json.loads_or_text(payload)
        if status != 200:
            raise AlphawatchError(status, doc.get("error", "?"), doc.get("detail", ""))
        return doc

    # ---- background: hooks and submit ----
    def submit(self, layer, rows, step=None, kind="train", latent=None):
        """Hands rows (samples x units) of a layer to the background sender without waiting, as the
        hooks do. Returns False when they were dropped (a full streaming queue, a refused layer)."""
        self._check_open()
        core = self._core
        return core.record(layer, rows, step if step is not None else (core.step or 0), core.repeat, kind, latent)

    @contextlib.contextmanager
    def repeat(self, index):
        """Marks the forward passes inside as repeat pass 0 or 1 over the same inputs (cvPCA):
        ``with mon.repeat(0): model(x)`` then ``with mon.repeat(1): model(x)``."""
        if index not in (0, 1):
            raise ValueError("repeat index must be 0 or 1")
        core = self._core
        previous, core.repeat = core.repeat, index
        try:
            yield self
        finally:
            core.repeat = previous

    def watch(self, module, layers=None, every=1, max_rows=None, conv="flatten", tokens=None, output=None,
              training_only=True):
        """Registers forward hooks that record layer outputs; returns a handle with remove().

        layers: names from ``module.named_modules()`` (default: every leaf module); for a
            DistributedDataParallel or DataParallel model, "act1" and "module.act1" are the same.
        every: record every N-th forward call of a layer. max_rows: keep at most this many rows.
        training_only: record only while the module is in training mode (evaluation passes are
            not training data); False records every pass.
        output: for modules returning a tuple or a dict, which element (an index or a key);
            default: element 0 of a tuple, "last_hidden_state" of a dict; anything else is named
            in a TypeError.
        conv: 4-D and larger outputs [N, C, ...]: "flatten" (N, C*H*W), "mean" (N, C) or
            "positions" (N*H*W, C). 3-D outputs [B, T, D] are tokens: (B*T, D) rows.
        tokens: keep this many randomly chosen token (or position) rows per batch.
        """
        self._check_open()
        if conv not in ("flatten", "mean", "positions"):
            raise ValueError("conv must be 'flatten', 'mean' or 'positions'")
        if every < 1:
            raise ValueError("every must be >= 1")
        named = dict(module.named_modules())
        if layers is None:
            layers = [n for n, m in named.items() if n and not any(True for _ in m.children())]
        resolved = {}
        for name in layers:
            target = _resolve(named, name)
            if target is None:
                known = sorted(_display_name(n) for n in named if n)
                raise KeyError(f"no submodule {name!r} (known: {known[:30]})")
            resolved[_display_name(name)] = target
        core = self._core
        handles = [target.register_forward_hook(_hook(core, name, every, max_rows, conv, tokens, output,
                                                      training_only))
                   for name, target in resolved.items()]
        core.hooks.extend(handles)
        return _Handle(handles)

    # ---- ending ----
    def flush(self, timeout=None):
        """Sends everything recorded so far now. Returns False when that did not finish in time."""
        core = self._core
        if core.thread is None:
            return True
        with core.lock:
            core.flush_wanted += 1
            wanted = core.flush_wanted
        core.wake.set()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with core.lock:
                done = core.flush_done >= wanted
            if done and core.empty():
                return True
            if (deadline is not None and time.monotonic() > deadline) or not core.thread.is_alive():
                return False
            time.sleep(0.01)

    def stats(self):
        """Per layer ("layers") and in total: recorded, merged and dropped rows, queued rows; sent,
        refused and failed requests; bytes sent; whether the layer was stopped; the last errors."""
        core = self._core
        per = {}
        for name, layer in list(core.layers.items()):
            with layer.lock:
                per[name] = dict(layer.stats, queued=layer.queued_rows(), stopped=layer.stopped)
        with core.lock:
            errors = list(core.errors)
        totals = {k: sum(p[k] for p in per.values())
                  for k in ("recorded", "sent", "merged", "dropped", "refused", "failed", "bytes", "queued")}
        totals["layers"] = per
        totals["errors"] = errors
        return totals

    def close(self, timeout=30.0):
        """Detaches the hooks, sends what is left and ends the sender, all within timeout + 1 s;
        what could not be sent by then is counted as dropped. Using the monitor afterwards raises
        (except :meth:`stats` and :meth:`spectrum`). Returns :meth:`stats`."""
        self._core.close(timeout)
        s = self.stats()
        if s["dropped"] or s["refused"]:
            log.warning("alphawatch: %d rows merged, %d dropped; %d requests refused", s["merged"], s["dropped"],
                        s["refused"])
        return s

    @property
    def closed(self):
        return self._core.closed

    def _check_open(self):
        if self._core.closed:
            raise RuntimeError("this alphawatch Monitor is closed")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _hook(core, name, every, max_rows, conv, tokens, output, training_only):
    """A forward hook holding the core only (not the Monitor)."""
    calls = [0]

    def hook(module, _inputs, out):
        if core.closed or (training_only and not module.training):
            return
        n = calls[0]
        calls[0] = n + 1
        if n % every:
            return
        rows = _rows(out, conv, tokens, output, name)
        if max_rows is not None and rows.shape[0] > max_rows:
            rows = rows[:max_rows]
        core.record(name, rows, core.step if core.step is not None else n, core.repeat)
    return hook


class _Handle:
    def __init__(self, handles):
        self._handles = handles

    def remove(self):
        for h in self._handles:
            h.remove()


def _distributed_rank():
    try:
        import torch.distributed as dist
        if dist.is_available() and dist.is_initialized():
            return dist.get_rank()
    except ImportError:
        pass
    return None


def _resolve(named, name):
    """A submodule by name; "x" and "module.x" name the same layer of a wrapped (DDP) model."""
    if name in named:
        return named[name]
    if "module." + name in named:
        return named["module." + name]
    if name.startswith("module.") and name[len("module."):] in named:
        return named[name[len("module."):]]
    return None


def _display_name(name):
    return name[len("module."):] if name.startswith("module.") else name


def _rows(out, conv, tokens, output, name):
    """The rows (samples x units) a layer output stands for."""
    import torch
    t = _select(out, output, name).detach()
    if t.dim() == 1:
        t = t[:, None]
    elif t.dim() == 3:
        t = t.reshape(-1, t.shape[-1])  # tokens are the samples
        t = _sample(t, tokens)
    elif t.dim() > 3:
        if conv == "flatten":
            t = t.flatten(1)
        elif conv == "mean":
            t = t.flatten(2).mean(dim=2)
        else:
            t = t.flatten(2).transpose(1, 2).reshape(-1, t.shape[1])
            t = _sample(t, tokens)
    if not torch.is_floating_point(t):
        t = t.float()
    return t


def _sample(t, tokens):
    if tokens is None or t.shape[0] <= tokens:
        return t
    import torch
    idx = torch.randperm(t.shape[0], device=t.device)[:tokens]
    return t[idx]


def _select(out, output, name):
    import torch
    if output is not None:
        try:
            out = out[output]
        except (KeyError, IndexError, TypeError) as e:
            raise TypeError(f"layer {name}: output[{output!r}] does not exist ({e})") from e
    if isinstance(out, torch.Tensor):
        return out
    if isinstance(out, (tuple, list)) and out and isinstance(out[0], torch.Tensor):
        return out[0]
    if isinstance(out, collections.abc.Mapping):
        if "last_hidden_state" in out and isinstance(out["last_hidden_state"], torch.Tensor):
            return out["last_hidden_state"]
        keys = [k for k, v in out.items() if isinstance(v, torch.Tensor)]
        raise TypeError(f"layer {name} returns a mapping with tensors {keys}: pick one with watch(..., output=KEY)")
    raise TypeError(f"layer {name} returns {type(out).__name__}, not a tensor: pick one with watch(..., output=...)")
