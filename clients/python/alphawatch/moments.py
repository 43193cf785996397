"""Sufficient statistics of a layer's rows, kept on the trainer (on the rows' own device).

A layer's covariance needs only the sample count n, the mean and the centred co-moment
M = sum (x - mean)(x - mean)^T of its rows. Each batch is added to shifted sums (Chan, Golub and
LeVeque, "computing with shifted data": S = sum (x - c), Q = sum (x - c)(x - c)^T with c the
first batch's mean; one GEMM per batch), which :meth:`Moments.encode` turns into (n, mean, M) for
the monitor to merge exactly (Chan's pairwise formula). Shifting by a nearby c keeps the sums
accurate even for activations with a large common offset (ReLU units, LayerNorm gains).

precision "float64" (default) forms each batch's Gram matrix in float64: the served spectrum then
equals numpy's on the same rows to rounding. "float32" forms it in float32 (about half the
cost on a CPU) and adds it to the float64 sums; the error this adds is measured in
docs/attach-pytorch.md.

The wire format is the monitor's partial accumulator, version 1 (docs/http-api.md):

    u32 magic "AWPA", u16 version 1, u16 flags (bit 0: repeat pairs), u32 dims d,
    u64 samples n, u64 first step, u64 last step, f64[d] mean, f64[d(d+1)/2] co-moment upper
    triangle row by row, [u64 pairs, f64[d] mean of pass 0, f64[d] mean of pass 1,
    f64[d(d+1)/2] co-moment of pass 0, f64[d*d] cross co-moment], u32 CRC-32 (zlib.crc32)
"""

import struct
import zlib

import numpy as np

MAGIC = 0x41505741  # "AWPA" little-endian
VERSION = 1
PRECISIONS = ("float64", "float32")


def _is_torch(x):
    return type(x).__module__.startswith("torch")


class _Shifted:
    """Shifted sums of one stream of rows: count, shift c, S = sum (x - c), Q = sum (x - c)(x - c)^T.

    In float32 the batch Gram matrices go to a float32 buffer that is folded into the float64 Q
    every FOLD batches (one GEMM per batch, and the float32 rounding of FOLD sums at most)."""

    FOLD = 16
    __slots__ = ("n", "c", "s", "q", "c32", "q32", "pending32")

    def __init__(self):
        self.n = 0
        self.c = self.s = self.q = None
        self.c32 = self.q32 = None
        self.pending32 = 0

    def centre(self, x, precision="float64"):
        """x - c in the working precision (a new array: later in-place changes to x do not reach it);
        the first call fixes c and allocates the sums on x's device."""
        if _is_torch(x):
            import torch
            x = x.detach()
            if self.c is None:
                x64 = x.to(torch.float64)
                self.c = x64.mean(dim=0)
                self.s = torch.zeros_like(self.c)
                self.q = x64.new_zeros((x.shape[1], x.shape[1]))
                if precision == "float32":
                    self.c32 = self.c.to(torch.float32)
                    self.q32 = torch.zeros_like(self.q, dtype=torch.float32)
                return (x64 - self.c).to(torch.float64 if precision == "float64" else torch.float32)
            if x.device != self.c.device:
                x = x.to(self.c.device)
            if precision == "float64":
                return x - self.c  # promoted to float64: one operation, a new tensor
            return x.to(torch.float32) - self.c32
        x = np.asarray(x)
        if self.c is None:
            x64 = x.astype(np.float64)
            self.c = x64.mean(axis=0)
            self.s = np.zeros_like(self.c)
            self.q = np.zeros((x.shape[1], x.shape[1]))
            if precision == "float32":
                self.c32 = self.c.astype(np.float32)
                self.q32 = np.zeros(self.q.shape, dtype=np.float32)
            return (x64 - self.c).astype(np.float64 if precision == "float64" else np.float32)
        if precision == "float64":
            return x - self.c
        return x.astype(np.float32) - self.c32

    def add_centred(self, xc, gram=True):
        """Adds centred rows xc to S and, with gram, xc^T xc to Q (formed in xc's precision)."""
        torch_ = _is_torch(xc)
        if torch_:
            import torch
            self.s += xc.sum(dim=0, dtype=torch.float64)
        else:
            self.s += xc.sum(axis=0, dtype=np.float64)
        self.n += int(xc.shape[0])
        if not gram:
            return
        if self.q32 is None:
            if torch_:
                self.q.addmm_(xc.T, xc)
            else:
                self.q += xc.T @ xc
            return
        if torch_:
            self.q32.addmm_(xc.T, xc)
        else:
            self.q32 += xc.T @ xc
        self.pending32 += 1
        if self.pending32 >= self.FOLD:
            self.fold()

    def fold(self):
        """Moves the float32 Gram buffer into the float64 Q."""
        if self.pending32:
            self.q += self.q32.to(self.q.dtype) if _is_torch(self.q32) else self.q32.astype(np.float64)
            self.q32.zero_() if _is_torch(self.q32) else self.q32.fill(0)
            self.pending32 = 0

    def shift_to(self, other):
        """other's sums re-centred on this stream's c: (delta, S', n) with delta = c_other - c."""
        delta = _on(other.c, self.c) - self.c
        return delta, _on(other.s, self.c), other.n

    def absorb(self, other):
        """Adds another stream's sums (re-centred on this stream's c; exact in exact arithmetic)."""
        if other.n == 0:
            return
        other.fold()
        if self.c is None:
            self.n, self.c, self.s, self.q = other.n, other.c, other.s, other.q
            self.c32, self.q32 = other.c32, other.q32
            return
        delta, s2, n2 = self.shift_to(other)
        self.q += _on(other.q, self.c) + _outer(s2, delta) + _outer(delta, s2) + n2 * _outer(delta, delta)
        self.s += s2 + n2 * delta
        self.n += n2


class _Pairs:
    """Paired rows of two passes over the same inputs (cvPCA): shifted sums of each pass and the
    cross sum Q_ab = sum (a - c_a)(b - c_b)^T, always in float64."""

    def __init__(self):
        self.a = _Shifted()
        self.b = _Shifted()
        self.qab = None

    @property
    def n(self):
        return self.a.n

    def add(self, a_centred, b):
        bc = self.b.centre(b)
        if self.qab is None:
            self.qab = a_centred.T @ bc
        else:
            self.qab += a_centred.T @ bc
        self.a.add_centred(a_centred)
        self.b.add_centred(bc, gram=False)

    def absorb(self, other):
        if other.n == 0:
            return
        if self.n == 0:
            self.a, self.b, self.qab = other.a, other.b, other.qab
            return
        da, sa, n2 = self.a.shift_to(other.a)
        db, sb, _ = self.b.shift_to(other.b)
        self.qab += _on(other.qab, self.qab) + _outer(sa, db) + _outer(da, sb) + n2 * _outer(da, db)
        self.a.absorb(other.a)
        self.b.s += sb + n2 * db
        self.b.n += n2


def _on(v, like):
    """v on like's backend and device."""
    if _is_torch(like):
        import torch
        return v.to(like.device) if _is_torch(v) else torch.as_tensor(v, device=like.device)
    return _numpy(v)


def _outer(a, b):
    if _is_torch(a):
        import torch
        return torch.outer(a, b)
    return np.outer(a, b)


def _numpy(t):
    return t.detach().cpu().numpy() if _is_torch(t) else np.asarray(t)


class Moments:
    """Count, mean and co-moment of a layer's rows (and of paired repeat passes, for cvPCA).

    Not thread-safe: the client guards each layer's moments with the layer's lock.
    """

    def __init__(self, dims, precision="float64"):
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
        self.dims = int(dims)
        self.precision = precision
        self.rows = _Shifted()
        self.repeats = _Pairs()
        self.step_min = None
        self.step_max = None

    @property
    def count(self):
        return self.rows.n

    @property
    def pairs(self):
        return self.repeats.n

    def empty(self):
        return self.rows.n == 0 and self.repeats.n == 0

    def _steps(self, step):
        if step is not None:
            step = int(step)
            self.step_min = step if self.step_min is None else min(self.step_min, step)
            self.step_max = step if self.step_max is None else max(self.step_max, step)

    def _check(self, x):
        if len(x.shape) != 2 or x.shape[1] != self.dims:
            raise ValueError(f"rows of shape {tuple(x.shape)} for moments of {self.dims} units")

    def add(self, x, step=None):
        """Adds rows x (rows x dims; a torch tensor on any device, or an ndarray)."""
        self._check(x)
        if x.shape[0] == 0:
            return
        self.rows.add_centred(self.rows.centre(x, self.precision))
        self._steps(step)

    def add_pairs(self, a, b, step=None):
        """Adds paired rows of two passes over the same inputs (repeat pass 0 and pass 1, for cvPCA)."""
        self._check(a)
        self._check(b)
        if tuple(a.shape) != tuple(b.shape):
            raise ValueError(f"repeat passes of shapes {tuple(a.shape)} and {tuple(b.shape)} do not pair")
        self.repeats.add(self.repeats.a.centre(a), b)
        self._steps(step)

    def absorb(self, other):
        """Adds the rows of another Moments of the same layer (a flush that could not be delivered)."""
        if other.dims != self.dims:
            raise ValueError(f"moments of {other.dims} units into moments of {self.dims}")
        self.rows.absorb(other.rows)
        self.repeats.absorb(other.repeats)
        self._steps(other.step_min)
        self._steps(other.step_max)

    def centred(self):
        """(n, mean, M) as float64 ndarrays (M full symmetric)."""
        return _centred(self.rows)

    def encode(self):
        """The partial accumulator body; None when nothing was added."""
        if self.empty():
            return None
        d = self.dims
        if self.rows.n:
            n, mean, upper = _upper_moments(self.rows)
        else:
            n, mean, upper = 0, np.zeros(d), np.zeros(d * (d + 1) // 2)
        flags = 1 if self.repeats.n else 0
        parts = [struct.pack("<IHHIQQQ", MAGIC, VERSION, flags, d, n, int(self.step_min or 0),
                             int(self.step_max or 0)), _le(mean), _le(upper)]
        if flags:
            r = self.repeats
            p, mean_a, upper_a = _upper_moments(r.a)
            da, db = _numpy(r.a.s) / p, _numpy(r.b.s) / p
            m_ab = _numpy(r.qab) - p * np.outer(da, db)
            parts += [struct.pack("<Q", p), _le(mean_a), _le(_numpy(r.b.c) + db), _le(upper_a), _le(m_ab)]
        body = b"".join(parts)  # the arrays' memory, copied once
        return body + struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF)


def _le(a):
    """An array's float64 little-endian bytes, without a copy when they already are."""
    return memoryview(np.ascontiguousarray(a, dtype="<f8")).cast("B")


def _upper_moments(sums):
    """(n, mean, co-moment upper triangle row by row), rounded into what the monitor accepts."""
    sums.fold()
    n = sums.n
    c, s, q = _numpy(sums.c), _numpy(sums.s), _numpy(sums.q)
    d = s / n
    size = len(c)
    m = np.outer(d, -n * d)  # two d x d buffers, worked on in place: fresh pages cost more than the flops
    m += q
    diag = np.maximum(np.diagonal(m), 0.0)
    bound = np.outer(diag, diag)
    np.sqrt(bound, out=bound)  # |M_ij| <= sqrt(M_ii M_jj): rounding can break it
    np.minimum(m, bound, out=m)
    np.negative(bound, out=bound)
    np.maximum(m, bound, out=m)
    np.fill_diagonal(m, diag)
    upper = np.empty(size * (size + 1) // 2)
    at = 0
    for i in range(size):  # row slices: contiguous copies, faster than a gather
        upper[at:at + size - i] = m[i, i:]
        at += size - i
    return n, c + d, upper


def _centred(sums):
    n, mean, upper = _upper_moments(sums)
    rows, cols = np.triu_indices(len(mean))
    m = np.zeros((len(mean), len(mean)))
    m[rows, cols] = upper
    m[cols, rows] = upper
    return n, mean, m
