"""alphawatch: attach PyTorch training runs to an alphawatch monitor.

    from alphawatch import Monitor
    mon = Monitor("http://127.0.0.1:9400", run="my-run")
    mon.watch(model, ["fc1", "fc2"])
    ...
    mon.close()

See docs/attach-pytorch.md.
"""

from .monitor import AlphawatchError, Monitor
from .moments import Moments
from .npy import encode_npy

__all__ = ["Monitor", "AlphawatchError", "Moments", "encode_npy"]
__version__ = "0.3.0"
