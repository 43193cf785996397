"""Per-layer state: what the trainer recorded and what waits to be sent, in rows.

The trainer's side (hooks, Monitor.submit) adds rows through :meth:`LayerTable.record`: aggregated
into the layer's :class:`Moments` (split at the server's max_partial_samples), or queued as rows.
The sender's side takes them out as :class:`Request` s (:meth:`Layer.next_request`), one at a time
per layer: a request keeps its sequence number and body until the server has answered it, so a
retry is the same request and the server can recognise it.

Every row a layer recorded is in exactly one place at every moment, under the layer's lock:
    recorded = merged + dropped + queued + in_flight
Rows of both repeat passes count (a pass 0 waiting for its pass 1 is queued).
"""

import collections
import threading

import numpy as np

from .moments import Moments
from .npy import encode_npy

READY_BYTES = 64 << 20  # full partials a layer may hold while the server catches up (at least 2)
REQUEST_BYTES = 16 << 20  # partials of a layer sent back to back in one request, up to this (at least 1)
STAT_KEYS = ("recorded", "merged", "dropped", "queued", "in_flight", "sent", "refused", "failed", "duplicates", "bytes",
             "lost")


def partial_bytes(dims):
    return 8 * (dims * (dims + 1) // 2 + dims) + 40


def moment_rows(m):
    """Rows a Moments stands for: its samples and both passes of its repeat pairs."""
    return m.count + 2 * m.pairs


class Request:
    """One POST of a layer, fixed once formed: `seq` and `body` are the same on every attempt.

    kind: "partials" or "batches"; params: the batch's query (step, kind, repeat); rows: rows it
    stands for (stats); samples: rows the server counts in the layer's total_samples (not repeat
    passes, not probes)."""

    __slots__ = ("seq", "kind", "params", "body", "rows", "samples", "parts", "array", "latent", "with_moments")

    def __init__(self, seq, kind, rows, samples, params=None, parts=None, array=None, latent=None):
        self.seq = seq
        self.kind = kind
        self.params = params or {}
        self.rows = rows
        self.samples = samples
        self.parts = parts
        self.array = array
        self.latent = latent
        self.body = None
        self.with_moments = False  # it took the moments being filled (not only full partials)

    def encode(self):
        """The body, built once (off the layer's lock: encoding a wide partial takes milliseconds)."""
        if self.body is None:
            if self.parts is not None:
                self.body = b"".join(m.encode() for m in self.parts)
            else:
                self.body = encode_npy(self.array, self.latent)
            self.parts = self.array = self.latent = None  # the bytes are all that is needed now
        return self.body


class Layer:
    """One watched layer. Fields are guarded by `lock`; `send_lock` keeps one request in flight."""

    def __init__(self, name):
        self.name = name
        self.lock = threading.Lock()
        self.send_lock = threading.Lock()
        self.moments = None        # aggregating: rows since the last partial was taken
        self.ready = collections.deque()  # full partials (max_partial_samples rows) waiting to be sent
        self.limit = None          # the server's max_partial_samples for this layer (0: none; None: not known yet)
        self.learning = False      # the first partial has been asked for
        self.warned_slow = False
        self.batches = 0           # batches added since the last partial was taken
        self.pass0 = None          # aggregating repeats: (pass 0 rows, step) waiting for pass 1
        self.rows_queue = collections.deque()  # streaming: (array, step, repeat, latent, kind)
        self.stopped = False       # the server refused this layer: nothing more is sent
        self.seq = 0               # the last sequence number given to a request
        self.inflight = None       # the request being sent (or to be tried again): at most one
        self.direct = False        # Monitor.send of this layer under way: the sender forms no request
        self.counted = 0           # samples of this client the server holds (by its answers)
        self.latest = None         # the newest spectrum document fetched
        self.fetched_at = None     # time.monotonic() of the last fetch
        self.sent_since_fetch = False
        self.stats = {k: 0 for k in STAT_KEYS if k not in ("queued", "in_flight")}  # those two are computed

    def queued_rows(self):
        rows = sum(int(a.shape[0]) for a, *_ in self.rows_queue) + sum(moment_rows(m) for m in self.ready)
        rows += moment_rows(self.moments) if self.moments is not None else 0
        return rows + (int(self.pass0[0].shape[0]) if self.pass0 is not None else 0)

    def snapshot(self):
        """The layer's counts, consistent with each other (takes the lock)."""
        with self.lock:
            s = dict(self.stats)
            s["queued"] = self.queued_rows()
            s["in_flight"] = self.inflight.rows if self.inflight is not None else 0
            s["stopped"] = self.stopped
            return s

    def has_work(self):
        with self.lock:
            return bool(self.inflight is not None or self.rows_queue or self.ready
                        or (self.moments is not None and not self.moments.empty()))

    def _new_request(self, kind, rows, samples, **kw):
        self.seq += 1
        self.inflight = Request(self.seq, kind, rows, samples, **kw)
        return self.inflight

    def next_request(self, everything, timed, moments_allowed=True):
        """The request to send now, or None: the one in flight if any; else partials that are due
        (a request's worth of full ones, all of them with `everything` or `timed`, and the
        moments being filled with `everything`, or `timed` when the server sets no limit), or
        the next queued batch of rows. Moves its rows from queued to in flight."""
        with self.lock:
            if self.inflight is not None:
                return self.inflight
            if self.stopped or self.direct:
                return None
            if self.rows_queue:
                array, step, repeat, latent, kind = self.rows_queue.popleft()
                params = {"step": int(step), "kind": kind}
                if repeat is not None:
                    params["repeat"] = int(repeat)
                rows = int(array.shape[0])
                counted = rows if kind == "train" and repeat is None else 0
                return self._new_request("batches", rows, counted, params=params, array=array, latent=latent)
            group, size = [], 0
            if self.ready and (everything or timed or len(self.ready) * partial_bytes(self.ready[0].dims) >= REQUEST_BYTES):
                while self.ready and (not group or size + partial_bytes(self.ready[0].dims) <= REQUEST_BYTES):
                    size += partial_bytes(self.ready[0].dims)
                    group.append(self.ready.popleft())
            take = moments_allowed and (everything or (timed and not self.limit))
            with_moments = (take and not self.ready and self.moments is not None and not self.moments.empty()
                            and (not group or size + partial_bytes(self.moments.dims) <= REQUEST_BYTES))
            if with_moments:
                group.append(self.moments)
                self.moments, self.batches = None, 0
            if not group:
                return None
            request = self._new_request("partials", sum(moment_rows(m) for m in group), sum(m.count for m in group),
                                        parts=group)
            request.with_moments = with_moments
            return request

    def direct_request(self, kind, params):
        """A request of Monitor.send, numbered after everything formed before it; None while the
        sender's request is in flight (it must go first: a later seq makes the server skip it).
        Until end_direct(), the sender forms no request of this layer."""
        with self.lock:
            if self.inflight is not None:
                return None
            self.direct = True
            self.seq += 1
            return Request(self.seq, kind, 0, 0, params=params)

    def end_direct(self):
        with self.lock:
            self.direct = False

    def delivered(self, request, body_bytes, limit, duplicate):
        """The server took the request (or had taken it: a duplicate)."""
        with self.lock:
            if isinstance(limit, int) and not isinstance(limit, bool) and limit >= 0:
                self.limit = limit
            self.stats["sent"] += 1
            self.stats["merged"] += request.rows
            self.stats["bytes"] += body_bytes
            self.stats["duplicates"] += 1 if duplicate else 0
            self.counted += request.samples
            self.sent_since_fetch = True
            if self.inflight is request:
                self.inflight = None

    def refused(self, request):
        """The server refused the request for good: the layer stops, what it holds is dropped."""
        with self.lock:
            self.stats["refused"] += 1
            self.stats["dropped"] += request.rows
            if self.inflight is request:
                self.inflight = None
            first = not self.stopped
            self.stopped = True
            self._drop_queued()
            return first

    def _drop_queued(self):
        self.stats["dropped"] += self.queued_rows()
        self.rows_queue.clear()
        self.ready.clear()
        self.moments = None
        self.pass0 = None

    def drop_everything(self):
        """close(): what could not be sent in time, the request in flight included."""
        with self.lock:
            rows = self.queued_rows() + (self.inflight.rows if self.inflight is not None else 0)
            self.stats["dropped"] += rows
            self.inflight = None
            self.rows_queue.clear()
            self.ready.clear()
            self.moments = None
            self.pass0 = None
            return rows


class LayerTable:
    """The layers of one Monitor and the trainer's side of them. `on_rows(flush, wake)` is called
    after rows were recorded: flush, everything should be sent now (a layer's first rows, its
    flush_batches); wake, something should be sent without waiting for the sender's timer."""

    def __init__(self, aggregate, precision, flush_batches, queue_batches, on_rows, log):
        self.aggregate = aggregate
        self.precision = precision
        self.flush_batches = flush_batches
        self.queue_batches = queue_batches
        self.on_rows = on_rows
        self.log = log
        self.layers = collections.OrderedDict()
        self.lock = threading.Lock()  # guards layers and errors
        self.errors = []
        self.closed = False
        self.step = None    # the step the user set (Monitor.step)
        self.repeat = None  # the repeat pass being recorded (Monitor.repeat)

    def get(self, name):
        layer = self.layers.get(name)
        if layer is None:
            with self.lock:
                layer = self.layers.setdefault(name, Layer(name))
        return layer

    def all(self):
        with self.lock:
            return list(self.layers.values())

    def error(self, layer_name, text):
        with self.lock:
            if len(self.errors) < 20:
                self.errors.append(f"{layer_name}: {text}")

    def stop(self, layer, reason):
        """A refused layer: one warning, then silence (the caller holds no lock)."""
        self.log.warning("alphawatch: layer %s is not sent any more: %s", layer.name, reason)
        self.error(layer.name, reason)

    # ---- the trainer's side: must stay cheap ----
    def record(self, name, rows, step, repeat=None, kind="train", latent=None):
        """Adds rows of a layer (aggregating) or queues a copy (streaming); False when dropped."""
        if self.closed:
            raise RuntimeError("this alphawatch Monitor is closed")
        layer = self.get(name)
        if layer.stopped:
            return False
        n = int(rows.shape[0])
        if self.aggregate and kind == "train" and latent is None:
            with layer.lock:
                layer.stats["recorded"] += n
                try:
                    self._aggregate(layer, rows, step, repeat)
                except ValueError as e:  # a layer whose width changed: refused here, like the server would
                    layer.stats["dropped"] += n
                    first = not layer.stopped
                    layer.stopped = True
                    layer._drop_queued()
                    reason = f"not aggregated: {e}"
                else:
                    first = None
                    layer.batches += 1
                    flush = not layer.learning  # the layer's first rows go at once: the answer tells its limit
                    layer.learning = True
                    flush = flush or (self.flush_batches is not None and layer.batches >= self.flush_batches)
                    wake = flush or (len(layer.ready) * partial_bytes(rows.shape[1]) >= REQUEST_BYTES)
            if first is not None:
                if first:
                    self.stop(layer, reason)
                return False
            self.on_rows(flush, wake)
            return True
        else:
            array = _cpu_copy(rows)
            with layer.lock:
                layer.stats["recorded"] += n
                if len(layer.rows_queue) >= self.queue_batches:
                    layer.stats["dropped"] += n
                    return False
                layer.rows_queue.append((array, step, repeat, latent, kind))
        self.on_rows(False, True)
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
            if layer.pass0 is not None:  # a pass 0 that never got its pass 1
                layer.stats["dropped"] += int(layer.pass0[0].shape[0])
            layer.pass0 = (_copy64(rows), step)
        else:
            first = layer.pass0
            if first is None or tuple(first[0].shape) != tuple(rows.shape):
                raise ValueError("repeat pass 1 without a matching repeat pass 0 (same number of rows)")
            layer.moments.add_pairs(first[0], rows, step)
            layer.pass0 = None

    def _ready(self, layer):
        """Moves the layer's full moments to its ready partials; beyond what memory allows (the
        server does not keep up), the oldest is dropped and counted."""
        layer.ready.append(layer.moments)
        layer.moments = None
        dims = layer.ready[0].dims
        if len(layer.ready) > max(2, READY_BYTES // partial_bytes(dims)):
            old = layer.ready.popleft()
            layer.stats["dropped"] += moment_rows(old)
            if not layer.warned_slow:
                layer.warned_slow = True
                self.log.warning("alphawatch: layer %s: the monitor does not take partials as fast as they fill; "
                                 "the oldest are dropped (counted in stats()['layers'])", layer.name)


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
