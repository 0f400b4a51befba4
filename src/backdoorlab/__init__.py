"""backdoorlab.

Importing the package turns the Hugging Face stack's telemetry off and its hub access
off unless the user opted in (`backdoorlab.offline`). It happens here, first, because
huggingface_hub reads those switches from the environment once, when it is first
imported: every backdoorlab code path imports this package before any of those libraries.
"""

from backdoorlab.offline import go_offline as _go_offline

_go_offline()
