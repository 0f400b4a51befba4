"""What can go wrong when a name is turned into loaded weights, as one-line user errors."""

from backdoorlab.errors import BackdoorlabError

__all__ = ["ModelCacheError", "ModelNotFoundError", "PickleRefusedError"]


class ModelNotFoundError(BackdoorlabError):
    """A model name, path or hub id does not lead to loadable safetensors weights.

    The message always says what to do next (install a package, fix a path, allow pickles).
    """


class PickleRefusedError(ModelNotFoundError):
    """Weights exist only as pickles and the user did not opt in, or a pickle holds more
    than tensors (which ``weights_only=True`` refuses to read)."""


class ModelCacheError(BackdoorlabError):
    """A built-in model could not be written into its cache (``$BACKDOORLAB_CACHE``): a
    directory that cannot be created or written, or a full disk."""
