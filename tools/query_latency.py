"""Query latency while large batches are ingested: does decoding block the server's event loops?

    python3 tools/query_latency.py target/alphawatch-all.jar [PORT]

Starts `serve` from the jar, has two threads POST 32 MB float32 batches (8192 x 1024) for 15 s,
and meanwhile times GET /v1/runs every 10 ms; prints the latency quantiles.
"""
import io
import subprocess
import sys
import threading
import time
import urllib.request

import numpy as np


def main(jar, port="9491"):
    server = subprocess.Popen(["java", "-Xmx6g", "-jar", jar, "serve", "--port", port, "--refresh-seconds", "3600",
                               "--queue-bytes", "2GB", "--queue-batches", "64"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz")
                break
            except OSError:
                time.sleep(0.2)
        x = np.random.default_rng(0).standard_normal((8192, 1024)).astype("float32")
        buf = io.BytesIO()
        np.save(buf, x)
        body = buf.getvalue()
        stop = time.time() + 15

        def post(layer):
            step = 0
            while time.time() < stop:
                req = urllib.request.Request(f"{base}/v1/runs/p/layers/L{layer}/batches?step={step}", data=body,
                                             headers={"Content-Type": "application/x-npy"}, method="POST")
                try:
                    urllib.request.urlopen(req).read()
                except OSError:
                    time.sleep(0.05)  # 429: the queue is full
                step += 1

        producers = [threading.Thread(target=post, args=(i,)) for i in range(2)]
        for t in producers:
            t.start()
        time.sleep(1)
        latencies = []
        while time.time() < stop - 0.5:
            t0 = time.perf_counter()
            urllib.request.urlopen(base + "/v1/runs").read()
            latencies.append((time.perf_counter() - t0) * 1e3)
            time.sleep(0.01)
        for t in producers:
            t.join()
    finally:
        server.terminate()
        server.wait()
    latencies.sort()
    n = len(latencies)
    print(f"{jar}: {n} queries during 32 MB ingest: p50 {latencies[n // 2]:.1f} ms, p90 "
          f"{latencies[int(n * .9)]:.1f} ms, p99 {latencies[int(n * .99)]:.1f} ms, max {latencies[-1]:.1f} ms")


if __name__ == "__main__":
    main(*sys.argv[1:])
