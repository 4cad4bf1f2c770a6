import numpy as np
import pytest
import torch
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.preprocessing import StandardScaler

from skdistill._feature_losses import (
    FEATURE_LOSS_NAMES,
    AttentionTransferLoss,
    ContrastiveRepresentationLoss,
    HintLoss,
    NSTLoss,
    RelationalKDLoss,
    check_feature_loss_teacher,
    feature_loss_class,
    make_feature_loss,
)

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _wine_features(n_rows=64, width=10, seed=0):
    """Teacher-like features: wine rows through a fixed random tanh layer."""
    X, _ = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)[:n_rows]
    weights = np.random.default_rng(seed).normal(size=(X.shape[1], width))
    return torch.as_tensor(np.tanh(X @ weights / 2), dtype=torch.float32)


def _random_features(n_rows, width, seed=1):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(n_rows, width, generator=generator)


def _make(name, student_dim, teacher_dim, **params):
    torch.manual_seed(0)
    return make_feature_loss(name, student_dim, teacher_dim, **params)


def test_make_feature_loss_classes():
    expected = {
        "hint": (HintLoss, False),
        "attention": (AttentionTransferLoss, True),
        "relational": (RelationalKDLoss, False),
        "contrastive": (ContrastiveRepresentationLoss, False),
        "nst": (NSTLoss, True),
    }

    assert FEATURE_LOSS_NAMES == tuple(expected)
    for name, (loss_class, needs_neural) in expected.items():
        loss = _make(name, 6, 9)
        assert type(loss) is loss_class
        assert feature_loss_class(name) is loss_class
        assert loss_class.requires_neural_teacher is needs_neural


def test_make_feature_loss_passes_params():
    loss = _make("contrastive", 6, 9, temperature=0.2, memory_size=16)

    assert loss.temperature == 0.2
    assert loss.memory_size == 16
    assert loss.student_head.in_features == 6
    assert loss.teacher_head.in_features == 9


def test_make_feature_loss_unknown_name():
    with pytest.raises(
        ValueError,
        match=r"^Unknown feature loss 'fitnet'\. Allowed names are 'hint', "
        r"'attention', 'relational', 'contrastive', 'nst'\.$",
    ):
        make_feature_loss("fitnet", 4, 4)


def test_make_feature_loss_unknown_param():
    with pytest.raises(
        TypeError,
        match=r"^The 'nst' feature loss takes no parameter 'temperature'\. Its "
        r"parameters are 'kernel', 'degree', 'coef0', 'sigma'\.$",
    ):
        make_feature_loss("nst", 4, 4, temperature=1.0)


@pytest.mark.parametrize(
    "student_dim, teacher_dim, message",
    [
        (0, 4, r"^student_dim must be an int >= 1; got 0\.$"),
        (4, 2.0, r"^teacher_dim must be an int >= 1; got 2\.0\.$"),
        (True, 4, r"^student_dim must be an int >= 1; got True\.$"),
    ],
)
def test_make_feature_loss_bad_dims(student_dim, teacher_dim, message):
    with pytest.raises(ValueError, match=message):
        make_feature_loss("relational", student_dim, teacher_dim)


@pytest.mark.parametrize(
    "name, params, error, message",
    [
        (
            "hint",
            {"init": "zeros"},
            ValueError,
            r"^init must be 'random' or 'identity'",
        ),
        ("attention", {"p": 0.5}, ValueError, r"^p must be a float >= 1; got 0\.5\.$"),
        (
            "relational",
            {"distance_weight": -1.0},
            ValueError,
            r"^distance_weight must be a float >= 0; got -1\.0\.$",
        ),
        (
            "relational",
            {"max_angle_rows": 2},
            ValueError,
            r"^max_angle_rows must be an int >= 3; got 2\.$",
        ),
        (
            "contrastive",
            {"temperature": 0.0},
            ValueError,
            r"^temperature must be a float > 0; got 0\.0\.$",
        ),
        (
            "contrastive",
            {"memory_size": -1},
            ValueError,
            r"^memory_size must be an int >= 0; got -1\.$",
        ),
        (
            "contrastive",
            {"embedding_dim": 0},
            ValueError,
            r"^embedding_dim must be an int >= 1; got 0\.$",
        ),
        (
            "nst",
            {"kernel": "rbf"},
            ValueError,
            (
                r"^kernel must be one of 'polynomial', 'linear' or 'gaussian'; got "
                r"'rbf'\.$"
            ),
        ),
        ("nst", {"degree": 0}, ValueError, r"^degree must be an int >= 1; got 0\.$"),
        ("nst", {"coef0": "1"}, TypeError, r"^coef0 must be a float; got '1'\.$"),
        ("nst", {"sigma": -2}, ValueError, r"^sigma must be a float > 0; got -2\.$"),
    ],
)
def test_make_feature_loss_bad_params(name, params, error, message):
    with pytest.raises(error, match=message):
        make_feature_loss(name, 4, 4, **params)


def test_check_feature_loss_teacher_rejects_ensemble():
    class RandomForestClassifier:
        pass

    for name in ("attention", "nst"):
        with pytest.raises(
            ValueError,
            match=rf"^The '{name}' feature loss needs hidden-layer activations of a "
            r"neural teacher, but the teacher RandomForestClassifier is an ensemble "
            r"whose representation is the outputs of its members\. Use one of "
            r"'hint', 'relational', 'contrastive' with this teacher, or a neural "
            r"teacher \(MLPClassifier, a torch module or a skorch net\)\.$",
        ):
            check_feature_loss_teacher(name, RandomForestClassifier(), "ensemble")


def test_check_feature_loss_teacher_accepts_valid_pairs():
    for name in FEATURE_LOSS_NAMES:
        assert check_feature_loss_teacher(name, object(), "neural") is None
        assert check_feature_loss_teacher(name, object(), "custom") is None
    for name in ("hint", "relational", "contrastive"):
        assert check_feature_loss_teacher(name, object(), "ensemble") is None


def test_check_feature_loss_teacher_bad_inputs():
    with pytest.raises(ValueError, match=r"^Unknown feature loss 'kd'\."):
        check_feature_loss_teacher("kd", object(), "neural")
    with pytest.raises(
        ValueError,
        match=r"^representation_kind must be 'neural', 'ensemble' or 'custom'; got "
        r"'trees'\.$",
    ):
        check_feature_loss_teacher("hint", object(), "trees")


def test_hint_loss_zero_with_identity_regressor():
    teacher = _wine_features()
    loss = HintLoss(10, 10, init="identity")

    assert loss(teacher.clone(), teacher).item() == 0.0
    assert loss(_random_features(64, 10), teacher).item() > 0.1


def test_hint_loss_identity_rectangular():
    teacher = _wine_features(width=6)
    student = torch.cat([teacher, torch.zeros(64, 3)], dim=1)
    loss = HintLoss(9, 6, init="identity")

    assert loss(student, teacher).item() == 0.0


def test_attention_loss_zero_on_same_attention():
    teacher = _wine_features()
    loss = AttentionTransferLoss(10, 10)

    assert loss(teacher.clone(), teacher).item() == 0.0
    # The map uses |h|^p scaled per row, so signs and row scales do not count.
    scaled = -3.0 * teacher
    assert loss(scaled, teacher).item() < 1e-10
    assert loss(_random_features(64, 10), teacher).item() > 0.01


def test_attention_loss_pools_wider_layer():
    teacher = _wine_features(width=4)
    # Each teacher neuron spread evenly over two student neurons gives the
    # same pooled attention.
    student = teacher.repeat_interleave(2, dim=1)
    loss = AttentionTransferLoss(8, 4)

    assert loss(student, teacher).item() < 1e-10
    assert AttentionTransferLoss(4, 8)(teacher, student).item() < 1e-10


def test_relational_loss_zero_on_similar_structure():
    teacher = _wine_features()
    loss = RelationalKDLoss()
    rotation, _ = torch.linalg.qr(_random_features(10, 10))

    assert loss(teacher.clone(), teacher).item() == 0.0
    # Distances normalised by their mean and angles are unchanged by rotation,
    # scaling and translation.
    moved = 5.0 * teacher @ rotation + 2.0
    assert loss(moved, teacher).item() < 1e-4
    assert loss(_random_features(64, 7), teacher).item() > 0.1


def test_relational_loss_angle_rows_capped():
    teacher = _wine_features(n_rows=10)
    student = teacher.clone()
    student[3:] = _random_features(7, 10)
    loss = RelationalKDLoss(distance_weight=0.0, max_angle_rows=3)

    assert loss(student, teacher).item() == 0.0
    assert RelationalKDLoss(distance_weight=0.0)(student, teacher).item() > 0.1


@pytest.mark.parametrize("kernel", ["polynomial", "linear", "gaussian"])
def test_nst_loss_zero_on_same_neurons(kernel):
    teacher = _wine_features()
    loss = NSTLoss(kernel=kernel)
    permutation = torch.randperm(10, generator=torch.Generator().manual_seed(0))

    assert abs(loss(teacher.clone(), teacher).item()) < 1e-6
    # Patterns are normalised per neuron and compared as a set, so neuron order
    # and positive neuron scales do not count.
    scales = torch.linspace(0.5, 4.0, 10)
    assert abs(loss(teacher[:, permutation] * scales, teacher).item()) < 1e-6
    assert loss(_random_features(64, 7), teacher).item() > 1e-3


def test_contrastive_loss_prefers_matched_rows():
    teacher = _wine_features()
    loss = _make("contrastive", 10, 10, embedding_dim=16)
    optimizer = torch.optim.Adam(loss.parameters(), lr=0.01)
    for _ in range(200):
        optimizer.zero_grad()
        loss(teacher, teacher).backward()
        optimizer.step()

    matched = loss(teacher, teacher).item()
    shuffled = loss(teacher[torch.randperm(64)], teacher).item()

    assert matched < 0.5 * np.log(64)
    assert shuffled > 2 * matched


@pytest.mark.parametrize("name", FEATURE_LOSS_NAMES)
def test_feature_loss_backpropagates_finite_gradients(name):
    teacher = _wine_features()
    student = _random_features(64, 8).requires_grad_()
    loss = _make(name, 8, 10)

    value = loss(student, teacher)
    value.backward()

    assert value.ndim == 0
    assert value.dtype == torch.float32
    assert torch.isfinite(value)
    assert torch.isfinite(student.grad).all()
    assert student.grad.abs().sum() > 0
    for parameter in loss.parameters():
        assert torch.isfinite(parameter.grad).all()


@pytest.mark.parametrize("name", FEATURE_LOSS_NAMES)
@pytest.mark.parametrize("n_rows", [2, 16])
@pytest.mark.parametrize("fill", [0.0, 1.5])
def test_feature_loss_constant_activations(name, n_rows, fill):
    student = torch.full((n_rows, 8), fill, requires_grad=True)
    teacher = torch.full((n_rows, 10), fill)
    loss = _make(name, 8, 10)

    value = loss(student, teacher)
    value.backward()

    assert torch.isfinite(value)
    assert torch.isfinite(student.grad).all()
    assert student.grad.abs().max() < 1e6


@pytest.mark.parametrize("name", FEATURE_LOSS_NAMES)
def test_feature_loss_batch_of_two(name):
    student = _random_features(2, 8).requires_grad_()
    teacher = _wine_features(n_rows=2)
    loss = _make(name, 8, 10)

    value = loss(student, teacher)
    value.backward()

    assert torch.isfinite(value)
    assert torch.isfinite(student.grad).all()


def test_nst_loss_dead_neuron_gradient():
    student = _random_features(32, 8)
    student[:, 3] = 0.0
    student.requires_grad_()

    for kernel in ("polynomial", "linear", "gaussian"):
        student.grad = None
        NSTLoss(kernel=kernel)(student, _wine_features(n_rows=32)).backward()
        assert torch.isfinite(student.grad).all()
        assert student.grad[:, 3].abs().max() == 0.0


def test_relational_loss_duplicate_rows_gradient():
    student = _random_features(16, 8)
    student[1] = student[0]
    student.requires_grad_()

    RelationalKDLoss()(student, _wine_features(n_rows=16)).backward()

    assert torch.isfinite(student.grad).all()
    assert student.grad.abs().max() < 1e6


# A linear student layer on the wine rows is trained to reduce each loss.
@pytest.mark.parametrize(
    "name, params",
    [
        ("hint", {}),
        ("attention", {}),
        ("relational", {}),
        ("contrastive", {"embedding_dim": 32}),
        ("contrastive", {"embedding_dim": 32, "memory_size": 64}),
        ("nst", {}),
        ("nst", {"kernel": "gaussian"}),
    ],
)
def test_feature_loss_decreases_when_optimised(name, params):
    X, _ = load_breast_cancer(return_X_y=True)
    X = torch.as_tensor(StandardScaler().fit_transform(X)[:128], dtype=torch.float32)
    teacher = torch.tanh(X @ _random_features(30, 12, seed=3) / 4)
    torch.manual_seed(0)
    student = torch.nn.Sequential(torch.nn.Linear(30, 8), torch.nn.Tanh())
    loss = _make(name, 8, 12, **params)
    optimizer = torch.optim.Adam(
        list(student.parameters()) + list(loss.parameters()), lr=0.01
    )
    generator = torch.Generator().manual_seed(0)

    def batch_loss(rows):
        return loss(student(X[rows]), teacher[rows])

    with torch.no_grad():
        loss.eval()
        initial = batch_loss(torch.arange(128)).item()
        loss.train()
    for _ in range(300):
        rows = torch.randperm(128, generator=generator)[:32]
        optimizer.zero_grad()
        batch_loss(rows).backward()
        optimizer.step()
    with torch.no_grad():
        loss.eval()
        final = batch_loss(torch.arange(128)).item()

    assert final < 0.5 * initial


def test_contrastive_loss_memory_bank_fills_in_training():
    loss = _make("contrastive", 8, 10, embedding_dim=4, memory_size=8)
    student = _random_features(5, 8)
    teacher = _wine_features(n_rows=5)

    loss.eval()
    without_memory = loss(student, teacher).item()
    assert int(loss.memory_count) == 0

    loss.train()
    loss(student, teacher)
    assert int(loss.memory_count) == 5
    assert int(loss.memory_position) == 5
    loss(student, teacher)
    assert int(loss.memory_count) == 8
    assert int(loss.memory_position) == 2

    loss.eval()
    with_memory = loss(student, teacher).item()
    # The stored embeddings of the same rows are extra negatives.
    assert with_memory > without_memory
    # The second batch wrote its rows 3 and 4 over slots 0 and 1.
    assert torch.equal(loss.teacher_memory[0], loss.teacher_memory[3])
    assert torch.equal(loss.student_memory[1], loss.student_memory[4])


def test_feature_loss_float64_teacher_cast():
    student = _random_features(16, 10)
    teacher = _wine_features(n_rows=16).double()

    for name in FEATURE_LOSS_NAMES:
        value = _make(name, 10, 10)(student, teacher)
        assert value.dtype == torch.float32


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", FEATURE_LOSS_NAMES)
def test_feature_loss_follows_input_device(name, device):
    student = _random_features(16, 8).to(device)
    teacher = _wine_features(n_rows=16).to(device)
    loss = _make(name, 8, 10, **({"memory_size": 4} if name == "contrastive" else {}))
    loss.to(device)

    value = loss(student, teacher)

    assert value.device.type == device


@pytest.mark.parametrize(
    "student, teacher, message",
    [
        (
            torch.zeros(4),
            torch.zeros(4, 3),
            (
                r"^RelationalKDLoss expects 2-D student features of shape \(n, dim\); "
                r"got Tensor of shape torch\.Size\(\[4\]\)\.$"
            ),
        ),
        (
            torch.zeros(4, 3),
            np.zeros((4, 3)),
            (
                r"^RelationalKDLoss expects 2-D teacher features of shape \(n, dim\); "
                r"got ndarray of shape \(4, 3\)\.$"
            ),
        ),
        (
            torch.zeros(4, 3),
            torch.zeros(5, 3),
            (
                r"^RelationalKDLoss expects as many student rows as teacher rows; "
                r"got 4 and 5\.$"
            ),
        ),
        (
            torch.zeros(1, 3),
            torch.zeros(1, 3),
            r"^RelationalKDLoss needs at least 2 rows per batch; got 1\.$",
        ),
    ],
)
def test_relational_loss_bad_batch(student, teacher, message):
    with pytest.raises(ValueError, match=message):
        RelationalKDLoss()(student, teacher)


def test_hint_loss_wrong_width():
    with pytest.raises(
        ValueError,
        match=r"^HintLoss was built for teacher_dim=10, but the teacher features have "
        r"9 columns\.$",
    ):
        HintLoss(8, 10)(torch.zeros(4, 8), torch.zeros(4, 9))
