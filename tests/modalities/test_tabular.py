"""explain_tabular: frames in and out, baselines, categorical embeddings, noise and errors."""

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import integrad
from integrad.errors import BaselineError, InputError, IntegradError


@pytest.fixture(scope="module")
def cancer(examples_train):
    """The breast-cancer MLP of the examples, briefly trained (30 named columns)."""
    table = examples_train.train_breast_cancer(epochs=3)
    table.model.requires_grad_(False)  # the tests call it directly; no weight gradients
    return table


def rows_of(table, n=3):
    rows = table.test.iloc[:n].copy()
    rows.index = [f"patient-{i}" for i in range(n)]
    return rows


def check_complete(exp, rtol=1e-4):
    diag = exp.diagnostics()  # per row, indexed like the rows
    moved = diag["output"] - diag["baseline_output"]
    pd.testing.assert_series_equal(
        exp.attributions.sum(axis=1), moved + diag["delta"], check_names=False, atol=1e-5, rtol=0
    )
    assert (diag["delta"].abs() <= rtol * moved.abs() + 1e-6).all(), exp.delta


def test_frames_keep_names_and_index(cancer):
    rows = rows_of(cancer)
    exp = integrad.explain_tabular(
        cancer.model,
        rows,
        transform=cancer.transform,
        background=cancer.train,
        labels=cancer.labels,
    )
    assert list(exp.attributions.index) == list(rows.index)
    assert list(exp.attributions.columns) == list(rows.columns)
    pd.testing.assert_frame_equal(exp.values, rows)
    assert list(exp.diagnostics().index) == list(rows.index)
    assert list(exp.probabilities.columns) == cancer.labels
    assert exp.target_labels == [cancer.labels[t] for t in exp.target]
    check_complete(exp)


def test_mean_and_median_baselines_are_the_background_summaries(cancer):
    rows = rows_of(cancer)
    for name, summary in (("mean", cancer.train.mean()), ("median", cancer.train.median())):
        exp = integrad.explain_tabular(
            cancer.model,
            rows,
            transform=cancer.transform,
            background=cancer.train,
            baseline=name,
            target=1,
        )
        at_summary = cancer.model(cancer.transform(summary.to_frame().T))[0, 1]
        assert np.allclose(exp.baseline_output, float(at_summary), atol=1e-5)
        assert exp.baseline == f"{name} of {len(cancer.train)} background rows"
        check_complete(exp)


def test_zeros_baseline_and_a_baseline_row(cancer):
    rows = rows_of(cancer)
    zeros = integrad.explain_tabular(
        cancer.model, rows, baseline="zeros", target=0, transform=cancer.transform
    )
    expected = cancer.model(torch.zeros(1, 30))[0, 0]
    assert np.allclose(zeros.baseline_output, float(expected), atol=1e-5)
    reference = cancer.train.iloc[7]
    given = integrad.explain_tabular(
        cancer.model, rows, baseline=reference, target=0, transform=cancer.transform
    )
    at_row = cancer.model(cancer.transform(reference.to_frame().T))[0, 0]
    assert np.allclose(given.baseline_output, float(at_row), atol=1e-5)
    assert given.baseline == "given row" and given.spread is None
    check_complete(given)


def test_background_rows_average_single_row_runs(cancer):
    rows, background = rows_of(cancer, 2), cancer.train.iloc[:4]
    runs = [
        integrad.explain_tabular(
            cancer.model,
            rows,
            baseline=background.iloc[i],
            target=1,
            transform=cancer.transform,
            n_steps=20,
        )
        for i in range(4)
    ]
    averaged = integrad.explain_tabular(
        cancer.model, rows, baseline=background, target=1, transform=cancer.transform, n_steps=20
    )
    stacked = np.stack([r.attributions.to_numpy() for r in runs])
    assert np.allclose(averaged.attributions.to_numpy(), stacked.mean(0), atol=1e-6)
    assert np.allclose(averaged.spread.to_numpy(), stacked.std(0), atol=1e-6)
    assert averaged.baseline == "mean over 4 background rows"
    assert averaged.n_evals.tolist() == [80, 80]
    check_complete(averaged)


def test_arrays_get_names_and_one_row_works():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).double()
    data = np.random.default_rng(0).normal(size=(5, 3))
    exp = integrad.explain_tabular(net, data, feature_names=["a", "b", "c"], baseline="zeros")
    assert list(exp.attributions.columns) == ["a", "b", "c"]
    assert exp.target.tolist() == [0] * 5 and exp.probabilities is None  # the one output
    one = integrad.explain_tabular(net, data[0], baseline="zeros")
    assert list(one.attributions.columns) == ["x0", "x1", "x2"]
    assert np.allclose(one.attributions.iloc[0], exp.attributions.iloc[0])
    series = integrad.explain_tabular(
        net, pd.Series(data[0], index=["a", "b", "c"], name="r"), baseline="zeros"
    )
    assert list(series.attributions.index) == ["r"]
    check_complete(exp, rtol=1e-9)


class Shop(nn.Module):
    """Two numbers and two categories (one shared embedding table with offsets) -> 2 logits."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(3 + 4, 5)
        self.register_buffer("offsets", torch.tensor([0, 3]))
        self.head = nn.Sequential(nn.Linear(2 + 10, 8), nn.Tanh(), nn.Linear(8, 2))

    def forward(self, numbers, categories):
        cats = self.embedding(categories + self.offsets).flatten(1)  # (N, 10)
        return self.head(torch.cat([numbers, cats], 1))


class ShopPerColumn(nn.Module):
    """The same model written with one embedding module per category column."""

    def __init__(self, shared: Shop) -> None:
        super().__init__()
        self.embeddings = nn.ModuleList([nn.Embedding(3, 5), nn.Embedding(4, 5)])
        with torch.no_grad():
            self.embeddings[0].weight.copy_(shared.embedding.weight[:3])
            self.embeddings[1].weight.copy_(shared.embedding.weight[3:])
        self.head = shared.head

    def forward(self, numbers, categories):
        cats = [e(categories[:, j]) for j, e in enumerate(self.embeddings)]
        return self.head(torch.cat([numbers, *cats], 1))


COLORS, SIZES = ["red", "green", "blue"], ["S", "M", "L", "XL"]


def shop_frame(n, seed):
    rng = np.random.default_rng(seed)
    # Columns interleave numbers and categories: results must follow this order.
    return pd.DataFrame(
        {
            "price": rng.uniform(1, 5, n),
            "color": rng.choice(COLORS, n),
            "weight": rng.uniform(0, 2, n),
            "size": rng.choice(SIZES, n),
        },
        index=[f"item{i}" for i in range(n)],
    )


def shop_transform(frame):
    return {
        "numbers": torch.tensor(frame[["price", "weight"]].to_numpy(np.float32)),
        "categories": torch.tensor(
            np.stack([frame["color"].map(COLORS.index), frame["size"].map(SIZES.index)], 1)
        ),
    }


SHOP_COLUMNS = {"numbers": ["price", "weight"], "categories": ["color", "size"]}


@pytest.fixture
def shop():
    torch.manual_seed(0)
    return Shop().requires_grad_(False)


def test_categorical_columns_are_summed_over_their_embedding(shop):
    rows, background = shop_frame(3, 0), shop_frame(20, 1)
    exp = integrad.explain_tabular(
        shop,
        rows,
        transform=shop_transform,
        columns=SHOP_COLUMNS,
        background=background,
        layer={"categories": shop.embedding},
        baseline="zeros",
        target=1,
    )
    assert list(exp.attributions.columns) == ["price", "color", "weight", "size"]
    check_complete(exp)
    # The same attribution straight from the core, at the embedding output (N, 2, 5).
    core = integrad.attribute(
        shop,
        shop_transform(rows),
        layer={"categories": shop.embedding},
        target=1,
        layer_baseline={"categories": 0.0},
    )
    per_column = core.attributions["categories"].sum(-1).detach().numpy()  # (N, 2)
    assert np.allclose(exp.attributions[["color", "size"]].to_numpy(), per_column, atol=1e-6)
    numbers = core.attributions["numbers"].detach().numpy()
    assert np.allclose(exp.attributions[["price", "weight"]].to_numpy(), numbers, atol=1e-6)


def test_one_embedding_per_column_matches_the_shared_table(shop):
    rows, background = shop_frame(3, 0), shop_frame(20, 1)
    per_column = ShopPerColumn(shop)
    common = {
        "transform": shop_transform,
        "columns": SHOP_COLUMNS,
        "background": background,
        "target": 0,
    }
    shared = integrad.explain_tabular(shop, rows, layer={"categories": shop.embedding}, **common)
    split = integrad.explain_tabular(
        per_column, rows, layer={"categories": list(per_column.embeddings)}, **common
    )
    pd.testing.assert_frame_equal(split.attributions, shared.attributions, atol=1e-5, rtol=0)
    torch.testing.assert_close(split.baseline_output, shared.baseline_output, atol=1e-6, rtol=0)
    check_complete(split)


def test_mean_baseline_of_categories_is_the_mean_embedding(shop):
    rows, background = shop_frame(2, 0), shop_frame(30, 1)
    exp = integrad.explain_tabular(
        shop,
        rows,
        transform=shop_transform,
        columns=SHOP_COLUMNS,
        background=background,
        layer={"categories": shop.embedding},
        target=0,
    )
    bg = shop_transform(background)
    mean_emb = shop.embedding(bg["categories"] + shop.offsets).mean(0).flatten()
    at_mean = shop.head(torch.cat([bg["numbers"].mean(0), mean_emb]))[0]
    assert np.allclose(exp.baseline_output, float(at_mean), atol=1e-5)


def test_one_hot_columns_sum_back_to_their_feature():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 1)).double()
    frame = shop_frame(4, 2)[["price", "color"]]

    def one_hot(f):
        hot = np.eye(3)[f["color"].map(COLORS.index)]
        return torch.tensor(np.column_stack([f["price"], hot]))

    exp = integrad.explain_tabular(
        net,
        frame,
        transform=one_hot,
        baseline="zeros",
        columns={"x": ["price", "color", "color", "color"]},
    )
    core = integrad.attribute(net, one_hot(frame)).attributions.numpy()
    assert np.allclose(exp.attributions["color"], core[:, 1:].sum(1))
    assert np.allclose(exp.attributions["price"], core[:, 0])


def test_noise_gives_a_seeded_std_per_feature(cancer):
    rows = rows_of(cancer, 2)
    kw = {"transform": cancer.transform, "background": cancer.train, "target": 1, "n_steps": 10}
    a = integrad.explain_tabular(cancer.model, rows, noise=integrad.Noise(4, 0.1, seed=0), **kw)
    b = integrad.explain_tabular(cancer.model, rows, noise=integrad.Noise(4, 0.1, seed=0), **kw)
    pd.testing.assert_frame_equal(a.attributions, b.attributions)
    assert a.std.shape == a.attributions.shape and (a.std.to_numpy() > 0).any()
    assert list(a.std.index) == list(rows.index)
    quiet = integrad.explain_tabular(cancer.model, rows, noise=integrad.Noise(3, 0.0), **kw)
    assert (quiet.std.to_numpy() == 0).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"background": "X"}, "background must be a pandas DataFrame"),
        ({"baseline": "blur"}, "unknown tabular baseline 'blur'; choose one of mean, median"),
        ({"feature_names": ["a"]}, r"rows lacks the columns \['a'\]"),
    ],
)
def test_bad_options_are_refused(cancer, kwargs, message):
    with pytest.raises((InputError, BaselineError), match=message):
        integrad.explain_tabular(
            cancer.model, rows_of(cancer), transform=cancer.transform, **kwargs
        )


def test_mismatched_columns_are_refused(cancer, shop):
    rows = rows_of(cancer)
    with pytest.raises(InputError, match=r"background lacks the columns \['mean radius'\]"):
        integrad.explain_tabular(
            cancer.model,
            rows,
            transform=cancer.transform,
            background=cancer.train.drop(columns="mean radius"),
        )
    with pytest.raises(InputError, match="has 2 columns but 3 feature names were given"):
        integrad.explain_tabular(cancer.model, np.zeros((2, 2)), feature_names=["a", "b", "c"])
    frame = shop_frame(2, 0)
    with pytest.raises(InputError, match=r"columns \['color', 'size'\] are not numeric"):
        integrad.explain_tabular(shop, frame)
    with pytest.raises(InputError, match="say which feature each column belongs to with columns="):
        integrad.explain_tabular(shop, frame, transform=shop_transform)
    with pytest.raises(InputError, match=r"columns\['numbers'\] names 1 features but input"):
        integrad.explain_tabular(
            shop, frame, transform=shop_transform, columns={**SHOP_COLUMNS, "numbers": ["price"]}
        )
    with pytest.raises(InputError, match=r"names \['height'\], which are not columns of the rows"):
        integrad.explain_tabular(
            shop,
            frame,
            transform=shop_transform,
            columns={**SHOP_COLUMNS, "numbers": ["price", "height"]},
        )
    with pytest.raises(InputError, match=r"gave input 'x' shape \(1, 30\) for 3 rows"):
        integrad.explain_tabular(cancer.model, rows, transform=lambda f: torch.zeros(1, 30))


def test_categories_without_a_layer_are_refused(shop):
    frame = shop_frame(3, 0)
    with pytest.raises(InputError, match=r"input 'categories' holds integers .* layer=\{'categ"):
        integrad.explain_tabular(
            shop, frame, transform=shop_transform, columns=SHOP_COLUMNS, background=frame
        )


def test_mean_of_a_single_row_needs_a_background(cancer, shop):
    with pytest.raises(BaselineError, match="the mean of one row is the row itself"):
        integrad.explain_tabular(cancer.model, rows_of(cancer, 1), transform=cancer.transform)

    def categories_only(frame):
        return {"categories": shop_transform(frame)["categories"]}

    def priced_at_zero(categories):
        return shop(torch.zeros(len(categories), 2), categories)

    with pytest.raises(BaselineError, match="'mean' baseline of embedded inputs needs at least"):
        integrad.explain_tabular(
            priced_at_zero,
            shop_frame(1, 0),
            transform=categories_only,
            columns={"categories": ["color", "size"]},
            layer={"categories": shop.embedding},
            background=shop_frame(1, 1),
        )


def test_misspelled_options_are_refused(cancer):
    with pytest.raises(IntegradError, match=r"explain_tabular\(\) sets 'layer_baseline' itself"):
        integrad.explain_tabular(
            cancer.model, rows_of(cancer), transform=cancer.transform, layer_baseline=0.0
        )
