"""An ML-BOM for a run: CycloneDX JSON, the model as a ``machine-learning-model``
component and every dataset it was trained from as a ``data`` component.

Written by hand as plain JSON (CycloneDX 1.6): no CycloneDX library is installed, and the
few fields used here (components, hashes, modelCard.modelParameters.datasets,
dependencies) need none of its machinery. The components come from the lineage graph
(`graph.lineage`): the model is the run's artifact, its inputs built by collect, poison
or filter stages (or any file) are its datasets, and a model input is its base model.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from backdoorlab.provenance.code import code_identity
from backdoorlab.provenance.graph import Node, lineage
from backdoorlab.provenance.layout import artifact_digest

MODEL_KINDS = {"train", "publish", "model"}


def _ref(node: Node) -> str:
    return f"{node.kind or 'root'}:{node.path or node.name}"


def _component(node: Node, model: bool) -> dict[str, Any]:
    component: dict[str, Any] = {
        "type": "machine-learning-model" if model else "data",
        "bom-ref": _ref(node),
        "name": node.path.name if node.path else node.name,
        "properties": [
            {"name": "backdoorlab:kind", "value": node.kind or "root"},
            {"name": "backdoorlab:edge", "value": node.edge},
        ],
    }
    if node.path is not None and node.path.exists():
        component["hashes"] = [{"alg": "SHA-256", "content": artifact_digest(node.path)}]
        component["properties"].append({"name": "backdoorlab:path", "value": str(node.path)})
    component["properties"] += [
        {"name": f"backdoorlab:verdict:{v.kind}", "value": v.verdict} for v in node.verdicts
    ]
    if not model:
        component["data"] = [{"type": "dataset", "name": component["name"]}]
    return component


def _is_model(node: Node) -> bool:
    if node.kind in MODEL_KINDS:
        return True
    return node.path is not None and node.path.is_dir() and (node.path / "config.json").is_file()


def bom(run_dir: Path) -> dict[str, Any]:
    """The CycloneDX document of ``run_dir``'s model and its datasets."""
    root = lineage(Path(run_dir))
    components: dict[str, dict[str, Any]] = {}
    dependencies: list[dict[str, Any]] = []
    model_component = _component(root, True)
    model_component["modelCard"] = {"modelParameters": {"datasets": []}}
    datasets = model_component["modelCard"]["modelParameters"]["datasets"]
    for node in root.walk():
        if node is not root:
            components.setdefault(_ref(node), _component(node, _is_model(node)))
        if node.children:
            refs = [_ref(child) for child in node.children]
            dependencies.append({"ref": _ref(node), "dependsOn": refs})
        if not _is_model(node) and node is not root:
            datasets.append({"ref": _ref(node)})
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": f"urn:uuid:{uuid.uuid4()}",
        "version": 1,
        "metadata": {
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "tools": {
                "components": [
                    {
                        "type": "application",
                        "name": "backdoorlab",
                        "version": code_identity()["backdoorlab"],
                    }
                ]
            },
            "component": model_component,
        },
        "components": list(components.values()),
        "dependencies": dependencies,
    }
