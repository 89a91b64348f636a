"""Algorithm knowledge: estimator families, the task they solve, and plain-language explanations.

Why built in: the governance framework asks every card for a high-level explanation of
the algorithm, and most teams use a handful of families. A default written once, in
words a business reader understands, beats an empty section; owners can override it with
``algorithm_explanation``.
"""

from __future__ import annotations

import re

from governance_pipelines.documentation.card_inputs import ModelCardInputs, Task, text_or_none

__all__ = [
    "algorithm_display_name",
    "algorithm_family",
    "default_algorithm_explanation",
    "explain_algorithm",
    "infer_task",
    "resolve_task",
]

_FAMILY_PATTERNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("random_forest", ("randomforest", "extratrees")),
    (
        "gradient_boosting",
        ("gradientboosting", "histgradientboosting", "xgb", "lgbm", "lightgbm", "catboost"),
    ),
    ("logistic_regression", ("logisticregression",)),
    (
        "linear_regression",
        ("linearregression", "ridge", "lasso", "elasticnet", "bayesianridge", "huberregressor"),
    ),
    ("neural_net", ("mlp", "neuralnet", "multilayerperceptron")),
    ("decision_tree", ("decisiontree",)),
)

_EXPLANATIONS: dict[str, str] = {
    "random_forest": (
        "A random forest trains many decision trees, each on a bootstrap sample of the "
        "rows and considering a random subset of the features at every split, and "
        "{combine}. Averaging many de-correlated trees reduces variance, captures "
        "non-linear effects and interactions without hand-made features, and is robust to "
        "outliers and unscaled inputs. Main levers: the number of trees (n_estimators), "
        "tree size (max_depth, min_samples_leaf) and features tried per split (max_features)."
    ),
    "gradient_boosting": (
        "Gradient boosting builds small decision trees one after another; each new tree is "
        "fitted to the remaining errors (the gradient of the loss) of the trees before it, "
        "and its contribution is shrunk by a learning rate. The sum of the trees {output}. "
        "It captures non-linear effects and interactions and is usually the most accurate "
        "choice on tabular data, at the cost of more sensitivity to tuning. Main levers: "
        "number of stages, learning rate, tree depth and subsampling."
    ),
    "logistic_regression": (
        "Logistic regression models the log-odds of the positive class as a weighted sum of "
        "the input features plus an intercept, and turns it into a probability with the "
        "logistic (sigmoid) function. Each coefficient states how one unit of a feature "
        "moves the log-odds, so the model explains itself; in exchange it assumes effects "
        "are additive, so interactions and non-linear effects must be built as features. "
        "Regularisation (C, penalty) keeps coefficients small to avoid overfitting."
    ),
    "linear_regression": (
        "Linear regression predicts the target as a weighted sum of the input features plus "
        "an intercept, choosing the weights that minimise the squared error; Ridge, Lasso "
        "and ElasticNet add a penalty that shrinks the weights to reduce overfitting. Each "
        "coefficient is the expected change in the prediction per unit of its feature with "
        "the others held fixed, which makes the model transparent; non-linear effects must "
        "be built as features."
    ),
    "neural_net": (
        "A multi-layer perceptron is a feed-forward neural network: the inputs pass through "
        "hidden layers of weighted sums and non-linear activations, and the weights are "
        "learned by back-propagation with a gradient-based optimiser. It can fit complex "
        "non-linear relationships, but its weights are not interpretable, so explanations "
        "rely on model-agnostic tools such as permutation importance. Main levers: layer "
        "sizes (hidden_layer_sizes), regularisation (alpha), learning rate and early stopping."
    ),
    "decision_tree": (
        "A decision tree asks a sequence of if/else questions about the features, choosing "
        "at each step the split that best separates the target; a prediction is the value "
        "of the leaf a row ends in. A small tree can be read as a set of rules; a deep one "
        "overfits, which depth and leaf-size limits (max_depth, min_samples_leaf) control."
    ),
}


def algorithm_family(estimator_class: str | None) -> str | None:
    """Map an estimator class path to a known family (``"random_forest"``, ...) or None.

    Also accepts a human name ("Gradient boosting"), so a record that only has the
    algorithm's name still gets the standard explanation.
    """
    if not estimator_class:
        return None
    name = re.sub(r"[^a-z0-9]", "", _class_name(estimator_class).lower())
    for family, patterns in _FAMILY_PATTERNS:
        if any(p in name for p in patterns):
            return family
    return None


def infer_task(estimator_class: str | None) -> Task | None:
    """Guess classification vs regression from the estimator's class name (None if unsure)."""
    if not estimator_class:
        return None
    name = _class_name(estimator_class).lower()
    if "classifier" in name or name in ("logisticregression", "svc", "linearsvc"):
        return "classification"
    if "regressor" in name or algorithm_family(estimator_class) == "linear_regression":
        return "regression"
    if name in ("svr", "linearsvr"):
        return "regression"
    return None


def default_algorithm_explanation(
    estimator_class: str | None, task: Task | None = None
) -> str | None:
    """A plain-language explanation for common estimator families; None if unknown."""
    family = algorithm_family(estimator_class)
    if family is None:
        return None
    task = task or infer_task(estimator_class)
    combine = (
        "combines them by averaging their class probabilities (a soft majority vote)"
        if task == "classification"
        else "averages their predictions"
    )
    output = (
        "gives a score that is turned into a class probability"
        if task == "classification"
        else "is the prediction"
    )
    return _EXPLANATIONS[family].format(combine=combine, output=output)


def resolve_task(inputs: ModelCardInputs) -> Task | None:
    """The declared task, else the one the estimator or the supplied curves imply."""
    task = inputs.task or infer_task(inputs.estimator_class)
    if task is None and (inputs.roc_curve or inputs.calibration):
        return "classification"
    if task is None and inputs.predicted_vs_actual:
        return "regression"
    return task


def explain_algorithm(inputs: ModelCardInputs, task: Task | None) -> tuple[str | None, bool]:
    """The owner's explanation, else the built-in one; and whether the built-in was used.

    Shared by the card and :func:`documentation_gaps`, so a card never shows an
    explanation while the gap list says there is none (or the other way round).
    """
    written = text_or_none(inputs.algorithm_explanation)
    if written is not None:
        return written, False
    key = text_or_none(inputs.estimator_class) or text_or_none(inputs.algorithm)
    default = default_algorithm_explanation(key, task)
    return default, default is not None


def algorithm_display_name(inputs: ModelCardInputs) -> str | None:
    """The human name if given, else the humanised estimator class."""
    return text_or_none(inputs.algorithm) or (
        _humanise_class(inputs.estimator_class) if inputs.estimator_class else None
    )


def _class_name(estimator_class: str) -> str:
    """``sklearn.ensemble.RandomForestClassifier`` → ``RandomForestClassifier``."""
    return estimator_class.rsplit(".", 1)[-1]


def _humanise_class(estimator_class: str) -> str:
    """``sklearn.ensemble.RandomForestClassifier`` → ``Random forest classifier``."""
    name = _class_name(estimator_class)
    words = re.findall(r"[A-Z]+(?=[A-Z][a-z]|\d|\b)|[A-Z]?[a-z]+|\d+", name) or [name]
    out = [w if w.isupper() and len(w) > 1 else w.lower() for w in words]
    out[0] = out[0][:1].upper() + out[0][1:]
    return " ".join(out)
