"""Tests of the attach client against a real alphawatch server.

The Java test PythonClientTest starts the servers and runs this file with
ALPHAWATCH_URL (a normal server) and ALPHAWATCH_TIGHT_URL (queue of one batch, for 429s).
"""

import json
import os
import sys
import time
import unittest
import urllib.request

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from alphawatch_client import AlphawatchError, Monitor, encode_npy  # noqa: E402

URL = os.environ["ALPHAWATCH_URL"]
TIGHT_URL = os.environ["ALPHAWATCH_TIGHT_URL"]


def runs(url):
    with urllib.request.urlopen(url + "/v1/runs") as r:
        return {x["run"]: {l["layer"]: l for l in x["layers"]} for x in json.load(r)["runs"]}


def ingested(url, run, layer):
    with urllib.request.urlopen(url + "/metrics") as r:
        text = r.read().decode()
    key = f'alphawatch_ingest_samples_total{{layer="{layer}",run="{run}"}} '
    for line in text.splitlines():
        if line.startswith(key):
            return float(line[len(key):])
    return 0.0


class ClientTest(unittest.TestCase):
    def test_send_accepts_and_counts_rows(self):
        mon = Monitor(URL, run="py-send")
        rng = np.random.default_rng(1)
        for step in range(3):
            doc = mon.send("fc", rng.standard_normal((50, 12)), step=step)
            self.assertEqual(doc["rows"], 50)
            self.assertEqual(doc["dims"], 12)
        deadline = time.time() + 10
        while ingested(URL, "py-send", "fc") < 150 and time.time() < deadline:
            time.sleep(0.05)
        self.assertEqual(ingested(URL, "py-send", "fc"), 150.0)
        self.assertEqual(mon.stats()["rows_sent"], 150)

    def test_refusals_raise_with_the_server_detail(self):
        mon = Monitor(URL, run="py-bad")
        a = np.ones((5, 4))
        a[2, 3] = np.nan
        with self.assertRaises(AlphawatchError) as e:
            mon.send("fc", a, step=0)
        self.assertEqual(e.exception.status, 400)
        self.assertEqual(e.exception.error, "non_finite")
        self.assertIn("row 2, column 3", e.exception.detail)
        mon.send("fc", np.ones((5, 4)) + np.arange(4), step=0)
        with self.assertRaises(AlphawatchError) as e:
            mon.send("fc", np.ones((5, 6)), step=1)
        self.assertEqual(e.exception.error, "dims_mismatch")
        with self.assertRaises(ValueError):
            encode_npy(np.ones(5))

    def test_probe_with_latent_values(self):
        mon = Monitor(URL, run="py-probe")
        theta = np.linspace(0, 2 * np.pi, 64, endpoint=False)
        acts = np.stack([np.cos(theta), np.sin(theta), np.cos(2 * theta)], 1) @ np.random.default_rng(2).standard_normal((3, 16))
        mon.send("h", np.random.default_rng(3).standard_normal((100, 16)), step=1)
        doc = mon.send("h", acts, step=1, kind="probe", latent=np.stack([np.cos(theta), np.sin(theta)], 1))
        self.assertEqual(doc["kind"], "probe")

    def test_429_is_retried_after_retry_after(self):
        mon = Monitor(TIGHT_URL, run="py-busy")
        rng = np.random.default_rng(4)
        big = rng.standard_normal((512, 1024)).astype(np.float32)
        for step in range(4):
            mon.send("wide", big, step=step)
        s = mon.stats()
        self.assertEqual(s["sent"], 4)
        self.assertGreater(s["retried_429"], 0)

    def test_watch_streams_hidden_layers_without_blocking(self):
        import torch
        from torch import nn

        torch.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 8 * 8, 32),
                              nn.Tanh(), nn.Linear(32, 3))
        mon = Monitor(URL, run="py-watch")
        handle = mon.watch(model, layers=["1", "4"], every=2, max_rows=20, conv="mean")
        for i in range(10):
            model(torch.randn(30, 1, 8, 8))
        self.assertTrue(mon.flush(30))
        handle.remove()
        model(torch.randn(30, 1, 8, 8))  # detached: not sent
        s = mon.close()
        self.assertEqual(s["sent"], 10)  # 2 layers x 5 calls (every 2nd of 10)
        self.assertEqual(s["failed"], 0)
        layers = runs(URL)["py-watch"]
        self.assertEqual(layers["1"]["dims"], 4)   # conv output averaged over space: channels
        self.assertEqual(layers["4"]["dims"], 32)
        deadline = time.time() + 10
        while ingested(URL, "py-watch", "4") < 100 and time.time() < deadline:
            time.sleep(0.05)
        self.assertEqual(ingested(URL, "py-watch", "4"), 100.0)  # 5 batches x max_rows 20

        flat = Monitor(URL, run="py-watch-flat")
        flat.watch(model, layers=["1"], conv="flatten", max_rows=5)
        model(torch.randn(6, 1, 8, 8))
        flat.close()
        self.assertEqual(runs(URL)["py-watch-flat"]["1"]["dims"], 4 * 8 * 8)

    def test_a_full_queue_drops_and_counts_instead_of_blocking(self):
        mon = Monitor(TIGHT_URL, run="py-drop", queue_size=1)
        big = np.random.default_rng(5).standard_normal((512, 1024)).astype(np.float32)
        accepted = sum(mon.submit("wide", big, step) for step in range(50))
        s = mon.close()
        self.assertLess(accepted, 50)
        self.assertEqual(s["dropped_queue_full"], 50 - accepted)
        self.assertEqual(s["sent"] + s["failed"], accepted)


if __name__ == "__main__":
    unittest.main(verbosity=2)
