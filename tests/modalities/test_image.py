"""explain_image: inputs, every baseline kind, averaging, Blur IG, noise and errors."""

import numpy as np
import pytest
import torch
from PIL import Image

import integrad
from integrad.errors import BaselineError, InputError, IntegradError, TargetError
from integrad.modalities.blur import gaussian_blur


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models run far faster on one thread, above all on a busy shared machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def cnn():
    """A smooth CNN in float64, whose path integrals converge quickly: 3 channels, 5 classes."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 6, 3, padding=1),
        torch.nn.Tanh(),
        torch.nn.Conv2d(6, 6, 3, padding=1),
        torch.nn.Softplus(),
        torch.nn.AdaptiveAvgPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(24, 5),
    ).double()
    with torch.no_grad():
        model[-1].weight.mul_(8.0)  # outputs that move between baseline and image
    return model


@pytest.fixture
def images():
    torch.manual_seed(1)
    return torch.rand(2, 3, 8, 8, dtype=torch.float64)


def check_complete(exp, rtol=1e-6):
    """The pixel map sums to F(x) - F(x'), and the reported delta is that difference."""
    moved = exp.output - exp.baseline_output
    assert moved.abs().min() > 1e-3  # the output really moved
    torch.testing.assert_close(exp.pixel_map.sum((1, 2)), moved + exp.delta)
    assert (exp.delta.abs() <= rtol * moved.abs()).all(), (exp.delta, moved)


@pytest.mark.parametrize("baseline", integrad.list_baselines("image"))
def test_every_named_baseline_is_complete(cnn, images, baseline):
    exp = integrad.explain_image(cnn, images, baseline=baseline)
    assert exp.attributions.shape == images.shape
    assert exp.pixel_map.shape == (2, 8, 8)
    assert exp.baseline == baseline
    check_complete(exp)


def test_default_target_is_the_predicted_class(cnn, images):
    exp = integrad.explain_image(cnn, images)
    assert exp.baseline == "black"
    assert torch.equal(exp.target, cnn(images).argmax(1))
    expected = cnn(images).gather(1, exp.target[:, None])[:, 0].double()
    torch.testing.assert_close(exp.output, expected)
    torch.testing.assert_close(exp.probabilities.sum(1), torch.ones(2, dtype=torch.float64))
    assert torch.equal(exp.predicted, exp.target)


def test_black_baseline_output_is_the_model_on_black(cnn, images):
    exp = integrad.explain_image(cnn, images, target=2)
    torch.testing.assert_close(exp.baseline_output, cnn(torch.zeros_like(images))[:, 2])


def test_several_baselines_average_single_runs(cnn, images):
    target = [0, 3]
    runs = [
        integrad.explain_image(cnn, images, baseline=b, target=target)
        for b in ("black", "white", "blur")
    ]
    mean = integrad.explain_image(cnn, images, baseline=["black", "white", "blur"], target=target)
    expected = torch.stack([r.attributions for r in runs]).mean(0)
    torch.testing.assert_close(mean.attributions, expected, atol=1e-6, rtol=1e-5)
    spread = torch.stack([r.pixel_map for r in runs]).std(0, unbiased=False)
    torch.testing.assert_close(mean.pixel_spread, spread, atol=1e-6, rtol=1e-5)
    assert mean.baseline == "mean of 3: black, white, blur"
    torch.testing.assert_close(
        mean.baseline_output, torch.stack([r.baseline_output for r in runs]).mean(0)
    )
    check_complete(mean)


def test_stacked_tensor_of_baselines_equals_the_list(cnn, images):
    stack = torch.rand(4, 3, 8, 8, dtype=torch.float64)
    a = integrad.explain_image(cnn, images, baseline=stack, target=1)
    b = integrad.explain_image(cnn, images, baseline=list(stack), target=1)
    torch.testing.assert_close(a.attributions, b.attributions)
    # Identical baselines have no spread.
    same = integrad.explain_image(cnn, images, baseline=[stack[0], stack[0]], target=1)
    assert same.pixel_spread.abs().max() < 1e-6


def test_one_baseline_per_image_or_one_for_all(cnn, images):
    per_image = torch.rand(2, 3, 8, 8, dtype=torch.float64)
    exp = integrad.explain_image(cnn, images, baseline=per_image, target=0)
    torch.testing.assert_close(exp.baseline_output, cnn(per_image)[:, 0])
    assert exp.pixel_spread is None
    one = integrad.explain_image(cnn, images, baseline=per_image[0], target=0)
    torch.testing.assert_close(one.baseline_output, cnn(per_image[:1]).expand(2, -1)[:, 0])


def test_repeated_uniform_baselines_are_different_samples(cnn, images):
    exp = integrad.explain_image(cnn, images, baseline=["uniform", "uniform"], seed=5)
    assert exp.pixel_spread.max() > 0
    again = integrad.explain_image(cnn, images, baseline=["uniform", "uniform"], seed=5)
    assert torch.equal(exp.attributions, again.attributions)


def test_blur_ig_is_complete_against_the_blurred_image(cnn, images):
    exp = integrad.explain_image(cnn, images, path="blur", blur_sigma=3.0, target=[1, 4])
    blurred = gaussian_blur(images, 3.0)
    torch.testing.assert_close(exp.baseline_output, cnn(blurred)[[0, 1], [1, 4]])
    check_complete(exp)
    # 10 segments share the 50 points: 5 per segment.
    assert exp.n_evals.tolist() == [50, 50] and exp.path == "blur"


def test_blur_ig_needs_no_baseline(cnn, images):
    with pytest.raises(BaselineError, match="Blur IG needs no baseline"):
        integrad.explain_image(cnn, images, path="blur", baseline="black")
    with pytest.raises(BaselineError, match="unknown path 'curvy'"):
        integrad.explain_image(cnn, images, path="curvy")


def test_raw_images_get_pixel_space_baselines(cnn):
    rng = np.random.default_rng(0)
    array = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)

    def preprocess(img):
        # Normalisation moves black away from zero: the baseline must follow it.
        pixels = torch.from_numpy(np.array(img)).permute(2, 0, 1).double()
        return (pixels / 255 - 0.5) / 0.25

    for raw in (array, Image.fromarray(array)):
        exp = integrad.explain_image(cnn, raw, preprocess=preprocess, target=2)
        black = preprocess(np.zeros_like(array))[None]
        torch.testing.assert_close(exp.baseline_output, cnn(black)[:, 2])
        check_complete(exp)
        # The display is the raw image itself.
        torch.testing.assert_close(exp.images[0], torch.from_numpy(array / 255).float())
        assert exp.images.dtype == torch.float32


def test_raw_gray_image_and_default_preprocessing(cnn):
    gray_model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 2), torch.nn.Tanh())
    raw = np.arange(16, dtype=np.uint8).reshape(4, 4) * 16
    exp = integrad.explain_image(gray_model, raw, baseline="white", target=0)
    expected = gray_model(torch.ones(1, 1, 4, 4))[:, 0].double()
    torch.testing.assert_close(exp.baseline_output, expected)
    assert exp.images.shape == (1, 4, 4, 1)


def test_labels_name_the_target(cnn, images):
    labels = ["cat", "dog", "fox", "owl", "bee"]
    exp = integrad.explain_image(cnn, images, target="fox", labels=labels)
    assert exp.target.tolist() == [2, 2] and exp.target_labels == ["fox", "fox"]
    with pytest.raises(TargetError, match="unknown label 'cow'; the model's labels are: cat, dog"):
        integrad.explain_image(cnn, images, target="cow", labels=labels)


def test_noise_is_seeded_and_vanishes_at_level_zero(cnn, images):
    noise = integrad.Noise(n_samples=4, level=0.2, seed=0)
    a = integrad.explain_image(cnn, images, target=[0, 1], noise=noise)
    b = integrad.explain_image(cnn, images, target=[0, 1], noise=noise)
    assert torch.equal(a.attributions, b.attributions) and a.pixel_std.max() > 0
    assert a.target.tolist() == [0, 1]
    other = integrad.Noise(n_samples=4, level=0.2, seed=1)
    c = integrad.explain_image(cnn, images, target=[0, 1], noise=other)
    assert not torch.equal(a.attributions, c.attributions)
    still = integrad.Noise(n_samples=3, level=0.0, seed=0)
    quiet = integrad.explain_image(cnn, images, target=[0, 1], noise=still)
    plain = integrad.explain_image(cnn, images, target=[0, 1])
    assert quiet.std.abs().max() == 0
    torch.testing.assert_close(quiet.attributions, plain.attributions)


def test_options_reach_the_core(cnn, images):
    exp = integrad.explain_image(cnn, images, method="riemann_middle", n_steps=7, batch_size=3)
    assert exp.n_evals.tolist() == [7, 7] and exp.method == "riemann_middle"
    linear = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(192, 3)).double()
    adaptive = integrad.explain_image(linear, images, method="adaptive", tol=1e-3)
    assert adaptive.error_estimate is not None and adaptive.n_steps is None
    assert (adaptive.error_estimate <= 1e-3).all()


@pytest.mark.parametrize(
    ("image", "kwargs", "message"),
    [
        (torch.zeros(3, 8, 8, dtype=torch.uint8), {}, r"dtype torch.uint8.*image.float\(\) / 255"),
        (torch.zeros(8, 8), {}, r"shape \(8, 8\); expected \(C, H, W\) or \(N, C, H, W\)"),
        (np.zeros((8, 8, 3), np.float32), {}, "numpy image must be HWC or HW uint8"),
        ("cat.png", {}, "must be a torch tensor, a PIL image or a numpy uint8 array; got str"),
        (torch.zeros(3, 8, 8), {"preprocess": lambda x: x}, "preprocess= applies to PIL images"),
        (np.zeros((8, 8, 3), np.uint8), {"preprocess": lambda x: x}, "preprocess returned"),
        ([], {}, "no images were given"),
    ],
)
def test_bad_images_are_refused(cnn, image, kwargs, message):
    with pytest.raises(InputError, match=message):
        integrad.explain_image(cnn, image, **kwargs)


def test_images_of_different_sizes_need_resizing(cnn):
    raws = [np.zeros((8, 8, 3), np.uint8), np.zeros((6, 6, 3), np.uint8)]
    with pytest.raises(InputError, match="different shapes.*resize in preprocess"):
        integrad.explain_image(cnn, raws)


@pytest.mark.parametrize(
    ("baseline", "message"),
    [
        ("grey", "unknown image baseline 'grey'; choose one of black, white, blur, uniform"),
        ("mean", "unknown image baseline 'mean'"),
        (torch.zeros(3, 4, 4), r"shape \(3, 4, 4\), which does not match the images"),
        (torch.zeros(3, 8, 8, dtype=torch.long), "dtype torch.int64; give float values"),
        ([], "baseline is an empty list"),
        ([0.5], "must be a name, a tensor or a list of them; got float"),
    ],
)
def test_bad_baselines_are_refused(cnn, images, baseline, message):
    with pytest.raises(BaselineError, match=message):
        integrad.explain_image(cnn, images, baseline=baseline)


def test_several_targets_per_image_are_refused(cnn, images):
    with pytest.raises(TargetError, match="gives 2 scores per example.*one class per example"):
        integrad.explain_image(cnn, images, target=[[0, 1], [2, 3]])
    with pytest.raises(TargetError, match="gives 2 scores per example"):
        integrad.explain_image(cnn, images, target=lambda out: out[:, :2])


def test_trained_digits_cnn_looks_at_the_strokes(examples_train):
    model, images, labels = examples_train.train_digits(epochs=1)
    with torch.no_grad():
        assert (model(images).argmax(1) == labels).float().mean() > 0.8  # a real classifier
    batch = images[:6]
    exp = integrad.explain_image(model, batch, labels=[str(d) for d in range(10)])
    assert exp.target_labels == [str(int(t)) for t in exp.predicted]
    # ReLU kinks slow the quadrature: completeness to a few percent at 50 points.
    moved = exp.output - exp.baseline_output
    assert (exp.delta.abs() <= 0.05 * moved.abs()).all()
    # With a black baseline, empty (black) pixels get exactly nothing: their path is empty.
    background = batch[:, 0] == 0
    assert (exp.pixel_map[background] == 0).all()
    assert (exp.pixel_map[~background].abs() > 0).float().mean() > 0.9


def test_misspelled_options_are_refused(cnn, images):
    with pytest.raises(
        IntegradError, match=r"sets 'baselines' itself \(its baseline is baseline=\)"
    ):
        integrad.explain_image(cnn, images, baselines="white")
    with pytest.raises(
        IntegradError, match=r"unknown setting\(s\) 'steps' \(did you mean 'n_steps'"
    ):
        integrad.explain_image(cnn, images, steps=10)
