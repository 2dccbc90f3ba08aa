from groove_vae import configs, flops


def test_flops_of_a_small_model_by_hand():
    config = configs.apply_hparams(
        configs.Config(),
        "encoder_rnn_sizes=[4],conductor_rnn_sizes=[3],conductor_output_size=2,decoder_rnn_sizes=[5],"
        "z_size=6,num_bars=2,steps_per_bar=3",
    )
    depth = 7  # Inputs and outputs of 7 numbers per step; 6 steps.
    encoder = 2 * (2 * 4 * 4 * (7 + 4) * 6) + 2 * (2 * 8 * 6)  # Two directions, then mu and sigma.
    conductor = 2 * 6 * 6 + 2 * 4 * 3 * (1 + 3) * 2 + 2 * 3 * 2 * 2  # State from z, LSTM over 2 bars, output.
    decoder = 2 * 2 * 10 * 2 + 2 * 4 * 5 * (2 + 7 + 5) * 6 + 2 * 5 * 7 * 6  # States per bar, LSTM, projection.
    assert flops.forward_flops(config, depth, depth) == encoder + conductor + decoder
    assert flops.training_flops_per_example(config, depth, depth) == 3 * (encoder + conductor + decoder)


def test_flat_decoder_is_conditioned_on_z():
    config = configs.apply_hparams(configs.Config(), "decoder=flat,encoder_rnn_sizes=[4],decoder_rnn_sizes=[5],z_size=6")
    hier = configs.apply_hparams(config, "decoder=hierarchical")
    assert flops.forward_flops(config, 27, 27) != flops.forward_flops(hier, 27, 27)
    groovae = configs.load_config("groovae_4bar")
    assert 1e9 < flops.forward_flops(groovae, 27, 27) < 2e9  # The 512-unit encoder dominates.
