"""How good a model is, measured as the MusicVAE paper (Table 1) and GrooVAE measure it.

The metric functions are plain numpy on groove tensors ([clips, steps, 27]: hits,
velocities in [0, 1], offsets in [-1, 1]) so they can be checked on hand-made cases;
`evaluate` runs a model over a split and fills them in.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from groove_vae.converter import STEPS_PER_QUARTER
from groove_vae.decoders import shift_right
from groove_vae.drums import DRUM_CLASS_NAMES, NUM_CLASSES
from groove_vae.model import MusicVAE, kl_divergence

GREEDY_TEMPERATURE = 1e-4  # "Sampled" reconstruction feeds back (near-)argmax outputs.


def step_accuracy(predicted: np.ndarray, truth: np.ndarray) -> float:
    """Fraction of steps whose set of 9 drum classes is exactly right (paper, Table 1)."""
    return float(np.mean(np.all(predicted[..., :NUM_CLASSES] == truth[..., :NUM_CLASSES], axis=-1)))


def hit_scores(predicted: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Precision, recall and F1 of hits over (step, instrument) cells."""
    p, t = predicted[..., :NUM_CLASSES] > 0.5, truth[..., :NUM_CLASSES] > 0.5
    true_positives = float(np.sum(p & t))
    precision = true_positives / max(float(np.sum(p)), 1.0)
    recall = true_positives / max(float(np.sum(t)), 1.0)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"hit_precision": precision, "hit_recall": recall, "hit_f1": f1}


def timing_errors(predicted: np.ndarray, truth: np.ndarray, qpm: np.ndarray) -> dict[str, float]:
    """Velocity MAE (MIDI units) and offset MAE (milliseconds at each clip's tempo),
    on cells that are hits in both."""
    both = (predicted[..., :NUM_CLASSES] > 0.5) & (truth[..., :NUM_CLASSES] > 0.5)
    if not both.any():
        return {"velocity_mae": math.nan, "offset_mae_ms": math.nan}
    velocity_error = np.abs(predicted[..., 9:18] - truth[..., 9:18]) * 127.0
    step_ms = 60000.0 / np.asarray(qpm, np.float64) / STEPS_PER_QUARTER  # [clips]
    # An offset of 1 is half a step.
    offset_error_ms = np.abs(predicted[..., 18:27] - truth[..., 18:27]) / 2.0 * step_ms[:, None, None]
    return {
        "velocity_mae": float(velocity_error[both].mean()),
        "offset_mae_ms": float(offset_error_ms[both].mean()),
    }


def hits_per_bar(groove: np.ndarray, steps_per_bar: int = 16) -> dict[str, float]:
    """Mean hits per bar for each instrument."""
    num_bars = groove.shape[1] / steps_per_bar
    per_class = groove[..., :NUM_CLASSES].sum(axis=(0, 1)) / (len(groove) * num_bars)
    return {name: float(v) for name, v in zip(DRUM_CLASS_NAMES, per_class)}


def fraction_copied(samples: np.ndarray, training: np.ndarray) -> float:
    """Fraction of samples whose 64 x 9 hit grid equals some training clip's."""
    seen = {np.packbits(g[:, :NUM_CLASSES] > 0.5).tobytes() for g in training}
    return float(np.mean([np.packbits(s[:, :NUM_CLASSES] > 0.5).tobytes() in seen for s in samples]))


def feel(groove: np.ndarray, steps_per_bar: int = 16) -> dict[str, float]:
    """What a listener hears beyond the hits: loudness and its spread (MIDI units),
    microtiming spread (fractions of a 16th), and how bars relate: the share of
    consecutive bar pairs with identical hit grids, and of their cells that agree."""
    hit = groove[..., :NUM_CLASSES] > 0.5
    velocities, offsets = groove[..., 9:18][hit] * 127.0, groove[..., 18:27][hit] / 2.0
    bars = hit.reshape(len(groove), -1, steps_per_bar, NUM_CLASSES)
    same_cells = bars[:, 1:] == bars[:, :-1]
    return {
        "velocity_mean": float(velocities.mean()) if velocities.size else math.nan,
        "velocity_std": float(velocities.std()) if velocities.size else math.nan,
        "offset_std_16ths": float(offsets.std()) if offsets.size else math.nan,
        "repeated_bar_fraction": float(np.mean(np.all(same_cells, axis=(2, 3)))),
        "bar_cell_agreement": float(np.mean(same_cells)),
    }


def active_dimensions(mu: np.ndarray, threshold: float = 0.01) -> int:
    """Latent dimensions whose posterior mean varies across clips (Burda et al., 2016)."""
    return int(np.sum(np.var(mu, axis=0) > threshold))


def _teacher_forced_groove(model: MusicVAE, outputs: tf.Tensor) -> np.ndarray:
    """Raw teacher-forced outputs -> a groove tensor of thresholded predictions."""
    rep = model.representation
    hits = rep.predicted_hits(outputs)
    if rep.name == "groove":
        _, velocity, offset = rep.split(outputs)
        return tf.concat([hits, velocity * hits, offset * hits], -1).numpy()
    return rep.to_groove(tf.one_hot(tf.argmax(outputs, -1), rep.output_depth)).numpy()


def _batch_pass(model: MusicVAE):
    """A compiled pass over one batch: teacher-forced and greedy-sampled reconstructions
    from z = mu, and the ELBO's terms with z drawn from q(z|x)."""
    rep, core = model.representation, model.decoder.core

    @tf.function(reduce_retracing=True)
    def run(groove, seed):
        inputs = rep.to_inputs(groove)
        mu, sigma = model.encode(inputs)
        embeddings = model.decoder.embeddings(mu)
        outputs = core.teacher_forced(embeddings, shift_right(inputs))
        _, samples = core.autoregressive(embeddings, rep, seed, GREEDY_TEMPERATURE)
        z = mu + sigma * tf.random.stateless_normal(tf.shape(mu), seed=seed + 1)
        outputs_z = core.teacher_forced(model.decoder.embeddings(z), shift_right(inputs))
        nll = tf.reduce_sum(rep.loss(inputs, outputs_z), -1)
        return outputs, rep.to_groove(samples), nll, kl_divergence(mu, sigma), mu

    return run


def evaluate(
    model: MusicVAE,
    groove: np.ndarray,
    qpm: np.ndarray,
    batch_size: int = 256,
    seed: int = 0,
) -> dict[str, float]:
    """Reconstruction metrics over clips: teacher-forced and sampled (the decoder fed its
    own greedy outputs) from z = mu, and the ELBO's terms in nats per clip."""
    run = _batch_pass(model)
    teacher, sampled, nll, kl, mus = [], [], [], [], []
    for start in range(0, len(groove), batch_size):
        outputs, samples, batch_nll, batch_kl, mu = run(
            tf.constant(groove[start : start + batch_size]), tf.constant([seed, start], tf.int32)
        )
        teacher.append(_teacher_forced_groove(model, outputs))
        sampled.append(samples.numpy())
        nll.append(batch_nll.numpy())
        kl.append(batch_kl.numpy())
        mus.append(mu.numpy())
    teacher, sampled = np.concatenate(teacher), np.concatenate(sampled)
    kl_nats = float(np.concatenate(kl).mean())
    results = {
        "num_clips": int(len(groove)),
        "accuracy_teacher_forced": step_accuracy(teacher, groove),
        "accuracy_sampled": step_accuracy(sampled, groove),
        "reconstruction_nll": float(np.concatenate(nll).mean()),
        "kl_nats": kl_nats,
        "kl_bits": kl_nats / math.log(2.0),
        "active_latent_dims": active_dimensions(np.concatenate(mus)),
    }
    if model.representation.name == "groove":
        for name, prediction in (("teacher_forced", teacher), ("sampled", sampled)):
            scores = {**hit_scores(prediction, groove), **timing_errors(prediction, groove, qpm)}
            results.update({f"{k}_{name}": v for k, v in scores.items()})
    return results


def prior_samples(model: MusicVAE, num_samples: int, temperature: float = 1.0, seed: int = 0,
                  batch_size: int = 250) -> np.ndarray:
    """Groove tensors [num_samples, steps, 27] decoded from z ~ N(0, I)."""
    decode = tf.function(model.decode, reduce_retracing=True)
    batches = []
    for i, start in enumerate(range(0, num_samples, batch_size)):
        n = min(batch_size, num_samples - start)
        z = tf.random.stateless_normal([n, model.config.z_size], seed=[seed, 1000 + i])
        batches.append(decode(z, tf.constant(temperature), tf.constant(seed + i)).numpy())
    return np.concatenate(batches)


def format_table(results: dict) -> str:
    """The results as a plain-text table: scalars, then hits per bar (prior vs data)."""
    lines = [f"{'metric':<36} {'value':>10}", "-" * 47]
    for key, value in results.items():
        if isinstance(value, float):
            lines.append(f"{key:<36} {value:>10.4f}")
        elif isinstance(value, int) and not isinstance(value, bool):
            lines.append(f"{key:<36} {value:>10d}")
    prior, real = results.get("hits_per_bar_prior"), results.get("hits_per_bar_data")
    if prior and real:
        lines += ["", f"{'hits per bar':<16} {'prior':>8} {'data':>8}", "-" * 34]
        for name in DRUM_CLASS_NAMES:
            lines.append(f"{name:<16} {prior[name]:>8.2f} {real[name]:>8.2f}")
        lines.append(f"{'all':<16} {sum(prior.values()):>8.2f} {sum(real.values()):>8.2f}")
    return "\n".join(lines)


def humanize_scores(vae, groove: np.ndarray, qpm: np.ndarray, batch_size: int = 256, seed: int = 0) -> dict:
    """How a model plays the test split's hits when given them quantized and flat.

    Each clip's hits are kept (humanize never changes them); the figures compare the
    velocities and offsets the model gives them with what the drummer played, beside
    the spread of both (a model that plays everything at the mean has a low error and
    no feel).
    """
    from groove_vae.representations import transform_inputs

    played = []
    for start in range(0, len(groove), batch_size):
        batch = groove[start : start + batch_size]
        flat = transform_inputs(tf.constant(batch), "humanize").numpy()
        played.append(vae.humanize_tensors(flat, seed))
    played = np.concatenate(played)
    hit = groove[..., :NUM_CLASSES] > 0.5
    step_ms = 60000.0 / np.asarray(qpm, np.float64) / STEPS_PER_QUARTER
    offset_ms = lambda g: g[..., 18:27] / 2.0 * step_ms[:, None, None]  # noqa: E731
    return {
        "velocity_mae": float(np.abs(played[..., 9:18] - groove[..., 9:18])[hit].mean() * 127),
        "offset_mae_ms": float(np.abs(offset_ms(played) - offset_ms(groove))[hit].mean()),
        "velocity_std_played": float(played[..., 9:18][hit].std() * 127),
        "velocity_std_data": float(groove[..., 9:18][hit].std() * 127),
        "offset_std_ms_played": float(offset_ms(played)[hit].std()),
        "offset_std_ms_data": float(offset_ms(groove)[hit].std()),
    }
