"""Tests of the installed alphawatch package against real alphawatch servers and real torch.

PythonClientTest (Java) installs the package into a fresh virtual environment, starts the servers
and runs this file with:
  ALPHAWATCH_URL        cumulative window, refreshed every second
  ALPHAWATCH_TIGHT_URL  a queue of one batch (429 when busy)
  ALPHAWATCH_SLIDING_URL  a sliding window of 640 samples in 8 panes of 80
The dead, silent and 429-only servers of the close() tests are started here.
"""

import gc
import http.server
import json
import logging
import os
import re
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import unittest
import urllib.request

import numpy as np
import torch
from torch import nn

import alphawatch
from alphawatch import AlphawatchError, Monitor, Moments

URL = os.environ["ALPHAWATCH_URL"]
TIGHT_URL = os.environ["ALPHAWATCH_TIGHT_URL"]
SLIDING_URL = os.environ["ALPHAWATCH_SLIDING_URL"]
P = f"t{os.getpid()}-"  # run names of this test run: the servers may have seen earlier runs
HERE = os.path.dirname(os.path.abspath(__file__))
DOCS = os.path.join(HERE, "..", "..", "..", "docs", "attach-pytorch.md")


def get(url, path):
    with urllib.request.urlopen(url + path, timeout=10) as r:
        return json.load(r)


def metric(url, name, labels=""):
    with urllib.request.urlopen(url + "/metrics", timeout=10) as r:
        text = r.read().decode()
    m = re.search(re.escape(name + labels) + r" (\S+)", text)
    return float(m.group(1)) if m else 0.0


def spectrum_when(run, layer, samples, timeout=30, url=URL, total=None):
    """The served spectrum once it covers `samples` samples (of `total` seen; the servers refresh
    every second)."""
    deadline = time.time() + timeout
    doc = None
    while time.time() < deadline:
        try:
            doc = get(url, f"/v1/runs/{run}/layers/{layer}/spectrum")
            if doc.get("samples") == samples and total in (None, doc.get("total_samples")):
                return doc
        except urllib.error.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{run}/{layer}: no spectrum of {samples} samples in {timeout} s (last: "
                         f"{doc and doc.get('samples')})")


def numpy_spectrum(x):
    """Eigenvalues of the centred (n-1) covariance, descending, normalised by the trace (as served)."""
    ev = np.linalg.eigvalsh(np.cov(np.asarray(x, dtype=np.float64), rowvar=False))[::-1]
    return ev / ev.sum()


def numpy_alpha(values, fit_range):
    """Stringer's get_powerlaw: weighted least squares of log|v_r| on [-log r, 1], weights 1/r."""
    lo, hi = fit_range
    r = np.arange(lo, hi + 1, dtype=np.float64)
    y = np.log(np.abs(np.asarray(values)[lo - 1:hi]))
    a = np.stack([-np.log(r), np.ones_like(r)], axis=1)
    w = 1.0 / r
    coef, *_ = np.linalg.lstsq(a * np.sqrt(w)[:, None], y * np.sqrt(w), rcond=None)
    return coef[0]


def mlp(hidden=48, dropout=0.2, seed=0):
    torch.manual_seed(seed)
    model = nn.Sequential()
    model.add_module("fc1", nn.Linear(20, hidden))
    model.add_module("act1", nn.ReLU())
    model.add_module("drop1", nn.Dropout(dropout))
    model.add_module("fc2", nn.Linear(hidden, hidden))
    model.add_module("act2", nn.Tanh())
    model.add_module("out", nn.Linear(hidden, 5))
    return model


def recorder(module):
    """What a layer emitted in training mode, copied: the reference the served numbers must match."""
    seen = []
    module.register_forward_hook(lambda m, i, o: seen.append(o.detach().double().clone()) if m.training else None)
    return seen


def train(model, mon, steps, batch=64, eval_every=10, seed=1):
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    for step in range(steps):
        if mon is not None:
            mon.step = step
        model.train()
        x = torch.randn(batch, 20, generator=gen)
        loss = model(x).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if eval_every and step % eval_every == 0:
            model.eval()  # an evaluation pass: must not reach the training covariance
            with torch.no_grad():
                model(torch.randn(500, 20, generator=gen) * 5)


def sender_threads():
    return [t for t in threading.enumerate() if t.name == "alphawatch-sender" and t.is_alive()]


class ExactnessTest(unittest.TestCase):
    def test_served_spectrum_equals_numpy_on_exactly_the_train_mode_activations(self):
        model = mlp()
        act1, act2 = recorder(model.act1), recorder(model.act2)
        mon = Monitor(URL, run=P + "py-exact", flush_batches=7)  # many partials, of 7 batches each
        mon.watch(model, ["act1", "act2"])
        train(model, mon, steps=60)
        stats = mon.close()
        self.assertEqual(stats["dropped"], 0, stats)
        for name, seen in (("act1", act1), ("act2", act2)):
            x = torch.cat(seen).numpy()
            self.assertEqual(x.shape[0], 60 * 64)  # train-mode rows only
            self.assertEqual(stats["layers"][name]["merged"], x.shape[0])
            self.assertGreaterEqual(stats["layers"][name]["sent"], 2)  # flushes coalesce when the sender lags
            doc = spectrum_when(P + "py-exact", name, x.shape[0])
            self.assertEqual(doc["step_range"], [0, 59])
            ref = numpy_spectrum(x)
            served = np.asarray(doc["eigenvalues"])
            self.assertLess(np.max(np.abs(served[:20] - ref[:20]) / ref[:20]), 1e-9, name)
            self.assertAlmostEqual(doc["alpha"], numpy_alpha(ref, doc["fit_range"]), delta=1e-6)

    def test_float32_precision_stays_within_its_documented_error(self):
        model = mlp(hidden=64, seed=3)
        act2 = recorder(model.act2)
        mon = Monitor(URL, run=P + "py-f32", precision="float32")
        mon.watch(model, ["act2"])
        train(model, mon, steps=40, eval_every=0)
        self.assertEqual(mon.close()["merged"], 40 * 64)
        x = torch.cat(act2).numpy()
        doc = spectrum_when(P + "py-f32", "act2", x.shape[0])
        ref = numpy_spectrum(x)
        served = np.asarray(doc["eigenvalues"])
        error = np.max(np.abs(served[:20] - ref[:20]) / ref[:20])
        self.assertLess(error, 1e-4)  # docs/attach-pytorch.md: about 1e-6 measured, 1e-4 promised
        self.assertGreater(error, 1e-13)  # float32 really was used: float64 matches to rounding
        self.assertAlmostEqual(doc["alpha"], numpy_alpha(ref, doc["fit_range"]), delta=1e-4)

    def test_row_streaming_is_exact_too(self):
        model = mlp(seed=4)
        act1 = recorder(model.act1)
        mon = Monitor(URL, run=P + "py-rows", aggregate=False, queue_batches=1000)
        mon.watch(model, ["act1"])
        train(model, mon, steps=15)
        stats = mon.close()
        self.assertEqual((stats["sent"], stats["dropped"]), (15, 0))
        x = torch.cat(act1).numpy()
        doc = spectrum_when(P + "py-rows", "act1", x.shape[0])
        self.assertLess(np.max(np.abs(np.asarray(doc["eigenvalues"][:20]) - numpy_spectrum(x)[:20])
                               / numpy_spectrum(x)[:20]), 1e-6)  # rows travel as float32: its rounding

    def test_partials_keep_a_sliding_window_exact(self):
        # Panes of 80 rows, batches of 64: the client splits batches where its partial reaches the
        # server's max_partial_samples (80), so the window holds exactly its 8 panes of 80 rows,
        # rows [first_sample, end_sample) of all rows sent.
        rng = np.random.default_rng(11)
        x = rng.standard_normal((50 * 64, 12)) @ np.diag(np.arange(1, 13) ** -0.8)
        x[1600:] = x[1600:] @ np.diag(np.arange(12, 0, -1) ** 0.5)  # the code changes halfway
        mon = Monitor(SLIDING_URL, run=P + "py-sliding")
        for step in range(50):
            mon.submit("h", torch.from_numpy(x[64 * step:64 * (step + 1)]), step=step)
            if step == 0:
                self.assertTrue(mon.flush(30))  # the first answer carries the pane size
        stats = mon.close()
        self.assertEqual(stats["merged"], 3200)
        doc = spectrum_when(P + "py-sliding", "h", 640, url=SLIDING_URL, total=3200)
        window = doc["window"]
        self.assertEqual(window["end_sample"] - window["first_sample"], 640)
        ref = numpy_spectrum(x[window["first_sample"]:window["end_sample"]])
        self.assertLess(np.max(np.abs(np.asarray(doc["eigenvalues"]) - ref) / ref), 1e-9)

    def test_two_processes_sending_one_layer_merge_to_the_union(self):
        script = textwrap.dedent("""
            import sys
            import numpy as np
            from alphawatch import Monitor
            url, seed = sys.argv[1], int(sys.argv[2])
            rng = np.random.default_rng(seed)
            mon = Monitor(url, run=sys.argv[3], source=f"proc{seed}")
            for step in range(30):
                mon.submit("h", rng.standard_normal((50, 16)) @ np.diag(np.arange(1, 17) ** -0.7) + seed, step=step)
            s = mon.close()
            sys.exit(0 if s["merged"] == 1500 else 3)
        """)
        procs = [subprocess.Popen([sys.executable, "-c", script, URL, str(seed), P + "py-union"]) for seed in (1, 2)]
        self.assertEqual([p.wait(120) for p in procs], [0, 0])
        rows = []
        for seed in (1, 2):
            rng = np.random.default_rng(seed)
            rows += [rng.standard_normal((50, 16)) @ np.diag(np.arange(1, 17) ** -0.7) + seed for _ in range(30)]
        doc = spectrum_when(P + "py-union", "h", 3000)
        self.assertEqual(doc["sources"], {"proc1": 1500, "proc2": 1500})
        ref = numpy_spectrum(np.vstack(rows))  # the union: the two processes' means differ by 1
        self.assertLess(np.max(np.abs(np.asarray(doc["eigenvalues"]) - ref) / ref), 1e-9)


DDP_RANK = textwrap.dedent("""
    import os, sys
    import numpy as np, torch, torch.distributed as dist
    from torch import nn
    from alphawatch import Monitor
    url, rank, store, out, run = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    dist.init_process_group("gloo", init_method="file://" + store, rank=rank, world_size=2)
    torch.manual_seed(0)
    model = nn.Sequential()
    model.add_module("fc1", nn.Linear(20, 64))
    model.add_module("drop", nn.Dropout(0.3))
    model.add_module("act1", nn.ReLU())
    ddp = nn.parallel.DistributedDataParallel(model)
    mon = Monitor(url, run=run, flush_batches=4)
    assert mon.source == f"rank{rank}", mon.source
    mon.watch(ddp, ["act1"] if rank == 0 else ["module.act1"])  # both name the same layer
    seen, pairs = [], {0: [], 1: []}
    current = [None]
    def record(m, i, o):
        if m.training:
            (seen if current[0] is None else pairs[current[0]]).append(o.detach().double().clone())
    model.act1.register_forward_hook(record)
    opt = torch.optim.SGD(ddp.parameters(), lr=0.01)
    gen = torch.Generator().manual_seed(10 + rank)
    for step in range(20):
        mon.step = step
        x = torch.randn(32, 20, generator=gen) @ torch.diag(torch.arange(1, 21.0) ** -0.5)
        opt.zero_grad()
        ddp(x).sum().backward()
        opt.step()
        with torch.no_grad():  # cvPCA: two passes over the same inputs, differing by dropout
            for r in (0, 1):
                current[0] = r
                with mon.repeat(r):
                    ddp(x)
            current[0] = None
    s = mon.close()
    np.savez(out, rows=torch.cat(seen).numpy(), a=torch.cat(pairs[0]).numpy(), b=torch.cat(pairs[1]).numpy())
    dist.destroy_process_group()
    sys.exit(0 if s["dropped"] == 0 and s["merged"] == 640 else 3)
""")


class DistributedTest(unittest.TestCase):
    def test_two_ddp_ranks_send_one_layer_with_their_rank_and_unmixed_repeat_pairs(self):
        rejected = metric(URL, "alphawatch_ingest_rejected_total", '{reason="bad_parameter"}')
        with tempfile.TemporaryDirectory() as tmp:
            store = os.path.join(tmp, "store")
            procs = [subprocess.Popen([sys.executable, "-c", DDP_RANK, URL, str(rank), store,
                                       os.path.join(tmp, f"rank{rank}.npz"), P + "py-ddp"]) for rank in (0, 1)]
            self.assertEqual([p.wait(180) for p in procs], [0, 0])
            data = [np.load(os.path.join(tmp, f"rank{rank}.npz")) for rank in (0, 1)]
            rows = np.vstack([d["rows"] for d in data])
            a = np.vstack([d["a"] for d in data])
            b = np.vstack([d["b"] for d in data])
        doc = spectrum_when(P + "py-ddp", "act1", 1280)
        self.assertEqual(doc["sources"], {"rank0": 640, "rank1": 640})
        ref = numpy_spectrum(rows)
        self.assertLess(np.max(np.abs(np.asarray(doc["eigenvalues"][:20]) - ref[:20]) / ref[:20]), 1e-9)
        # cvPCA on the union of both ranks' pairs, each pair from one rank: eigenvectors of pass 0's
        # covariance, shared variance u^T C_ab u (the server's definition, docs/metrics.md).
        ca = np.cov(a, rowvar=False)
        cab = (a - a.mean(0)).T @ (b - b.mean(0)) / (a.shape[0] - 1)
        w, u = np.linalg.eigh(ca)
        u = u[:, ::-1]
        shared = np.einsum("ik,ij,jk->k", u, cab, u)
        cv = doc["cvpca"]
        self.assertAlmostEqual(cv["alpha"], numpy_alpha(shared, cv["fit_range"]), delta=1e-6)
        self.assertEqual(metric(URL, "alphawatch_ingest_rejected_total", '{reason="bad_parameter"}'), rejected)


class Output(nn.Module):
    """Stands for a module returning a dict (Hugging Face's ModelOutput is an OrderedDict)."""

    def __init__(self, keys):
        super().__init__()
        self.lin = nn.Linear(8, 6)
        self.keys = keys

    def forward(self, x):
        h = self.lin(x)
        return {k: h * (i + 1) for i, k in enumerate(self.keys)}


class ShapesTest(unittest.TestCase):
    def test_a_transformer_residual_stream_becomes_token_rows(self):
        torch.manual_seed(0)
        block = nn.TransformerEncoderLayer(d_model=16, nhead=2, dim_feedforward=32, batch_first=True)
        seen = recorder(block)
        mon = Monitor(URL, run=P + "py-tokens")
        mon.watch(block, layers=["self_attn"], output=0)  # attention returns (output, weights)
        sampled = Monitor(URL, run=P + "py-tokens")
        sampled.watch(block, layers=["norm2"], tokens=5)   # 5 of the 4 x 10 tokens per batch
        whole = Monitor(URL, run=P + "py-tokens")
        whole.watch(nn.ModuleDict({"block": block}), layers=["block"])
        for step in range(6):
            block(torch.randn(4, 10, 16))
        for m in (mon, sampled, whole):
            self.assertEqual(m.close()["dropped"], 0)
        for layer, rows in (("self_attn", 240), ("norm2", 30), ("block", 240)):
            doc = spectrum_when(P + "py-tokens", layer, rows)
            self.assertEqual(doc["dims"], 16, layer)
        x = torch.cat([t.reshape(-1, 16) for t in seen]).numpy()
        ref = numpy_spectrum(x)
        doc = spectrum_when(P + "py-tokens", "block", 240)
        self.assertLess(np.max(np.abs(np.asarray(doc["eigenvalues"][:10]) - ref[:10]) / ref[:10]), 1e-9)

    def test_dict_and_tuple_outputs_are_handled_or_named(self):
        mon = Monitor(URL, run=P + "py-dict")
        named = Output(["last_hidden_state", "pooler_output"])
        mon.watch(nn.ModuleDict({"enc": named}), layers=["enc"])
        named(torch.randn(10, 8))
        picked = Output(["logits", "hidden"])
        mon.watch(nn.ModuleDict({"dec": picked}), layers=["dec"], output="hidden")
        picked(torch.randn(7, 8))
        unnamed = Output(["logits", "hidden"])
        mon.watch(nn.ModuleDict({"bad": unnamed}), layers=["bad"])
        with self.assertRaises(TypeError) as e:
            unnamed(torch.randn(3, 8))
        self.assertIn("['logits', 'hidden']", str(e.exception))
        self.assertIn("output=", str(e.exception))
        stats = mon.close()
        self.assertEqual(stats["layers"]["enc"]["merged"], 10)
        self.assertEqual(stats["layers"]["dec"]["merged"], 7)
        self.assertNotIn("bad", stats["layers"])

    def test_conv_outputs(self):
        conv = nn.Conv2d(1, 4, 3, padding=1)
        for mode, dims, rows in (("flatten", 4 * 8 * 8, 6), ("mean", 4, 6), ("positions", 4, 6 * 64)):
            mon = Monitor(URL, run=P + "py-conv-" + mode)
            mon.watch(nn.ModuleDict({"c": conv}), layers=["c"], conv=mode)
            conv(torch.randn(6, 1, 8, 8))
            self.assertEqual(mon.close()["layers"]["c"]["merged"], rows, mode)
            self.assertEqual(spectrum_when(P + "py-conv-" + mode, "c", rows)["dims"], dims)


class CorrectnessByDefaultTest(unittest.TestCase):
    def test_eval_passes_and_other_monitors_are_not_training_data(self):
        model = mlp(seed=5)
        mon = Monitor(URL, run=P + "py-eval")
        mon.watch(model, ["act1"])
        train(model, mon, steps=5, eval_every=1)  # an eval pass after every step
        self.assertEqual(mon.close()["layers"]["act1"]["recorded"], 5 * 64)
        everything = Monitor(URL, run=P + "py-eval-all")
        everything.watch(model, ["act1"], training_only=False)
        train(model, everything, steps=5, eval_every=1)
        self.assertEqual(everything.close()["layers"]["act1"]["recorded"], 5 * 64 + 5 * 500)

    def test_the_step_a_user_sets_is_kept(self):
        model = mlp(seed=6)
        mon = Monitor(URL, run=P + "py-step")
        mon.watch(model, ["act1"])
        for step in (100, 101, 250):
            mon.step = step
            model(torch.randn(8, 20))
        mon.close()
        self.assertEqual(spectrum_when(P + "py-step", "act1", 24)["step_range"], [100, 250])

    def test_every_layer_is_counted_and_a_refused_layer_stops_with_one_warning(self):
        mon = Monitor(URL, run=P + "py-refused")
        rng = np.random.default_rng(7)
        self.assertTrue(mon.submit("narrow", rng.standard_normal((40, 8)), step=0))
        self.assertTrue(mon.submit("other", rng.standard_normal((30, 5)), step=0))
        self.assertTrue(mon.flush(30))
        with self.assertLogs("alphawatch", level="WARNING") as logs:
            self.assertTrue(mon.submit("narrow", rng.standard_normal((40, 16)), step=1))  # 16 units: refused
            self.assertTrue(mon.flush(30))
            self.assertFalse(mon.submit("narrow", rng.standard_normal((40, 16)), step=2))
            self.assertTrue(mon.submit("other", rng.standard_normal((30, 5)), step=2))
            stats = mon.close()
        refusals = [r for r in logs.output if "narrow" in r and "not sent any more" in r]
        self.assertEqual(len(refusals), 1, logs.output)
        self.assertIn("dims_mismatch", refusals[0])
        narrow, other = stats["layers"]["narrow"], stats["layers"]["other"]
        self.assertEqual((narrow["recorded"], narrow["merged"], narrow["dropped"], narrow["refused"], narrow["stopped"]),
                         (80, 40, 40, 1, True))
        self.assertEqual((other["recorded"], other["merged"], other["dropped"], other["sent"]), (60, 60, 0, 2))
        for s in (narrow, other):
            self.assertEqual(s["recorded"], s["merged"] + s["dropped"] + s["queued"])

    def test_use_after_close_raises_and_hooks_go_quiet(self):
        model = mlp(seed=8)
        mon = Monitor(URL, run=P + "py-closed")
        mon.watch(model, ["act1"])
        model(torch.randn(4, 20))
        before = mon.close()
        self.assertTrue(mon.closed)
        model(torch.randn(4, 20))  # the hooks are gone: training goes on
        self.assertEqual(mon.stats()["recorded"], before["recorded"])
        for call in (lambda: mon.watch(model, ["act2"]), lambda: mon.submit("x", np.ones((2, 2)), 0),
                     lambda: mon.send("x", np.ones((2, 2)), 0)):
            with self.assertRaises(RuntimeError):
                call()
        spectrum_when(P + "py-closed", "act1", 4)
        self.assertEqual(mon.spectrum("act1")["samples"], 4)  # reads still work

    def test_a_monitor_never_closed_sends_its_rows_and_ends_its_thread(self):
        for t in sender_threads():
            t.join(10)

        def forget():
            mon = Monitor(URL, run=P + "py-forgotten")
            mon.submit("h", np.random.default_rng(9).standard_normal((25, 6)), step=0)
            self.assertEqual(len(sender_threads()), 1)

        forget()
        gc.collect()
        deadline = time.time() + 10
        while sender_threads() and time.time() < deadline:
            time.sleep(0.05)
        self.assertEqual(sender_threads(), [])
        self.assertEqual(spectrum_when(P + "py-forgotten", "h", 25)["samples"], 25)

    def test_ddp_and_wrapped_names_resolve_and_unknown_names_are_listed(self):
        class Wrapper(nn.Module):  # the naming of DistributedDataParallel and DataParallel
            def __init__(self, module):
                super().__init__()
                self.module = module

            def forward(self, x):
                return self.module(x)

        wrapped = Wrapper(mlp(seed=9))
        mon = Monitor(URL, run=P + "py-names")
        mon.watch(wrapped, ["act1", "module.act2"])
        wrapped(torch.randn(3, 20))
        with self.assertRaises(KeyError) as e:
            mon.watch(wrapped, ["act9"])
        self.assertIn("act1", str(e.exception))
        self.assertEqual(sorted(mon.close()["layers"]), ["act1", "act2"])


class StreamingTest(unittest.TestCase):
    def test_one_busy_layer_cannot_take_another_layers_place(self):
        with Silent() as url:
            mon = Monitor(url, run="py-starve", aggregate=False, queue_batches=4, timeout=30)
            first = [mon.submit("first", np.ones((10, 3)), step) for step in range(20)]
            self.assertTrue(mon.submit("later", np.ones((10, 3)), 0))
            stats = mon.close(timeout=0.5)
        self.assertLessEqual(sum(first), 5)  # 4 waiting, one in flight at most
        self.assertEqual(stats["layers"]["first"]["recorded"], 200)
        self.assertEqual(stats["layers"]["later"]["recorded"], 10)
        self.assertEqual(stats["layers"]["later"]["dropped"], 10)  # never delivered, counted at close

    def test_429_is_retried_after_retry_after(self):
        mon = Monitor(TIGHT_URL, run=P + "py-busy", aggregate=False, queue_batches=64)
        big = np.random.default_rng(4).standard_normal((512, 1024)).astype(np.float32)
        for step in range(6):
            mon.submit("wide", big, step)
        stats = mon.close(timeout=120)
        self.assertEqual((stats["sent"], stats["merged"], stats["dropped"]), (6, 6 * 512, 0))

    def test_send_raises_with_the_server_detail(self):
        mon = Monitor(URL, run=P + "py-bad")
        a = np.ones((5, 4))
        a[2, 3] = np.nan
        with self.assertRaises(AlphawatchError) as e:
            mon.send("fc", a, step=0)
        self.assertEqual((e.exception.status, e.exception.error), (400, "non_finite"))
        self.assertIn("row 2, column 3", e.exception.detail)
        doc = mon.send("fc", np.ones((5, 4)) + np.arange(4) + np.arange(5)[:, None] ** 2, step=0)
        self.assertEqual((doc["rows"], doc["dims"]), (5, 4))
        m = Moments(4)
        m.add(np.random.default_rng(1).standard_normal((9, 4)), step=1)
        self.assertEqual(mon.send_partial("fc", m)["rows"], 9)
        mon.close()


class Silent:
    """A server that accepts connections and never answers."""

    def __enter__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.held = []
        self.stop = False
        threading.Thread(target=self._accept, daemon=True).start()
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _accept(self):
        while not self.stop:
            try:
                self.held.append(self.sock.accept()[0])
            except OSError:
                return

    def __exit__(self, *exc):
        self.stop = True
        self.sock.close()
        for c in self.held:
            c.close()


class Busy:
    """A server that answers every request 429 with Retry-After: 1."""

    def __enter__(self):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                body = b'{"error":"queue_full","detail":"busy"}'
                self.send_response(429)
                self.send_header("Retry-After", "1")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class Dead:
    """A port nothing listens on."""

    def __enter__(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc):
        pass


class CloseTest(unittest.TestCase):
    def test_close_returns_within_its_timeout_in_every_server_state_and_ends_the_thread(self):
        for state in (Dead, Busy, Silent):
            for aggregate in (True, False):
                with self.subTest(state=state.__name__, aggregate=aggregate), state() as url:
                    mon = Monitor(url, run="py-close", aggregate=aggregate, timeout=60, flush_seconds=0.1)
                    for step in range(5):
                        mon.submit("h", np.ones((10, 3)) * np.arange(3) + step, step)
                    time.sleep(0.5)  # the sender is busy with the first request
                    start = time.monotonic()
                    stats = mon.close(timeout=2)
                    took = time.monotonic() - start
                    # It tries until the deadline (nothing can be delivered), and not a second longer.
                    self.assertGreater(took, 1.8)
                    self.assertLess(took, 3.0)
                    self.assertFalse(mon._core.thread.is_alive())
                    self.assertEqual((stats["recorded"], stats["merged"], stats["dropped"]), (50, 0, 50))
        self.assertEqual(sender_threads(), [])


class ExamplesTest(unittest.TestCase):
    def test_the_documented_examples_run_as_written(self):
        with open(DOCS, encoding="utf-8") as f:
            text = f.read()
        blocks = re.findall(r"```python\n(# example: [^\n]+\n.*?)```", text, flags=re.S)
        self.assertEqual(len(blocks), 4)
        for block in blocks:
            name = block.splitlines()[0]
            with self.subTest(example=name), tempfile.TemporaryDirectory() as tmp:
                script = os.path.join(tmp, "example.py")  # a file: multiprocessing's spawn imports it
                with open(script, "w", encoding="utf-8") as f:
                    f.write(block.replace("http://127.0.0.1:9400", URL))
                r = subprocess.run([sys.executable, script], capture_output=True, text=True, timeout=300)
                self.assertEqual(r.returncode, 0, f"{name}\n{r.stdout}\n{r.stderr}")

    def test_the_overhead_benchmark_runs(self):
        r = subprocess.run([sys.executable, "-m", "alphawatch.bench", "--url", URL, "--model", "digits",
                            "--rounds", "1", "--steps", "10"], capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        for mode in ("aggregate", "aggregate32", "rows"):
            self.assertRegex(r.stdout, rf"\n  {mode} +\d+\.\d+ ")

    def test_the_package_is_the_installed_one(self):
        self.assertNotIn(os.path.abspath(os.path.join(HERE, "..")), os.path.abspath(alphawatch.__file__))


if __name__ == "__main__":
    logging.basicConfig(level=logging.ERROR)
    unittest.main(verbosity=2)
