"""numpy's plain computation of what `alphawatch analyze FILE` reports (no interval): load,
centred covariance, all eigenvalues, the power-law fit over ranks [11, 500]. Prints the alpha."""
import sys
import numpy as np

x = np.load(sys.argv[1]).astype(np.float64)
xc = x - x.mean(axis=0)
c = xc.T @ xc / (len(x) - 1)
ev = np.linalg.eigvalsh(c)[::-1]
hi = min(500, len(ev) - 2)
r = np.arange(11, hi + 1, dtype=np.float64)
a = np.stack([-np.log(r), np.ones_like(r)], axis=1)
w = np.sqrt(1.0 / r)
coef = np.linalg.lstsq(a * w[:, None], np.log(ev[10:hi]) * w, rcond=None)[0]
print(f"numpy alpha = {coef[0]:.4f}")
