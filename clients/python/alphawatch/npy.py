"""Request bodies of rows: 2-D float32 .npy arrays (and a probe's latent array after them)."""

import io

import numpy as np


def encode_npy(array, latent=None):
    """A request body: the 2-D array as float32 .npy, followed by the latent array for probes."""
    if hasattr(array, "detach"):
        array = array.detach().to("cpu").numpy()
    a = np.asarray(array)
    if a.ndim != 2:
        raise ValueError(f"activations must be 2-D [samples, units], got shape {a.shape}")
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(a, dtype=np.float32), allow_pickle=False)
    if latent is not None:
        z = np.asarray(latent, dtype=np.float64)
        if z.ndim == 1:
            z = z[:, None]
        if z.shape[0] != a.shape[0]:
            raise ValueError(f"latent has {z.shape[0]} rows, activations have {a.shape[0]}")
        np.save(buf, np.ascontiguousarray(z), allow_pickle=False)
    return buf.getvalue()
