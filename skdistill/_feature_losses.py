"""Feature-distillation losses between student activations and teacher features.

Each loss is an `nn.Module` called as ``loss(student, teacher)`` on a batch of
student hidden activations of shape ``(n, student_dim)`` and teacher
representations of shape ``(n, teacher_dim)``, and returns a scalar tensor.
The teacher representation is a fixed target: it is detached, so gradients
reach only the student and the loss's own parameters (the regressor of the
hint loss, the embedding heads of the contrastive loss). It is cast to the
student's dtype, so float64 teacher features can be paired with a float32
student.

The losses are device-agnostic: the parameter-free ones run on the device of
their inputs, and the ones with parameters run there once moved with
``loss.to(device)``, like the student.

`requires_neural_teacher` marks the losses that read per-neuron structure
(attention transfer, neuron selectivity transfer). They need hidden-layer
activations of a neural teacher, not the outputs of an ensemble's members;
`check_feature_loss_teacher` raises a clear error for that pairing.
"""

import inspect
import numbers

import torch
import torch.nn.functional as F
from torch import nn

# Below this norm a vector is treated as zero by `_normalize_rows`.
_NORM_EPS = 1e-12

# Floor of squared pairwise distances, so that the square root keeps a finite
# gradient for coincident rows.
_DISTANCE_EPS = 1e-12


def _normalize_rows(x, dim=-1):
    """Scale vectors to unit L2 norm, mapping near-zero vectors to zero.

    `F.normalize` divides a zero vector by its epsilon, which gives gradients
    near ``1 / eps``. The direction of a zero vector is undefined, so here it
    maps to zero with a zero gradient instead.
    """
    norm = torch.linalg.vector_norm(x, dim=dim, keepdim=True)
    safe = x / norm.clamp_min(_NORM_EPS)
    return torch.where(norm > _NORM_EPS, safe, torch.zeros_like(safe))


def _check_dim(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be an int >= 1; got {value!r}.")
    return int(value)


def _check_positive(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value <= 0:
        raise ValueError(f"{name} must be a float > 0; got {value!r}.")
    return float(value)


def _check_non_negative(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value < 0:
        raise ValueError(f"{name} must be a float >= 0; got {value!r}.")
    return float(value)


def _check_batch(loss, student, teacher, min_rows, student_dim=None, teacher_dim=None):
    """Validate a batch pair and return the detached teacher in the student's dtype."""
    name = type(loss).__name__
    for role, tensor in (("student", student), ("teacher", teacher)):
        if not isinstance(tensor, torch.Tensor) or tensor.ndim != 2:
            shape = getattr(tensor, "shape", None)
            raise ValueError(
                f"{name} expects 2-D {role} features of shape (n, dim); got "
                f"{type(tensor).__name__} of shape {shape}."
            )
    if student.shape[0] != teacher.shape[0]:
        raise ValueError(
            f"{name} expects as many student rows as teacher rows; got "
            f"{student.shape[0]} and {teacher.shape[0]}."
        )
    if student.shape[0] < min_rows:
        raise ValueError(
            f"{name} needs at least {min_rows} rows per batch; got {student.shape[0]}."
        )
    for role, tensor, expected in (
        ("student", student, student_dim),
        ("teacher", teacher, teacher_dim),
    ):
        if expected is not None and tensor.shape[1] != expected:
            raise ValueError(
                f"{name} was built for {role}_dim={expected}, but the {role} "
                f"features have {tensor.shape[1]} columns."
            )
    return teacher.detach().to(dtype=student.dtype)


class HintLoss(nn.Module):
    """FitNets hint loss: regress the teacher features from the student layer.

    A learnable linear regressor maps the student activations to the width of
    the teacher representation, and the loss is their mean squared error.

    Parameters
    ----------
    student_dim : int
        Width of the student hidden layer.
    teacher_dim : int
        Width of the teacher representation.
    init : {"random", "identity"}, default="random"
        Initialisation of the regressor. "random" keeps PyTorch's default for
        `nn.Linear`. "identity" sets the weight to the (rectangular) identity
        and the bias to zero, so the first ``min(student_dim, teacher_dim)``
        student features are compared with the same teacher features.

    Attributes
    ----------
    regressor : torch.nn.Linear
        The regressor from `student_dim` to `teacher_dim` features.

    Notes
    -----
    With student activations :math:`s_i`, teacher features :math:`t_i` and the
    regressor :math:`r(s) = W s + b`, the loss over a batch of :math:`n` rows is

    .. math::

        L = \\frac{1}{n \\, d_t} \\sum_{i=1}^{n} \\lVert t_i - W s_i - b \\rVert_2^2 .

    The mean over rows and teacher features keeps the scale independent of the
    batch size and the teacher width.

    References
    ----------
    .. [1] A. Romero, N. Ballas, S. E. Kahou, A. Chassang, C. Gatta and
       Y. Bengio, "FitNets: Hints for Thin Deep Nets", ICLR 2015.

    Examples
    --------
    >>> import torch
    >>> from skdistill._feature_losses import HintLoss
    >>> loss = HintLoss(4, 4, init="identity")
    >>> features = torch.randn(8, 4)
    >>> loss(features, features).item()
    0.0
    """

    requires_neural_teacher = False

    def __init__(self, student_dim, teacher_dim, *, init="random"):
        super().__init__()
        self.student_dim = _check_dim("student_dim", student_dim)
        self.teacher_dim = _check_dim("teacher_dim", teacher_dim)
        if init not in ("random", "identity"):
            raise ValueError(f"init must be 'random' or 'identity'; got {init!r}.")
        self.regressor = nn.Linear(self.student_dim, self.teacher_dim)
        if init == "identity":
            with torch.no_grad():
                nn.init.eye_(self.regressor.weight)
                nn.init.zeros_(self.regressor.bias)

    def forward(self, student, teacher):
        teacher = _check_batch(
            self, student, teacher, 1, self.student_dim, self.teacher_dim
        )
        return F.mse_loss(self.regressor(student), teacher)


def _pooled_attention(features, p, width):
    """Per-row attention over features: normalised, pooled ``|h_j|^p``."""
    attention = features.abs().pow(p)
    if attention.shape[1] != width:
        attention = F.adaptive_avg_pool1d(attention.unsqueeze(1), width).squeeze(1)
    return _normalize_rows(attention)


class AttentionTransferLoss(nn.Module):
    """Activation-based attention transfer adapted to dense layers.

    In a convolutional layer, the attention map of a sample sums the channel
    activations raised to the power `p` at each spatial position. A dense
    layer has no spatial positions, so here each neuron is a position with a
    single channel: the attention of row :math:`i` over neuron :math:`j` is
    :math:`|h_{ij}|^p`. The map of each row is scaled to unit L2 norm, and the
    loss is the squared distance between the student and teacher maps.

    When the widths differ, both maps are average-pooled (adaptive average
    pooling over the neuron axis) to :math:`m = \\min(d_s, d_t)` bins before
    normalisation. Bin :math:`k` then covers a block of consecutive neurons of
    the wider layer, as convolutional implementations pool the larger feature
    map to the smaller spatial size. The neuron order of a dense layer carries
    no meaning, so the student learns which of its neurons to align with each
    teacher bin.

    Parameters
    ----------
    student_dim : int
        Width of the student hidden layer.
    teacher_dim : int
        Width of the teacher's hidden layer.
    p : float, default=2.0
        Power applied to the absolute activations. Must be at least 1 so the
        map keeps a finite gradient at zero activations.

    Notes
    -----
    With :math:`a_i = \\mathrm{pool}_m(|h_i|^p)` and
    :math:`q_i = a_i / \\lVert a_i \\rVert_2` (zero when :math:`a_i = 0`),

    .. math::

        L = \\frac{1}{n} \\sum_{i=1}^{n}
            \\lVert q^{S}_i - q^{T}_i \\rVert_2^2 \\in [0, 2] .

    The authors' reference code averages the squared differences over rows
    and features. Here they are summed over features, so the scale does not
    depend on :math:`m`. The paper's weight :math:`\\beta` is left to the
    caller.

    References
    ----------
    .. [1] S. Zagoruyko and N. Komodakis, "Paying More Attention to Attention:
       Improving the Performance of Convolutional Neural Networks via
       Attention Transfer", ICLR 2017.

    Examples
    --------
    >>> import torch
    >>> from skdistill._feature_losses import AttentionTransferLoss
    >>> loss = AttentionTransferLoss(6, 6)
    >>> features = torch.randn(8, 6)
    >>> float(loss(features, features))
    0.0
    """

    requires_neural_teacher = True

    def __init__(self, student_dim, teacher_dim, *, p=2.0):
        super().__init__()
        self.student_dim = _check_dim("student_dim", student_dim)
        self.teacher_dim = _check_dim("teacher_dim", teacher_dim)
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or p < 1:
            raise ValueError(f"p must be a float >= 1; got {p!r}.")
        self.p = float(p)

    def forward(self, student, teacher):
        teacher = _check_batch(
            self, student, teacher, 1, self.student_dim, self.teacher_dim
        )
        width = min(self.student_dim, self.teacher_dim)
        student_map = _pooled_attention(student, self.p, width)
        teacher_map = _pooled_attention(teacher, self.p, width)
        return (student_map - teacher_map).pow(2).sum(dim=1).mean()


def _pairwise_distances(x):
    """Euclidean distances between the rows of x, zero on the diagonal."""
    squared_norms = x.pow(2).sum(dim=1)
    squared = squared_norms[:, None] + squared_norms[None, :] - 2.0 * x @ x.T
    distances = squared.clamp_min(_DISTANCE_EPS).sqrt()
    off_diagonal = 1.0 - torch.eye(x.shape[0], dtype=x.dtype, device=x.device)
    return distances * off_diagonal


def _mean_normalised_distances(x):
    distances = _pairwise_distances(x)
    n_pairs = x.shape[0] * (x.shape[0] - 1)
    mean = distances.sum() / n_pairs
    return distances / mean.clamp_min(_NORM_EPS)


def _triplet_angles(x):
    """Cosines of the angles at each row j between rows i and k.

    Entry ``[j, i, k]`` is the inner product of the unit vectors from
    ``x[j]`` to ``x[i]`` and from ``x[j]`` to ``x[k]``.
    """
    differences = _normalize_rows(x[None, :, :] - x[:, None, :], dim=2)
    return torch.bmm(differences, differences.transpose(1, 2))


class RelationalKDLoss(nn.Module):
    """Relational knowledge distillation: distance-wise and angle-wise terms.

    The loss compares the structure of the batch, not the features
    themselves, so the student and teacher widths may differ and no
    parameters are learnt.

    Parameters
    ----------
    distance_weight : float, default=25.0
        Weight :math:`\\lambda_D` of the distance-wise term.
    angle_weight : float, default=50.0
        Weight :math:`\\lambda_A` of the angle-wise term.
    max_angle_rows : int, default=128
        The angle term compares :math:`n^3` triplets and builds an
        :math:`n \\times n \\times d` tensor of differences, so it uses only the
        first `max_angle_rows` rows of the batch. Mini-batches are shuffled,
        so these rows are a random subset.

    Notes
    -----
    With pairwise distances :math:`d_{ij} = \\lVert x_i - x_j \\rVert_2`, their
    mean :math:`\\mu` over pairs :math:`i \\ne j`, the Huber loss
    :math:`\\ell_\\delta` with :math:`\\delta = 1` (`smooth_l1_loss`) and
    :math:`e_{ji} = (x_i - x_j) / \\lVert x_i - x_j \\rVert_2`,

    .. math::

        L_D &= \\frac{1}{n^2} \\sum_{i,j}
               \\ell_\\delta\\left(d^{T}_{ij} / \\mu^{T}, \\;
               d^{S}_{ij} / \\mu^{S}\\right), \\\\
        L_A &= \\frac{1}{n^3} \\sum_{i,j,k}
               \\ell_\\delta\\left(\\langle e^{T}_{ji}, e^{T}_{jk} \\rangle, \\;
               \\langle e^{S}_{ji}, e^{S}_{jk} \\rangle\\right), \\\\
        L &= \\lambda_D L_D + \\lambda_A L_A .

    The default weights, 25 and 50, are those of common implementations such
    as RepDistiller's `RKDLoss`. A difference vector of coincident rows has no
    direction and counts as zero.

    References
    ----------
    .. [1] W. Park, D. Kim, Y. Lu and M. Cho, "Relational Knowledge
       Distillation", CVPR 2019.

    Examples
    --------
    >>> import torch
    >>> from skdistill._feature_losses import RelationalKDLoss
    >>> loss = RelationalKDLoss()
    >>> features = torch.randn(8, 5)
    >>> float(loss(features, features))
    0.0
    """

    requires_neural_teacher = False

    def __init__(self, *, distance_weight=25.0, angle_weight=50.0, max_angle_rows=128):
        super().__init__()
        self.distance_weight = _check_non_negative("distance_weight", distance_weight)
        self.angle_weight = _check_non_negative("angle_weight", angle_weight)
        if (
            isinstance(max_angle_rows, bool)
            or not isinstance(max_angle_rows, numbers.Integral)
            or max_angle_rows < 3
        ):
            raise ValueError(
                f"max_angle_rows must be an int >= 3; got {max_angle_rows!r}."
            )
        self.max_angle_rows = int(max_angle_rows)

    def forward(self, student, teacher):
        teacher = _check_batch(self, student, teacher, 2)
        distance_loss = F.smooth_l1_loss(
            _mean_normalised_distances(student), _mean_normalised_distances(teacher)
        )
        rows = slice(0, self.max_angle_rows)
        angle_loss = F.smooth_l1_loss(
            _triplet_angles(student[rows]), _triplet_angles(teacher[rows])
        )
        return self.distance_weight * distance_loss + self.angle_weight * angle_loss


class ContrastiveRepresentationLoss(nn.Module):
    """Contrastive representation distillation with an InfoNCE objective.

    Linear embedding heads map the student and the teacher features to a
    common space of unit vectors. Each student row must pick its own teacher
    row among the other rows of the batch and, optionally, a memory bank of
    teacher embeddings from earlier batches; the symmetric term does the same
    with the teacher as anchor.

    Parameters
    ----------
    student_dim : int
        Width of the student hidden layer.
    teacher_dim : int
        Width of the teacher representation.
    embedding_dim : int, default=128
        Width of the common embedding space.
    temperature : float, default=0.07
        Temperature :math:`\\tau` dividing the cosine similarities.
    memory_size : int, default=0
        Number of embeddings kept per side as extra negatives, from earlier
        training batches (first in, first out). 0 uses in-batch negatives
        only. The bank is filled only in training mode, holds detached
        embeddings, and moves with the module to a device.

    Attributes
    ----------
    student_head : torch.nn.Linear
        Embedding head of the student features.
    teacher_head : torch.nn.Linear
        Embedding head of the teacher features.

    Notes
    -----
    With :math:`u_i = g_S(s_i) / \\lVert g_S(s_i) \\rVert_2`,
    :math:`v_i = g_T(t_i) / \\lVert g_T(t_i) \\rVert_2`, the teacher memory
    bank :math:`M_T` and the student memory bank :math:`M_S`,

    .. math::

        L_{S} &= -\\frac{1}{n} \\sum_{i} \\log
            \\frac{\\exp(u_i^\\top v_i / \\tau)}
                 {\\sum_{j} \\exp(u_i^\\top v_j / \\tau)
                  + \\sum_{m \\in M_T} \\exp(u_i^\\top m / \\tau)}, \\\\
        L &= \\tfrac{1}{2} (L_{S} + L_{T}),

    where :math:`L_T` swaps the roles of :math:`u` and :math:`v` and uses
    :math:`M_S`. The authors' implementation estimates the same bound with
    noise-contrastive estimation against negatives drawn from a memory bank
    indexed by training sample and updated with momentum. The first-in first-out bank
    used here needs no sample indices, but it may hold an older embedding of a
    row of the current batch, which then counts as a negative.

    References
    ----------
    .. [1] Y. Tian, D. Krishnan and P. Isola, "Contrastive Representation
       Distillation", ICLR 2020.

    Examples
    --------
    >>> import torch
    >>> from skdistill._feature_losses import ContrastiveRepresentationLoss
    >>> _ = torch.manual_seed(0)
    >>> loss = ContrastiveRepresentationLoss(6, 10, embedding_dim=16)
    >>> value = loss(torch.randn(8, 6), torch.randn(8, 10))
    >>> value.ndim, bool(value > 0)
    (0, True)
    """

    requires_neural_teacher = False

    def __init__(
        self,
        student_dim,
        teacher_dim,
        *,
        embedding_dim=128,
        temperature=0.07,
        memory_size=0,
    ):
        super().__init__()
        self.student_dim = _check_dim("student_dim", student_dim)
        self.teacher_dim = _check_dim("teacher_dim", teacher_dim)
        self.embedding_dim = _check_dim("embedding_dim", embedding_dim)
        self.temperature = _check_positive("temperature", temperature)
        if (
            isinstance(memory_size, bool)
            or not isinstance(memory_size, numbers.Integral)
            or memory_size < 0
        ):
            raise ValueError(f"memory_size must be an int >= 0; got {memory_size!r}.")
        self.memory_size = int(memory_size)

        self.student_head = nn.Linear(self.student_dim, self.embedding_dim)
        self.teacher_head = nn.Linear(self.teacher_dim, self.embedding_dim)
        self.register_buffer(
            "student_memory", torch.zeros(self.memory_size, self.embedding_dim)
        )
        self.register_buffer(
            "teacher_memory", torch.zeros(self.memory_size, self.embedding_dim)
        )
        self.register_buffer("memory_count", torch.zeros((), dtype=torch.long))
        self.register_buffer("memory_position", torch.zeros((), dtype=torch.long))

    def _contrast(self, anchors, positives, memory):
        candidates = torch.cat([positives, memory.to(anchors.dtype)], dim=0)
        logits = anchors @ candidates.T / self.temperature
        targets = torch.arange(anchors.shape[0], device=anchors.device)
        return F.cross_entropy(logits, targets)

    @torch.no_grad()
    def _remember(self, student_embeddings, teacher_embeddings):
        """Write the newest embeddings into the memory banks, oldest out first."""
        n_new = min(student_embeddings.shape[0], self.memory_size)
        position = int(self.memory_position)
        slots = (position + torch.arange(n_new)) % self.memory_size
        slots = slots.to(self.student_memory.device)
        self.student_memory[slots] = student_embeddings[-n_new:].to(
            self.student_memory.dtype
        )
        self.teacher_memory[slots] = teacher_embeddings[-n_new:].to(
            self.teacher_memory.dtype
        )
        self.memory_position.fill_((position + n_new) % self.memory_size)
        self.memory_count.fill_(min(int(self.memory_count) + n_new, self.memory_size))

    def forward(self, student, teacher):
        teacher = _check_batch(
            self, student, teacher, 2, self.student_dim, self.teacher_dim
        )
        student_embeddings = _normalize_rows(self.student_head(student))
        teacher_embeddings = _normalize_rows(self.teacher_head(teacher))

        n_stored = int(self.memory_count)
        student_loss = self._contrast(
            student_embeddings, teacher_embeddings, self.teacher_memory[:n_stored]
        )
        teacher_loss = self._contrast(
            teacher_embeddings, student_embeddings, self.student_memory[:n_stored]
        )

        if self.training and self.memory_size > 0:
            self._remember(student_embeddings, teacher_embeddings)
        return 0.5 * (student_loss + teacher_loss)


_NST_KERNELS = ("polynomial", "linear", "gaussian")


class NSTLoss(nn.Module):
    """Neuron selectivity transfer: MMD between distributions of neuron patterns.

    In a convolutional layer, a neuron's selectivity pattern is its
    activation over the spatial positions of one sample. A dense layer has no
    spatial positions, so here a neuron's pattern is its activation over the
    rows of the batch: neuron :math:`j` gives the vector :math:`f_j \\in
    \\mathbb{R}^n`, scaled to unit L2 norm. The loss is the squared maximum
    mean discrepancy (MMD) between the set of student neuron patterns and the
    set of teacher neuron patterns. Both sets live in :math:`\\mathbb{R}^n`, so
    the widths may differ and no parameters are learnt.

    Parameters
    ----------
    kernel : {"polynomial", "linear", "gaussian"}, default="polynomial"
        Kernel :math:`k` of the MMD.

        - "polynomial": :math:`k(x, y) = (x^\\top y + c)^d`, with
          :math:`d` = `degree` and :math:`c` = `coef0`. The default
          :math:`d = 2, c = 0` is the setting of common implementations, and
          it matches the Gram matrices of the normalised activations.
        - "linear": :math:`k(x, y) = x^\\top y`, which matches the mean neuron
          patterns only.
        - "gaussian": :math:`k(x, y) = \\exp(-\\lVert x - y \\rVert^2 /
          (2 \\sigma^2))` with :math:`\\sigma` = `sigma`. The patterns are unit
          vectors, so :math:`\\lVert x - y \\rVert^2 \\in [0, 4]`.
    degree : int, default=2
        Degree of the polynomial kernel.
    coef0 : float, default=0.0
        Constant of the polynomial kernel.
    sigma : float, default=1.0
        Bandwidth of the gaussian kernel.

    Notes
    -----
    With student patterns :math:`f^{S}_1, \\dots, f^{S}_{d_s}` and teacher
    patterns :math:`f^{T}_1, \\dots, f^{T}_{d_t}`, the biased estimate of the
    squared MMD is

    .. math::

        L = \\frac{1}{d_t^2} \\sum_{i,i'} k(f^{T}_i, f^{T}_{i'})
          + \\frac{1}{d_s^2} \\sum_{j,j'} k(f^{S}_j, f^{S}_{j'})
          - \\frac{2}{d_s d_t} \\sum_{i,j} k(f^{T}_i, f^{S}_j) .

    A neuron that is zero on the whole batch (a dead ReLU) has no direction;
    its pattern counts as the zero vector.

    References
    ----------
    .. [1] Z. Huang and N. Wang, "Like What You Like: Knowledge Distill via
       Neuron Selectivity Transfer", arXiv:1707.01219, 2017.

    Examples
    --------
    >>> import torch
    >>> from skdistill._feature_losses import NSTLoss
    >>> loss = NSTLoss()
    >>> features = torch.rand(8, 5)
    >>> float(loss(features, features))
    0.0
    """

    requires_neural_teacher = True

    def __init__(self, *, kernel="polynomial", degree=2, coef0=0.0, sigma=1.0):
        super().__init__()
        if kernel not in _NST_KERNELS:
            raise ValueError(
                "kernel must be one of 'polynomial', 'linear' or 'gaussian'; "
                f"got {kernel!r}."
            )
        self.kernel = kernel
        if (
            isinstance(degree, bool)
            or not isinstance(degree, numbers.Integral)
            or degree < 1
        ):
            raise ValueError(f"degree must be an int >= 1; got {degree!r}.")
        self.degree = int(degree)
        if isinstance(coef0, bool) or not isinstance(coef0, numbers.Real):
            raise TypeError(f"coef0 must be a float; got {coef0!r}.")
        self.coef0 = float(coef0)
        self.sigma = _check_positive("sigma", sigma)

    def _kernel(self, x, y):
        inner = x @ y.T
        if self.kernel == "linear":
            return inner
        if self.kernel == "polynomial":
            return (inner + self.coef0).pow(self.degree)
        # Unit or zero vectors: |x - y|^2 = |x|^2 + |y|^2 - 2 x.y, kept >= 0.
        squared = (
            x.pow(2).sum(dim=1)[:, None] + y.pow(2).sum(dim=1)[None, :] - 2.0 * inner
        ).clamp_min(0.0)
        return torch.exp(-squared / (2.0 * self.sigma**2))

    def forward(self, student, teacher):
        teacher = _check_batch(self, student, teacher, 2)
        student_patterns = _normalize_rows(student.T)
        teacher_patterns = _normalize_rows(teacher.T)
        return (
            self._kernel(teacher_patterns, teacher_patterns).mean()
            + self._kernel(student_patterns, student_patterns).mean()
            - 2.0 * self._kernel(teacher_patterns, student_patterns).mean()
        )


_FEATURE_LOSSES = {
    "hint": HintLoss,
    "attention": AttentionTransferLoss,
    "relational": RelationalKDLoss,
    "contrastive": ContrastiveRepresentationLoss,
    "nst": NSTLoss,
}
FEATURE_LOSS_NAMES = tuple(_FEATURE_LOSSES)

_DIMENSION_PARAMETERS = ("student_dim", "teacher_dim")


def _quoted(names):
    return ", ".join(repr(name) for name in names)


def feature_loss_class(name):
    """Return the loss class registered under a name.

    Parameters
    ----------
    name : {"hint", "attention", "relational", "contrastive", "nst"}
        Name of the feature loss.

    Returns
    -------
    loss_class : type
        The `nn.Module` subclass implementing the loss.

    Raises
    ------
    ValueError
        If `name` is not one of the registered names.

    Examples
    --------
    >>> from skdistill._feature_losses import feature_loss_class
    >>> feature_loss_class("nst").requires_neural_teacher
    True
    """
    if not isinstance(name, str) or name not in _FEATURE_LOSSES:
        raise ValueError(
            f"Unknown feature loss {name!r}. Allowed names are "
            f"{_quoted(FEATURE_LOSS_NAMES)}."
        )
    return _FEATURE_LOSSES[name]


def make_feature_loss(name, student_dim, teacher_dim, **params):
    """Build a feature-distillation loss by name.

    Parameters
    ----------
    name : {"hint", "attention", "relational", "contrastive", "nst"}
        Name of the loss: "hint" (`HintLoss`), "attention"
        (`AttentionTransferLoss`), "relational" (`RelationalKDLoss`),
        "contrastive" (`ContrastiveRepresentationLoss`) or "nst" (`NSTLoss`).
    student_dim : int
        Width of the student hidden layer.
    teacher_dim : int
        Width of the teacher representation. The relational and NST losses
        accept any widths, but the values are still checked.
    **params
        Keyword parameters of the loss class, such as ``temperature`` for
        "contrastive".

    Returns
    -------
    loss : torch.nn.Module
        The loss module, with float32 parameters on the CPU. Move it with
        ``loss.to(device)`` together with the student.

    Raises
    ------
    ValueError
        If `name` is unknown or a dimension or parameter value is invalid.
    TypeError
        If `params` contains a parameter the loss does not take.

    Examples
    --------
    >>> import torch
    >>> from skdistill._feature_losses import make_feature_loss
    >>> loss = make_feature_loss("relational", 8, 16, angle_weight=0.0)
    >>> value = loss(torch.randn(10, 8), torch.randn(10, 16))
    >>> value.shape
    torch.Size([])
    """
    loss_class = feature_loss_class(name)
    student_dim = _check_dim("student_dim", student_dim)
    teacher_dim = _check_dim("teacher_dim", teacher_dim)

    signature = inspect.signature(loss_class)
    allowed = [
        parameter
        for parameter in signature.parameters
        if parameter not in _DIMENSION_PARAMETERS
    ]
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise TypeError(
            f"The {name!r} feature loss takes no parameter {_quoted(unknown)}. "
            f"Its parameters are {_quoted(allowed) or 'none'}."
        )
    if "student_dim" in signature.parameters:
        params = {"student_dim": student_dim, "teacher_dim": teacher_dim, **params}
    return loss_class(**params)


def check_feature_loss_teacher(name, teacher, representation_kind):
    """Check that a feature loss can use a teacher's representation.

    Parameters
    ----------
    name : str
        Name of the feature loss, as for `make_feature_loss`.
    teacher : object
        The teacher, named in the error message.
    representation_kind : {"neural", "ensemble", "custom"}
        Kind of the teacher's representation: hidden-layer activations, the
        outputs of an ensemble's members, or a user-defined representation.

    Raises
    ------
    ValueError
        If the loss needs hidden-layer activations but the representation is
        the output of an ensemble's members, or if `name` or
        `representation_kind` is unknown.

    Examples
    --------
    >>> from sklearn.ensemble import RandomForestClassifier
    >>> from skdistill._feature_losses import check_feature_loss_teacher
    >>> check_feature_loss_teacher("hint", RandomForestClassifier(), "ensemble")
    >>> check_feature_loss_teacher("nst", RandomForestClassifier(), "ensemble")
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    ValueError: The 'nst' feature loss needs hidden-layer activations of a ...
    """
    loss_class = feature_loss_class(name)
    if representation_kind not in ("neural", "ensemble", "custom"):
        raise ValueError(
            "representation_kind must be 'neural', 'ensemble' or 'custom'; got "
            f"{representation_kind!r}."
        )
    if loss_class.requires_neural_teacher and representation_kind == "ensemble":
        usable = [
            other
            for other, other_class in _FEATURE_LOSSES.items()
            if not other_class.requires_neural_teacher
        ]
        raise ValueError(
            f"The {name!r} feature loss needs hidden-layer activations of a "
            f"neural teacher, but the teacher {type(teacher).__name__} is an "
            "ensemble whose representation is the outputs of its members. Use "
            f"one of {_quoted(usable)} with this teacher, or a neural teacher "
            "(MLPClassifier, a torch module or a skorch net)."
        )
