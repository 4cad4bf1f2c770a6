import re

from sklearn.datasets import load_iris
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdistill import DistilledClassifier

FAST = dict(hidden_layer_sizes=(16,), max_iter=5, random_state=0)


def labels(html):
    """Return the text of every estimator label in an HTML representation."""
    return [
        re.sub(r"<[^>]+>", "", label.split("</div>")[0])
        for label in re.findall(r"<label[^>]*>(.*?)</label>", html)
    ]


def test_html_repr_nests_given_teacher():
    model = DistilledClassifier(RandomForestClassifier(n_estimators=7))
    html = model._repr_html_()
    assert labels(html)[:3] == [
        "DistilledClassifier",
        "teacher: RandomForestClassifier",
        "RandomForestClassifier",
    ]
    # The teacher's own parameters are shown inside its box.
    assert "n_estimators=7" in html
    assert "sk-parallel" in html


def test_html_repr_nests_default_teacher():
    html = DistilledClassifier()._repr_html_()
    assert "teacher: RandomForestClassifier (default)" in labels(html)


def test_html_repr_fitted_shows_fitted_teacher():
    X, y = load_iris(return_X_y=True)
    model = DistilledClassifier(GradientBoostingClassifier(n_estimators=3), **FAST)
    model.fit(X, y)
    html = model._repr_html_()
    assert labels(html)[1] == "teacher: GradientBoostingClassifier"
    assert "<span>Fitted</span>" in html
    # The nested teacher is the fitted clone, not the unfitted parameter.
    assert model.teacher_ is not model.teacher
    assert "fitted" in html.split("teacher: GradientBoostingClassifier")[1][:2000]


def test_html_repr_list_teacher_shows_each_model():
    model = DistilledClassifier([LogisticRegression(), RandomForestClassifier()])
    names = labels(model._repr_html_())
    assert "teacher[0]: LogisticRegression" in names
    assert "teacher[1]: RandomForestClassifier" in names


def test_html_repr_inside_pipeline_keeps_teacher():
    pipeline = make_pipeline(
        StandardScaler(), DistilledClassifier(RandomForestClassifier(n_estimators=5))
    )
    names = labels(pipeline._repr_html_())
    assert names.index("distilledclassifier: DistilledClassifier") < names.index(
        "teacher: RandomForestClassifier"
    )
