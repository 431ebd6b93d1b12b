"""Measurements of the trained networks: each study is a command (`python -m studies.<name>`)
that writes one table to results/, carrying the sha256 of every checkpoint it measured, so that
the server serves a table only with the weights it was measured on (app/serving/tables.py) and
docs/results.md is made from them (`python -m studies.report`).

STUDIES is their one list: where each writes, which models it measures, how to re-run it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

RESULTS = Path(__file__).resolve().parent.parent / "results"


@dataclass(frozen=True)
class Study:
    name: str  # its module in studies/
    output: str  # its table in results/
    models: tuple[str, ...] = ("capsnet",)  # the checkpoints it measures (model/registry.py)
    module: str = ""  # its command's module, where not studies.<name>

    @property
    def path(self) -> Path:
        return RESULTS / self.output

    @property
    def command(self) -> str:
        """MNIST from $CAPSNET_MNIST, --data PATH or Keras' download, as for training."""
        return f"python -m {self.module or 'studies.' + self.name}"


STUDIES = {study.name: study for study in (
    Study("robustness", "robustness.json", ("capsnet", "cnn")),
    Study("votes", "votes_pca.json"),
    Study("dimensions", "dimensions.json"),
    Study("mistakes", "mistakes.json"),
    Study("routing_share", "routing_share.json", ("capsnet", "multimnist")),
    # the networks as the static edition ships them (static_site/export.py), on the whole test set
    Study("static_edition", "static_edition.json", ("capsnet", "cnn", "multimnist"), module="static_site.measure"),
)}
