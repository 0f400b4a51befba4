"""backdoorlab."""
