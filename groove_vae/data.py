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
from groove_vae import groove as layout

CONVERTER_VERSION = 2  # Bump when the conversion changes, to invalidate caches.
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

    @property
    def drummers(self) -> np.ndarray:
        """[num_clips] str: each clip's GMD drummer ("drummer2"), read from its id; "" where
        the id names none (your own MIDI)."""
        return np.array([drummer_of(source) for source in self.ids], dtype=str)


def drummer_of(source: str) -> str:
    """A clip's drummer from its source id ("groove/4bar-midionly:train[7] drummer2/session1/3:000"
    -> "drummer2"), or "" where it names none. GMD's splits hold different drummers, who play
    differently (experiments/2026-12-05-feel.md), so figures per split are best read with this."""
    gmd_id = source.rsplit(" ", 1)[-1]
    first = gmd_id.split("/", 1)[0]
    return first if first.startswith("drummer") and first[len("drummer"):].isdigit() else ""


def cache_dir() -> str:
    return os.environ.get("GROOVE_VAE_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "groove_vae"))


def _convert_chunk(args):
    items, num_steps = args
    tensors, stats = converter.convert_midi_batch(items, num_steps)
    return tensors, stats


def sliding_windows(ns, num_steps: int, source: str, stats: converter.ConversionStats,
                    hop_steps: int = converter.STEPS_PER_BAR) -> list[np.ndarray]:
    """A whole performance -> its num_steps windows, sliding bar by bar as TFDS cuts GMD.

    Silent windows are skipped and counted ("empty_window"); a performance shorter
    than one window becomes one window padded with silence.
    """
    grid = converter.note_sequence_to_grid(ns, hop_steps, source=source)
    if len(grid) < num_steps:
        grid = np.concatenate([grid, np.zeros((num_steps - len(grid), converter.GROOVE_DEPTH), np.float32)])
    windows = []
    for start in range(0, len(grid) - num_steps + 1, hop_steps):
        window = grid[start : start + num_steps]
        if layout.hits(window).any():
            windows.append(window)
        else:
            stats.skip("empty_window")
    return windows


def _slide_chunk(args):
    """Worker: (midi or path, source) items -> per item a list of windows; skips counted."""
    items, num_steps = args
    stats = converter.ConversionStats()
    results = []
    for midi, source in items:
        qpm = converter.DEFAULT_QPM
        try:
            ns = converter.read_midi(midi, source)
            qpm = ns.tempos[0].qpm if ns.tempos else qpm
            windows = sliding_windows(ns, num_steps, source, stats)
        except converter.ConversionError as e:
            stats.skip(e.reason)
            windows = []
        stats.converted += len(windows)
        results.append((windows, qpm))
    return results, stats


PARALLEL_MIN_RECORDS = 200  # Below this, starting worker processes costs more than it saves.


def _run_parallel(function, jobs, num_workers):
    if num_workers > 1 and len(jobs) > 1 and sum(len(job[0]) for job in jobs) >= PARALLEL_MIN_RECORDS:
        context = multiprocessing.get_context("spawn")  # TF is loaded: never fork it.
        with concurrent.futures.ProcessPoolExecutor(num_workers, mp_context=context) as pool:
            return list(pool.map(function, jobs))
    return [function(job) for job in jobs]


def _map_records(worker, records, num_steps: int, num_workers: int | None, chunks_per_worker: int):
    """Runs a chunk worker over each record's (midi, source), in parallel; returns one
    result per record, in order, and the merged conversion report."""
    num_workers = num_workers or os.cpu_count() or 1
    chunk = max(1, len(records) // (num_workers * chunks_per_worker) + 1)
    jobs = [([(r[0], r[1]) for r in records[i : i + chunk]], num_steps) for i in range(0, len(records), chunk)]
    results, stats = [], converter.ConversionStats()
    for chunk_results, chunk_stats in _run_parallel(worker, jobs, num_workers):
        results += chunk_results
        stats.merge(chunk_stats)
    return results, stats


def _clip_set(windows, meta, num_steps: int, stats: converter.ConversionStats) -> ClipSet:
    """Windows and their (midi, source, qpm, style) records -> a ClipSet."""
    groove = np.stack(windows) if windows else np.zeros((0, num_steps, converter.GROOVE_DEPTH), np.float32)
    return ClipSet(
        groove=groove.astype(np.float32),
        qpm=np.array([m[2] for m in meta], np.float32),
        ids=np.array([m[1] for m in meta], dtype=str),
        styles=np.array([m[3] for m in meta], dtype=str),
        stats=stats,
    )


def slide_records(records, num_steps: int, num_workers: int | None = None) -> ClipSet:
    """Converts (midi, source, qpm, style) records of whole performances into sliding
    4-bar windows, in parallel; each window keeps its performance's metadata (a qpm of
    None is read from the file)."""
    records = list(records)
    per_record, stats = _map_records(_slide_chunk, records, num_steps, num_workers, chunks_per_worker=4)
    windows, meta = [], []
    for record, (record_windows, file_qpm) in zip(records, per_record):
        windows += record_windows
        qpm = record[2] if record[2] is not None else file_qpm
        meta += [(record[0], record[1], qpm, record[3])] * len(record_windows)
    return _clip_set(windows, meta, num_steps, stats)


def convert_records(records, num_steps: int, num_workers: int | None = None) -> ClipSet:
    """Converts (midi, source, qpm, style) records in parallel; skips are counted."""
    records = list(records)
    tensors, stats = _map_records(_convert_chunk, records, num_steps, num_workers, chunks_per_worker=8)
    kept = [i for i, t in enumerate(tensors) if t is not None]
    return _clip_set([tensors[i] for i in kept], [records[i] for i in kept], num_steps, stats)


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
    slide: bool | None = None,
) -> ClipSet:
    """Loads a TFDS split as groove tensors, converting once and caching the result.

    Clip datasets (groove/4bar-midionly) give one window per record; performance
    datasets (groove/full-midionly; `slide=True`) are cut into windows sliding bar by bar.
    """
    import tensorflow_datasets as tfds

    if slide is None:
        slide = "full" in tfds_name.split("/")[-1]

    try:
        builder = tfds.builder(tfds_name, data_dir=data_dir)
    except Exception as e:
        raise ValueError(f"Cannot open TFDS dataset {tfds_name!r}: {e}") from None
    key = f"{tfds_name}|{builder.info.version}|{split}|{num_steps}|{CONVERTER_VERSION}|{slide}"
    digest = hashlib.sha1(key.encode()).hexdigest()[:12]
    path = os.path.join(cache_dir(), f"{tfds_name.replace('/', '_')}-{split}-{digest}.npz")
    if use_cache and os.path.exists(path):
        return _load_cache(path)
    if not builder.is_prepared():
        raise ValueError(
            f"TFDS dataset {tfds_name!r} is not prepared in {builder.data_dir}. "
            "Set TFDS_DATA_DIR to a directory that holds it (see docs/data.md: Data, offline)."
        )
    convert = slide_records if slide else convert_records
    clips = convert(_tfds_records(tfds_name, split, data_dir), num_steps)
    if use_cache:
        _save_atomically(path, clips)
    return clips


MIDI_SUFFIXES = (".mid", ".midi")


def split_of(relative_path: str, validation_fraction: float) -> str:
    """A file's split, fixed by its path: the same file is always in the same split."""
    bucket = int(hashlib.sha1(relative_path.encode()).hexdigest()[:8], 16) / 2**32
    return "validation" if bucket < validation_fraction else "train"


def load_midi_dir(
    midi_dir: str,
    num_steps: int = 64,
    validation_fraction: float = 0.1,
    use_cache: bool = True,
) -> dict[str, ClipSet]:
    """Every .mid/.midi under `midi_dir` (recursively) -> {"train", "validation"} ClipSets.

    Each file is a performance cut into windows sliding bar by bar; files are split
    by path, so no performance has windows in both splits. The conversion is cached,
    keyed by the files' contents.
    """
    if not os.path.isdir(midi_dir):
        raise ValueError(f"{midi_dir}: not a directory.")
    if not 0.0 <= validation_fraction < 1.0:
        raise ValueError(f"validation_fraction must be in [0, 1), got {validation_fraction}.")
    paths = sorted(
        os.path.join(root, name)
        for root, _, names in os.walk(midi_dir)
        for name in names
        if name.lower().endswith(MIDI_SUFFIXES)
    )
    if not paths:
        raise ValueError(f"{midi_dir}: no .mid or .midi files.")
    relative = [os.path.relpath(p, midi_dir) for p in paths]
    contents = hashlib.sha1()
    for rel, path in zip(relative, paths):
        try:
            digest = hashlib.sha1(converter.read_midi_bytes(path)).digest()
        except converter.ConversionError as e:  # Counted as a skip when the files convert.
            digest = e.reason.encode()
        contents.update(rel.encode() + b"\0" + digest)
    key = f"{contents.hexdigest()}|{num_steps}|{validation_fraction}|{CONVERTER_VERSION}"
    digest = hashlib.sha1(key.encode()).hexdigest()[:12]
    cache = {split: os.path.join(cache_dir(), f"midi_dir-{digest}-{split}.npz") for split in ("train", "validation")}
    if use_cache and all(os.path.exists(p) for p in cache.values()):
        return {split: _load_cache(p) for split, p in cache.items()}
    result = {}
    for split in ("train", "validation"):
        records = [(p, r, None, "") for p, r in zip(paths, relative)
                   if split_of(r, validation_fraction) == split]
        result[split] = slide_records(records, num_steps)
        if use_cache:
            _save_atomically(cache[split], result[split])
    return result


def load_midi_folder(midi_dir: str, num_steps: int = 64) -> ClipSet:
    """Every window of every .mid/.midi under `midi_dir` as one ClipSet: your own drums to
    score a model against (evaluate, calibrate_feel, compare_splits), not to train on."""
    return load_midi_dir(midi_dir, num_steps, validation_fraction=0.0)["train"]


def make_dataset(
    groove: np.ndarray,
    representation,
    batch_size: int,
    shuffle: bool = True,
    repeat: bool = True,
    seed: int = 0,
) -> tf.data.Dataset:
    """Groove tensors -> batches of model inputs [batch, steps, depth].

    Every iterator reads the same stream (a new order each pass, from `seed`): under
    tf.distribute Keras makes and drops an iterator before training, and every worker
    must read what the others read to keep its own slice of each batch.
    """
    clips = tf.data.Dataset.from_tensor_slices(groove)

    def passes(_):
        # Made inside flat_map, the shuffle's seed state is new for each iterator.
        dataset = clips.shuffle(len(groove), seed=seed, reshuffle_each_iteration=True) if shuffle else clips
        return dataset.repeat() if repeat else dataset

    dataset = tf.data.Dataset.range(1).flat_map(passes)
    dataset = dataset.batch(batch_size, drop_remainder=repeat)
    dataset = dataset.map(representation.to_inputs, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)
