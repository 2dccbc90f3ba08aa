"""Floating-point operations of a model, worked out from its layer sizes.

Counts multiply-adds of the matrix products as 2 FLOPs each (LSTM gates: 4 units' worth
of input and recurrent products per step); elementwise work is left out, as it is small
beside them. A training step costs about 3x the forward pass (forward, and the two
products of the backward pass).
"""

from __future__ import annotations

from groove_vae.configs import Config

TRAINING_FACTOR = 3


def lstm_flops(input_size: int, units: int, steps: int) -> int:
    """One LSTM layer over `steps`: 4 gates of [input + recurrent] x units, 2 FLOPs a multiply-add."""
    return 2 * 4 * units * (input_size + units) * steps


def dense_flops(input_size: int, output_size: int, times: int = 1) -> int:
    return 2 * input_size * output_size * times


def stacked_lstm_flops(input_size: int, sizes, steps: int) -> int:
    total = 0
    for size in sizes:
        total += lstm_flops(input_size, size, steps)
        input_size = size
    return total


def forward_flops(config: Config, input_depth: int, output_depth: int) -> int:
    """FLOPs of one example's teacher-forced forward pass (encoder, conductor, decoder)."""
    steps, bars = config.num_steps, config.num_bars
    # Encoder: each bidirectional layer runs two LSTMs; the next layer sees both.
    encoder, size_in = 0, input_depth
    for size in config.encoder_rnn_sizes:
        encoder += 2 * lstm_flops(size_in, size, steps)
        size_in = 2 * size
    encoder += 2 * dense_flops(size_in, config.z_size)  # mu and sigma.

    decoder_state = 2 * sum(config.decoder_rnn_sizes)
    if config.decoder == "hierarchical":
        conductor_state = 2 * sum(config.conductor_rnn_sizes)
        embedding = config.conductor_output_size
        conductor = (dense_flops(config.z_size, conductor_state)
                     + stacked_lstm_flops(1, config.conductor_rnn_sizes, bars)
                     + dense_flops(config.conductor_rnn_sizes[-1], embedding, bars))
        initial_states = dense_flops(embedding, decoder_state, bars)
    else:
        embedding, conductor = config.z_size, 0
        initial_states = dense_flops(embedding, decoder_state)
    decoder = (initial_states
               + stacked_lstm_flops(embedding + input_depth, config.decoder_rnn_sizes, steps)
               + dense_flops(config.decoder_rnn_sizes[-1], output_depth, steps))
    return encoder + conductor + decoder


def training_flops_per_example(config: Config, input_depth: int, output_depth: int) -> int:
    return TRAINING_FACTOR * forward_flops(config, input_depth, output_depth)
