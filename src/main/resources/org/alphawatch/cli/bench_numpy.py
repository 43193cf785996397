# Reference timings for `alphawatch bench`: numpy's X.T @ X on the same batch shape and
# numpy.linalg.eigvalsh on a covariance of the same size. Prints one JSON object per line.
import json, sys, time
import numpy as np

def best_of(fn, min_seconds=0.5, min_reps=3):
    fn()
    times = []
    start = time.perf_counter()
    while len(times) < min_reps or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter(); fn(); times.append(time.perf_counter() - t0)
    return min(times)

rows = int(sys.argv[1])
dtype = sys.argv[2]
for d in map(int, sys.argv[3:]):
    rng = np.random.default_rng(d)
    x = rng.standard_normal((rows, d)).astype(dtype)
    xtx = best_of(lambda: x.T @ x)
    a = rng.standard_normal((2 * d, d))
    c = a.T @ a / (2 * d)
    eig = best_of(lambda: np.linalg.eigvalsh(c), min_seconds=0.5, min_reps=1)
    print(json.dumps({"d": d, "xtx_s": xtx, "eig_s": eig, "numpy": np.__version__}), flush=True)
