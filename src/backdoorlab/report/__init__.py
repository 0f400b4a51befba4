"""Human-facing views of traces and results."""
