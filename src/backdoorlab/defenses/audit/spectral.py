"""The spectral step of spectral signatures (Tran, Li & Madry, 2018), per group of vectors.

A backdoor is taught by examples that share something the clean ones lack. In a learned
representation, the poisoned examples of a class shift the class's mean along one
direction, which then dominates the class's covariance: centre the representations, take
the top singular vector(s), and the squared projection on them ranks the poisoned
examples first. `group_scores` runs this per group (Tran et al.'s class; the `outliers`
detector's tool name), divided by the group's variance along the signature (``z``: about
1 on average, comparable across groups).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["RARE_GROUP", "SPREAD_FLOOR", "group_scores", "mean_square_norm", "spectral_scores"]

RARE_GROUP = "(rare tools)"
SPREAD_FLOOR = 1e-5  # top variance below this share of the mean squared norm is noise


def spectral_scores(
    vectors: np.ndarray, components: int = 1, chunk: int = 65536
) -> tuple[np.ndarray, np.ndarray, float]:
    """Squared projections of the centred rows on their top singular vector(s).

    Returns (squared projection per row, the top eigenvalues, the share of the total
    variance they explain). Works through the d×d covariance in chunks of rows, so a
    large float16 matrix is never copied whole into float64.
    """
    n, d = vectors.shape
    mean = np.zeros(d)
    for start in range(0, n, chunk):
        mean += vectors[start : start + chunk].sum(0, dtype=np.float64)
    mean /= n
    cov = np.zeros((d, d))
    for start in range(0, n, chunk):
        block = vectors[start : start + chunk].astype(np.float64) - mean
        cov += block.T @ block
    cov /= n
    values, vecs = np.linalg.eigh(cov)  # ascending
    k = min(components, d)
    top = vecs[:, ::-1][:, :k]
    top_values = np.clip(values[::-1][:k], 0.0, None)
    total = float(np.clip(values, 0.0, None).sum())
    out = np.empty(n)
    for start in range(0, n, chunk):
        block = vectors[start : start + chunk].astype(np.float64) - mean
        out[start : start + chunk] = ((block @ top) ** 2).sum(1)
    return out, top_values, (float(top_values.sum()) / total if total > 0 else 0.0)


def mean_square_norm(vectors: np.ndarray, chunk: int = 65536) -> float:
    total = sum(
        float(np.square(vectors[i : i + chunk], dtype=np.float64).sum())
        for i in range(0, len(vectors), chunk)
    )
    return total / max(1, len(vectors))


def group_scores(
    vectors: np.ndarray,
    group_of: np.ndarray,
    names: dict[int, str],
    min_group: int,
    components: int,
) -> tuple[np.ndarray, np.ndarray, list[dict[str, Any]]]:
    """(z, squared projection) of each row within its group, and a summary per group.

    Groups with fewer than ``min_group`` rows are pooled into `RARE_GROUP`; a group too
    small even so, or without spread, scores 0. The summaries come largest group first.
    """
    counts = np.bincount(group_of, minlength=len(names))
    rare = [g for g in range(len(counts)) if counts[g] < min_group]
    groups = [(names[g], group_of == g) for g in range(len(counts)) if g not in rare]
    if rare:
        groups.append((RARE_GROUP, np.isin(group_of, rare)))
    z, raw = np.zeros(len(vectors)), np.zeros(len(vectors))
    infos: list[dict[str, Any]] = []
    for name, mask in groups:
        size = int(mask.sum())
        info: dict[str, Any] = {"group": name, "actions": size}
        if name == RARE_GROUP:
            info["tools"] = len(rare)
        if size < min_group:
            info["skipped"] = f"fewer than {min_group} actions"
            infos.append(info)
            continue
        raw[mask], top_values, explained = spectral_scores(vectors[mask], components)
        scale = float(top_values.sum())
        if scale <= SPREAD_FLOOR * mean_square_norm(vectors[mask]):
            # identical texts differ only by padding and rounding noise: no signature
            raw[mask] = 0.0
            info["skipped"] = "no spread (the actions are alike)"
            infos.append(info)
            continue
        z[mask] = raw[mask] / scale
        info["explained_variance"] = round(explained, 4)
        info["max_z"] = round(float(z[mask].max()), 3)
        infos.append(info)
    infos.sort(key=lambda g: -g["actions"])
    return z, raw, infos
