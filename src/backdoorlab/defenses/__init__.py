"""Defences against backdoored agent data and models.

`backdoorlab.defenses.audit` inspects a fine-tuning dataset *before* training: a
poisoned trace is cheapest to stop while it is still a line in a JSONL file.
"""
