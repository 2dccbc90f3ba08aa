import json

import pytest

from groove_vae import configs


def test_every_shipped_config_loads():
    names = configs.available_configs()
    for required in ["groovae_4bar", "groovae_4bar_flat", "hierdec_drums_4bar", "drums_4bar_flat"]:
        assert required in names
    for name in names:
        assert isinstance(configs.load_config(name), configs.Config)


def test_groovae_4bar_follows_magenta():
    c = configs.load_config("groovae_4bar")
    assert (c.representation, c.decoder, c.z_size, c.batch_size) == ("groove", "hierarchical", 256, 512)
    assert c.decoder_rnn_sizes == (256, 256) and c.encoder_rnn_sizes == (512, 512)
    assert (c.free_bits, c.max_beta, c.dropout_rate) == (48, 0.2, 0.7)


def test_flat_variant_differs_only_in_decoder():
    hier, flat = configs.load_config("groovae_4bar"), configs.load_config("groovae_4bar_flat")
    assert flat.decoder == "flat"
    assert {k for k, v in hier.to_dict().items() if flat.to_dict()[k] != v} == {"decoder"}


def test_hparams_are_parsed_with_types():
    c = configs.apply_hparams(configs.Config(), "z_size=64,encoder_rnn_sizes=[128,64],dropout_rate=0.25,groove_loss=masked")
    assert c.z_size == 64 and c.encoder_rnn_sizes == (128, 64) and c.dropout_rate == 0.25
    assert c.groove_loss == "masked"


def test_unknown_key_lists_the_valid_ones():
    with pytest.raises(ValueError, match="Unknown config key 'z_dim'.*z_size"):
        configs.apply_hparams(configs.Config(), "z_dim=3")


@pytest.mark.parametrize(
    "hparams",
    ["z_size=big", "z_size=1.5", "representation=piano", "dropout_rate=1.5", "z_size", "precision=float16",
     "jit_compile=true,sampling_rate=0.5", "feel_loss_weight=0", "feel_loss_weight=-1", "velocity_memory=1",
     "timing_memory=-0.1", "hit_memory=1", "hit_memory=[0.1,0.2]", "hit_memory=[0,0,0,0,1.2]", "hit_memory=x",
     "encoder_rnn_sizes=[512.5]"],
)
def test_bad_values_are_rejected(hparams):
    with pytest.raises(ValueError):
        configs.apply_hparams(configs.Config(), hparams)


def test_the_hit_memory_is_one_value_or_one_per_temperature(tmp_path):
    assert configs.apply_hparams(configs.Config(), "hit_memory=0.4").hit_memory == (0.4,)
    assert configs.Config(hit_memory=0.4).hit_memory == (0.4,)  # Given in code, as a number or a list.
    assert configs.Config(hit_memory=[0, 0.1, 0.6, 0.8, 0.8]).hit_memory == (0.0, 0.1, 0.6, 0.8, 0.8)
    table = configs.apply_hparams(configs.Config(), "hit_memory=[0,0.1,0.6,0.8,0.8]")
    assert table.hit_memory == (0.0, 0.1, 0.6, 0.8, 0.8)
    configs.save_config(table, tmp_path / "config.json")
    assert configs.read_saved_config(tmp_path / "config.json") == table


def test_saved_config_round_trips(tmp_path):
    c = configs.apply_hparams(configs.load_config("hierdec_drums_4bar"), "z_size=32")
    configs.save_config(c, tmp_path / "config.json")
    assert configs.read_saved_config(tmp_path / "config.json") == c


def test_configs_saved_before_the_speed_options_load_with_their_defaults(tmp_path):
    values = configs.Config().to_dict()
    del values["precision"], values["jit_compile"]
    (tmp_path / "config.json").write_text(json.dumps(values))
    assert configs.read_saved_config(tmp_path / "config.json") == configs.Config()
    assert configs.Config().precision == "auto" and not configs.Config().jit_compile


def test_a_run_resumes_with_its_fitted_feel_memory_but_not_with_another_model(tmp_path):
    from groove_vae import runs

    config = configs.load_config("groovae_4bar_cpu")
    calibrated = configs.apply_hparams(config, "velocity_memory=0.8,timing_memory=0.3")
    configs.save_config(calibrated, tmp_path / "config.json")
    assert runs.resolve_run_config(config, str(tmp_path)) == calibrated  # The fitted sampling stays.
    with pytest.raises(ValueError, match="another config.*z_size"):
        runs.resolve_run_config(configs.apply_hparams(config, "z_size=8"), str(tmp_path))
