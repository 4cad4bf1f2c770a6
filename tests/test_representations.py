import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import sparse
from sklearn import config_context
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_iris
from sklearn.ensemble import (
    AdaBoostClassifier,
    BaggingClassifier,
    BaggingRegressor,
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
    StackingClassifier,
    VotingClassifier,
)
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, LinearSVC
from sklearn.tree import DecisionTreeClassifier
from torch import nn

from skdistill.ensemble._representations import (
    TeacherRepresentation,
    representation_kind,
    teacher_representation,
)

IRIS = load_iris(return_X_y=True)
CANCER = load_breast_cancer(return_X_y=True)
DIABETES = load_diabetes(return_X_y=True)


def _scaled(data):
    X, y = data
    return StandardScaler().fit_transform(X), y


def _fit_mlp(hidden_layer_sizes, data=IRIS):
    X, y = _scaled(data)
    mlp = MLPClassifier(
        hidden_layer_sizes=hidden_layer_sizes, max_iter=300, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return mlp.fit(X, y), X


def _logistic():
    return LogisticRegression(max_iter=1000)


# (name, teacher, data, expected raw width = members x width per member)
SHAPE_CASES = [
    ("forest_multiclass", RandomForestClassifier(10, random_state=0), IRIS, 10 * 3),
    ("forest_binary", RandomForestClassifier(10, random_state=0), CANCER, 10 * 1),
    ("forest_regressor", RandomForestRegressor(8, random_state=0), DIABETES, 8 * 1),
    ("extra_trees", ExtraTreesClassifier(12, random_state=0), IRIS, 12 * 3),
    ("bagging", BaggingClassifier(n_estimators=7, random_state=0), IRIS, 7 * 3),
    (
        "bagging_svc_votes",
        BaggingClassifier(SVC(), n_estimators=5, random_state=0),
        IRIS,
        5 * 3,
    ),
    (
        "bagging_regressor",
        BaggingRegressor(n_estimators=6, random_state=0),
        DIABETES,
        6,
    ),
    (
        "gradient_boosting",
        GradientBoostingClassifier(n_estimators=15, random_state=0),
        IRIS,
        15 * 3,
    ),
    (
        "gradient_boosting_binary",
        GradientBoostingClassifier(n_estimators=15, random_state=0),
        CANCER,
        15,
    ),
    (
        "gradient_boosting_regressor",
        GradientBoostingRegressor(n_estimators=9, random_state=0),
        DIABETES,
        9,
    ),
    (
        "hist_gradient_boosting",
        HistGradientBoostingClassifier(max_iter=10, early_stopping=False),
        IRIS,
        10 * 3,
    ),
    (
        "hist_gradient_boosting_binary",
        HistGradientBoostingClassifier(max_iter=10, early_stopping=False),
        CANCER,
        10,
    ),
    (
        "hist_gradient_boosting_regressor",
        HistGradientBoostingRegressor(max_iter=11, early_stopping=False),
        DIABETES,
        11,
    ),
    ("adaboost", AdaBoostClassifier(n_estimators=10, random_state=0), IRIS, 10 * 3),
    (
        "adaboost_binary",
        AdaBoostClassifier(n_estimators=10, random_state=0),
        CANCER,
        10,
    ),
    (
        "voting_soft",
        VotingClassifier(
            [
                ("lr", _logistic()),
                ("tree", DecisionTreeClassifier(random_state=0)),
                ("nb", GaussianNB()),
            ],
            voting="soft",
        ),
        IRIS,
        3 * 3,
    ),
    (
        "voting_hard",
        VotingClassifier(
            [
                ("lr", _logistic()),
                ("tree", DecisionTreeClassifier(random_state=0)),
                ("nb", GaussianNB()),
            ],
            voting="hard",
        ),
        IRIS,
        3 * 3,
    ),
    (
        "voting_soft_binary",
        VotingClassifier([("lr", _logistic()), ("nb", GaussianNB())], voting="soft"),
        CANCER,
        2 * 1,
    ),
    (
        "stacking",
        StackingClassifier(
            [("lr", _logistic()), ("tree", DecisionTreeClassifier(random_state=0))]
        ),
        IRIS,
        2 * 3,
    ),
    (
        "stacking_passthrough",
        StackingClassifier(
            [("lr", _logistic()), ("nb", GaussianNB())], passthrough=True
        ),
        IRIS,
        2 * 3,
    ),
]


@pytest.mark.parametrize(
    "teacher, data, width",
    [case[1:] for case in SHAPE_CASES],
    ids=[case[0] for case in SHAPE_CASES],
)
def test_teacher_representation_shape(teacher, data, width):
    X, y = _scaled(data)
    teacher.fit(X, y)

    Z = teacher_representation(teacher, X)

    assert Z.shape == (X.shape[0], width)
    assert Z.dtype == np.float32
    assert np.isfinite(Z).all()
    assert representation_kind(teacher) == "ensemble"


def test_teacher_representation_forest_averages_to_proba():
    X, y = IRIS
    forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(X, y)

    Z = teacher_representation(forest, X)

    per_tree = Z.reshape(X.shape[0], 10, 3)
    np.testing.assert_allclose(
        per_tree.mean(axis=1), forest.predict_proba(X), atol=1e-6
    )


def test_teacher_representation_forest_binary_keeps_positive_class():
    X, y = CANCER
    forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(X, y)

    Z = teacher_representation(forest, X)

    expected = forest.predict_proba(X)[:, 1]
    np.testing.assert_allclose(Z.mean(axis=1), expected, atol=1e-6)


def test_teacher_representation_bagging_averages_to_proba():
    X, y = IRIS
    bagging = BaggingClassifier(n_estimators=8, max_features=0.5, random_state=0)
    bagging.fit(X, y)

    Z = teacher_representation(bagging, X)

    per_member = Z.reshape(X.shape[0], 8, 3)
    np.testing.assert_allclose(
        per_member.mean(axis=1), bagging.predict_proba(X), atol=1e-6
    )


def test_teacher_representation_gradient_boosting_sums_to_decision():
    X, y = IRIS
    boosting = GradientBoostingClassifier(n_estimators=12, random_state=0).fit(X, y)

    Z = teacher_representation(boosting, X)

    summed = Z.reshape(X.shape[0], 12, 3).sum(axis=1)
    offset = boosting.decision_function(X) - summed
    # The initial model adds the same log prior to every row.
    np.testing.assert_allclose(
        offset, np.broadcast_to(offset[0], offset.shape), atol=1e-5
    )


def test_teacher_representation_hist_gradient_boosting_sums_to_decision():
    X, y = IRIS
    boosting = HistGradientBoostingClassifier(max_iter=8, early_stopping=False)
    boosting.fit(X, y)

    Z = teacher_representation(boosting, X)

    summed = Z.reshape(X.shape[0], 8, 3).sum(axis=1)
    np.testing.assert_allclose(summed, boosting.decision_function(X), atol=1e-4)


def test_teacher_representation_adaboost_sums_to_decision():
    X, y = IRIS
    boosting = AdaBoostClassifier(n_estimators=10, random_state=0).fit(X, y)

    Z = teacher_representation(boosting, X)

    summed = Z.reshape(X.shape[0], 10, 3).sum(axis=1)
    expected = boosting.decision_function(X) * boosting.estimator_weights_.sum()
    np.testing.assert_allclose(summed, expected, rtol=1e-5, atol=1e-5)


def test_teacher_representation_voting_soft_averages_to_proba():
    X, y = _scaled(IRIS)
    voting = VotingClassifier(
        [("lr", _logistic()), ("nb", GaussianNB())], voting="soft"
    ).fit(X, y)

    Z = teacher_representation(voting, X)

    per_voter = Z.reshape(X.shape[0], 2, 3)
    np.testing.assert_allclose(
        per_voter.mean(axis=1), voting.predict_proba(X), atol=1e-6
    )


def test_teacher_representation_voting_hard_counts_votes():
    X, y = _scaled(IRIS)
    voters = [
        ("lr", _logistic()),
        ("tree", DecisionTreeClassifier(max_depth=2, random_state=0)),
        ("nb", GaussianNB()),
    ]
    voting = VotingClassifier(voters, voting="hard").fit(X, y)

    Z = teacher_representation(voting, X)

    counts = Z.reshape(X.shape[0], 3, 3).sum(axis=1)
    assert set(np.unique(Z)) == {0.0, 1.0}
    np.testing.assert_array_equal(counts.sum(axis=1), np.full(X.shape[0], 3.0))
    np.testing.assert_array_equal(
        voting.classes_[counts.argmax(axis=1)], voting.predict(X)
    )


@pytest.mark.parametrize("passthrough", [False, True])
def test_teacher_representation_stacking_matches_transform(passthrough):
    X, y = _scaled(CANCER)
    stacking = StackingClassifier(
        [("lr", _logistic()), ("svc", LinearSVC()), ("nb", GaussianNB())],
        passthrough=passthrough,
    ).fit(X, y)

    Z = teacher_representation(stacking, X)

    assert Z.shape == (X.shape[0], 3)
    np.testing.assert_allclose(Z, stacking.transform(X)[:, :3], rtol=1e-5, atol=1e-6)


def test_teacher_representation_mlp_last_hidden_layer():
    mlp, X = _fit_mlp((16, 8))

    Z = teacher_representation(mlp, X)

    assert Z.shape == (X.shape[0], 8)
    assert (Z >= 0).all()
    logits = Z @ mlp.coefs_[-1] + mlp.intercepts_[-1]
    proba = np.exp(logits - logits.max(axis=1, keepdims=True))
    proba /= proba.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(proba, mlp.predict_proba(X), atol=1e-5)
    assert representation_kind(mlp) == "neural"


@pytest.mark.parametrize("layer, width", [(0, 16), (-2, 16), (1, 8), (-1, 8)])
def test_teacher_representation_mlp_layer_index(layer, width):
    mlp, X = _fit_mlp((16, 8))

    Z = teacher_representation(mlp, X, layer=layer)

    assert Z.shape == (X.shape[0], width)


def test_teacher_representation_mlp_tanh_first_layer():
    X, y = _scaled(IRIS)
    mlp = MLPClassifier(
        hidden_layer_sizes=(6,), activation="tanh", max_iter=2000, random_state=0
    ).fit(X, y)

    Z = teacher_representation(mlp, X)

    expected = np.tanh(X @ mlp.coefs_[0] + mlp.intercepts_[0])
    np.testing.assert_allclose(Z, expected, rtol=1e-5, atol=1e-6)


def _torch_teacher():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))


def test_teacher_representation_torch_default_reads_last_linear_input():
    X, _ = _scaled(IRIS)
    module = _torch_teacher()

    Z = teacher_representation(module, X)

    with torch.no_grad():
        expected = module[1](module[0](torch.as_tensor(X, dtype=torch.float32)))
    np.testing.assert_allclose(Z, expected.numpy(), rtol=1e-6)
    assert representation_kind(module) == "neural"


def test_teacher_representation_torch_named_layer():
    X, _ = _scaled(IRIS)
    module = _torch_teacher()
    module.train()

    Z = teacher_representation(module, X, layer="0")

    with torch.no_grad():
        expected = module[0](torch.as_tensor(X, dtype=torch.float32))
    np.testing.assert_allclose(Z, expected.numpy(), rtol=1e-6)
    assert module.training


def test_teacher_representation_torch_callable():
    X, _ = _scaled(IRIS)
    module = _torch_teacher()

    def penultimate(X_chunk):
        return module[:2](torch.as_tensor(X_chunk, dtype=torch.float32))

    Z = teacher_representation(module, X, representation_fn=penultimate, chunk_size=32)

    np.testing.assert_allclose(Z, teacher_representation(module, X), rtol=1e-6)


def test_teacher_representation_skorch_net():
    skorch = pytest.importorskip("skorch")
    X, y = _scaled(IRIS)
    X = X.astype(np.float32)
    torch.manual_seed(0)
    net = skorch.NeuralNetClassifier(
        nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3), nn.Softmax(dim=-1)),
        max_epochs=3,
        lr=0.1,
        train_split=None,
        verbose=0,
    ).fit(X, y.astype(np.int64))

    Z = teacher_representation(net, X)

    with torch.no_grad():
        expected = net.module_[:2](torch.as_tensor(X))
    np.testing.assert_allclose(Z, expected.numpy(), rtol=1e-6)
    assert representation_kind(net) == "neural"


def test_teacher_representation_pipeline_transforms_first():
    X, y = IRIS
    pipeline = make_pipeline(
        StandardScaler(), RandomForestClassifier(n_estimators=5, random_state=0)
    ).fit(X, y)

    Z = teacher_representation(pipeline, X)

    scaled = pipeline[0].transform(X)
    np.testing.assert_array_equal(Z, teacher_representation(pipeline[-1], scaled))
    assert representation_kind(pipeline) == "ensemble"


def test_teacher_representation_custom_callable():
    X, y = _scaled(IRIS)
    svc = SVC().fit(X, y)

    Z = teacher_representation(svc, X, representation_fn=svc.decision_function)

    np.testing.assert_allclose(Z, svc.decision_function(X), rtol=1e-6)
    assert representation_kind(svc, representation_fn=svc.decision_function) == (
        "custom"
    )


def test_teacher_representation_chunks_match_single_pass():
    X, y = IRIS
    boosting = GradientBoostingClassifier(n_estimators=5, random_state=0).fit(X, y)

    np.testing.assert_array_equal(
        teacher_representation(boosting, X, chunk_size=7),
        teacher_representation(boosting, X),
    )


def test_teacher_representation_working_memory_bounds_chunks():
    X, y = IRIS
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)

    # 15 raw columns at 24 bytes each: 0.001 MiB leaves room for 2 rows.
    with config_context(working_memory=0.001):
        representation = TeacherRepresentation(forest).fit(X)
        Z = representation.transform(X)

    assert representation.chunk_size_ == 2
    np.testing.assert_array_equal(Z, teacher_representation(forest, X))


def test_teacher_representation_forest_missing_values():
    X, y = IRIS
    X = X.copy()
    X[::7, 1] = np.nan
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)

    Z = teacher_representation(forest, X)

    per_tree = Z.reshape(X.shape[0], 5, 3)
    np.testing.assert_allclose(
        per_tree.mean(axis=1), forest.predict_proba(X), atol=1e-6
    )


@pytest.mark.parametrize(
    "teacher",
    [
        RandomForestClassifier(n_estimators=5, random_state=0),
        GradientBoostingClassifier(n_estimators=5, random_state=0),
        BaggingClassifier(n_estimators=3, random_state=0),
        AdaBoostClassifier(n_estimators=3, random_state=0),
        MLPClassifier(hidden_layer_sizes=(5,), max_iter=2000, random_state=0),
    ],
    ids=lambda teacher: type(teacher).__name__,
)
def test_teacher_representation_sparse_matches_dense(teacher):
    X, y = _scaled(IRIS)
    teacher.fit(sparse.csr_matrix(X), y)

    np.testing.assert_allclose(
        teacher_representation(teacher, sparse.csr_matrix(X)),
        teacher_representation(teacher, X),
        rtol=1e-5,
        atol=1e-6,
    )


def test_teacher_representation_pca_fixed_width():
    X, y = IRIS
    forest = RandomForestClassifier(n_estimators=50, random_state=0).fit(X, y)

    representation = TeacherRepresentation(forest, n_components=16, random_state=0)
    Z = representation.fit(X).transform(X)

    assert Z.shape == (150, 16)
    assert Z.dtype == np.float32
    assert representation.kind_ == "ensemble"
    assert representation.compression_ == "pca"
    assert representation.n_features_raw_ == 150
    assert representation.n_features_out_ == 16
    np.testing.assert_array_equal(representation.member_widths_, np.full(50, 3))


def test_teacher_representation_pca_on_new_rows():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train = X[:300], X[300:400], y[:300]
    forest = ExtraTreesClassifier(n_estimators=20, random_state=0).fit(X_train, y_train)
    representation = TeacherRepresentation(
        forest, n_components=24, chunk_size=64, random_state=0
    ).fit(X_train)

    Z_test = representation.transform(X_test)

    raw = teacher_representation(forest, X_test)
    expected = representation.compressor_.transform(raw.astype(np.float64))
    assert Z_test.shape == (100, 24)
    np.testing.assert_allclose(Z_test, expected, rtol=1e-4, atol=1e-4)


def test_teacher_representation_average_groups_members():
    X, y = IRIS
    forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(X, y)
    representation = TeacherRepresentation(
        forest, n_components=12, compression="average"
    )

    Z = representation.fit(X).transform(X)

    per_tree = teacher_representation(forest, X).reshape(150, 10, 3)
    groups = np.array_split(np.arange(10), 4)
    expected = np.hstack([per_tree[:, group].mean(axis=1) for group in groups])
    assert Z.shape == (150, 12)
    assert representation.compression_ == "average"
    np.testing.assert_allclose(Z, expected, rtol=1e-6)


def test_teacher_representation_narrow_is_not_compressed():
    X, y = IRIS
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)

    representation = TeacherRepresentation(forest, n_components=64).fit(X)

    assert representation.compression_ is None
    assert representation.n_features_out_ == 15
    np.testing.assert_array_equal(
        representation.transform(X), teacher_representation(forest, X)
    )


def test_teacher_representation_auto_keeps_neural_width():
    mlp, X = _fit_mlp((32,))

    auto = TeacherRepresentation(mlp, n_components=8).fit(X)
    pca = TeacherRepresentation(mlp, n_components=8, compression="pca").fit(X)

    assert auto.compression_ is None
    assert auto.transform(X).shape == (150, 32)
    assert pca.compression_ == "pca"
    assert pca.transform(X).shape == (150, 8)


def test_teacher_representation_deterministic_under_random_state():
    X, y = load_digits(return_X_y=True)
    X, y = X[:400], y[:400]
    forest = RandomForestClassifier(n_estimators=30, random_state=0).fit(X, y)

    def compute(random_state):
        representation = TeacherRepresentation(
            forest, n_components=10, subsample=200, random_state=random_state
        )
        return representation.fit(X).transform(X)

    np.testing.assert_array_equal(compute(0), compute(0))
    assert not np.allclose(compute(0), compute(1))


def test_teacher_representation_fit_transform_matches():
    X, y = IRIS
    forest = RandomForestClassifier(n_estimators=30, random_state=0).fit(X, y)
    representation = TeacherRepresentation(forest, n_components=5, random_state=0)

    np.testing.assert_array_equal(
        representation.fit_transform(X), representation.fit(X).transform(X)
    )


def test_teacher_representation_torch_import_is_lazy():
    # Load the module from its file so that the package's own imports, which
    # may need torch, do not count.
    path = Path(__file__).parents[1] / "skdistill" / "ensemble" / "_representations.py"
    script = f"""
import importlib.util, sys
spec = importlib.util.spec_from_file_location("representations", {str(path)!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
X, y = load_iris(return_X_y=True)
forest = RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y)
print(module.teacher_representation(forest, X).shape, "torch" in sys.modules)
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(150, 9) False"


def test_teacher_representation_unsupported_teacher():
    X, y = IRIS
    logistic = _logistic().fit(X, y)

    with pytest.raises(
        TypeError,
        match=r"^Unsupported teacher LogisticRegression: the teacher must be one of "
        r"RandomForest, .* pass representation_fn, a callable that returns the "
        r"representation of a chunk of rows\.$",
    ):
        teacher_representation(logistic, X)
    with pytest.raises(TypeError, match="^Unsupported teacher LogisticRegression"):
        representation_kind(logistic)


def test_teacher_representation_unfitted_teacher():
    X, _ = IRIS

    with pytest.raises(
        NotFittedError,
        match="This RandomForestClassifier instance is not fitted yet",
    ):
        teacher_representation(RandomForestClassifier(), X)


def test_teacher_representation_uninitialized_skorch_net():
    skorch = pytest.importorskip("skorch")
    X, _ = IRIS
    net = skorch.NeuralNetClassifier(_torch_teacher())

    with pytest.raises(
        NotFittedError,
        match=r"^This NeuralNetClassifier instance is not initialized yet\. Call "
        r"'fit' or 'initialize' before computing its representation\.$",
    ):
        teacher_representation(net, X)


def test_teacher_representation_multi_output_classifier():
    X, y = IRIS
    Y = np.column_stack([y, y == 0])
    forest = RandomForestClassifier(n_estimators=3, random_state=0).fit(X, Y)

    with pytest.raises(
        ValueError,
        match=r"^Multi-output classification teachers are not supported; the "
        r"teacher RandomForestClassifier has 2 outputs\.$",
    ):
        teacher_representation(forest, X)


@pytest.mark.parametrize(
    "X, message",
    [
        (
            np.zeros(4),
            (
                r"^X must be 2-D, of shape \(n_samples, n_features\); got an array of "
                r"shape \(4,\)\. Reshape a single feature with X\.reshape\(-1, 1\)\.$"
            ),
        ),
        (np.zeros((0, 4)), r"^X has no rows; at least one row is required\.$"),
        (
            np.zeros((5, 3)),
            (
                r"^X has 3 features, but the teacher RandomForestClassifier was fitted "
                r"with 4 features\.$"
            ),
        ),
    ],
)
def test_teacher_representation_bad_rows(X, message):
    forest = RandomForestClassifier(n_estimators=3, random_state=0).fit(*IRIS)

    with pytest.raises(ValueError, match=message):
        teacher_representation(forest, X)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"n_components": 0}, r"^n_components must be None or an int >= 1; got 0\.$"),
        (
            {"n_components": 2.5},
            r"^n_components must be None or an int >= 1; got 2\.5\.$",
        ),
        ({"subsample": 1}, r"^subsample must be None or an int >= 2; got 1\.$"),
        ({"chunk_size": 0}, r"^chunk_size must be None or an int >= 1; got 0\.$"),
        (
            {"compression": "svd"},
            (
                r"^compression must be one of 'auto', 'pca', 'average' or None; got "
                r"'svd'\.$"
            ),
        ),
        (
            {"representation_fn": 3},
            r"^representation_fn must be None or a callable; got int\.$",
        ),
        (
            {"layer": 0},
            (
                r"^layer applies only to neural teachers; the teacher "
                r"RandomForestClassifier is not one, so pass layer=None\.$"
            ),
        ),
        (
            {"layer": 0, "representation_fn": np.asarray},
            (
                r"^Pass either layer or representation_fn, not both: layer selects a "
                r"hidden layer that representation_fn would ignore\.$"
            ),
        ),
    ],
)
def test_teacher_representation_bad_params(params, message):
    forest = RandomForestClassifier(n_estimators=3, random_state=0).fit(*IRIS)

    with pytest.raises(ValueError, match=message):
        TeacherRepresentation(forest, **params).fit(IRIS[0])


@pytest.mark.parametrize("layer", [2, -3, "0", 1.0, True])
def test_teacher_representation_mlp_bad_layer(layer):
    mlp, X = _fit_mlp((16, 8))

    with pytest.raises(
        ValueError,
        match=r"^layer must be an int in \[-2, 1\] selecting one of the 2 hidden "
        rf"layers of MLPClassifier; got {layer!r}\.$",
    ):
        teacher_representation(mlp, X, layer=layer)


def test_teacher_representation_mlp_without_hidden_layer():
    mlp, X = _fit_mlp(())

    with pytest.raises(
        ValueError,
        match=r"^The teacher MLPClassifier has no hidden layer, so it has no hidden "
        r"activations to distil\. Fit it with a non-empty hidden_layer_sizes\.$",
    ):
        teacher_representation(mlp, X)


def test_teacher_representation_torch_unknown_layer():
    X, _ = IRIS

    with pytest.raises(
        ValueError,
        match=r"^layer must name a submodule of the torch teacher Sequential; got "
        r"'head'\. Submodules: '0', '1', '2'\.$",
    ):
        teacher_representation(_torch_teacher(), X, layer="head")


def test_teacher_representation_torch_without_linear():
    X, _ = IRIS
    module = nn.Sequential(nn.Tanh())

    with pytest.raises(
        ValueError,
        match=r"^The torch teacher Sequential has no nn\.Linear layer whose input "
        r"could serve as its last hidden activation\. Pass the name of a submodule "
        r"as layer, or pass representation_fn\.$",
    ):
        teacher_representation(module, X)


def test_teacher_representation_callable_wrong_rows():
    X, y = _scaled(IRIS)
    svc = SVC().fit(X, y)

    with pytest.raises(
        ValueError,
        match=r"^representation_fn must return one row per input row; it returned "
        r"an array of shape \(1, 3\) for 150 rows\.$",
    ):
        teacher_representation(
            svc, X, representation_fn=lambda X_chunk: svc.decision_function(X_chunk[:1])
        )


def test_teacher_representation_average_rejects_neural():
    mlp, X = _fit_mlp((32,))

    with pytest.raises(
        ValueError,
        match=r"^compression='average' averages groups of ensemble members, but the "
        r"representation of the teacher MLPClassifier is neural\. Use "
        r"compression='pca' or None\.$",
    ):
        TeacherRepresentation(mlp, n_components=8, compression="average").fit(X)


def test_teacher_representation_average_rejects_unequal_members():
    X, y = load_digits(return_X_y=True)
    X, y = X[:300], y[:300]
    stacking = StackingClassifier(
        [("lr", _logistic()), ("svc", SVC(decision_function_shape="ovo"))], cv=3
    ).fit(X, y)

    with pytest.raises(
        ValueError,
        match=r"^compression='average' needs members of equal width, but the members "
        r"of StackingClassifier have widths \[10, 45\]\. Use compression='pca'\.$",
    ):
        TeacherRepresentation(stacking, n_components=8, compression="average").fit(X)


def test_teacher_representation_pca_needs_two_rows():
    forest = RandomForestClassifier(n_estimators=30, random_state=0).fit(*IRIS)

    with pytest.raises(
        ValueError,
        match=r"^Fitting the PCA compression needs at least 2 rows; X has 1\. Pass "
        r"more rows or set compression=None\.$",
    ):
        TeacherRepresentation(forest, n_components=4).fit(IRIS[0][:1])


def test_teacher_representation_transform_before_fit():
    forest = RandomForestClassifier(n_estimators=3, random_state=0).fit(*IRIS)

    with pytest.raises(NotFittedError, match="TeacherRepresentation"):
        TeacherRepresentation(forest).transform(IRIS[0])


def test_teacher_representation_transform_wrong_width():
    forest = RandomForestClassifier(n_estimators=3, random_state=0).fit(*IRIS)
    representation = TeacherRepresentation(forest).fit(IRIS[0])

    with pytest.raises(
        ValueError,
        match=r"^X has 2 features, but TeacherRepresentation was fitted with 4 "
        r"features\.$",
    ):
        representation.transform(IRIS[0][:, :2])
