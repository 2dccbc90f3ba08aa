"""tf.distribute: the strategies by name, and how every worker reads and resumes alike.

"default" is one device; "mirrored" a replica per GPU (or per logical CPU); "multi_worker"
the workers that TF_CONFIG lists (docs/training.md: Training on several devices or machines).
"""

from __future__ import annotations

import os

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
