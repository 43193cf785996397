"""The Monitor: attach a training run to an alphawatch server.

    from alphawatch import Monitor
    mon = Monitor("http://127.0.0.1:9400", run="resnet-dropout0.2")
    mon.watch(model, ["layer3", "fc"])   # forward hooks, training-mode passes only
    for step, batch in enumerate(loader):
        mon.step = step
        ...                               # train; hooks never wait on the network
        print(mon.latest("fc"))           # the newest spectrum, fetched in the background
    mon.close(wait_for_spectrum=True)     # sends what is left, bounded by its timeout

By default each watched layer's rows are aggregated on the trainer (count, mean, co-moment in
float64 on the batch's device) and sent as one partial accumulator per layer every
``flush_seconds``; the monitor merges them exactly. ``aggregate=False`` streams the rows instead.

The parts: transport.py (HTTP and the retry policy), layers.py (per-layer state, the trainer's
side), sender.py (the background thread), hooks.py (torch hooks and masks).
"""

import contextlib
import logging
import os
import threading
import time
import urllib.parse
import weakref

from .layers import LayerTable, STAT_KEYS
from .moments import PRECISIONS
from .npy import encode_npy
from .sender import Sender
from .transport import AlphawatchError, RetryPolicy, Transport
from . import hooks as _hooks

log = logging.getLogger("alphawatch")

__all__ = ["Monitor", "AlphawatchError"]


def new_sender_id():
    """A random id per Monitor: 22 hex digits (88 bits), valid as a server name."""
    return os.urandom(11).hex()


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
    timeout: seconds per request; close(timeout) bounds the end. max_retries: attempts after a
        408/429/503 (waiting Retry-After) or a connection failure.
    spectrum_seconds: the sender fetches a layer's spectrum after sends at most this often, for
        latest() and on_spectrum (0: never).
    on_spectrum: a function(layer, document) called on the sender thread with each new spectrum.

    Every POST carries ``sender`` (this Monitor's random id, :attr:`sender`) and ``seq`` (per layer,
    from 1, the same on every retry of one request): the server applies a request once.
    """

    def __init__(self, url, run, token=None, source=None, aggregate=True, precision="float64", flush_seconds=5.0,
                 flush_batches=None, queue_batches=16, timeout=10.0, max_retries=20, spectrum_seconds=5.0,
                 on_spectrum=None):
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
        if flush_batches is not None and flush_batches < 1:
            raise ValueError("flush_batches must be >= 1 (or None)")
        if on_spectrum is not None and not callable(on_spectrum):
            raise TypeError("on_spectrum must be a function(layer, document)")
        if source is None:
            rank = _distributed_rank()
            source = None if rank is None else f"rank{rank}"
        self.url = url.rstrip("/")
        self.run = run
        self.source = source
        self.sender = new_sender_id()
        self.aggregate = bool(aggregate)
        transport = Transport(url, token, timeout)
        self._transport = transport
        self._sender = Sender(transport, RetryPolicy(max_retries), None, run, source, self.sender,
                              float(flush_seconds), float(spectrum_seconds), on_spectrum, log)
        self._table = LayerTable(self.aggregate, precision, flush_batches, int(queue_batches),
                                 self._sender.rows_recorded, log)
        self._sender.table = self._table
        self._hooks = _hooks.HookRegistry()
        self._masks = _hooks.Masks()
        self._lock = threading.Lock()
        weakref.finalize(self, _abandon, self._table, self._hooks, self._sender)

    @property
    def step(self):
        """The training step hooks tag rows with; None: each layer's count of training steps."""
        return self._table.step

    @step.setter
    def step(self, value):
        self._table.step = None if value is None else int(value)

    # ---- synchronous API ----
    def send(self, layer, array, step, kind="train", repeat=None, latent=None):
        """POSTs one batch of rows now and returns the server's JSON answer; raises AlphawatchError
        (refused, or still 408/429/503 after the retries) or OSError (unreachable after the
        retries). Not counted in stats()."""
        self._check_open()
        params = {"step": int(step), "kind": kind}
        if repeat is not None:
            params["repeat"] = int(repeat)
        return self._post_now(layer, "batches", encode_npy(array, latent), params)

    def send_partial(self, layer, moments):
        """POSTs a :class:`Moments` of a layer now (the sufficient statistics of its rows)."""
        self._check_open()
        return self._post_now(layer, "partials", moments.encode())

    def _post_now(self, name, kind, body, params=None):
        layer = self._table.get(name)
        sender = self._sender
        with layer.send_lock:  # one request of a layer in flight, with the background sender's
            while True:
                request = layer.direct_request(kind, params)
                if request is not None:
                    break
                pending = layer.inflight  # the sender's request goes first
                if pending is not None and sender.deliver_now(layer, pending) is None:
                    raise OSError(f"layer {name}: an earlier request of the background sender could not be "
                                  f"delivered first")
            try:
                request.body = body
                own = time.monotonic() + sender.transport.timeout * (sender.policy.max_retries + 1)
                return sender.post(layer, request, lambda: own, background=False).doc
            finally:
                layer.end_direct()

    def spectrum(self, layer):
        """The layer's current spectrum document (a GET now; :meth:`latest` does not wait)."""
        transport = self._sender.transport
        answer = transport.request("GET", self._sender.path(layer, "spectrum"), None,
                                   time.monotonic() + transport.timeout)
        if self._table.closed:
            transport.drop()
        if answer.status != 200:
            raise AlphawatchError(answer.status, answer.doc.get("error", "?"), answer.doc.get("detail", ""))
        return answer.doc

    def latest(self, layer=None):
        """The newest spectrum document of a layer the sender fetched (None before the first), or,
        without a layer, a dict of every layer's. Never waits; also after close()."""
        if layer is not None:
            known = self._table.layers.get(layer)
            if known is None:
                return None
            with known.lock:
                return known.latest
        out = {}
        for known in self._table.all():
            with known.lock:
                if known.latest is not None:
                    out[known.name] = known.latest
        return out

    # ---- background: hooks and submit ----
    def submit(self, layer, rows, step=None, kind="train", latent=None):
        """Hands rows (samples x units) of a layer to the background sender without waiting, as the
        hooks do. Returns False when they were dropped (a full streaming queue, a refused layer)."""
        self._check_open()
        table = self._table
        return table.record(layer, rows, step if step is not None else (table.step or 0), table.repeat, kind, latent)

    @contextlib.contextmanager
    def repeat(self, index):
        """Marks the forward passes inside as repeat pass 0 or 1 over the same inputs (cvPCA):
        ``with mon.repeat(0): model(x)`` then ``with mon.repeat(1): model(x)``."""
        if index not in (0, 1):
            raise ValueError("repeat index must be 0 or 1")
        table = self._table
        previous, table.repeat = table.repeat, index
        try:
            yield self
        finally:
            table.repeat = previous

    def mask(self, attention_mask=None, padding=None):
        """A context: in the forward passes inside, token layers ([B, T, D] outputs, or [T, B, D])
        record only the rows of real tokens. attention_mask: [B, T], 1 for a token and 0 for
        padding (Hugging Face's); or padding: [B, T], True for padding (PyTorch's
        key_padding_mask). ``with mon.mask(batch["attention_mask"]): model(**batch)``."""
        return self._masks.use(_hooks.keep_mask(attention_mask, padding))

    def watch(self, module, layers=None, every=1, max_rows=None, conv="flatten", tokens=None, output=None,
              training_only=True, mask=None):
        """Registers forward hooks that record layer outputs; returns a handle with remove() that is
        also a context manager (``with mon.watch(model, ["fc"]): train()``).

        Watching a layer name again replaces its hook (a re-run notebook cell records each row
        once); the new settings apply.

        layers: names from ``module.named_modules()`` (default: every leaf module); for a
            DistributedDataParallel or DataParallel model, "act1" and "module.act1" are the same.
        every: record every N-th training step of a layer (a new ``mon.step``, or without one a
            forward call outside repeat passes; repeat passes go with their step).
        max_rows: keep at most this many rows per call.
        training_only: record only while the module is in training mode (evaluation passes are
            not training data); False records every pass.
        output: for modules returning a tuple or a dict, which element (an index or a key);
            default: element 0 of a tuple, "last_hidden_state" of a dict; anything else is named
            in a TypeError.
        conv: 4-D and larger outputs [N, C, ...]: "flatten" (N, C*H*W), "mean" (N, C) or
            "positions" (N*H*W, C). 3-D outputs [B, T, D] are tokens: (B*T, D) rows.
        tokens: keep this many randomly chosen token (or position) rows per batch.
        mask: a function of the module's positional inputs returning the attention mask [B, T]
            (1 = a real token), e.g. ``lambda ids: ids != pad_id``: token rows of padding are
            not recorded. For masks passed as keyword inputs, use :meth:`mask`. False: these
            layers are not masked by :meth:`mask` either (token layers of another length).
        """
        self._check_open()
        with self._lock:
            return _hooks.watch(self._table, self._masks, self._hooks, module, layers, every, max_rows, conv, tokens,
                                output, training_only, mask)

    # ---- ending ----
    def flush(self, timeout=None):
        """Sends everything recorded so far now. Returns False when that did not finish in time."""
        return self._sender.wait_flushed(timeout)

    def stats(self):
        """Rows and requests, per layer ("layers") and in total: recorded, merged, dropped, queued
        and in_flight rows (recorded = merged + dropped + queued + in_flight at every moment; rows
        of repeat passes count), lost rows (merged, then lost by a server restart); requests
        sent, refused, failed (attempts that did not get through) and duplicates (a retry the
        server had already applied); bytes sent; whether the layer was stopped. Also "errors"
        (the last ones), "reachable" and "sender" (this Monitor's id)."""
        per = {}
        for layer in self._table.all():
            s = layer.snapshot()
            if s["recorded"]:
                per[layer.name] = s
        totals = {k: sum(p[k] for p in per.values()) for k in STAT_KEYS}
        totals["layers"] = per
        with self._table.lock:
            totals["errors"] = list(self._table.errors)
        totals["reachable"] = self._sender.reachable
        totals["sender"] = self.sender
        return totals

    def close(self, timeout=30.0, wait_for_spectrum=False, end_run=True):
        """Detaches the hooks, sends what is left and ends the sender within timeout + 1 s; what
        could not be sent by then is counted as dropped. A connection refused while closing ends
        it at once (a warning says so). wait_for_spectrum: True (wait up to `timeout`) or
        seconds: then also waits until each layer's served spectrum covers every row this
        client sent, so :meth:`latest` holds the run's final spectra. end_run: tells the monitor the
        run is over (``POST /v1/runs/{run}/end``: no staleness alert for it; a later batch reopens
        it); False when other processes go on sending to this run. Using the monitor afterwards
        raises (except :meth:`stats`, :meth:`latest` and :meth:`spectrum`). Returns
        :meth:`stats`."""
        table = self._table
        if table.closed:
            return self.stats()
        table.closed = True
        self._hooks.remove_all()
        spectrum_timeout = None
        if wait_for_spectrum is True:
            spectrum_timeout = timeout
        elif wait_for_spectrum not in (False, None):
            spectrum_timeout = float(wait_for_spectrum)
        self._sender.close(timeout, spectrum_timeout)
        if end_run:
            self._end_run()
        s = self.stats()
        if s["dropped"] or s["refused"]:
            log.warning("alphawatch: %d rows merged, %d dropped; %d requests refused", s["merged"], s["dropped"],
                        s["refused"])
        return s

    def _end_run(self):
        """One attempt, a few seconds: a hint that spares a finished run its staleness alerts."""
        path = "/v1/runs/" + urllib.parse.quote(self.run, safe="") + "/end"
        try:
            answer = self._transport.request("POST", path, b"", time.monotonic() + 5.0)
            if answer.status != 200:
                log.info("alphawatch: the monitor did not take the end of run %s (%s)", self.run, answer.status)
        except OSError as e:
            log.info("alphawatch: the end of run %s was not sent (%s)", self.run, e)

    @property
    def closed(self):
        return self._table.closed

    def _check_open(self):
        if self._table.closed:
            raise RuntimeError("this alphawatch Monitor is closed")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _abandon(table, hooks, sender):
    """The finalizer of a Monitor collected without close()."""
    if table.closed:
        return
    table.closed = True
    hooks.remove_all()
    sender.abandon()


def _distributed_rank():
    try:
        import torch.distributed as dist
        if dist.is_available() and dist.is_initialized():
            return dist.get_rank()
    except ImportError:
        pass
    return None
