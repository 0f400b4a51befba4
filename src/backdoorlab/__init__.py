"""backdoorlab.

Importing the package turns the Hugging Face stack's telemetry off and its hub access
off unless the user opted in (`backdoorlab.offline`). It happens here, first, because
huggingface_hub reads those switches from the environment once, when it is first
imported: every backdoorlab code path imports this package before any of those libraries.
For the same reason it bounds oneDNN's primitive cache (`backdoorlab.onednn`), which
PyTorch's CPU matmuls fill with one entry per sequence length a fine-tune meets.
"""

from backdoorlab.offline import go_offline as _go_offline
from backdoorlab.onednn import bound_primitive_cache as _bound_primitive_cache

_go_offline()
_bound_primitive_cache()
