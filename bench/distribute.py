r"""Training throughput of one process with the default strategy and with MirroredStrategy.

Usage:
  python bench/distribute.py                                  # groovae_4bar_cpu, batch 64
  python bench/distribute.py --config=groovae_4bar --batch_size=512 --steps=5

With GPUs, MirroredStrategy takes every GPU; without, it takes `--cpu_devices` logical CPU
devices, which share this machine's cores. The two alternate for `--rounds` rounds, so a
load that comes and goes weighs on both; each round builds the model, runs `--warmup`
steps (tracing included) and times `--steps` more, with the global batch split over the
replicas.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import time

from absl import app, flags, logging

flags.DEFINE_string("config", "groovae_4bar_cpu", "Config name.")
flags.DEFINE_integer("batch_size", 64, "Global batch size.")
flags.DEFINE_integer("cpu_devices", 2, "Logical CPU devices for MirroredStrategy when there is no GPU.")
flags.DEFINE_integer("warmup", 2, "Steps before timing.")
flags.DEFINE_integer("steps", 10, "Timed steps.")
flags.DEFINE_integer("rounds", 2, "Rounds of default then mirrored.")
FLAGS = flags.FLAGS


def throughput(strategy, config, warmup: int, steps: int) -> float:
    import numpy as np
    import tensorflow as tf

    from groove_vae import optimizers
    from groove_vae.model import build_model

    with strategy.scope():
        model = build_model(config)
        model.compile(optimizer=optimizers.make_optimizer(config))
    rng = np.random.default_rng(0)
    hits = (rng.random((config.batch_size, config.num_steps, 9)) < 0.15).astype(np.float32)
    inputs = model.representation.to_inputs(tf.constant(np.concatenate([hits, hits * 0.6, hits * 0.1], -1)))
    dataset = tf.data.Dataset.from_tensors(inputs).repeat()
    model.fit(dataset, steps_per_epoch=warmup, epochs=1, verbose=0)
    start = time.perf_counter()
    model.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=0)
    return steps * config.batch_size / (time.perf_counter() - start)


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)
    import tensorflow as tf

    if not tf.config.list_physical_devices("GPU"):
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * FLAGS.cpu_devices)
    from groove_vae import configs, distribute

    config = configs.from_dict({"batch_size": FLAGS.batch_size}, configs.load_config(FLAGS.config))
    mirrored = distribute.make_strategy("mirrored")
    print(f"{FLAGS.config}, global batch {FLAGS.batch_size}, {FLAGS.steps} timed steps; "
          f"mirrored over {mirrored.num_replicas_in_sync} devices; load average {os.getloadavg()[0]:.1f}")
    for round_ in range(FLAGS.rounds):
        for name, strategy in (("default", tf.distribute.get_strategy()), ("mirrored", mirrored)):
            rate = throughput(strategy, config, FLAGS.warmup, FLAGS.steps)
            print(f"round {round_ + 1} {name:8s} {rate:7.1f} examples/s (load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    app.run(main)
