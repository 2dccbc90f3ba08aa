"""The data pipeline: TFDS records -> NoteSequences -> groove tensors -> tf.data.

Parsing MIDI is by far the slowest part, so each split is converted once (in
parallel, one process per core) and cached as a compressed .npz keyed by the dataset
name, version, split and converter version. Every later run reads the cache.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import hashlib
import json
import multiprocessing
import os
import tempfile

import numpy as np
import tensorflow as tf

from groove_vae import converter

CONVERTER_VERSION = 1  # Bump when the conversion changes, to invalidate caches.
DEFAULT_TFDS_NAME = "groove/4bar-midionly"


@dataclasses.dataclass
class ClipSet:
    """Converted clips of one split, with their metadata and the conversion report."""

    groove: np.ndarray  # [num_clips, steps, 27] float32
    qpm: np.ndarray  # [num_clips] float32
    ids: np.ndarray  # [num_clips] str
    styles: np.ndarray  # [num_clips] str, e.g. "funk" (empty when unknown)
    stats: converter.ConversionStats

    def __len__(self) -> int:
        return len(self.groove)


def cache_dir() -> str:
    return os.environ.get("GROOVE_VAE_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "groove_vae"))


def _convert_chunk(args):
    items, num_steps = args
    tensors, stats = converter.convert_midi_batch(items, num_steps)
    return tensors, stats


def convert_records(records, num_steps: int, num_workers: int | None = None):
    """Converts (midi, source, qpm, style) records in parallel; skips are counted."""
    records = list(records)
    num_workers = num_workers or os.cpu_count() or 1
    chunk = max(1, len(records) // (num_workers * 8) + 1)
    chunks = [records[i : i + chunk] for i in range(0, len(records), chunk)]
    jobs = [([(r[0], r[1]) for r in c], num_steps) for c in chunks]
    stats = converter.ConversionStats()
    tensors: list = []
    if num_workers > 1 and len(chunks) > 1:
        context = multiprocessing.get_context("spawn")  # TF is loaded: never fork it.
        with concurrent.futures.ProcessPoolExecutor(num_workers, mp_context=context) as pool:
            results = list(pool.map(_convert_chunk, jobs))
    else:
        results = [_convert_chunk(job) for job in jobs]
    for chunk_tensors, chunk_stats in results:
        tensors += chunk_tensors
        stats.merge(chunk_stats)
    kept = [i for i, t in enumerate(tensors) if t is not None]
    groove = np.stack([tensors[i] for i in kept]) if kept else np.zeros((0, num_steps, converter.GROOVE_DEPTH), np.float32)
    return ClipSet(
        groove=groove.astype(np.float32),
        qpm=np.array([records[i][2] for i in kept], np.float32),
        ids=np.array([records[i][1] for i in kept], dtype=str),
        styles=np.array([records[i][3] for i in kept], dtype=str),
        stats=stats,
    )


def _tfds_records(tfds_name: str, split: str, data_dir: str | None):
    import tensorflow_datasets as tfds

    dataset, info = tfds.load(tfds_name, split=split, data_dir=data_dir, download=False, with_info=True)
    style_feature = info.features["style"]["primary"] if "style" in info.features else None
    for i, example in enumerate(tfds.as_numpy(dataset)):
        source = f"{tfds_name}:{split}[{i}] {example['id'].decode()}"
        style = style_feature.int2str(example["style"]["primary"]) if style_feature else ""
        yield example["midi"], source, float(example.get("bpm", converter.DEFAULT_QPM)), style


def _save_atomically(path: str, clips: ClipSet) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp.npz")
    os.close(fd)
    np.savez_compressed(
        tmp, groove=clips.groove, qpm=clips.qpm, ids=clips.ids, styles=clips.styles,
        stats=json.dumps(dataclasses.asdict(clips.stats)),
    )
    os.replace(tmp, path)


def _load_cache(path: str) -> ClipSet:
    with np.load(path) as f:
        return ClipSet(
            groove=f["groove"], qpm=f["qpm"], ids=f["ids"], styles=f["styles"],
            stats=converter.ConversionStats(**json.loads(str(f["stats"]))),
        )


def load_split(
    tfds_name: str = DEFAULT_TFDS_NAME,
    split: str = "train",
    num_steps: int = 64,
    data_dir: str | None = None,
    use_cache: bool = True,
) -> ClipSet:
    """Loads a TFDS split as groove tensors, converting once and caching the result."""
    import tensorflow_datasets as tfds

    try:
        builder = tfds.builder(tfds_name, data_dir=data_dir)
    except Exception as e:
        raise ValueError(f"Cannot open TFDS dataset {tfds_name!r}: {e}") from None
    key = f"{tfds_name}|{builder.info.version}|{split}|{num_steps}|{CONVERTER_VERSION}"
    digest = hashlib.sha1(key.encode()).hexdigest()[:12]
    path = os.path.join(cache_dir(), f"{tfds_name.replace('/', '_')}-{split}-{digest}.npz")
    if use_cache and os.path.exists(path):
        return _load_cache(path)
    if not builder.is_prepared():
        raise ValueError(
            f"TFDS dataset {tfds_name!r} is not prepared in {builder.data_dir}. "
            "Set TFDS_DATA_DIR to a directory that holds it (see README: offline data)."
        )
    clips = convert_records(_tfds_records(tfds_name, split, data_dir), num_steps)
    if use_cache:
        _save_atomically(path, clips)
    return clips


def make_dataset(
    groove: np.ndarray,
    representation,
    batch_size: int,
    shuffle: bool = True,
    repeat: bool = True,
    seed: int = 0,
) -> tf.data.Dataset:
    """Groove tensors -> batches of model inputs [batch, steps, depth]."""
    dataset = tf.data.Dataset.from_tensor_slices(groove)
    if shuffle:
        dataset = dataset.shuffle(len(groove), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        dataset = dataset.repeat()
    dataset = dataset.batch(batch_size, drop_remainder=repeat)
    dataset = dataset.map(representation.to_inputs, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)
