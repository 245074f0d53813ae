"""A model version's artefacts: made by training, checked and loaded by scoring.

The trees are LightGBM's own text format. The isolation forests (one per partner segment) are
pickled, so they are only ever loaded from our own database after their SHA-256 matches the
one stored with the version when it was trained.
"""

from __future__ import annotations

import hashlib
import pickle  # noqa: S403  our own artefacts, checksum-verified before loading
from dataclasses import dataclass

import lightgbm
import numpy as np

from .choices import ModelStatus

# The isolation forest of partners without one of their own (too few decisions).
EVERY_PARTNER = 0


class ArtefactCorrupt(Exception):
    """A stored artefact's checksum does not match: the version is not loaded."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def forests_dump(forests: dict[int, object]) -> bytes:
    return pickle.dumps(forests, protocol=pickle.HIGHEST_PROTOCOL)


@dataclass
class LoadedModel:
    """A version ready to score: its trees, its forests, and where its features sit in the
    current snapshot row (a feature the row lacks is NaN)."""

    version_id: int
    number: int
    shadow: bool
    booster: lightgbm.Booster
    forests: dict[int, object]
    features: tuple[str, ...]
    columns: np.ndarray  # index of each model feature in the snapshot row, -1: missing

    @classmethod
    def of(cls, version, row_names: tuple[str, ...]) -> LoadedModel:
        artefact = version.artefact.encode()
        forests = bytes(version.anomaly_artefact)
        if sha256(artefact) != version.artefact_sha256 or sha256(forests) != version.anomaly_sha256:
            raise ArtefactCorrupt(f"model v{version.number}: artefact checksum mismatch")
        position = {name: index for index, name in enumerate(row_names)}
        return cls(
            version_id=version.pk,
            number=version.number,
            shadow=version.status == ModelStatus.SHADOW,
            booster=lightgbm.Booster(model_str=version.artefact),
            forests=pickle.loads(forests),  # noqa: S301  checksum verified above
            features=tuple(version.features),
            columns=np.array([position.get(name, -1) for name in version.features]),
        )

    def matrix(self, rows: np.ndarray) -> np.ndarray:
        """The snapshot rows in this model's feature order."""
        out = np.full((rows.shape[0], len(self.columns)), np.nan, dtype=np.float64)
        present = self.columns >= 0
        out[:, present] = rows[:, self.columns[present]]
        return out

    def scores(self, matrix: np.ndarray) -> np.ndarray:
        return self.booster.predict(matrix, num_threads=1)

    def contributions(self, matrix: np.ndarray) -> np.ndarray:
        """Tree SHAP values per row and feature (the last column, the expected value, dropped)."""
        return self.booster.predict(matrix, pred_contrib=True, num_threads=1)[:, :-1]

    def anomalies(self, matrix: np.ndarray, partner_ids: list[int]) -> np.ndarray:
        """0-1, higher is stranger for the partner segment (the isolation forest's own score)."""
        result = np.full(matrix.shape[0], np.nan)
        filled = np.nan_to_num(matrix, nan=-1.0)
        for partner_id in set(partner_ids):
            forest = self.forests.get(partner_id) or self.forests.get(EVERY_PARTNER)
            if forest is None:
                continue
            rows = [i for i, p in enumerate(partner_ids) if p == partner_id]
            result[rows] = -forest.score_samples(filled[rows])
        return result
