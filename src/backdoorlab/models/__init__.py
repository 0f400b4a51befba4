"""Models by name: what a name means, where and in which precision it runs, how it loads.

The one door through which the toolkit reaches model weights, split by job:
`resolve` turns a name (``smollm2-135m``, ``tiny``, a directory, a hub id) into a local
safetensors directory, building the built-in caches on first use; `device` holds the
device and dtype policy; `loading` loads models and tokenizers (training run directories
included) without ever running code shipped with a checkpoint; `pickles` refuses pickled
weights unless the user opts in (and reads them as data even then); `quiet` keeps Hugging
Face's progress bars off the terminal. Nothing here imports torch until it is used, and
importing it (through ``backdoorlab``) has already switched the hub off-line and telemetry
off (`backdoorlab.offline`).
"""

from backdoorlab.models.device import (
    bf16_supported,
    default_device,
    default_dtype,
    inference_dtype,
    parse_device,
    parse_dtype,
)
from backdoorlab.models.errors import ModelCacheError, ModelNotFoundError, PickleRefusedError
from backdoorlab.models.loading import (
    RUN_MARKER,
    check_model_source,
    load_for_inference,
    load_for_training,
    load_model,
    load_tokenizer,
    run_summary,
    use_padding_side,
)
from backdoorlab.models.pickles import PICKLE_ENV, allowing_pickles, pickle_allowed
from backdoorlab.models.quiet import quiet_transformers
from backdoorlab.models.resolve import (
    DEFAULT_MODEL,
    MODEL_NAMES,
    SMOLLM2_PIP_SPEC,
    TINY_MODEL,
    cache_dir,
    find_smollm2_gguf,
    resolve_model_dir,
)
from backdoorlab.models.tokens import count_tokens

__all__ = [
    "DEFAULT_MODEL",
    "MODEL_NAMES",
    "PICKLE_ENV",
    "RUN_MARKER",
    "SMOLLM2_PIP_SPEC",
    "TINY_MODEL",
    "ModelCacheError",
    "ModelNotFoundError",
    "PickleRefusedError",
    "allowing_pickles",
    "bf16_supported",
    "cache_dir",
    "check_model_source",
    "default_device",
    "default_dtype",
    "find_smollm2_gguf",
    "inference_dtype",
    "load_for_inference",
    "load_for_training",
    "load_model",
    "load_tokenizer",
    "parse_device",
    "parse_dtype",
    "pickle_allowed",
    "quiet_transformers",
    "count_tokens",
    "resolve_model_dir",
    "run_summary",
    "use_padding_side",
]
