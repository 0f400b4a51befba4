"""A FastAPI app served on a free loopback port in a thread (tests of `serve`, the
`openai` policy and `guard proxy`): `backdoorlab.serving.server.serving_in_thread`."""

from backdoorlab.serving.server import serving_in_thread as serving

__all__ = ["serving"]
