from __future__ import annotations

import pytest

from studio.config import ModelConfig, NetworkConfig, TrainConfig, style_long_side, style_strength_weight
from studio.errors import StudioError


@pytest.mark.parametrize(
    ("kwargs", "shown"),
    [
        ({"iterations": 0}, "0"),
        ({"iterations": 2.5}, "2.5"),
        ({"iterations": True}, "True"),
        ({"style_strength": 0}, "0"),
        ({"style_strength": 11}, "11"),
        ({"style_strength": float("nan")}, "nan"),
        ({"style_strength": "5"}, "'5'"),
        ({"style_density": 60}, "60"),
        ({"style_density": 1028}, "1028"),
        ({"style_density": 130}, "130"),
        ({"style_density": 256.0}, "256.0"),
        ({"use_case": "movie"}, "'movie'"),
        ({"batch_size": 0}, "0"),
        ({"crop_size": 30}, "30"),
        ({"crop_size": 66}, "66"),
        ({"seed": -1}, "-1"),
        ({"report_interval": 0}, "0"),
        ({"recipe": "fancy"}, "'fancy'"),
        ({"loss_network": "resnet"}, "'resnet'"),
    ],
)
def test_invalid_train_settings_name_the_value(kwargs: dict, shown: str) -> None:
    with pytest.raises(StudioError) as err:
        TrainConfig(**kwargs)
    name = next(iter(kwargs))
    assert name in str(err.value) and shown in str(err.value)


def test_edges_of_ranges_are_accepted() -> None:
    TrainConfig(style_strength=1, style_density=64)
    TrainConfig(style_strength=10, style_density=1024)
    TrainConfig(style_strength=7.5, style_density=516)


def test_strength_and_density_mappings_are_monotonic() -> None:
    weights = [style_strength_weight(s) for s in range(1, 11)]
    assert weights == sorted(weights) and weights[4] == pytest.approx(1.0)
    # Softer above 5 (README, "Style strength"): about 8x less style at 1, 3.6x more at 10, no jump at 5.
    assert weights[0] == pytest.approx(0.129, abs=1e-3) and weights[9] == pytest.approx(3.59, abs=1e-2)
    assert style_strength_weight(4.99) < 1.0 < style_strength_weight(5.01) < 1.01
    sides = [style_long_side(d) for d in range(64, 1025, 4)]
    assert all(a >= b for a, b in zip(sides, sides[1:], strict=False))
    assert all(style_long_side(d) > style_long_side(d + 64) for d in range(64, 961, 4))
    assert style_long_side(256) == 512 and style_long_side(64) == 2048 and style_long_side(1024) == 128


def test_model_config_round_trip_and_version_check() -> None:
    cfg = ModelConfig(
        NetworkConfig(num_styles=2), "image", ("a", "b"), 5.0, 256, 10, "hed", "studio", package_version="x"
    )
    assert ModelConfig.from_json(cfg.to_json()) == cfg
    newer = cfg.to_json().replace('"format_version": 1', '"format_version": 99')
    with pytest.raises(StudioError, match="format version 99"):
        ModelConfig.from_json(newer)
    with pytest.raises(StudioError, match="invalid"):
        ModelConfig.from_json('{"format_version": 1}')
