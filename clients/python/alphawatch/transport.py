"""HTTP to the monitor: one connection per thread, requests bounded by a deadline, and the one retry
policy of every POST (the background sender's and Monitor.send's alike).

The retry policy follows the Java client's (org.alphawatch.attach.RetryAfter): after 408, 429 or 503
the wait is the Retry-After header, read as delta-seconds (1-9 digits, no fractions) or an
RFC 1123 date; missing or unreadable means 1 s, a date in the past 0 s, and no wait is longer
than 5 minutes. A connection that fails waits 0.2 s, 0.4 s, ... up to 2 s before the next attempt.
"""

import datetime
import http.client
import re
import socket
import threading
import time
import urllib.parse
import weakref

from . import _json

INSTANCE_HEADER = "X-Alphawatch-Instance"


class AlphawatchError(Exception):
    """The server refused a request (a 4xx or 5xx other than a retryable one, or a retryable one
    beyond the retries)."""

    def __init__(self, status, error, detail):
        super().__init__(f"HTTP {status} {error}: {detail}")
        self.status = status
        self.error = error
        self.detail = detail


class Answer:
    """One HTTP answer: status, Retry-After in seconds (RetryPolicy's reading), the server's
    instance id (None when it sends none), the JSON document (or {"detail": text})."""

    __slots__ = ("status", "retry_after", "instance", "doc", "text")

    def __init__(self, status, retry_after, instance, text):
        self.status = status
        self.retry_after = retry_after
        self.text = text
        self.doc = _json.loads_or_text(text)
        body_instance = self.doc.get("instance")
        self.instance = instance if instance else (body_instance if isinstance(body_instance, str) else None)

    def error(self):
        return f"HTTP {self.status} {self.doc.get('error', '?')}: {self.doc.get('detail', self.text[:200])}"

    def raise_for(self):
        raise AlphawatchError(self.status, self.doc.get("error", "?"), self.doc.get("detail", self.text[:200]))


# ---- Retry-After, as org.alphawatch.attach.RetryAfter ------------------------------------------

DEFAULT_WAIT = 1.0  # seconds, when the header is missing or unreadable
MAX_WAIT = 300.0    # the longest wait honoured

_MONTHS = {m: i + 1 for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                           "nov", "dec"))}
# java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME (case-insensitive): optional day of week,
# day of month of 1-2 digits, seconds optional, offset "GMT" or +HHMM.
_RFC_1123 = re.compile(r"(?:(?:mon|tue|wed|thu|fri|sat|sun), )?(\d{1,2}) ([a-z]{3}) (\d{4}) (\d{2}):(\d{2})(?::(\d{2}))? "
                       r"(gmt|[+-]\d{4})", re.IGNORECASE)
_JAVA_BLANK = "".join(map(chr, range(33)))  # String.trim() removes every char <= ' '


def retry_after(value, now=None):
    """Seconds to wait for a Retry-After header value (None when absent): delta-seconds or an
    RFC 1123 date from `now` (Unix seconds; default the clock), 1 s when absent or unreadable,
    never negative, at most 300 s."""
    if value is None:
        return DEFAULT_WAIT
    v = value.strip(_JAVA_BLANK)
    if re.fullmatch(r"[0-9]{1,9}", v):
        wait = float(int(v))
    else:
        m = _RFC_1123.fullmatch(v)
        month = _MONTHS.get(m.group(2).lower()) if m else None
        if month is None:
            return DEFAULT_WAIT
        day, year, hour, minute = int(m.group(1)), int(m.group(3)), int(m.group(4)), int(m.group(5))
        second = int(m.group(6) or 0)
        zone = m.group(7).lower()
        offset = 0 if zone == "gmt" else (1 if zone[0] == "+" else -1) * (int(zone[1:3]) * 60 + int(zone[3:5]))
        try:
            when = datetime.datetime(year, month, day, hour, minute, second,
                                     tzinfo=datetime.timezone(datetime.timedelta(minutes=offset)))
        except ValueError:  # 31 Feb, 25:00: Java refuses these too
            return DEFAULT_WAIT
        wait = when.timestamp() - (time.time() if now is None else now)
    return 0.0 if wait < 0 else min(wait, MAX_WAIT)


class RetryPolicy:
    """When to try a request again, and after how long. The same for every POST."""

    RETRYABLE = (408, 429, 503)

    def __init__(self, max_retries):
        self.max_retries = int(max_retries)

    def retryable(self, status):
        return status in self.RETRYABLE

    @staticmethod
    def backoff(attempt):
        """Seconds to wait after the attempt-th (0-based) connection failure in a row."""
        return min(0.2 * (attempt + 1), 2.0)


# ---- the connection ------------------------------------------------------------------------------

class Transport:
    """One HTTP connection per thread; every request ends by its deadline. Thread-safe."""

    def __init__(self, url, token, timeout):
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"url must be http(s)://host:port, got {url!r}")
        self.url = url.rstrip("/")
        self.parsed = parsed
        self.token = token
        self.timeout = timeout
        self.local = threading.local()
        self.open = weakref.WeakSet()  # every thread's connection, for abort()

    def _connection(self, seconds):
        conn = getattr(self.local, "conn", None)
        fresh = conn is None
        if fresh:
            cls = http.client.HTTPSConnection if self.parsed.scheme == "https" else http.client.HTTPConnection
            conn = cls(self.parsed.hostname, self.parsed.port, timeout=seconds)
            self.local.conn = conn
            self.open.add(conn)
        conn.timeout = seconds
        if conn.sock is not None:
            conn.sock.settimeout(seconds)
        return conn, fresh or conn.sock is None

    def drop(self):
        """Closes this thread's connection."""
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
        """One attempt: an Answer, or OSError when the server cannot be reached or is silent until
        the deadline (the exception keeps its class: ConnectionRefusedError, TimeoutError, ...)."""
        headers = {"Content-Type": "application/octet-stream"} if body is not None else {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        for reuse in (True, False):
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("deadline passed before the request")
            conn, fresh = self._connection(max(0.05, min(self.timeout, left)))
            try:
                conn.request(method, path, body=body, headers=headers)
                res = conn.getresponse()
                text = res.read().decode("utf-8", "replace")
            except (OSError, http.client.HTTPException) as e:
                self.drop()
                # A kept-alive connection the server closed while idle fails before any answer:
                # once, on a new connection, before calling the server unreachable (a repeated POST
                # carries the same seq, so the server cannot apply it twice).
                if reuse and not fresh and isinstance(e, (http.client.RemoteDisconnected, ConnectionResetError,
                                                          BrokenPipeError)):
                    continue
                if isinstance(e, OSError):
                    raise
                raise ConnectionError(f"{e.__class__.__name__}: {e}") from e
            if (res.getheader("Connection") or "").lower() == "close":
                self.drop()
            return Answer(res.status, retry_after(res.getheader("Retry-After")) if res.status in RetryPolicy.RETRYABLE
                          else None, res.getheader(INSTANCE_HEADER), text)
        raise AssertionError("unreachable")


def describe(error):
    """A short reason for a connection failure: 'ConnectionRefusedError: [Errno 111] Connection refused'."""
    text = str(error)
    return f"{error.__class__.__name__}: {text}" if text else error.__class__.__name__
