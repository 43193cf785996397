"""What watching costs a trainer: interleaved A/B rounds, process CPU and wall ratios.

    python3 -m alphawatch.bench --url http://127.0.0.1:9400            # both models, every mode
    python3 -m alphawatch.bench --model digits --rounds 3 --steps 50   # the CI smoke test

Each round trains the same model for --steps steps once per mode, in an order that rotates from
round to round (so drift in the machine's speed does not favour one mode): "off" (no hooks), and
watching two hidden layers at every=1 (--every) with aggregation in float64 ("aggregate"), aggregation in
float32 ("aggregate32") and row streaming ("rows", the client before aggregation). A watched
segment includes creating the Monitor and its close(), which sends what is left: the whole cost.
Reports, per mode, the median and the range over rounds of the CPU and wall ratios to "off" in
the same round, and the bytes and requests sent per step. The numbers depend on the server's
window (a sliding window's panes bound each partial: docs/attach-pytorch.md) and on BLAS threads
(OPENBLAS_NUM_THREADS=1 stops idle BLAS threads from counting as CPU).

Models: "digits" is the documented example's MLP (64 -> 128 -> 128 -> 10, batch 64) on random
inputs; "wide" is a 1024-wide MLP (1024 -> 1024 -> 1024 -> 10, batch 256).
"""

import argparse
import os
import statistics
import sys
import time

MODES = ("off", "aggregate", "aggregate32", "rows")
MODELS = {"digits": (64, 128, 64), "wide": (1024, 1024, 256)}  # input, width, batch


def _model(name, seed):
    import torch
    from torch import nn
    inputs, width, batch = MODELS[name]
    torch.manual_seed(seed)
    model = nn.Sequential()
    model.add_module("fc1", nn.Linear(inputs, width))
    model.add_module("act1", nn.ReLU())
    model.add_module("fc2", nn.Linear(width, width))
    model.add_module("act2", nn.ReLU())
    model.add_module("out", nn.Linear(width, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(batch, inputs)
    y = torch.randint(0, 10, (batch,))
    return model, opt, x, y


def _segment(url, name, mode, steps, seed, run, every=1):
    """Trains `steps` steps in `mode`; (process CPU seconds, wall seconds, bytes sent, requests sent)."""
    import torch
    from torch import nn
    from .monitor import Monitor
    model, opt, x, y = _model(name, seed)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    for _ in range(3):  # warm-up outside the measurement
        step()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    mon = None
    if mode != "off":
        mon = Monitor(url, run=run, aggregate=mode != "rows", precision="float32" if mode == "aggregate32" else "float64")
        mon.watch(model, ["act1", "act2"], every=every)
    for i in range(steps):
        if mon is not None:
            mon.step = i
        step()
    sent = requests = 0
    if mon is not None:
        stats = mon.close(timeout=60)
        sent, requests = stats["bytes"], stats["sent"]
        if stats["dropped"] or stats["refused"]:
            print(f"  warning: {mode}: {stats['dropped']} rows dropped, {stats['refused']} refused "
                  f"({stats['errors'][:2]})", file=sys.stderr)
    return time.process_time() - cpu0, time.perf_counter() - wall0, sent, requests


def run(url, models, modes, rounds, steps, every=1, out=sys.stdout):
    """The table as a list of dicts (also printed)."""
    import torch
    rows = []
    print(f"alphawatch client overhead: {rounds} interleaved rounds x {steps} steps, torch {torch.__version__}, "
          f"{torch.get_num_threads()} torch threads, OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', '-')}, "
          f"two layers watched at every={every}", file=out)
    for name in models:
        cpu = {m: [] for m in modes}
        wall = {m: [] for m in modes}
        sent = {m: 0 for m in modes}
        requests = {m: 0 for m in modes}
        for r in range(rounds):
            order = modes[r % len(modes):] + modes[:r % len(modes)]
            for mode in order:
                c, w, b, n = _segment(url, name, mode, steps, seed=r, run=f"bench-{name}-{mode}", every=every)
                cpu[mode].append(c)
                wall[mode].append(w)
                sent[mode] += b
                requests[mode] += n
        base_cpu, base_wall = cpu["off"], wall["off"]
        inputs, width, batch = MODELS[name]
        print(f"\n{name}: MLP {inputs} -> {width} -> {width} -> 10, batch {batch}; "
              f"off: {statistics.median(base_cpu) / steps * 1e3:.3f} ms CPU per step", file=out)
        print(f"  {'mode':<12} {'CPU ratio':>10} {'(range)':>16} {'wall ratio':>11} {'(range)':>16} "
              f"{'bytes/step':>11} {'requests/step':>13}", file=out)
        for mode in modes:
            if mode == "off":
                continue
            cr = [c / b for c, b in zip(cpu[mode], base_cpu)]
            wr = [c / b for c, b in zip(wall[mode], base_wall)]
            per_step = sent[mode] / (rounds * steps)
            row = {"model": name, "mode": mode, "cpu_ratio": statistics.median(cr), "cpu_min": min(cr),
                   "cpu_max": max(cr), "wall_ratio": statistics.median(wr), "wall_min": min(wr), "wall_max": max(wr),
                   "bytes_per_step": per_step, "requests_per_step": requests[mode] / (rounds * steps)}
            rows.append(row)
            print(f"  {mode:<12} {row['cpu_ratio']:>10.3f} {f'({min(cr):.3f}-{max(cr):.3f})':>16} "
                  f"{row['wall_ratio']:>11.3f} {f'({min(wr):.3f}-{max(wr):.3f})':>16} {per_step:>11,.0f} "
                  f"{row['requests_per_step']:>13.4f}", file=out)
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(prog="python3 -m alphawatch.bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", default=os.environ.get("ALPHAWATCH_URL", "http://127.0.0.1:9400"))
    p.add_argument("--model", choices=sorted(MODELS) + ["all"], default="all")
    p.add_argument("--modes", default=",".join(MODES[1:]), help="comma-separated among " + ", ".join(MODES[1:]))
    p.add_argument("--rounds", type=int, default=9)
    p.add_argument("--steps", type=int, default=0, help="steps per segment (default: 1000 digits, 40 wide)")
    p.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's own)")
    p.add_argument("--every", type=int, default=1, help="record every N-th forward call of each layer")
    args = p.parse_args(argv)
    import torch
    if args.threads:
        torch.set_num_threads(args.threads)
    modes = ["off"] + [m for m in args.modes.split(",") if m]
    unknown = [m for m in modes if m not in MODES]
    if unknown or args.rounds < 1 or args.steps < 0 or args.every < 1:
        p.error(f"unknown modes {unknown}" if unknown else "--rounds >= 1, --steps >= 0 and --every >= 1")
    models = sorted(MODELS) if args.model == "all" else [args.model]
    for name in models:
        steps = args.steps or (1000 if name == "digits" else 40)
        run(args.url, [name], tuple(modes), args.rounds, steps, args.every)
    return 0


if __name__ == "__main__":
    sys.exit(main())
