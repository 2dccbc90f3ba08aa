"""tf.distribute: the strategies by name, how every worker reads and resumes alike, and
a replica's share of a train step (its noise, the all-reduced and finite-checked update).

"default" is one device; "mirrored" a replica per GPU (or per logical CPU); "multi_worker"
the workers that TF_CONFIG lists (docs/training.md: Training on several devices or machines).
"""

from __future__ import annotations

import os

import keras
import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multi_worker")
_strategies: dict[str, tf.distribute.Strategy] = {}


def make_strategy(name: str = "default") -> tf.distribute.Strategy:
    """A tf.distribute strategy by name; create it before any other TensorFlow work.

    "default": one device (a GPU if there is one). "mirrored": a replica on every GPU
    of this machine, or on every logical CPU device when it has no GPU. "multi_worker":
    MultiWorkerMirroredStrategy over the workers that `TF_CONFIG` lists, each with its
    GPUs (or its CPU); the same command runs on every worker.

    A process makes each at most once and reuses it: the collective ops of a second
    MirroredStrategy would collide with those of the first (a shape mismatch between
    "collective instances"), and the multi-worker set-up can only happen at start-up.
    """
    if name == "default":
        return tf.distribute.get_strategy()
    if name not in STRATEGIES:
        raise ValueError(f"Unknown strategy {name!r}; one of {', '.join(STRATEGIES)}.")
    if name == "multi_worker" and not os.environ.get("TF_CONFIG"):
        raise ValueError("strategy=multi_worker needs TF_CONFIG (the cluster and this worker's index); "
                         "see docs/training.md: Training on several devices or machines.")
    if name not in _strategies:
        if name == "mirrored":
            devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
            _strategies[name] = tf.distribute.MirroredStrategy([d.name for d in devices])
        else:
            _patient_coordination_service()
            _strategies[name] = tf.distribute.MultiWorkerMirroredStrategy()
    return _strategies[name]


HEARTBEAT_TIMEOUT_S = 300  # TensorFlow's default, 10 s, drops a worker that a busy machine starves of CPU.


def _patient_coordination_service() -> None:
    """Sets up the multi-worker coordination service as MultiWorkerMirroredStrategy would,
    with a heartbeat timeout of minutes instead of 10 s: on a loaded 2-core machine a
    worker busy converting data or tracing missed its heartbeats and was declared dead
    ("stopped sending heartbeats"), failing the whole run. A worker that really dies
    still fails the run, named, once the timeout passes. There is no public API for this;
    where TensorFlow's private one moves, the strategy's defaults apply."""
    try:
        from tensorflow.core.protobuf import coordination_config_pb2
        from tensorflow.python.eager import context

        cluster = tf.distribute.cluster_resolver.TFConfigClusterResolver().cluster_spec()
        leader_job = "chief" if "chief" in cluster.jobs else "worker"
        jobs = [coordination_config_pb2.CoordinatedJob(name=job, num_tasks=cluster.num_tasks(job))
                for job in ("chief", "worker") if job in cluster.jobs]
        if context.context().coordination_service is None:
            context.context().configure_coordination_service(
                service_type="standalone", service_leader=f"/job:{leader_job}/replica:0/task:0",
                coordinated_jobs=jobs, heartbeat_timeout_in_ms=HEARTBEAT_TIMEOUT_S * 1000)
    except (ImportError, AttributeError, TypeError) as e:
        print(f"Multi-worker: TensorFlow's default heartbeat timeout applies ({type(e).__name__}: {e}).")


def shard_by_data(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """Every worker reads the same seeded stream and keeps its slice of each global batch
    (AutoShardPolicy.DATA), so the replicas of step t together see one process's batch t."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def same_on_every_worker(strategy: tf.distribute.Strategy, step: int) -> int:
    """Checks that every worker resumed from the same step (a worker that cannot see the
    chief's run directory would start over and silently train a different model)."""
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return step

    @tf.function
    def mean_and_mean_square():
        value = tf.constant([step, step * step], tf.float64)
        return strategy.reduce(tf.distribute.ReduceOp.MEAN, strategy.run(lambda: value), axis=None)

    mean, mean_square = mean_and_mean_square().numpy()
    if mean_square != mean * mean:
        raise ValueError(f"The workers resumed from different steps (this one from {step}): every worker must "
                         "see the chief's run directory (a shared filesystem).")
    return step


# === A replica's share of a train step ===
def replica_noise(shape, seed_generator: keras.random.SeedGenerator) -> tf.Tensor:
    """N(0, 1) noise of `shape` [batch, z_size] for this replica's share of the global batch.

    Every replica draws the noise of the whole global batch from the same seed state
    and keeps its own rows (replica r holds rows r*batch..(r+1)*batch, as tf.distribute
    splits a batch), so N replicas draw what one process draws.
    """
    context = tf.distribute.get_replica_context()
    replicas = context.num_replicas_in_sync if context else 1
    if replicas == 1:
        return keras.random.normal(shape, seed=seed_generator)
    noise = keras.random.normal(tf.concat([shape[:1] * replicas, shape[1:]], 0), seed=seed_generator)
    start = tf.cast(context.replica_id_in_sync_group, tf.int32) * shape[0]
    return noise[start : start + shape[0]]


def apply_finite_gradients(optimizer: keras.optimizers.Optimizer, variables, loss, gradients,
                           clip_norm: float) -> None:
    """Averages the gradients over replicas, clips them and applies them, or skips the
    step on every replica alike if the loss or any gradient is not finite.

    Each replica's gradient is of the mean loss over its global_batch / N examples;
    their mean over replicas is the gradient of the global batch, which is clipped
    after the all-reduce (Keras's own `global_clipnorm` clips each replica's share
    before it). A skipped step never reaches the weights or Adam's moments.
    """
    if not optimizer.built:  # Its variables must not be born inside the cond below.
        optimizer.build(variables)
    context = tf.distribute.get_replica_context()
    replicas = context.num_replicas_in_sync
    if replicas > 1:
        loss, gradients = context.all_reduce(tf.distribute.ReduceOp.MEAN, [loss, gradients])
    finite = tf.reduce_all([tf.reduce_all(tf.math.is_finite(g)) for g in [loss, *gradients] if g is not None])
    if clip_norm > 0:
        gradients, _ = tf.clip_by_global_norm(gradients, clip_norm)

    def apply(gradients):
        optimizer.apply_gradients(zip(gradients, variables))
        return tf.constant(True)

    def apply_if_finite(strategy, gradients, finite):
        def apply_on_every_replica():
            strategy.extended.call_for_each_replica(apply, args=(gradients,))
            return tf.constant(True)

        # `finite` was computed from all-reduced values: the same on every replica.
        tf.cond(strategy.experimental_local_results(finite)[0], apply_on_every_replica, lambda: tf.constant(False))

    if replicas == 1:
        tf.cond(finite, lambda: apply(gradients), lambda: tf.constant(False))
    else:
        # The optimizer sums over replicas once more, so each gives it 1/N; and a cond
        # around that synchronisation must be taken in cross-replica context.
        context.merge_call(apply_if_finite, args=([g / replicas for g in gradients], finite))


def step_results(results: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
    """A train or test step's metric values as Keras can reduce them across workers: Keras 3
    averages step outputs with strategy.reduce(MEAN, axis=0) in multi-worker mode, which
    fails on scalars (tensorflow/tensorflow#72388), so there each becomes a [1] vector.
    The test is the one Keras makes (keras/src/backend/tensorflow/trainer.py)."""
    strategy = tf.distribute.get_strategy()
    if (isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
            and strategy.extended._in_multi_worker_mode()):  # noqa: SLF001
        return {name: value[None] for name, value in results.items()}
    return results
