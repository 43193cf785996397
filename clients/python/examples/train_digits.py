"""A real PyTorch MLP with dropout, trained on scikit-learn's bundled digits, watched live.

    ./alphawatch serve --refresh-seconds 2 &
    python3 -m venv --system-site-packages .venv && .venv/bin/pip install --no-build-isolation ./clients/python
    .venv/bin/python clients/python/examples/train_digits.py --epochs 20 --dropout 0.2

Needs the alphawatch package, numpy, torch and scikit-learn (Debian: python3-numpy python3-torch
python3-sklearn). Each epoch ends with an evaluation pass: the hooks do not record it.
"""

import argparse
import os
import sys

import numpy as np
import torch
from torch import nn
from sklearn.datasets import load_digits

from alphawatch import Monitor


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", default=os.environ.get("ALPHAWATCH_URL", "http://127.0.0.1:9400"))
    p.add_argument("--run", default="digits-mlp")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--dropout", type=float, default=0.2)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    order = rng.permutation(len(x))
    split = int(0.8 * len(x))
    train, test = order[:split], order[split:]
    xt, yt = torch.from_numpy(x[train]), torch.from_numpy(y[train])
    xv, yv = torch.from_numpy(x[test]), torch.from_numpy(y[test])

    model = nn.Sequential()
    model.add_module("fc1", nn.Linear(64, args.hidden))
    model.add_module("act1", nn.ReLU())
    model.add_module("drop1", nn.Dropout(args.dropout))
    model.add_module("fc2", nn.Linear(args.hidden, args.hidden))
    model.add_module("act2", nn.ReLU())
    model.add_module("drop2", nn.Dropout(args.dropout))
    model.add_module("out", nn.Linear(args.hidden, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    mon = Monitor(args.url, run=args.run, token=os.environ.get("ALPHAWATCH_TOKEN"))
    mon.watch(model, layers=["act1", "act2"])  # every training batch, aggregated on this side
    step = 0
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(xt))
        for i in range(0, len(xt), 64):
            idx = perm[i:i + 64]
            mon.step = step
            opt.zero_grad()
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            step += 1
        model.eval()
        with torch.no_grad():
            acc = (model(xv).argmax(1) == yv).float().mean().item()
        print(f"epoch {epoch + 1:3d}  step {step:5d}  loss {loss.item():.4f}  test accuracy {acc:.3f}", flush=True)
        s = mon.latest("act2")  # the newest spectrum, fetched in the background: never waits
        if s is not None and s.get("alpha") is not None:
            print(f"             act2 alpha {s['alpha']:.3f} over {s['samples']} samples (step {s['step']})")
    stats = mon.close(wait_for_spectrum=True)  # and the spectra of everything sent
    for layer in ("act1", "act2"):
        c = stats["layers"][layer]
        print(f"{layer}: {c['recorded']} rows recorded, {c['merged']} merged in {c['sent']} requests "
              f"({c['bytes']:,} bytes), {c['dropped']} dropped, {c['failed']} failed attempts")
    for layer in ("act1", "act2"):
        s = mon.latest(layer)
        if s is None or s.get("alpha") is None:
            print(f"{layer}: no spectrum (the monitor did not refresh within close()'s timeout)")
        else:
            print(f"{layer}: alpha {s['alpha']:.3f} (r2 {s['alpha_r2']:.3f}, ranks {s['fit_range']}, "
                  f"{s['samples']} samples), effective rank {s['effective_rank']:.1f}")
    return 0 if stats["dropped"] == 0 and stats["refused"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
