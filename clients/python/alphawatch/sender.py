"""The background sender: one thread per Monitor that takes each layer's requests out of the
LayerTable and POSTs them, one in flight per layer, each with this Monitor's sender id and the
layer's sequence number (the same on every retry: the server applies a request once).

It also watches the monitor for the user: one warning when it becomes unreachable (with the
reason) and one when it is back; one warning when it restarted and lost rows this client had
sent (the instance id of its answers changed and its total_samples fell short); and it keeps each
layer's newest spectrum (Monitor.latest, on_spectrum), fetched after sends at most every
`spectrum_seconds`.

Holds no reference to the Monitor, so that an abandoned Monitor is collected and its finalizer
ends the thread.
"""

import atexit
import threading
import time
import urllib.parse

from .transport import describe

ABANDONED_SECONDS = 5.0
SPECTRUM_POLL_SECONDS = 0.5  # close(wait_for_spectrum=...): how often the spectra are asked for
_abandoned = set()


class _Restart:
    """A change of the server's instance id: which layers still have to say what they kept."""

    def __init__(self, old, new, pending):
        self.old = old
        self.new = new
        self.pending = pending  # layer name -> samples this client had merged before the change
        self.lost = {}
        self.unknown = []


class Sender:
    """The thread and everything only it changes. Thread-safe where the Monitor calls it."""

    def __init__(self, transport, policy, table, run, source, sender_id, flush_seconds, spectrum_seconds,
                 on_spectrum, log):
        self.transport = transport
        self.policy = policy
        self.table = table
        self.run = run
        self.source = source
        self.sender_id = sender_id
        self.flush_seconds = flush_seconds
        self.spectrum_seconds = spectrum_seconds
        self.on_spectrum = on_spectrum
        self.log = log
        self.thread = None
        self.hooks = None              # the Monitor's hook registry (removed by abandon())
        self.wake = threading.Event()
        self.stopped = threading.Event()  # the thread must end now
        self.kick = threading.Event()     # close(): cut a connection back-off short
        self.cond = threading.Condition()  # guards the flush generations and the fields below
        self.flush_wanted = 0             # generation of the newest flush request
        self.flush_done = 0               # generation of the newest completed flush
        self.deadline = None              # set by close: send what is left by then
        self.spectrum_deadline = None     # close(wait_for_spectrum=...): wait for spectra until then
        self.gave_up = None               # why close() stopped trying before its deadline
        self.last_flush = time.monotonic()
        self.reachable = True
        self.down_since = None
        self.instance = None
        self.restart = None
        self.callback_failed = False

    # ---- requests ----
    def path(self, layer, kind, params=None):
        q = urllib.parse.quote
        query = "?" + urllib.parse.urlencode(params) if params else ""
        return f"/v1/runs/{q(self.run, safe='')}/layers/{q(layer, safe='')}/{kind}{query}"

    def request_path(self, layer_name, request):
        params = dict(request.params)
        if self.source is not None:
            params["source"] = self.source
        params["sender"] = self.sender_id
        params["seq"] = request.seq
        return self.path(layer_name, request.kind, params)

    def post(self, layer, request, deadline_of, background=True):
        """Sends one request until it is answered for good. Returns the 202 Answer; None when it
        could not be delivered by the deadline or within the retries (it stays in flight, to be
        tried again with the same seq); raises AlphawatchError when refused (background=False)
        or returns the refusing Answer (background)."""
        path = self.request_path(layer.name, request)
        body = request.encode()
        failures = 0
        answer = None
        for attempt in range(self.policy.max_retries + 1):
            deadline = deadline_of()
            if background and self.stopped.is_set():
                return None
            try:
                answer = self.transport.request("POST", path, body, deadline)
            except OSError as e:
                if background:
                    with layer.lock:
                        layer.stats["failed"] += 1
                    self.table.error(layer.name, describe(e))
                    self.unreachable(e)
                    if self.deadline is not None and isinstance(e, ConnectionRefusedError):
                        # Closing and nothing listens: waiting for the deadline would not change that.
                        self.gave_up = describe(e)
                        return None
                elif attempt == self.policy.max_retries:
                    raise
                wait = self.policy.backoff(failures)
                failures += 1
                if time.monotonic() + wait >= deadline:
                    if background:
                        return None
                    raise
                if background:
                    self.kick.wait(wait)
                else:
                    time.sleep(wait)
                continue
            if background:
                self.reachable_again()
                self.observe(answer)
            if answer.status == 202:
                return answer
            if not self.policy.retryable(answer.status):
                if background:
                    return answer
                answer.raise_for()
            if background:
                with layer.lock:
                    layer.stats["failed"] += 1
            wait = answer.retry_after
            if attempt == self.policy.max_retries or time.monotonic() + wait >= deadline:
                if background:
                    self.table.error(layer.name, answer.error())
                    return None
                answer.raise_for()
            if background:
                self.stopped.wait(wait)
            else:
                time.sleep(wait)
        if background:
            return None
        answer.raise_for()

    def deliver(self, layer, request):
        """Sends a layer's request in the background: True delivered, False refused, None kept."""
        with layer.send_lock:
            return self.deliver_now(layer, request)

    def deliver_now(self, layer, request):
        """deliver() for a caller holding the layer's send_lock."""
        own = time.monotonic() + self.transport.timeout * (self.policy.max_retries + 1)
        answer = self.post(layer, request, lambda: self.deadline or own)
        if answer is None:
            return None
        if answer.status != 202:
            if layer.refused(request):
                self.table.stop(layer, answer.error())
            else:
                self.table.error(layer.name, answer.error())
            return False
        doc = answer.doc
        self.check_restart(layer, request, doc)
        layer.delivered(request, len(request.body), doc.get("max_partial_samples"), doc.get("duplicate") is True)
        return True

    # ---- the monitor's state, for the user ----
    def unreachable(self, error):
        with self.cond:
            if not self.reachable:
                return
            self.reachable = False
            self.down_since = time.monotonic()
        self.log.warning("alphawatch: the monitor at %s is unreachable (%s); rows are kept and sent when it is "
                         "back (beyond what a layer may hold they are dropped, counted in stats())",
                         self.transport.url, describe(error))

    def reachable_again(self):
        with self.cond:
            if self.reachable:
                return
            self.reachable = True
            down = time.monotonic() - self.down_since
        self.log.warning("alphawatch: the monitor at %s is reachable again (after %.1f s)", self.transport.url, down)

    def observe(self, answer):
        """Notices a new server instance (a restart) from any answer."""
        instance = answer.instance
        if instance is None:
            return
        with self.cond:
            if self.instance is None or instance == self.instance:
                self.instance = instance
                return
            old, self.instance = self.instance, instance
            previous = self.restart
            pending = {}
            for layer in self.table.all():
                with layer.lock:
                    if layer.counted > 0:
                        pending[layer.name] = layer.counted
            # Nothing merged yet: nothing this client could have lost.
            self.restart = _Restart(old, instance, pending) if pending else None
        if previous is not None:
            self.report_restart(previous)

    def check_restart(self, layer, request, doc):
        """After a restart, a layer's first 202 says whether the server still has what it had."""
        with self.cond:
            r = self.restart
            if r is None or layer.name not in r.pending:
                return
            before = r.pending.pop(layer.name)
            total = doc.get("total_samples")
            if isinstance(total, int) and not isinstance(total, bool):
                # total_samples counts this request too; another sender's rows can only hide a loss.
                lost = before + request.samples - total
                if lost > 0:
                    r.lost[layer.name] = lost
                    with layer.lock:
                        layer.stats["lost"] += lost
                        layer.counted -= lost
            else:
                r.unknown.append(layer.name)
            done = not r.pending
        if done:
            self.report_restart(self.take_restart())

    def take_restart(self):
        with self.cond:
            r, self.restart = self.restart, None
            return r

    def report_restart(self, r):
        if r is None:
            return
        if r.lost:
            each = ", ".join(f"{name} {rows}" for name, rows in r.lost.items())
            unchecked = f"; not checked (no answer since): {', '.join(r.pending)}" if r.pending else ""
            self.log.warning("alphawatch: the monitor at %s restarted (instance %s -> %s) without %d rows this client "
                             "had sent: %s%s (stats()['lost'])", self.transport.url, r.old, r.new,
                             sum(r.lost.values()), each, unchecked)
        elif r.unknown:
            self.log.info("alphawatch: the monitor at %s restarted (instance %s -> %s); its answers do not say how "
                          "many rows it kept", self.transport.url, r.old, r.new)
        else:
            self.log.info("alphawatch: the monitor at %s restarted (instance %s -> %s) and kept this client's rows",
                          self.transport.url, r.old, r.new)

    # ---- spectra ----
    def fetch_spectra(self, every):
        """Asks for the spectrum of each layer whose newest one is older than what was sent, at most
        every `every` seconds per layer."""
        for layer in self.table.all():
            if self.stopped.is_set():
                return
            now = time.monotonic()
            with layer.lock:
                stale = layer.counted > 0 and (layer.sent_since_fetch or not covers(layer.latest, layer.counted))
                due = stale and (layer.fetched_at is None or now - layer.fetched_at >= every)
                if due:
                    layer.fetched_at = now
                    layer.sent_since_fetch = False
            if due:
                self.fetch(layer)

    def fetch(self, layer):
        deadline = time.monotonic() + min(self.transport.timeout, 5.0)
        if self.deadline is not None:
            deadline = min(deadline, max(self.deadline, self.spectrum_deadline or 0))
        try:
            answer = self.transport.request("GET", self.path(layer.name, "spectrum"), None, deadline)
        except OSError as e:
            self.unreachable(e)
            return
        self.reachable_again()
        self.observe(answer)
        if answer.status != 200:
            return
        doc = answer.doc
        with layer.lock:
            old = layer.latest
            layer.latest = doc
        if self.on_spectrum is not None and _key(old) != _key(doc):
            try:
                self.on_spectrum(layer.name, doc)
            except Exception:  # the user's callback must not end the sender
                if not self.callback_failed:
                    self.callback_failed = True
                    self.log.exception("alphawatch: on_spectrum raised (reported once; the sender goes on)")

    def spectra_current(self):
        for layer in self.table.all():
            with layer.lock:
                if layer.counted > 0 and not layer.stopped and not covers(layer.latest, layer.counted):
                    return False
        return True

    # ---- the thread ----
    def rows_recorded(self, flush, wake):
        """LayerTable's on_rows: the trainer recorded rows."""
        if self.thread is None:
            self.start()
        if flush:
            with self.cond:
                self.flush_wanted += 1
        if flush or wake:
            self.wake.set()

    def start(self):
        with self.cond:
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
                self.round()
                if self.deadline is not None and self.ending():
                    return
        except Exception as e:  # the sender must never take the trainer down
            self.log.error("alphawatch: sender stopped by an error: %r", e)
        finally:
            self.transport.drop()
            _abandoned.discard(threading.current_thread())
            with self.cond:
                self.cond.notify_all()

    def ending(self):
        """Closing: True when the thread is done (all sent and spectra waited for, or given up)."""
        now = time.monotonic()
        if self.gave_up is not None:
            return True
        if not self.empty():
            return now >= self.deadline
        if self.spectrum_deadline is None or now >= self.spectrum_deadline or self.spectra_current():
            return True
        self.fetch_spectra(SPECTRUM_POLL_SECONDS)
        if self.spectra_current():
            return True
        self.stopped.wait(SPECTRUM_POLL_SECONDS / 2)
        return False

    def round(self):
        """One pass of the sender: each layer's due requests, round-robin, then spectra."""
        stopping = self.deadline is not None
        with self.cond:
            wanted = self.flush_wanted
        timed = time.monotonic() - self.last_flush >= self.flush_seconds
        if timed:
            self.last_flush = time.monotonic()
        everything = stopping or wanted > self.flush_done
        took_moments = set()  # a layer's moments go once per round: a busy trainer cannot keep it here
        blocked = set()
        progressed = True
        while progressed and not self.stopped.is_set() and self.gave_up is None:
            progressed = False
            for layer in self.table.all():
                if layer.name in blocked:
                    continue
                request = layer.next_request(everything, timed, layer.name not in took_moments)
                if request is None:
                    continue
                if request.with_moments:
                    took_moments.add(layer.name)
                outcome = self.deliver(layer, request)
                if outcome is None:
                    blocked.add(layer.name)  # kept in flight: tried again next round
                    if self.gave_up is not None:
                        break
                else:
                    progressed = True
        if not blocked:  # else the flush goes on next round: what was kept must still go
            with self.cond:
                self.flush_done = max(self.flush_done, wanted)
                self.cond.notify_all()
        if not stopping and self.spectrum_seconds > 0:
            self.fetch_spectra(self.spectrum_seconds)

    def empty(self):
        return not any(layer.has_work() for layer in self.table.all())

    def wait_flushed(self, timeout):
        """Monitor.flush: a flush generation, done when it was sent and nothing is left."""
        if self.thread is None:
            return True
        with self.cond:
            self.flush_wanted += 1
            wanted = self.flush_wanted
        self.wake.set()
        deadline = None if timeout is None else time.monotonic() + timeout
        with self.cond:
            while True:
                if self.flush_done >= wanted and self.empty():
                    return True
                if not self.thread.is_alive():
                    return False
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self.cond.wait(0.5 if left is None else min(left, 0.5))

    # ---- ending ----
    def close(self, timeout, spectrum_timeout):
        """Sends what is left until timeout (then waits for spectra until spectrum_timeout after
        the start, when not None), then ends the thread. Returns the rows dropped."""
        now = time.monotonic()
        if self.thread is not None:
            with self.cond:
                self.deadline = now + max(0.0, timeout)
                if spectrum_timeout is not None:
                    self.spectrum_deadline = now + max(0.0, spectrum_timeout)
            end = max(self.deadline, self.spectrum_deadline or 0)
            self.kick.set()
            self.wake.set()
            self.thread.join(max(0.0, end - time.monotonic()) + 0.5)
            if self.thread.is_alive():  # stuck in a request: end it
                self.stopped.set()
                self.transport.abort()
                self.thread.join(0.4)
        self.stopped.set()
        self.transport.close_all()
        dropped = sum(layer.drop_everything() for layer in self.table.all())
        if self.gave_up is not None and dropped:
            self.log.warning("alphawatch: close() gave up at once: the monitor at %s refuses connections (%s); "
                             "%d rows not sent (counted as dropped)", self.transport.url, self.gave_up, dropped)
        self.report_restart(self.take_restart())
        return dropped

    def abandon(self):
        """A Monitor collected without close(): the sender sends what is left (for at most
        ABANDONED_SECONDS) and ends by itself; nothing waits for it but interpreter exit."""
        if self.thread is not None and self.thread.is_alive():
            self.log.warning("alphawatch: a Monitor of run %s was not closed; sending what is left", self.run)
            self.deadline = time.monotonic() + ABANDONED_SECONDS
            _abandoned.add(self.thread)
            self.kick.set()
            self.wake.set()


def covers(doc, samples):
    """Whether a spectrum document was computed after `samples` samples of its layer had arrived.
    Its window's end_sample says so (total_samples is the layer's count now, not at the refresh);
    a sliding window without the open pane ends where its last full pane does, so the rows of the
    open pane are as covered as they can be."""
    if not doc:
        return False
    window = doc.get("window") or {}
    end = window.get("end_sample")
    if not isinstance(end, int):
        return False
    if window.get("mode") == "sliding" and not window.get("include_open", True):
        pane = window.get("pane_samples")
        return isinstance(pane, int) and end + pane > samples
    return end >= samples


def _key(doc):
    if not doc:
        return None
    return tuple(doc.get(k) for k in ("refreshed_at_ms", "sequence", "step", "total_samples", "samples"))


@atexit.register
def _join_abandoned():
    # Registered before any finalizer, so it runs after them: their senders get their few seconds.
    deadline = time.monotonic() + ABANDONED_SECONDS
    for thread in list(_abandoned):
        thread.join(max(0.0, deadline - time.monotonic()))
