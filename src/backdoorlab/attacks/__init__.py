"""Attacks on the fine-tuning supply chain, and the trigger placement they share."""
