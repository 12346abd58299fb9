"""Typed settings: the network's shape, the training recipe, and the Create ML parameters' meaning.

Everything a model file needs to be rebuilt lives in :class:`ModelConfig`, which is saved as JSON beside the
weights. :class:`TrainConfig` holds a training run's settings and is saved in the session directory so a run
can be resumed ("Train More").

Create ML's two style parameters are mapped here, in one place:

* ``style_strength`` s in 1..10 scales the style loss against the content loss, log-linearly on each side of 5:
  ``style_weight = 10 ** ((s - 5) / 4.5)`` relative to the recipe's base weight up to 5, the recipe's
  balance, and ``10 ** ((s - 5) / 9)`` above it: 1 is about 8x less style, 10 about 3.6x more. The top is
  softer because the style similarity stops rising there: on 30 held-out paintings 3.6x scored the style of
  13x (the earlier strength 10) with 0.04 more SSIM and clearer faces (bench/RESULTS.md, "Ninth round").
* ``style_density`` d in 64..1024 (steps of 4) sets the scale at which the style image is shown to the loss
  network, relative to the fixed 256 px training crops: the style image is resized so its longer side is
  ``style_long_side(d) = 512 * 256 / d`` pixels (2048 px at d=64, 512 px at the default 256, 128 px at 1024).
  A large style image makes the style's brush strokes and shapes large relative to the content crops, so the
  model learns *coarse structures*; a small one packs the whole painting into a few VGG receptive fields, so
  the model learns its *colours and fine strokes*. Texture scale in the output therefore falls monotonically
  as density rises (tests/test_density.py measures it).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any, Literal

from studio.errors import StudioError

UseCase = Literal["image", "video"]
USE_CASES: tuple[str, ...] = ("image", "video")
FORMAT_VERSION = 1

DEFAULT_ITERATIONS = 100  # as good as 200 on held-out paintings; about 7 s end to end on an H200 (bench/RESULTS.md)
STRENGTH_RANGE = (1, 10)
DENSITY_RANGE = (64, 1024)
DENSITY_STEP = 4


@dataclass(frozen=True)
class NetworkConfig:
    """Shape of the feed-forward transformation network (see :mod:`studio.nn.networks`)."""

    channels: tuple[int, int, int] = (32, 64, 128)  # full, 1/2 and 1/4 resolution
    num_residual: int = 5
    num_styles: int = 1
    edge_kernel: int = 9  # first and last convolution, at full resolution

    def __post_init__(self) -> None:
        # A model file's header says how big a network to build: bound it before anything is allocated.
        if not isinstance(self.channels, tuple | list) or len(self.channels) != 3:
            raise StudioError(f"network channels must be three numbers, got {self.channels!r}")
        for c in self.channels:
            check_int("network channels", c, 1, 1024)
        check_int("num_residual", self.num_residual, 0, 32)
        check_int("num_styles", self.num_styles, 1, 256)
        check_int("edge_kernel", self.edge_kernel, 1, 15)
        if self.edge_kernel % 2 == 0:
            raise StudioError(f"edge_kernel must be odd, got {self.edge_kernel}")

    @staticmethod
    def for_use_case(use_case: str, num_styles: int = 1) -> NetworkConfig:
        """Turi Create's "resnet-16" for images; a real-time net (~70 K params, 0.15 MB at fp16) for video.

        The video net is sized for a 2-core CPU at 512 px (bench/video_arch.py measured the candidates): the
        full- and half-resolution layers cost most of a CPU pass, so they are narrow (8 and 16 channels, 5x5
        edges), and the style capacity sits in three residual blocks at 1/4 resolution. Model files made with
        the earlier 16-32-64 video net still load: every file carries its own NetworkConfig.
        """
        check_choice("use_case", use_case, USE_CASES)
        if use_case == "image":
            return NetworkConfig(channels=(32, 64, 128), num_residual=5, num_styles=num_styles)
        return NetworkConfig(channels=(8, 16, 32), num_residual=3, num_styles=num_styles, edge_kernel=5)


@dataclass(frozen=True)
class LossRecipe:
    """Which VGG layers feed the losses and how they are weighted.

    ``normalized=True`` (the studio recipe) divides each layer's Gram error by the squared norm of the
    target Gram and the content error by the squared norm of the content features, so every layer
    contributes on the same, dimensionless scale whatever the style image or loss network; the base
    weights below then mean the same thing for every style. ``normalized=False`` is Johnson et al.'s
    plain recipe: absolute squared errors, Grams divided by C*H*W.
    """

    name: str = "studio"
    # The first ReLU of each block (the layers of Huang & Belongie 2017's AdaIN), rather than Johnson et al.'s
    # last: better style similarity on 10 of 12 held-out paintings at strengths 5 and 10, the same SSIM, and
    # a cheaper step (bench/RESULTS.md, "Style layers").
    style_layers: tuple[str, ...] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")
    style_layer_weights: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0)
    # relu2_2 (Johnson et al.'s content layer) rather than relu3_3: it keeps the photo's light and dark where
    # they were, so faces and edges survive (measured: bench/RESULTS.md, "Training recipe").
    content_layer: str = "relu2_2"
    content_weight: float = 1.0
    style_weight: float = 2.0  # at strength 5
    tv_weight: float = 2e-5
    # Weight of the structure term (studio.nn.losses.structure_error: SSIM's local correlation of the output's and
    # the photo's luminance, blind to brightness and contrast) at strength 5, scaled with the style weight by the
    # strength: the photo's light-and-dark structure is kept however dark or flat the painting, against faces lost
    # on dark paintings at high strengths. On 30 held-out paintings (bench/RESULTS.md, "Tenth round"): strength 10
    # 0.905 / 0.503 (style / SSIM) against 0.905 / 0.383 without it, faces back on the dark flower still life,
    # the Monet riverbank and the cat; strength 5 0.896 / 0.545 against 0.900 / 0.469.
    structure_weight: float = 1.11
    # The scales it compares at, each 2^k times smaller than the output (0: full size). Leaving the full size to the
    # painting's grain (1/2) kept 0.020-0.024 more SSIM on 30 held-out paintings for 0.002-0.003 of style at
    # strengths 1, 5 and 10 (bench/RESULTS.md, "Thirteenth round"): about even at equal style, and the wrong way
    # while the style similarity is what falls short, so the default stays.
    structure_scales: tuple[int, ...] = (0, 1)
    # The scales the style statistics are matched at, each 2^k times smaller (0: the crop as it is; k > 0: the
    # output and the painting both 2x2-averaged k times, the error added to the full size's), for strokes and colour
    # blocks larger than the deepest style layer sees (about 60 px). Measured on the 12 explore paintings (0/1;
    # bench/RESULTS.md, "Fourteenth round"): less SSIM at equal style (0.534 against 0.569 at 0.89-0.90), the
    # ceiling at strength 10 up only 0.007, and large posterized patches by eye, so the default stays full size.
    style_scales: tuple[int, ...] = (0,)
    normalized: bool = True
    # Channel means and covariance matched separately ("meancov", see studio.nn.losses) rather than the raw Gram,
    # whose mean term dominates for ReLU features.
    style_stat: Literal["gram", "meancov"] = "meancov"
    # With style_grid > 1 the output's statistics are matched on a style_grid x style_grid grid of tiles, each
    # against the painting's whole-image statistic, rather than once over the whole crop (a painting's texture is
    # roughly the same everywhere; a global statistic lets skies and plain backgrounds stay flat). Off: on held-out
    # paintings a 2x2 grid lowered both the style similarity and SSIM (bench/RESULTS.md, "Sixth round").
    style_grid: int = 1
    # Weight of the sliced Wasserstein term (studio.nn.losses.sliced_error) beside the means and covariance, per
    # style layer: the features' whole distribution, against the flat patches that means and covariance allow. At 2
    # (with starts re-made with it) the held-out paintings' style similarity rose from 0.875 to 0.902 and SSIM fell
    # from 0.518 to 0.471, about +0.02 of style at equal SSIM (bench/RESULTS.md, "Seventh round"). Its random
    # directions are drawn from the run's seeded, checkpointed generator (PerceptualLoss.redraw): a run repeats
    # from its seed and resumes exactly.
    sliced_weight: float = 2.0
    # Weight of the contextual term (studio.nn.losses.contextual_error; Mechrez et al. 2018) at these style layers:
    # every painting feature should be some output feature's closest match, with no spatial alignment, the
    # nearest-neighbour statistic of Li & Wand 2016's MRF loss made smooth. On the 12 explore paintings
    # (bench/RESULTS.md, "Fifteenth round") weight 0.25 moved along the strength curve (0.902 / 0.547 against
    # 0.896 / 0.571, style / SSIM), heavier weights only lost SSIM and made flatter patches, and with the other small
    # gains it stopped at 0.91: off.
    contextual_weight: float = 0.0
    contextual_layers: tuple[str, ...] = ("relu3_1", "relu4_1")
    contextual_bandwidth: float = 0.5  # h of the paper: smaller, the closer a match must be to count
    # Weight of the local-contrast term (studio.nn.losses.contrast_error): the distribution of the output's local
    # luminance contrast (the standard deviation in 8 px windows) matched to the painting's, so a painting with texture
    # everywhere leaves no large flat regions. On the 12 explore paintings (bench/RESULTS.md, "Fifteenth round") at
    # 1 and 4: style 0.898 against 0.896, SSIM down 0.009-0.023, the same flat regions by eye (the paintings have flat
    # windows of their own at the density's scale): off.
    contrast_weight: float = 0.0
    # Standard deviation of Gaussian noise added to the network's input crops while training (the loss still compares
    # with the clean crops), in the spirit of Ulyanov et al. 2016's texture networks, whose noise input is what they
    # paint texture from: a convolutional network maps a flat photo region to a flat output, whatever the loss asks.
    # On the 12 explore paintings (bench/RESULTS.md, "Sixteenth round"; the same noise on the photos when stylizing,
    # bench/quality.py's infer_noise) every amount and scale stayed on the strength curve (at most 0.900 / 0.502,
    # style / SSIM, against 0.895 / 0.570), and by eye the flat regions filled with blotches, not strokes: off.
    input_noise: float = 0.0
    # The noise is drawn at 1/input_noise_scale of the crop's size and upsampled bilinearly: grain at the scale of a
    # stroke rather than of a pixel.
    input_noise_scale: int = 1
    # A gentle fine-tune of the pre-trained start (studio.train.start): the shared weights at 5e-4, the per-style
    # parameters (gamma, beta) at 10x that, so the style is fitted first and the start's painting skills are
    # kept; at 2e-3 for everything a short run posterized photos into flat patches (bench/RESULTS.md).
    learning_rate: float = 5e-4
    norm_lr_scale: float = 10.0
    lr_final_fraction: float = 0.1  # cosine decay to this fraction of the learning rate
    output: Literal["sigmoid", "linear"] = "sigmoid"
    # Penalty on sigmoid inputs beyond +-SATURATION: a saturated pixel gets no gradient from the other losses,
    # so once a dark or bright blob forms it stays ("droplet" artifacts); this pulls it back into range.
    # Penalty on instance-norm outliers beyond spike_limit sigmas (droplet artifacts, see networks.py).
    # Both off in the studio recipe: they were needed against droplets when training started from a photo
    # network at 2e-3 with raw Grams; from the many-styles start with the gentle means-and-covariance fine-tune
    # they cost style and content on held-out paintings, and the spike penalty 17 % of a step's time
    # (bench/RESULTS.md, "Training recipe").
    saturation_weight: float = 0.0
    spike_weight: float = 0.0
    spike_limit: float = 4.0
    # Video use case only: stability loss (Gupta et al. 2017, "Characterizing and Improving Stability in Neural
    # Style Transfer"): the mean squared change of the output when the input gets Gaussian noise of this
    # standard deviation. Feed-forward nets amplify tiny input changes into flicker; this trains them to ignore
    # them. Measured on cutBunny (bench/video_stability.py, bench/RESULTS.md, "Ninth round"): with the sliced
    # term on, swirling-sky's video preset flickered 10 % more than its predecessor at weight 25; at 150 it
    # flickers 13 % less per frame (7 % less stabilized), and on held-out paintings the style similarity stayed
    # (0.866 against 0.867) while SSIM rose (0.481 against 0.456).
    video_stability_weight: float = 150.0
    stability_noise: float = 0.02

    def __post_init__(self) -> None:
        for name in ("structure_scales", "style_scales"):
            scales = getattr(self, name)
            if not scales or any(k < 0 for k in scales) or len(set(scales)) != len(scales):
                raise StudioError(f"{name} must be distinct scales 0, 1, 2, ... (2^k times smaller), got {scales}")
        if self.contrast_weight < 0:
            raise StudioError(f"contrast_weight must be >= 0, got {self.contrast_weight}")
        if not 0 <= self.input_noise <= 1:
            raise StudioError(f"input_noise must be in [0, 1], got {self.input_noise}")
        if self.input_noise_scale < 1:
            raise StudioError(f"input_noise_scale must be >= 1, got {self.input_noise_scale}")
        if self.contextual_weight < 0:
            raise StudioError(f"contextual_weight must be >= 0, got {self.contextual_weight}")
        if self.contextual_weight > 0:
            missing = [layer for layer in self.contextual_layers if layer not in self.style_layers]
            if not self.contextual_layers or missing:
                raise StudioError(
                    f"contextual_layers must be some of the style layers {self.style_layers}, "
                    f"got {self.contextual_layers}"
                )
            if not self.contextual_bandwidth > 0:
                raise StudioError(f"contextual_bandwidth must be > 0, got {self.contextual_bandwidth}")

    @property
    def uses_samples(self) -> bool:
        """Whether a term compares with the painting's feature samples (the sliced and contextual terms)."""
        return self.sliced_weight > 0 or self.contextual_weight > 0

    def overridden(self, text: str | None) -> LossRecipe:
        """This recipe with ``key=value,...`` overrides of its fields (tuples: values separated by /), as the
        preset and pre-training scripts' ``--recipe`` take them."""
        recipe = self
        fields = {f.name for f in dataclasses.fields(LossRecipe)}
        for item in filter(None, (text or "").split(",")):
            key, _, value = item.partition("=")
            if key not in fields:
                raise StudioError(f"unknown recipe field {key!r} in {text!r}")
            current = getattr(recipe, key)
            if isinstance(current, tuple):
                parsed: object = tuple(type(current[0])(v) for v in value.split("/"))
            elif isinstance(current, bool):
                parsed = value.lower() in ("1", "true", "yes")
            else:
                parsed = type(current)(value)
            recipe = dataclasses.replace(recipe, **{key: parsed})
        return recipe


STUDIO_RECIPE = LossRecipe()
# Johnson et al. 2016 as in PyTorch's fast_neural_style example: content at relu2_2, style at relu1_2..relu4_3,
# mean squared errors, Adam at a constant 1e-3. The example's weights (content 1e5, style 1e10) are for
# ImageNet-normalised input; the HED network sees 0..255 input, about 57x larger activations, so the same
# balance is style/content = 1e5 / 57^2 = 30.
PLAIN_RECIPE = LossRecipe(
    name="plain",
    content_layer="relu2_2",
    content_weight=1.0,
    style_weight=30.0,
    tv_weight=1e-6,
    normalized=False,
    learning_rate=1e-3,
    norm_lr_scale=1.0,
    style_stat="gram",
    lr_final_fraction=1.0,
    output="linear",
    saturation_weight=0.0,
    spike_weight=0.0,
    video_stability_weight=0.0,
    sliced_weight=0.0,
    structure_weight=0.0,
    contextual_weight=0.0,
    contrast_weight=0.0,
    input_noise=0.0,
)
RECIPES = {"studio": STUDIO_RECIPE, "plain": PLAIN_RECIPE}


@dataclass(frozen=True)
class TrainConfig:
    """One training run's settings, validated on construction (see :func:`studio.create`)."""

    iterations: int = DEFAULT_ITERATIONS
    style_strength: float = 5.0
    style_density: int = 256
    use_case: str = "image"
    batch_size: int | None = None  # None: 8 on a GPU, 2 on the CPU (resolved by the Trainer)
    crop_size: int = 256
    seed: int = 0
    report_interval: int = 5
    checkpoint_interval: int = 100
    recipe: str = "studio"
    loss_network: str = "hed"
    compile: bool = False
    init: str = "pretrained"  # "pretrained": start from studio/weights/init-<use case>; "random": from scratch
    # Multi-style models: one strength and density per style (None: every style at style_strength and
    # style_density): a multi-style run trains each style at its own settings. (The shipped all-presets models
    # are distilled from the presets' own models instead, presets/distill.py, and record their settings so.)
    style_strengths: tuple[float, ...] | None = None
    style_densities: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        check_int("iterations", self.iterations, 1, 1_000_000)
        check_number("style_strength", self.style_strength, *STRENGTH_RANGE)
        check_density(self.style_density)
        check_choice("use_case", self.use_case, USE_CASES)
        if self.batch_size is not None:
            check_int("batch_size", self.batch_size, 1, 256)
        check_int("crop_size", self.crop_size, 32, 2048)
        if self.crop_size % 4:
            raise StudioError(f"crop_size must be a multiple of 4, got {self.crop_size}")
        check_int("seed", self.seed, 0, 2**63 - 1)
        check_int("report_interval", self.report_interval, 1, 1_000_000)
        check_int("checkpoint_interval", self.checkpoint_interval, 1, 1_000_000)
        check_choice("recipe", self.recipe, tuple(RECIPES))
        check_choice("loss_network", self.loss_network, ("hed", "torchvision"))
        check_choice("init", self.init, ("pretrained", "random"))
        for value in self.style_strengths or ():
            check_number("style_strengths", value, *STRENGTH_RANGE)
        for value in self.style_densities or ():
            check_density(value, "style_densities")
        if self.init == "pretrained" and self.loss_recipe.output != "sigmoid":
            raise StudioError(f"the pre-trained start has a sigmoid output; recipe {self.recipe!r} needs init='random'")

    @property
    def loss_recipe(self) -> LossRecipe:
        return RECIPES[self.recipe]

    def per_style(self, num_styles: int) -> tuple[tuple[float, ...], tuple[int, ...]]:
        """(strength, density) of each of ``num_styles`` styles, checked against the count."""
        strengths = self.style_strengths or (float(self.style_strength),) * num_styles
        densities = self.style_densities or (self.style_density,) * num_styles
        if len(strengths) != num_styles or len(densities) != num_styles:
            raise StudioError(
                f"give one strength and one density per style ({num_styles}); got {len(strengths)} strengths "
                f"and {len(densities)} densities"
            )
        return tuple(float(s) for s in strengths), tuple(densities)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @staticmethod
    def from_dict(data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(TrainConfig)}
        data = {k: v for k, v in data.items() if k in known}
        for key in ("style_strengths", "style_densities"):
            if data.get(key) is not None:
                data[key] = tuple(data[key])
        return TrainConfig(**data)


@dataclass(frozen=True)
class ModelConfig:
    """Everything saved beside a model's weights: enough to rebuild it and to describe it."""

    network: NetworkConfig
    use_case: str
    style_names: tuple[str, ...]
    style_strength: float
    style_density: int
    iterations: int
    loss_network: str
    recipe: str
    output: str = "sigmoid"
    package_version: str = ""
    format_version: int = FORMAT_VERSION
    # Multi-style models trained at one strength and density per style (None: all at the two above).
    style_strengths: tuple[float, ...] | None = None
    style_densities: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        check_choice("use_case", self.use_case, USE_CASES)
        check_choice("output", self.output, ("sigmoid", "linear"))
        if len(self.style_names) != self.network.num_styles or not all(
            isinstance(n, str) and 0 < len(n) <= 200 for n in self.style_names
        ):
            raise StudioError(
                f"the model has {self.network.num_styles} styles but its config names {len(self.style_names)}"
                " (style names are 1 to 200 characters)"
            )
        for key in ("style_strengths", "style_densities"):
            values = getattr(self, key)
            if values is not None and (not isinstance(values, tuple) or len(values) != self.network.num_styles):
                raise StudioError(f"{key} must hold one value per style ({self.network.num_styles}), got {values!r}")

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @staticmethod
    def from_json(text: str) -> ModelConfig:
        try:
            data = json.loads(text)
            version = data.get("format_version")
            if version != FORMAT_VERSION:
                raise StudioError(
                    f"model format version {version!r} is not supported (this studio reads version "
                    f"{FORMAT_VERSION}); re-export the model with a matching studio version"
                )
            net = data.pop("network")
            net["channels"] = tuple(net["channels"])
            data["style_names"] = tuple(data["style_names"])
            for key in ("style_strengths", "style_densities"):
                if data.get(key) is not None:
                    data[key] = tuple(data[key])
            return ModelConfig(network=NetworkConfig(**net), **data)
        except StudioError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise StudioError(f"model config is invalid: {exc}") from None


def style_strength_weight(strength: float) -> float:
    """Multiplier of the recipe's style weight for Create ML's style strength (1..10, 5 = 1.0)."""
    check_number("style_strength", strength, *STRENGTH_RANGE)
    return float(10 ** ((strength - 5.0) / (4.5 if strength <= 5.0 else 9.0)))


def style_long_side(density: int) -> int:
    """Longer side, in pixels, at which the style image is shown to the loss network (see module doc)."""
    check_int("style_density", density, *DENSITY_RANGE)
    return int(round(512 * 256 / density))


# --- validation helpers: one clear message naming the bad value -------------------------------------------


def check_int(name: str, value: object, lo: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise StudioError(f"{name} must be a whole number between {lo} and {hi}, got {value!r}")
    if not lo <= value <= hi:
        raise StudioError(f"{name} must be between {lo} and {hi}, got {value}")


def check_density(value: object, name: str = "style_density") -> None:
    check_int(name, value, *DENSITY_RANGE)
    assert isinstance(value, int)
    if value % DENSITY_STEP:
        raise StudioError(
            f"{name} must be a multiple of {DENSITY_STEP} between {DENSITY_RANGE[0]} and {DENSITY_RANGE[1]}, "
            f"got {value}"
        )


def check_number(name: str, value: object, lo: float, hi: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise StudioError(f"{name} must be a number between {lo} and {hi}, got {value!r}")
    if not lo <= value <= hi:
        raise StudioError(f"{name} must be between {lo} and {hi}, got {value}")


def check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise StudioError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
