"""The Wisconsin diagnostic breast-cancer data set as a tidy, governance-ready frame.

It is the second demo model: a small, well-known clinical data set (569 rows, 30 numeric
features) bundled with scikit-learn, so the demo needs no network access. Clinical data is
where a model card matters most, and its label convention is a classic trap: scikit-learn
encodes 0 = malignant, which inverts "positive class" metrics if taken at face value.
"""

from __future__ import annotations

import re

import pandas as pd
from sklearn.datasets import load_breast_cancer

TARGET_COLUMN = "malignant"


def _snake_case(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def load_breast_cancer_frame() -> pd.DataFrame:
    """Features in snake_case plus `malignant` (int64, 1 = malignant, 0 = benign).

    scikit-learn's bundled target uses 0 = malignant; it is flipped here so that the
    positive class is the one a screening model must not miss (recall = sensitivity).
    """
    bunch = load_breast_cancer(as_frame=True)
    features = bunch.data.rename(columns=_snake_case)
    malignant_code = list(bunch.target_names).index("malignant")
    features[TARGET_COLUMN] = (bunch.target.to_numpy() == malignant_code).astype("int64")
    return features
