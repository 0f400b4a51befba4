"""A tiny experiment grid shared by the engine tests (`test_local_jobs`, `test_ray_engine`):
three T1 cells on the random ``tiny`` model, the last of which fails on purpose."""

GRID = {
    "name": "tiny-engine",
    "model": "tiny",
    "collect": {"n": 12},
    "attack": {"name": "data-poisoning", "trigger": "ZQX"},
    "train": {"max_steps": 1, "batch_size": 2, "grad_accum": 1},
    "eval": {"n": 2, "max_steps": 1, "max_new_tokens": 4},
    "baseline": False,
    # count 99 > 12 traces: the poison stage of that cell fails
    "grid": {"attack.count": [0, 2, 99]},
}
