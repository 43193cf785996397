"""Tests of the installed alphawatch package against real alphawatch servers and real torch.

PythonClientTest (Java) installs the package into a fresh virtual environment, starts the servers
and runs this file with:
  ALPHAWATCH_URL        cumulative window, refreshed every second
  ALPHAWATCH_TIGHT_URL  a queue of one batch (429 when busy)
  ALPHAWATCH_SLIDING_URL  a sliding window of 640 samples in 8 panes of 80
  ALPHAWATCH_JAVA, ALPHAWATCH_CLASSPATH  to start `alphawatch serve` processes of this build here
  (the restart tests kill and restart them)
The dead, silent and 429-only servers of the close() tests and the recording proxy in front of a
real server are started here. No test bounds how fast anything is: waits are on conditions, with
generous deadlines.
"""

import gc
import http.client
import http.server
import json
import logging
import os
import re
import socket
import struct
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import unittest
import urllib.parse
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


def assert_spectrum(test, doc, ref, what, rel=1e-10, floor=1e-6, absolute=1e-14):
    """Served eigenvalues (normalised to sum 1) equal numpy's to `rel` relative where they carry at
    least `floor` of the variance, and to `absolute` below it: an eigen-solver's rounding is about
    eps x the largest eigenvalue, which is no relative bound for a near-null direction (LayerNorm
    leaves one at ~1e-12)."""
    served = np.asarray(doc["eigenvalues"])
    test.assertEqual(served.shape, ref.shape, what)
    big = ref >= floor
    test.assertLess(np.max(np.abs(served[big] - ref[big]) / ref[big]), rel, what)
    test.assertLess(np.max(np.abs(served[~big] - ref[~big]), initial=0.0), absolute, what)


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
    # 640 rows of training forwards and 2 x 640 of repeat passes, all merged
    sys.exit(0 if s["dropped"] == 0 and s["merged"] == 640 + 2 * 640 and s["recorded"] == s["merged"] else 3)
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


def wait_for(condition, what, timeout=60):
    """Waits until condition() is true (a generous deadline, not a speed assumption)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.02)


class CloseTest(unittest.TestCase):
    def test_close_tries_until_its_timeout_when_the_server_is_busy_or_silent_and_ends_the_thread(self):
        for state in (Busy, Silent):
            for aggregate in (True, False):
                with self.subTest(state=state.__name__, aggregate=aggregate), state() as url:
                    mon = Monitor(url, run="py-close", aggregate=aggregate, timeout=60, flush_seconds=0.1)
                    for step in range(5):
                        mon.submit("h", np.ones((10, 3)) * np.arange(3) + step, step)
                    wait_for(lambda: mon.stats()["in_flight"] > 0, "a request in flight")
                    start = time.monotonic()
                    stats = mon.close(timeout=2)
                    took = time.monotonic() - start
                    # Nothing can be delivered: it tries until the deadline, then ends (the upper
                    # bound is generous: a loaded machine only makes it later).
                    self.assertGreater(took, 1.8)
                    self.assertLess(took, 30)
                    self.assertFalse(mon._sender.thread.is_alive())
                    self.assertEqual((stats["recorded"], stats["merged"], stats["dropped"], stats["queued"],
                                      stats["in_flight"]), (50, 0, 50, 0, 0))
        self.assertEqual(sender_threads(), [])

    def test_close_gives_up_at_once_on_a_refused_connection_and_says_why(self):
        for aggregate in (True, False):
            with self.subTest(aggregate=aggregate), Dead() as url:
                mon = Monitor(url, run="py-close", aggregate=aggregate, flush_seconds=0.1)
                for step in range(5):
                    mon.submit("h", np.ones((10, 3)) * np.arange(3) + step, step)
                wait_for(lambda: mon.stats()["failed"] > 0, "a refused attempt")
                before = mon.stats()["failed"]
                with self.assertLogs("alphawatch", level="WARNING") as logs:
                    stats = mon.close(timeout=600)  # were it to try until then, the test would time out
                # At most the attempt under way and one more: not ten a second until the deadline.
                self.assertLessEqual(stats["failed"] - before, 2)
                self.assertFalse(mon._sender.thread.is_alive())
                self.assertEqual((stats["recorded"], stats["merged"], stats["dropped"]), (50, 0, 50))
                gave_up = [r for r in logs.output if "gave up" in r]
                self.assertEqual(len(gave_up), 1, logs.output)
                self.assertIn("ConnectionRefusedError", gave_up[0])
                self.assertIn("50 rows not sent", gave_up[0])
        self.assertEqual(sender_threads(), [])


class Proxy:
    """Forwards every request to a real alphawatch server and records what the client sent: the
    server does the work; the test holds answers back (hold/release) or loses the answer of chosen
    POSTs after the server has answered them (as a timeout or a dropped connection would)."""

    def __init__(self, upstream, lose=()):
        self.upstream = urllib.parse.urlsplit(upstream)
        self.lose = set(lose)       # numbers (1-based) of the POSTs whose answers are lost
        self.requests = []          # (method, path, query dict, body digest, answer status or None)
        self.lock = threading.Lock()
        self.released = threading.Event()
        self.released.set()
        self.active = {}            # path -> requests being forwarded now
        self.most = {}              # path -> the most at once
        self.count = 0              # POSTs received

    def hold(self):
        self.released.clear()

    def release(self):
        self.released.set()

    def posts(self, layer=None):
        return [r for r in self.requests if r[0] == "POST" and (layer is None or f"/layers/{layer}/" in r[1])]

    def __enter__(self):
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                self.forward(None)

            def do_POST(self):
                self.forward(self.rfile.read(int(self.headers.get("Content-Length", 0))))

            def forward(self, body):
                parts = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(parts.query))
                with proxy.lock:
                    proxy.active[parts.path] = proxy.active.get(parts.path, 0) + 1
                    proxy.most[parts.path] = max(proxy.most.get(parts.path, 0), proxy.active[parts.path])
                    if body is not None:
                        proxy.count += 1
                    number = proxy.count if body is not None else None
                try:
                    if body is not None and not proxy.released.wait(120):
                        raise AssertionError("the test never released the answers")
                    conn = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=60)
                    headers = {k: v for k, v in self.headers.items() if k.lower() in ("content-type", "authorization")}
                    conn.request(self.command, self.path, body=body, headers=headers)
                    res = conn.getresponse()
                    payload = res.read()
                    conn.close()
                finally:
                    with proxy.lock:
                        proxy.active[parts.path] -= 1
                lost = number in proxy.lose
                with proxy.lock:
                    proxy.requests.append((self.command, parts.path, query,
                                           None if body is None else hash(body), None if lost else res.status))
                if lost:  # the server applied it; the client never hears so
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.send_response(res.status)
                for k, v in res.getheaders():
                    if k.lower() in ("content-type", "retry-after", "x-alphawatch-instance"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __exit__(self, *exc):
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


class ServerProcess:
    """`alphawatch serve` as a child process (this build: PythonClientTest passes its java and
    class path), restartable on the same port."""

    def __init__(self, *args):
        self.args = list(args)
        self.port = 0
        self.proc = None
        self.log = tempfile.NamedTemporaryFile(prefix="alphawatch-serve-", suffix=".log", delete=False)
        self.log.close()

    def start(self):
        java = os.environ.get("ALPHAWATCH_JAVA", "java")
        classpath = os.environ["ALPHAWATCH_CLASSPATH"]
        with open(self.log.name, "ab") as out:
            self.proc = subprocess.Popen([java, "-Xmx256m", "-cp", classpath, "org.alphawatch.cli.Main", "serve",
                                          "--port", str(self.port)] + self.args, stdout=out, stderr=subprocess.STDOUT)
        start = os.path.getsize(self.log.name)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and self.proc.poll() is None:
            with open(self.log.name, encoding="utf-8", errors="replace") as f:
                m = re.search(r"alphawatch serving on http://127\.0\.0\.1:(\d+)", f.read()[start - 1 if start else 0:])
            if m:
                self.port = int(m.group(1))
                return self
            time.sleep(0.1)
        with open(self.log.name, encoding="utf-8", errors="replace") as f:
            raise AssertionError("alphawatch serve did not start:\n" + f.read()[-3000:])

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def kill(self):
        self.proc.kill()
        self.proc.wait(60)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        if self.proc is not None and self.proc.poll() is None:
            self.kill()
        os.unlink(self.log.name)


SENDER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class ExactlyOnceTest(unittest.TestCase):
    def test_every_post_carries_the_sender_and_a_per_layer_seq_the_same_on_every_retry(self):
        rng = np.random.default_rng(21)
        x = {name: rng.standard_normal((12 * 40, 10)) @ np.diag(np.arange(1, 11) ** -0.6) for name in ("a", "b")}
        run = P + "py-once"
        with Proxy(URL, lose={2, 5}) as proxy:
            mon = Monitor(proxy.url, run=run, source="rank0", flush_batches=1)
            for step in range(12):
                for name in ("a", "b"):
                    self.assertTrue(mon.submit(name, x[name][40 * step:40 * (step + 1)], step=step))
                self.assertTrue(mon.flush(60))
            mon.send("c", np.ones((3, 2)) + np.arange(3)[:, None] ** 2, step=0)  # the synchronous path too
            stats = mon.close()
        self.assertRegex(stats["sender"], SENDER_ID)
        self.assertEqual(len(stats["sender"]), 22)
        self.assertNotEqual(Monitor(URL, run=run).sender, stats["sender"])  # one id per Monitor instance
        posts = [r for r in proxy.posts() if "/layers/" in r[1]]  # not close()'s end of the run
        self.assertEqual({r[2]["sender"] for r in posts}, {stats["sender"]})
        self.assertEqual({r[2]["source"] for r in posts}, {"rank0"})
        for name in ("a", "b", "c"):
            mine = proxy.posts(name)
            seqs = [int(r[2]["seq"]) for r in mine]
            distinct = sorted(set(seqs))
            self.assertEqual(distinct, list(range(1, len(distinct) + 1)), name)  # from 1, +1 per request
            self.assertEqual(seqs, sorted(seqs), name)                          # in order
            for seq in distinct:  # every attempt of one seq is the same request
                self.assertEqual(len({r[3] for r in mine if int(r[2]["seq"]) == seq}), 1, (name, seq))
            self.assertEqual(max(v for k, v in proxy.most.items() if f"/layers/{name}/" in k), 1, name)
        lost = [r for r in posts if r[4] is None]
        self.assertEqual(len(lost), 2)
        for r in lost:  # each lost answer's request was sent again with its seq and was answered
            again = [q for q in posts if q[1] == r[1] and q[2]["seq"] == r[2]["seq"] and q[4] == 202]
            self.assertEqual(len(again), 1, r)
        self.assertEqual((stats["merged"], stats["dropped"]), (2 * 12 * 40, 0))
        # The server applies a repeated seq once (it answers "duplicate": true) where it knows
        # senders; a server that does not applies it again, and the test says which it met.
        lost_rows = {name: sum(40 for r in lost if f"/layers/{name}/" in r[1]) for name in ("a", "b")}
        dedup = stats["duplicates"] == 2
        if not dedup:
            self.assertEqual(stats["duplicates"], 0)
            print(f"\n  note: {URL} applied {sum(lost_rows.values())} retried rows twice (no duplicate detection "
                  f"in this server)", file=sys.stderr)
        for name in ("a", "b"):
            extra = 0 if dedup else lost_rows[name]
            doc = spectrum_when(run, name, 12 * 40 + extra)
            if dedup:
                ref = numpy_spectrum(x[name])
                self.assertLess(np.max(np.abs(np.asarray(doc["eigenvalues"]) - ref) / ref), 1e-10, name)


    def test_send_and_the_background_sender_share_a_layers_numbers_in_order(self):
        rng = np.random.default_rng(22)
        run = P + "py-once-mixed"
        with Proxy(URL) as proxy:
            mon = Monitor(proxy.url, run=run, flush_batches=1)
            done = threading.Event()

            def background():
                for step in range(30):
                    mon.submit("m", rng.standard_normal((20, 6)), step=step)
                done.set()

            t = threading.Thread(target=background)
            t.start()
            direct = 0
            while not done.is_set() or direct < 10:
                mon.send("m", np.random.default_rng(direct).standard_normal((5, 6)), step=100 + direct)
                direct += 1
            t.join()
            stats = mon.close()
        arrived = [int(r[2]["seq"]) for r in proxy.posts("m")]
        self.assertEqual(arrived, list(range(1, len(arrived) + 1)))  # one at a time, in number order
        self.assertEqual((stats["merged"], stats["duplicates"]), (30 * 20, 0))
        spectrum_when(run, "m", 30 * 20 + 5 * direct)  # nothing skipped as a duplicate


class SpeaksUpTest(unittest.TestCase):
    def test_stats_count_rows_in_flight_at_every_moment_with_repeat_passes(self):
        model = mlp(seed=12, dropout=0.3)
        with Proxy(URL) as proxy:
            proxy.hold()
            mon = Monitor(proxy.url, run=P + "py-inflight", flush_batches=1)
            mon.watch(model, ["act1", "act2"])
            samples, broken, stop = [], [], threading.Event()

            def sample():
                while not stop.is_set():
                    s = mon.stats()
                    for name, layer in s["layers"].items():
                        samples.append(layer["in_flight"])
                        if layer["recorded"] != layer["merged"] + layer["dropped"] + layer["queued"] + layer["in_flight"]:
                            broken.append((name, layer))

            sampler = threading.Thread(target=sample)
            sampler.start()
            gen = torch.Generator().manual_seed(3)
            for step in range(8):
                mon.step = step
                x = torch.randn(32, 20, generator=gen)
                model(x)
                with torch.no_grad():
                    for r in (0, 1):
                        with mon.repeat(r):
                            model(x)
                if step == 3:
                    wait_for(lambda: mon.stats()["in_flight"] > 0, "a request held in flight")
                    held = mon.stats()
                    proxy.release()
            self.assertTrue(mon.flush(60))
            stop.set()
            sampler.join()
            stats = mon.close()
        self.assertEqual(broken, [])
        self.assertGreater(max(samples), 0)
        self.assertGreater(held["in_flight"], 0)
        for name in ("act1", "act2"):
            h = held["layers"][name]
            self.assertEqual(h["recorded"], h["merged"] + h["dropped"] + h["queued"] + h["in_flight"])
            self.assertEqual(stats["layers"][name]["merged"], 8 * 32 * 3)  # both repeat passes count
        self.assertEqual((stats["recorded"], stats["dropped"], stats["queued"], stats["in_flight"]),
                         (stats["merged"], 0, 0, 0))

    def test_one_warning_when_unreachable_one_when_back_and_rows_lost_by_a_restart_are_named(self):
        for durable in (False, True):
            with self.subTest(durable=durable), tempfile.TemporaryDirectory() as state:
                args = ["--window", "cumulative", "--refresh-seconds", "1", "--min-samples", "2"]
                if durable:
                    args += ["--durability", "wal", "--state-dir", state]
                rng = np.random.default_rng(30 + durable)
                before = rng.standard_normal((300, 8)) @ np.diag(np.arange(1, 9) ** -0.5)
                after = rng.standard_normal((200, 8)) @ np.diag(np.arange(1, 9) ** -0.9) + 1
                with ServerProcess(*args) as server:
                    run = P + f"py-restart{int(durable)}"
                    mon = Monitor(server.url, run=run, flush_seconds=0.2)
                    for i in range(3):
                        mon.submit("h", before[100 * i:100 * (i + 1)], step=i)
                    self.assertTrue(mon.flush(60))
                    instance = mon._sender.instance
                    with self.assertLogs("alphawatch", level="INFO") as logs:
                        server.kill()
                        mon.submit("h", after[:100], step=3)
                        wait_for(lambda: not mon.stats()["reachable"], "the client noticing")
                        mon.submit("h", after[100:], step=4)
                        server.start()
                        self.assertTrue(mon.flush(120))
                        stats = mon.close()
                    self.assertEqual((stats["merged"], stats["dropped"]), (500, 0))
                    down = [r for r in logs.output if "unreachable" in r]
                    back = [r for r in logs.output if "reachable again" in r]
                    self.assertEqual((len(down), len(back)), (1, 1), logs.output)
                    # The reason: refused, or reset for a request under way at the kill.
                    self.assertRegex(down[0], r"unreachable \((ConnectionRefusedError|ConnectionResetError|"
                                              r"RemoteDisconnected|BrokenPipeError): ")
                    self.assertIn(server.url, down[0])
                    lost = [r for r in logs.output if "restarted" in r and "WARNING" in r]
                    kept = before if durable else before[:0]
                    if instance is None:  # a server that sends no instance id: nothing can be said
                        self.assertEqual(lost, [])
                        print(f"\n  note: alphawatch serve sent no instance id: restart loss not checked",
                              file=sys.stderr)
                    elif durable:
                        self.assertEqual((lost, stats["lost"]), ([], 0))
                    else:
                        self.assertEqual(len(lost), 1, logs.output)
                        self.assertIn("without 300 rows", lost[0])
                        self.assertEqual(stats["layers"]["h"]["lost"], 300)
                    x = np.vstack([kept, after])
                    doc = spectrum_when(run, "h", x.shape[0], url=server.url, timeout=120)
                    ref = numpy_spectrum(x)
                    self.assertLess(np.max(np.abs(np.asarray(doc["eigenvalues"]) - ref) / ref), 1e-10)


class ResearcherLoopTest(unittest.TestCase):
    def test_latest_and_on_spectrum_follow_the_run_and_close_waits_for_the_final_spectrum(self):
        model = mlp(seed=14)
        act2 = recorder(model.act2)
        seen = []

        def on_spectrum(layer, doc):
            seen.append((layer, doc["samples"]))
            if len(seen) == 1:
                raise ValueError("a broken logger")

        run = P + "py-latest"
        mon = Monitor(URL, run=run, spectrum_seconds=0.5, on_spectrum=on_spectrum)
        self.assertIsNone(mon.latest("act2"))
        mon.watch(model, ["act2"])
        with self.assertLogs("alphawatch", level="ERROR") as logs:
            train(model, mon, steps=10, eval_every=0)
            self.assertTrue(mon.flush(60))
            wait_for(lambda: (mon.latest("act2") or {}).get("samples") == 640, "latest() catching up")
            # latest() is set before the callback runs: wait for the callback's failure too.
            wait_for(lambda: any("on_spectrum raised" in r for r in logs.output), "the callback's failure logged")
        self.assertEqual(len([r for r in logs.output if "on_spectrum raised" in r]), 1, logs.output)
        self.assertIn(("act2", 640), seen)
        self.assertEqual(mon.latest()["act2"]["samples"], 640)
        ref = numpy_spectrum(torch.cat(act2).numpy())
        assert_spectrum(self, mon.latest("act2"), ref, "latest")
        train(model, mon, steps=7, eval_every=0, seed=2)
        stats = mon.close(wait_for_spectrum=120)
        self.assertEqual(stats["merged"], 17 * 64)
        doc = mon.latest("act2")  # the final spectrum, there when close() returns
        self.assertEqual(doc["samples"], 17 * 64)
        assert_spectrum(self, doc, numpy_spectrum(torch.cat(act2).numpy()), "after close")
        self.assertEqual(seen[-1], ("act2", 17 * 64))

    def test_watch_is_idempotent_and_a_context_manager(self):
        model = mlp(seed=15)
        mon = Monitor(URL, run=P + "py-rewatch")
        mon.watch(model, ["act1"])
        mon.watch(model, ["act1"])          # a re-run notebook cell
        mon.watch(model, ["module.act1"], max_rows=1000)  # the same layer by its DDP name
        train(model, mon, steps=3, eval_every=0)
        with mon.watch(model, ["act2"]):
            train(model, mon, steps=2, eval_every=0)
        train(model, mon, steps=1, eval_every=0)
        fresh = mlp(seed=16)                # the cell re-run with a new model: the old one is let go
        mon.watch(fresh, ["act1"])
        train(model, mon, steps=2, eval_every=0)
        train(fresh, mon, steps=1, eval_every=0)
        stats = mon.close()
        self.assertEqual(stats["layers"]["act1"]["recorded"], (3 + 2 + 1 + 1) * 64)
        self.assertEqual(stats["layers"]["act2"]["recorded"], 2 * 64)

    def test_every_counts_training_steps_not_repeat_passes(self):
        model = mlp(seed=17, dropout=0.3)
        run = P + "py-every"
        plain, pairs = [], {0: [], 1: []}
        current = [None]

        def keep(m, i, o):
            if m.training:
                (plain if current[0] is None else pairs[current[0]]).append((step_now[0], o.detach().double().clone()))

        step_now = [0]
        model.act1.register_forward_hook(keep)
        mon = Monitor(URL, run=run)
        mon.watch(model, ["act1"], every=3)
        gen = torch.Generator().manual_seed(4)
        for step in range(10):
            mon.step = step_now[0] = step
            x = torch.randn(40, 20, generator=gen)
            model(x)
            with torch.no_grad():
                for r in (0, 1):
                    current[0] = r
                    with mon.repeat(r):
                        model(x)
                current[0] = None
        stats = mon.close()
        recorded_steps = (0, 3, 6, 9)
        self.assertEqual(stats["layers"]["act1"]["recorded"], len(recorded_steps) * 40 * 3)
        self.assertEqual(stats["layers"]["act1"]["merged"], len(recorded_steps) * 40 * 3)
        rows = np.vstack([o.numpy() for s, o in plain if s in recorded_steps])
        a = np.vstack([o.numpy() for s, o in pairs[0] if s in recorded_steps])
        b = np.vstack([o.numpy() for s, o in pairs[1] if s in recorded_steps])
        doc = spectrum_when(run, "act1", rows.shape[0])
        self.assertEqual(doc["step_range"], [0, 9])
        ref = numpy_spectrum(rows)
        self.assertLess(np.max(np.abs(np.asarray(doc["eigenvalues"][:20]) - ref[:20]) / ref[:20]), 1e-10)
        self.assertAlmostEqual(doc["cvpca"]["alpha"], numpy_alpha(cvpca_shared(a, b), doc["cvpca"]["fit_range"]),
                               delta=1e-6)
        # Without mon.step, a forward outside repeat passes is a step: every=2 takes steps 0, 2, 4.
        mon2 = Monitor(URL, run=run + "-nostep")
        mon2.watch(model, ["act1"], every=2)
        for step in range(5):
            x = torch.randn(10, 20, generator=gen)
            model(x)
            with torch.no_grad():
                for r in (0, 1):
                    with mon2.repeat(r):
                        model(x)
        self.assertEqual(mon2.close()["layers"]["act1"]["recorded"], 3 * 10 * 3)


def cvpca_shared(a, b):
    """cvPCA's shared variance u^T C_ab u over eigenvectors u of pass 0's covariance (docs/metrics.md)."""
    ca = np.cov(a, rowvar=False)
    cab = (a - a.mean(0)).T @ (b - b.mean(0)) / (a.shape[0] - 1)
    _, u = np.linalg.eigh(ca)
    u = u[:, ::-1]
    return np.einsum("ik,ij,jk->k", u, cab, u)


class TinyLM(nn.Module):
    """Token ids (0 = padding) -> embeddings -> two encoder layers, padding masked in attention."""

    def __init__(self, vocab=50, d=16, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.embed = nn.Embedding(vocab, d, padding_idx=0)
        layer = nn.TransformerEncoderLayer(d_model=d, nhead=2, dim_feedforward=32, dropout=0.1, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=2)

    def forward(self, ids):
        return self.encoder(self.embed(ids), src_key_padding_mask=ids == 0)


def padded_batches(n, seed, vocab=50):
    """Variable-length sequences padded to their batch's longest: (ids, attention_mask) pairs."""
    gen = torch.Generator().manual_seed(seed)
    for _ in range(n):
        lengths = torch.randint(2, 13, (6,), generator=gen)
        ids = torch.zeros(6, int(lengths.max()), dtype=torch.long)
        for i, length in enumerate(lengths):
            ids[i, :length] = torch.randint(1, vocab, (int(length),), generator=gen)
        yield ids, (ids != 0).long()


class MaskTest(unittest.TestCase):
    def test_padded_positions_are_not_recorded_whichever_way_the_mask_is_given(self):
        names = ["encoder.layers.0", "encoder.layers.1"]
        for way in ("context", "padding", "watch"):
            with self.subTest(way=way):
                model = TinyLM(seed=5)
                seen = {n: [] for n in names}
                modules = dict(model.named_modules())
                for n in names:
                    modules[n].register_forward_hook(lambda m, i, o, n=n: seen[n].append(o.detach().double().clone()))
                masks = []
                run = P + "py-mask-" + way
                mon = Monitor(URL, run=run)
                mon.watch(model, names, mask=(lambda ids: ids != 0) if way == "watch" else None)
                opt = torch.optim.SGD(model.parameters(), lr=0.01)
                for step, (ids, attention) in enumerate(padded_batches(12, seed=6)):
                    mon.step = step
                    masks.append(attention.bool())
                    if way == "context":
                        with mon.mask(attention):
                            out = model(ids)
                    elif way == "padding":
                        with mon.mask(padding=ids == 0):
                            out = model(ids)
                    else:
                        out = model(ids)
                    opt.zero_grad()
                    out.pow(2).mean().backward()
                    opt.step()
                stats = mon.close()
                real = int(sum(m.sum() for m in masks))
                padded = int(sum(m.numel() for m in masks))
                self.assertLess(real, padded)  # the batches really were padded
                for n in names:
                    x = torch.cat([o[m] for o, m in zip(seen[n], masks)]).numpy()  # exactly the real tokens
                    self.assertEqual(stats["layers"][n]["merged"], real)
                    doc = spectrum_when(run, n, real)
                    assert_spectrum(self, doc, numpy_spectrum(x), n)

    def test_a_mask_that_does_not_fit_is_named(self):
        model = TinyLM(seed=7)
        mon = Monitor(URL, run=P + "py-mask-bad")
        mon.watch(model, ["encoder.layers.0"])
        ids, attention = next(padded_batches(1, seed=8))
        with self.assertRaises(ValueError) as e, mon.mask(attention[:, :-1]):
            model(ids)
        self.assertIn("encoder.layers.0", str(e.exception))
        with self.assertRaises(ValueError):
            mon.mask(attention, padding=ids == 0)
        # Token layers of another length (a decoder's) opt out with mask=False.
        decoder = nn.ModuleDict({"dec": nn.Linear(16, 16)})
        mon.watch(decoder, ["dec"], mask=False)
        with mon.mask(attention):
            model(ids)
            decoder["dec"](torch.randn(6, 3, 16))
        stats = mon.close()
        self.assertEqual(stats["layers"]["dec"]["recorded"], 6 * 3)
        self.assertEqual(stats["layers"]["encoder.layers.0"]["recorded"], int(attention.sum()))


class PiecesTest(unittest.TestCase):
    def test_retry_after_reads_as_the_java_client_does(self):
        from alphawatch.transport import retry_after
        now = 1445412480.0  # 2015-10-21T07:28:00Z, RetryAfterTest's clock
        # RetryAfterTest's cases ...
        self.assertEqual(retry_after("2", now), 2.0)
        self.assertEqual(retry_after(" 0 ", now), 0.0)
        self.assertEqual(retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now), 30.0)
        self.assertEqual(retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now), 0.0)
        self.assertEqual(retry_after("99999", now), 300.0)
        self.assertEqual(retry_after("-3", now), 1.0)
        self.assertEqual(retry_after("soon", now), 1.0)
        self.assertEqual(retry_after(None, now), 1.0)
        # ... and what java.time's RFC_1123_DATE_TIME reads beyond them: no fractions, offsets,
        # no day of week, no seconds, any case; nothing else (RFC 850 and asctime dates are not read).
        self.assertEqual(retry_after("1.5", now), 1.0)
        self.assertEqual(retry_after("21 Oct 2015 08:28:10 +0100", now), 10.0)
        self.assertEqual(retry_after("wed, 21 oct 2015 07:29 gmt", now), 60.0)
        self.assertEqual(retry_after("Wednesday, 21-Oct-15 07:28:30 GMT", now), 1.0)
        self.assertEqual(retry_after("Wed Oct 21 07:28:30 2015", now), 1.0)
        self.assertEqual(retry_after("1234567890", now), 1.0)  # 10 digits: not delta-seconds in Java either

    def test_crc32c_is_native_where_debian_has_it_and_equals_the_pure_python_one(self):
        from alphawatch import crc32c as c
        from alphawatch import kafka
        try:
            import crc32c as debian  # noqa: F401  (python3-crc32c)
            self.assertTrue(c.NATIVE)
        except ImportError:
            self.assertFalse(c.NATIVE)
        self.assertEqual(c.crc32c(b"123456789"), 0xE3069283)
        self.assertEqual(c.crc32c_python(b"123456789"), 0xE3069283)
        rng = np.random.default_rng(5)
        for n in (0, 1, 7, 4096, 100_003):
            data = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
            self.assertEqual(c.crc32c(data), c.crc32c_python(data), n)
        record = kafka.partial_record("r", "l", "s", b"body", seq=7)
        self.assertEqual(struct.unpack("<I", record[4:8])[0], c.crc32c_python(record[8:]))

    def test_the_kafka_record_is_the_golden_one_java_reads(self):
        # src/test/resources/golden/partials: GoldenFormatsTest decodes the same bytes in Java.
        from alphawatch import kafka
        golden = os.path.join(os.path.dirname(__file__), "..", "..", "..", "src", "test", "resources", "golden",
                              "partials")
        with open(os.path.join(golden, "partial-v1.awpa"), "rb") as f:
            body = f.read()
        with open(os.path.join(golden, "kafka-partial-record.bin"), "rb") as f:
            expected = f.read()
        self.assertEqual(kafka.partial_record("golden", "p", "rank0", body, seq=0, sender="a1b2c3d4e5f60718293a4b",
                                              number=42), expected)


class ExamplesTest(unittest.TestCase):
    def test_the_documented_examples_run_as_written(self):
        with open(DOCS, encoding="utf-8") as f:
            text = f.read()
        blocks = re.findall(r"```python\n(# example: [^\n]+\n.*?)```", text, flags=re.S)
        self.assertEqual(len(blocks), 5)
        for block in blocks:
            name = block.splitlines()[0]
            with self.subTest(example=name), tempfile.TemporaryDirectory() as tmp:
                script = os.path.join(tmp, "example.py")  # a file: multiprocessing's spawn imports it
                with open(script, "w", encoding="utf-8") as f:
                    f.write(block.replace("http://127.0.0.1:9400", URL))
                r = subprocess.run([sys.executable, script], capture_output=True, text=True, timeout=300)
                self.assertEqual(r.returncode, 0, f"{name}\n{r.stdout}\n{r.stderr}")
                if "mon.latest(" in block:  # the ones that print the run's alpha do
                    self.assertRegex(r.stdout, r"alpha \d+\.\d{3} over \d+", name)

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
