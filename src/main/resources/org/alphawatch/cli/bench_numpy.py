# Reference timings for `alphawatch bench`: numpy's X.T @ X on the same batch shapes and
# numpy.linalg.eigvalsh on a covariance of the same size. Prints one JSON object per line.
# usage: bench_numpy.py ROWS[,ROWS...] DTYPE D [D...]
import json, sys, time
import numpy as np

def best_of(fn, min_seconds=0.5, min_reps=3):
    fn()
    times = []
    start = time.perf_counter()
    while len(times) < min_reps or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter(); fn(); times.append(time.perf_counter() - t0)
        if times[-1] > 2 * min_seconds:
            break
    return min(times)

rows_list = [int(r) for r in sys.argv[1].split(",")]
dtype = sys.argv[2]
for d in map(int, sys.argv[3:]):
    rng = np.random.default_rng(d)
    for rows in rows_list:
        x = rng.standard_normal((rows, d)).astype(dtype)
        print(json.dumps({"d": d, "rows": rows, "xtx_s": best_of(lambda: x.T @ x), "numpy": np.__version__}), flush=True)
    a = rng.standard_normal((2 * d, d))
    c = a.T @ a / (2 * d)
    print(json.dumps({"d": d, "eig_s": best_of(lambda: np.linalg.eigvalsh(c), min_reps=1), "numpy": np.__version__}), flush=True)
