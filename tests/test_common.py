from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.utils.estimator_checks import parametrize_with_checks

from skdistill import DistilledClassifier, DistilledRegressor

SAMPLE_WEIGHT_REASON = (
    "Repeating a row is not the same as weighting it: repeats change the mini-batches, "
    "the validation split and the forest's bootstrap draws, so the two fits train "
    "different networks. The weighted loss itself is tested in test_losses.py."
)

FAST_STUDENT = dict(
    hidden_layer_sizes=(32,),
    batch_size=32,
    max_iter=40,
    n_iter_no_change=5,
    random_state=0,
)


def _small_classifier():
    return DistilledClassifier(
        RandomForestClassifier(n_estimators=5, random_state=0), **FAST_STUDENT
    )


def _small_regressor():
    return DistilledRegressor(
        RandomForestRegressor(n_estimators=5, random_state=0), **FAST_STUDENT
    )


@parametrize_with_checks(
    [_small_classifier(), _small_regressor()],
    expected_failed_checks=lambda estimator: {
        "check_sample_weight_equivalence_on_dense_data": SAMPLE_WEIGHT_REASON,
        "check_sample_weight_equivalence_on_sparse_data": SAMPLE_WEIGHT_REASON,
    },
)
def test_estimator_checks(estimator, check):
    check(estimator)
