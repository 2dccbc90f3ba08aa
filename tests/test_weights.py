"""The weight format: keyed by each variable's path, so a file loads into the right
variables or is refused by name, never assigned by position."""

import numpy as np
import pytest
from helpers import tiny_config

from groove_vae import bundled, configs, runs, weights
from groove_vae.model import build_model


def test_save_then_load_gives_the_same_weights_by_path(tmp_path):
    source, target = build_model(tiny_config("groovae_4bar")), build_model(tiny_config("groovae_4bar"))
    path = weights.save_weights(source, str(tmp_path / "weights.npz"))
    weights.load_weights(target, path)
    saved = weights.read_weights(path)
    for key, variable in weights.named_weights(target).items():
        np.testing.assert_array_equal(variable.numpy(), saved[key])
        np.testing.assert_array_equal(variable.numpy(), weights.named_weights(source)[key].numpy())


def test_weights_are_matched_by_path_not_by_position(tmp_path):
    """Forward and backward LSTMs have the same shapes: swapping their keys in the file
    swaps what they load, and the order of the keys in the file does not matter."""
    model = build_model(tiny_config("groovae_4bar"))
    arrays = {key: v.numpy() for key, v in weights.named_weights(model).items()}
    forward, backward = "encoder/rnns/0/forward_layer/cell/kernel", "encoder/rnns/0/backward_layer/cell/kernel"
    assert arrays[forward].shape == arrays[backward].shape and not np.array_equal(arrays[forward], arrays[backward])
    swapped = dict(reversed(list(arrays.items())))  # Another order in the file.
    swapped[forward], swapped[backward] = arrays[backward], arrays[forward]
    np.savez(tmp_path / "swapped.npz", **swapped)
    target = build_model(tiny_config("groovae_4bar"))
    weights.load_weights(target, str(tmp_path / "swapped.npz"))
    loaded = weights.named_weights(target)
    np.testing.assert_array_equal(loaded[forward].numpy(), arrays[backward])
    np.testing.assert_array_equal(loaded[backward].numpy(), arrays[forward])


def test_a_renamed_layer_is_refused_by_name(tmp_path):
    model = build_model(tiny_config("groovae_4bar"))
    arrays = {key.replace("bar_decoder/output_projection", "bar_decoder/projection"): v.numpy()
              for key, v in weights.named_weights(model).items()}
    np.savez(tmp_path / "renamed.npz", **arrays)
    with pytest.raises(ValueError, match=r"renamed.npz.*missing decoder/bar_decoder/output_projection/.*"
                                         r"not in this model decoder/bar_decoder/projection/"):
        weights.load_weights(model, str(tmp_path / "renamed.npz"))


def test_a_weight_of_another_shape_is_refused_naming_it(tmp_path):
    small, large = build_model(tiny_config("groovae_4bar")), build_model(tiny_config("groovae_4bar", "z_size=6"))
    path = weights.save_weights(small, str(tmp_path / "weights.npz"))
    with pytest.raises(ValueError, match=r"weights.npz: \S+ has shape"):
        weights.load_weights(large, path)


def test_the_bundled_models_are_stored_by_path_and_load_every_weight():
    for name, directory in bundled.MODELS.items():
        config = configs.read_saved_config(f"{directory}/{runs.CONFIG_FILE}")
        stored = weights.read_weights(f"{directory}/{runs.WEIGHTS_FILE}")
        assert sorted(stored) == sorted(weights.named_weights(build_model(config))), name


def test_a_positional_file_loads_by_position_and_converts_once(tmp_path):
    model = build_model(tiny_config("groovae_4bar"))
    path = str(tmp_path / "weights.npz")
    np.savez(path, **{f"w{i:03d}": w.astype(np.float16) for i, w in enumerate(model.get_weights())})
    target = build_model(tiny_config("groovae_4bar"))
    weights.load_weights(target, path)
    for a, b in zip(model.get_weights(), target.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-2)
    assert weights.convert_legacy(target, path)
    assert not weights.convert_legacy(target, path)  # Already converted.
    stored = weights.read_weights(path)
    assert sorted(stored) == sorted(weights.named_weights(target))
    assert {a.dtype for a in stored.values()} == {np.dtype(np.float16)}
