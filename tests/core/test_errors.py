"""Each mistake users of IG tools make gets an integrad error whose message names the fix."""

import pytest
import torch
from sklearn.ensemble import RandomForestClassifier
from torch import nn

import integrad


def test_token_ids_without_layer(embedding_mlp):
    ids = torch.tensor([[1, 2, 3]])
    with pytest.raises(
        integrad.InputError, match="cannot be interpolated.*layer=model.get_input_embeddings"
    ):
        integrad.attribute(embedding_mlp, ids, target=0)


def test_baseline_that_does_not_broadcast(mlp):
    with pytest.raises(integrad.BaselineError, match=r"shape \(3,\).*does not broadcast.*\(2, 5\)"):
        integrad.attribute(
            mlp, torch.zeros(2, 5, dtype=torch.float64), baseline=torch.zeros(3), target=0
        )


def test_baselines_structure_mismatch():
    with pytest.raises(integrad.BaselineError, match="1 items but there are 2 inputs"):
        integrad.attribute(
            lambda a, b: a.sum(1), (torch.ones(1, 2), torch.ones(1, 2)), baseline=(0.0,)
        )
    with pytest.raises(integrad.BaselineError, match=r"names \['c'\]"):
        integrad.attribute(lambda a: a.sum(1), {"a": torch.ones(1, 2)}, baseline={"c": 0.0})


def test_no_target_explains_the_prediction_of_a_multi_output_model(mlp):
    x = torch.randn(3, 5, dtype=torch.float64)
    res = integrad.attribute(mlp, x)  # target=None: the prediction, as in every function
    assert res.target.tolist() == mlp(x).argmax(1).tolist()
    torch.testing.assert_close(
        res.attributions, integrad.attribute(mlp, x, target="predicted").attributions
    )


def test_target_out_of_range(mlp):
    with pytest.raises(integrad.TargetError, match="target 3 is out of range.*0..2"):
        integrad.attribute(mlp, torch.zeros(1, 5, dtype=torch.float64), target=3)
    with pytest.raises(integrad.TargetError, match="gives 3 entries for 2 examples"):
        integrad.attribute(mlp, torch.zeros(2, 5, dtype=torch.float64), target=[0, 1, 2])


def test_callable_target_must_return_one_scalar_per_example(mlp):
    x = torch.zeros(2, 5, dtype=torch.float64)
    expected = r"one scalar per example, shape \(2,\), or K per example, shape \(2, K\)"
    with pytest.raises(integrad.TargetError, match=expected + r"; it returned \(1,\)"):
        integrad.attribute(mlp, x, target=lambda out: out[:1, 0])
    with pytest.raises(integrad.TargetError, match=expected + r"; it returned \(2, 3, 1\)"):
        integrad.attribute(mlp, x, target=lambda out: out[..., None])


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_nan_or_inf_in_inputs_or_baselines(mlp, bad):
    x = torch.zeros(1, 5, dtype=torch.float64)
    x_bad = x.clone()
    x_bad[0, 2] = bad
    with pytest.raises(integrad.InputError, match="input 0 contains NaN or inf.*nan_to_num"):
        integrad.attribute(mlp, x_bad, target=0)
    with pytest.raises(integrad.InputError, match="baseline for 0 contains NaN or inf"):
        integrad.attribute(mlp, x, baseline=x_bad, target=0)


def test_detached_graph(mlp):
    with pytest.raises(
        integrad.ModelError, match="does not depend on the attributed inputs.*detach"
    ):
        integrad.attribute(
            lambda x: mlp(x).detach(), torch.ones(1, 5, dtype=torch.float64), target=0
        )


def test_scikit_learn_model_is_refused():
    forest = RandomForestClassifier(n_estimators=3, random_state=0)
    forest.fit([[0.0, 1.0], [1.0, 0.0]], [0, 1])
    x = torch.tensor([[0.0, 1.0]])
    with pytest.raises(
        integrad.ModelError, match="non-callable RandomForestClassifier.*scikit-learn"
    ):
        integrad.attribute(forest, x)

    # Wrapped in a function, the numpy round trip breaks the graph.
    def wrapped(x):
        return torch.as_tensor(forest.predict_proba(x.numpy()))

    with pytest.raises(integrad.ModelError, match="scikit-learn"):
        integrad.attribute(wrapped, x, target=1)


def test_forward_returning_numpy_is_refused():
    with pytest.raises(integrad.ModelError, match="returned ndarray, not a torch tensor"):
        integrad.attribute(lambda x: x.numpy().sum(1), torch.ones(1, 2))


def test_inputs_that_do_not_fit_the_model(mlp):
    with pytest.raises(integrad.ModelError, match="calling the model on the inputs failed"):
        integrad.attribute(mlp, torch.ones(1, 7, dtype=torch.float64), target=0)


def test_layer_called_twice_is_refused():
    class Shared(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(5, 3)

        def forward(self, ids):
            return (self.embedding(ids) + self.embedding(ids.flip(1))).sum((1, 2))

    model = Shared()
    with pytest.raises(integrad.LayerError, match="called 2 times in one forward"):
        integrad.attribute(model, torch.tensor([[1, 2]]), layer=model.embedding)


def test_layer_that_is_not_called(embedding_mlp):
    other = nn.Embedding(3, 3)
    with pytest.raises(integrad.LayerError, match="was not called by the forward"):
        integrad.attribute(embedding_mlp, torch.tensor([[1, 2]]), layer=other, target=0)


def test_layer_not_a_module(embedding_mlp):
    with pytest.raises(integrad.LayerError, match="torch module"):
        integrad.attribute(embedding_mlp, torch.tensor([[1, 2]]), layer="embedding", target=0)


def test_inputs_of_wrong_kind():
    with pytest.raises(integrad.InputError, match="tensor, a tuple of tensors or a dict"):
        integrad.attribute(lambda x: x, 3.0)
    with pytest.raises(integrad.InputError, match="batch size"):
        integrad.attribute(lambda a, b: a.sum(1), (torch.ones(2, 2), torch.ones(3, 2)))
    with pytest.raises(integrad.InputError, match="is a list, not a tensor.*torch.as_tensor"):
        integrad.attribute(lambda a: a.sum(1), {"a": [1.0, 2.0]})


def test_all_errors_share_one_base():
    for cls in (
        integrad.InputError,
        integrad.BaselineError,
        integrad.TargetError,
        integrad.ModelError,
        integrad.LayerError,
    ):
        assert issubclass(cls, integrad.IntegradError)
