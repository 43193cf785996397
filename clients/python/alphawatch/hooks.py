"""Torch forward hooks: which layer outputs become which rows, on which steps, without padding.

Nothing here needs forward-hook keyword arguments (torch >= 2.0): masks reach the hooks through
Monitor.mask() (a context around the forward) or through watch(mask=fn), where fn is given the
watched module's positional inputs by a forward pre-hook.
"""

import collections.abc
import contextlib

_UNSET = object()


class StepCounter:
    """A layer's training steps, for every=N: a step is a new value of Monitor.step, or, when the
    user sets none, a forward call outside repeat passes (a repeat pair belongs to the step before
    it; a pair with no plain forward before it is a step of its own). Every forward call of a
    recorded step is recorded, repeat passes included, so pairs are never split."""

    __slots__ = ("every", "count", "last", "plain_since_pair", "recording")

    def __init__(self, every):
        self.every = every
        self.count = -1
        self.last = _UNSET
        self.plain_since_pair = False
        self.recording = False

    def decide(self, step, repeat):
        """(record this call?, the step to tag it with)."""
        if step is not None:
            new = step != self.last
            self.last = step
        elif repeat is None:
            new = True
            self.plain_since_pair = True
        elif repeat == 0:
            new = not self.plain_since_pair
            self.plain_since_pair = False
        else:
            new = self.count < 0
        if new:
            self.count += 1
            self.recording = self.count % self.every == 0
        return self.recording, (step if step is not None else self.count)


class Masks:
    """The padding mask of the forward passes inside Monitor.mask(): True where a position is a
    real token. Kept per device once converted (one copy per forward, not one per layer)."""

    def __init__(self):
        self.keep = None
        self.on = {}

    @contextlib.contextmanager
    def use(self, keep):
        previous = (self.keep, self.on)
        self.keep, self.on = keep, {}
        try:
            yield
        finally:
            self.keep, self.on = previous


def keep_mask(attention_mask=None, padding=None):
    """A keep mask (bool, True = a real token) from Hugging Face's attention_mask (1 = token) or
    PyTorch's key_padding_mask (True = padding)."""
    import torch
    if (attention_mask is None) == (padding is None):
        raise ValueError("give exactly one of attention_mask (1 = a real token) and padding (True = padding)")
    m = attention_mask if attention_mask is not None else padding
    m = m.detach() if isinstance(m, torch.Tensor) else torch.as_tensor(m)
    if m.dim() != 2:
        raise ValueError(f"a mask is [batch, tokens], got shape {tuple(m.shape)}")
    keep = m != 0
    return keep if attention_mask is not None else ~keep


class WatchGroup:
    """What one watch() call registered: a handle (remove(), or a context manager)."""

    def __init__(self, registry):
        self.registry = registry
        self.layers = {}       # name -> hook handle, while this group owns the name
        self.root_handles = []
        self.mask = None       # watch(mask=fn): fn's answer for the forward pass in progress
        self.unmasked = False  # watch(mask=False): Monitor.mask() does not apply to these layers

    def mask_from_inputs(self, root, mask_fn):
        """fn(*root's positional inputs) before each forward of root, cleared after it (registered
        after the layer hooks, so a watched root still sees its mask)."""
        def before(module, args):
            if not args:
                raise TypeError(f"watch(mask=...): {type(module).__name__} was called without positional inputs "
                                f"(keyword inputs do not reach torch's forward pre-hooks): use "
                                f"`with mon.mask(attention_mask): model(...)` instead")
            m = mask_fn(*args)
            self.mask = None if m is None else keep_mask(attention_mask=m)

        def after(module, inputs, out):
            self.mask = None

        self.root_handles += [root.register_forward_pre_hook(before), root.register_forward_hook(after)]

    def forget(self, name):
        """Another watch() took this layer over."""
        handle = self.layers.pop(name, None)
        if handle is not None:
            handle.remove()
        if not self.layers:
            self._remove_root()

    def _remove_root(self):
        for h in self.root_handles:
            h.remove()
        self.root_handles = []

    def remove(self):
        """Detaches this watch()'s hooks (rows already recorded are still sent)."""
        for name in list(self.layers):
            self.registry.release(name, self)
            self.forget(name)
        self._remove_root()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class HookRegistry:
    """Which watch() owns each layer name: watching a name again replaces its hook (a re-run
    notebook cell records each row once)."""

    def __init__(self):
        self.owner = {}

    def take(self, name, group):
        previous = self.owner.get(name)
        if previous is not None and previous is not group:
            previous.forget(name)
        self.owner[name] = group

    def release(self, name, group):
        if self.owner.get(name) is group:
            del self.owner[name]

    def remove_all(self):
        for group in set(self.owner.values()):
            group.remove()
        self.owner.clear()


def watch(table, masks, registry, module, layers, every, max_rows, conv, tokens, output, training_only, mask):
    """Monitor.watch without the Monitor (hooks must not keep it alive)."""
    if conv not in ("flatten", "mean", "positions"):
        raise ValueError("conv must be 'flatten', 'mean' or 'positions'")
    if every < 1:
        raise ValueError("every must be >= 1")
    if mask is not None and mask is not False and not callable(mask):
        raise TypeError("watch(mask=...) takes a function of the module's positional inputs returning the "
                        "attention mask (1 = a real token); for a mask you hold, use `with mon.mask(m): model(x)`")
    named = dict(module.named_modules())
    if layers is None:
        layers = [n for n, m in named.items() if n and not any(True for _ in m.children())]
    elif isinstance(layers, str):
        layers = [layers]
    resolved = {}
    for name in layers:
        target = resolve(named, name)
        if target is None:
            known = sorted(display_name(n) for n in named if n)
            raise KeyError(f"no submodule {name!r} (known: {known[:30]})")
        resolved[display_name(name)] = target
    group = WatchGroup(registry)
    group.unmasked = mask is False
    for name, target in resolved.items():
        registry.take(name, group)
        group.layers[name] = target.register_forward_hook(
            _hook(table, masks, group, name, every, max_rows, conv, tokens, output, training_only))
    if callable(mask):
        group.mask_from_inputs(module, mask)
    return group


def _hook(table, masks, group, name, every, max_rows, conv, tokens, output, training_only):
    """A forward hook holding the layer table (not the Monitor)."""
    steps = StepCounter(every)

    def hook(module, _inputs, out):
        if table.closed or (training_only and not module.training):
            return
        repeat = table.repeat
        record, step = steps.decide(table.step, repeat)
        if not record:
            return
        keep = None if group.unmasked else (masks.keep if masks.keep is not None else group.mask)
        rows = rows_of(out, conv, tokens, output, name, keep, masks)
        if max_rows is not None and rows.shape[0] > max_rows:
            rows = rows[:max_rows]
        table.record(name, rows, step, repeat)
    return hook


def resolve(named, name):
    """A submodule by name; "x" and "module.x" name the same layer of a wrapped (DDP) model."""
    if name in named:
        return named[name]
    if "module." + name in named:
        return named["module." + name]
    if name.startswith("module.") and name[len("module."):] in named:
        return named[name[len("module."):]]
    return None


def display_name(name):
    return name[len("module."):] if name.startswith("module.") else name


def rows_of(out, conv, tokens, output, name, keep=None, masks=None):
    """The rows (samples x units) a layer output stands for; with a keep mask [B, T], the token
    rows of real tokens only."""
    import torch
    t = select(out, output, name).detach()
    if t.dim() == 1:
        t = t[:, None]
    elif t.dim() == 3:
        if keep is not None:
            t = t[_aligned(keep, t, name, masks)]  # (kept tokens, D), in batch-major order
        else:
            t = t.reshape(-1, t.shape[-1])  # tokens are the samples
        t = _sample(t, tokens)
    elif t.dim() > 3:
        if conv == "flatten":
            t = t.flatten(1)
        elif conv == "mean":
            t = t.flatten(2).mean(dim=2)
        else:
            t = t.flatten(2).transpose(1, 2).reshape(-1, t.shape[1])
            t = _sample(t, tokens)
    if not torch.is_floating_point(t):
        t = t.float()
    return t


def _aligned(keep, t, name, masks):
    """The keep mask on t's device, laid out as t's leading dims: [B, T] (batch first) or [T, B]."""
    shape = tuple(t.shape[:2])
    if tuple(keep.shape) == shape:
        transposed = False
    elif tuple(keep.shape[::-1]) == shape:
        transposed = True
    else:
        raise ValueError(f"layer {name}: the mask has shape {tuple(keep.shape)}, the layer's output "
                         f"{tuple(t.shape)}: a mask is [batch, tokens] of the tokens this layer sees")
    key = (t.device, transposed)
    cache = masks.on if masks is not None and keep is masks.keep else None
    if cache is not None and key in cache:
        return cache[key]
    k = keep.to(t.device)
    k = k.T if transposed else k
    if cache is not None:
        cache[key] = k
    return k


def _sample(t, tokens):
    if tokens is None or t.shape[0] <= tokens:
        return t
    import torch
    idx = torch.randperm(t.shape[0], device=t.device)[:tokens]
    return t[idx]


def select(out, output, name):
    import torch
    if output is not None:
        try:
            out = out[output]
        except (KeyError, IndexError, TypeError) as e:
            raise TypeError(f"layer {name}: output[{output!r}] does not exist ({e})") from e
    if isinstance(out, torch.Tensor):
        return out
    if isinstance(out, (tuple, list)) and out and isinstance(out[0], torch.Tensor):
        return out[0]
    if isinstance(out, collections.abc.Mapping):
        if "last_hidden_state" in out and isinstance(out["last_hidden_state"], torch.Tensor):
            return out["last_hidden_state"]
        keys = [k for k, v in out.items() if isinstance(v, torch.Tensor)]
        raise TypeError(f"layer {name} returns a mapping with tensors {keys}: pick one with watch(..., output=KEY)")
    raise TypeError(f"layer {name} returns {type(out).__name__}, not a tensor: pick one with watch(..., output=...)")
