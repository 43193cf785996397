"""Compatibility module: ``from alphawatch_client import Monitor`` keeps working.

The client is the package ``alphawatch`` (``pip install ./clients/python``); this file only
re-exports it, for scripts that put clients/python on sys.path.
"""

from alphawatch import AlphawatchError, Moments, Monitor, encode_npy  # noqa: F401

__all__ = ["Monitor", "AlphawatchError", "Moments", "encode_npy"]
