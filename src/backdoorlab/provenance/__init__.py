"""Provenance: a signed lineage for every artifact, and gates that refuse what cannot be verified.

- `lineage.write_lineage` — the in-toto Statement (SLSA provenance v1) beside an artifact;
  every writer of an artifact makes this one call.
- `signing.sign` / `signing.verify` — OpenSSF model-signing over a model directory, a run
  directory or a file (and a file's lineage beside it); verification names the file that
  differs. `keyless` — the same with Sigstore, where a network exists.
- `attest.attest` — audit and scan verdicts bound to the content they judged, signed by
  their attester as DSSE envelopes (`envelope`) when given a key (`keys`).
- `policy.enforce` — the gate before training (``--require-provenance``): trusted keys,
  trusted attesters, required verdicts.
- `graph.lineage` — the lineage tree back to its roots; `bom.bom` — a CycloneDX ML-BOM.

Layout of the files beside an artifact: `layout`. Which code built it: `code`.
"""

from backdoorlab.provenance.attest import attest
from backdoorlab.provenance.code import code_identity
from backdoorlab.provenance.lineage import write_lineage

__all__ = ["attest", "code_identity", "write_lineage"]
