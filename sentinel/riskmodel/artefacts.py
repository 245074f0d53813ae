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
    forests: dict[int, ForestScorer]
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
            forests={
                segment: ForestScorer.of(forest)
                for segment, forest in pickle.loads(forests).items()  # noqa: S301  verified above
            },
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
        filled = np.nan_to_num(matrix, nan=-1.0).astype(np.float32)
        for partner_id in set(partner_ids):
            forest = self.forests.get(partner_id) or self.forests.get(EVERY_PARTNER)
            if forest is None:
                continue
            rows = [i for i, p in enumerate(partner_ids) if p == partner_id]
            result[rows] = forest.scores(filled[rows])
        return result


def average_path_length(samples: np.ndarray) -> np.ndarray:
    """The mean path length of an unsuccessful search in a binary search tree of ``samples``
    points: the isolation forest's normaliser, c(n) in Liu, Ting and Zhou (2008)."""
    samples = np.asarray(samples, dtype=np.float64)
    result = np.zeros_like(samples)
    result[samples == 2] = 1.0
    many = samples > 2
    n = samples[many]
    result[many] = 2.0 * (np.log(n - 1.0) + np.euler_gamma) - 2.0 * (n - 1.0) / n
    return result


@dataclass
class ForestScorer:
    """An isolation forest's anomaly score, 0-1 (higher is stranger), computed from its trees'
    public arrays: the same number as scikit-learn's ``-score_samples``, without the
    per-call set-up that cost about 2.5 ms even for one row (a ``?wait=true`` request)."""

    trees: list  # each estimator's low-level tree (``tree_``: ``apply`` on float32 rows)
    features: list[np.ndarray | None]  # the columns each tree was grown on; None: all
    leaf_depths: list[np.ndarray]  # per node: its depth plus c(samples in it)
    normaliser: float  # number of trees x c(samples per tree)

    @classmethod
    def of(cls, forest) -> ForestScorer:
        trees, features, depths = [], [], []
        every = forest.n_features_in_
        for estimator, columns in zip(forest.estimators_, forest.estimators_features_, strict=True):
            tree = estimator.tree_
            trees.append(tree)
            features.append(None if len(columns) == every else np.asarray(columns))
            depths.append(_node_depths(tree) + average_path_length(tree.n_node_samples))
        normaliser = len(trees) * float(average_path_length([forest.max_samples_])[0])
        return cls(trees=trees, features=features, leaf_depths=depths, normaliser=normaliser)

    def scores(self, rows: np.ndarray) -> np.ndarray:
        """``rows``: float32, no NaN (the caller fills them as training did)."""
        depths = np.zeros(rows.shape[0])
        for tree, columns, leaf_depth in zip(
            self.trees, self.features, self.leaf_depths, strict=True
        ):
            leaves = tree.apply(rows if columns is None else np.ascontiguousarray(rows[:, columns]))
            depths += leaf_depth[leaves]
        if not self.normaliser:  # a forest of one sample: everything is as strange
            return np.ones(rows.shape[0])
        return 2.0 ** (-depths / self.normaliser)


def _node_depths(tree) -> np.ndarray:
    """Each node's depth (the root's is 0), parents before children as the arrays list them."""
    depths = np.zeros(tree.node_count, dtype=np.float64)
    left, right = tree.children_left, tree.children_right
    for node in range(tree.node_count):
        if left[node] != -1:
            depths[left[node]] = depths[right[node]] = depths[node] + 1
    return depths
