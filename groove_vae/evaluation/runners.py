"""A model run over clips: reconstruction, prior and posterior samples, humanize and infill
scores, and the feel memory fitted to the drummers; the figures come from `metrics`."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import tensorflow as tf

from groove_vae import configs
from groove_vae import groove as layout
from groove_vae.converter import STEPS_PER_QUARTER
from groove_vae.drums import DRUM_CLASS_NAMES, NUM_CLASSES
from groove_vae.evaluation.metrics import (
    TIMEKEEPERS, active_dimensions, bar_hit_agreement, hit_scores, hit_scores_per_clip, hits_of, loudness_jump,
    offsets_of, repeated_hit_offset_change, repeated_hit_velocity_change, step_accuracy, timekeeper_change_rate,
    timing_errors, untapped_hit_share, velocities_of)
from groove_vae.model import MusicVAE, kl_divergence
from groove_vae.sampling import FeelMemory, Given, SamplingOptions

# "Sampled" reconstruction feeds back (near-)argmax hits, played at the heads' point
# velocity and offset: a draw fed back would score the feel's spread, not the model.
GREEDY_TEMPERATURE = 1e-4


MEMORIES = tuple(round(0.1 * i, 1) for i in range(10))
TIMEKEEPER_MEMORIES = (0.0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.98)


def calibrate_memory(vae, groove: np.ndarray, memories=MEMORIES, batch_size: int = 256, seed: int = 0) -> dict:
    """Fits a model's feel memory to the drummers, from each clip's posterior (the model's
    input transform applied), trying each memory in `memories`. Velocity and timing
    (binned heads): plays each clip's own hits at temperature 1 and picks the memory whose
    repeated hits change as much from bar to bar as the drummers' do
    (`repeated_hit_velocity_change`, `repeated_hit_offset_change`). Hits: with those
    memories in place, plays the model's own hits from a draw of the posterior at each of
    `configs.MEMORY_TEMPERATURES` and picks, at each, the memory whose bars share as much
    of their pattern with the bar before as the drummers' do (`bar_hit_agreement`); a
    lower temperature repeats more by itself and needs less. Returns the picks and the
    figures behind them. A tap model plays each clip's rhythm as drumify does."""
    model = vae.model
    drumify = model.config.input_transform == "tap"  # Plays each clip's rhythm, as drumify does.
    decode = tf.function(lambda z, t, s, hits, m, clips, draws: model.decode(
        z, SamplingOptions(t, s, memory=m), dataclasses.replace(
            model.drumify_given(clips) if drumify else Given(controls=model.controls(clips)), hits=hits), draws),
        reduce_retracing=True)
    mu, sigma = zip(*(vae.posterior_tensors(groove[i : i + batch_size]) for i in range(0, len(groove), batch_size)))
    mu, sigma = np.concatenate(mu), np.concatenate(sigma)
    drawn = mu + sigma * np.random.default_rng(seed).standard_normal(mu.shape).astype(np.float32)

    def play(z, temperature, memory, forced_hits=None, timekeeper=0.0):
        feel = FeelMemory((memory[0],), memory[1], memory[2], timekeeper)
        return np.concatenate([
            decode(tf.constant(z[i : i + batch_size]), tf.constant(temperature, tf.float32),
                   tf.constant(seed + i // batch_size),  # Each batch its own draws.
                   None if forced_hits is None else tf.constant(forced_hits[i : i + batch_size]),
                   tf.constant(memory, tf.float32), tf.constant(groove[i : i + batch_size]),
                   feel.scores(len(z[i : i + batch_size]), model.config.num_bars, seed + i // batch_size, temperature,
                               model.config.steps_per_bar)).numpy()
            for i in range(0, len(groove), batch_size)])

    closest = lambda figures, target: min(figures, key=lambda m: abs(figures[m] - target))  # noqa: E731
    data = {"velocity": repeated_hit_velocity_change(groove), "timing": repeated_hit_offset_change(groove),
            "hits": bar_hit_agreement(groove)}
    velocity, timing = {}, {}
    if model.representation.draws_feel:  # Squared-error heads play every hit at its mean: nothing to remember.
        for memory in memories:
            played = play(mu, 1.0, (0.0, memory, memory), hits_of(groove))
            velocity[memory], timing[memory] = repeated_hit_velocity_change(played), repeated_hit_offset_change(played)
    feel = (closest(velocity, data["velocity"]) if velocity else 0.0,
            closest(timing, data["timing"]) if timing else 0.0)
    hits = {t: {m: bar_hit_agreement(play(drawn, t, (m, *feel))) for m in memories}
            for t in configs.MEMORY_TEMPERATURES}
    hit_memory = tuple(closest(hits[t], data["hits"]) for t in configs.MEMORY_TEMPERATURES)
    # The timekeeper's shared draw, at the default temperature with the memories above.
    default = configs.MEMORY_TEMPERATURES.index(0.5)
    switches = {m: timekeeper_change_rate(play(drawn, 0.5, (hit_memory[default], *feel), timekeeper=m))
                for m in TIMEKEEPER_MEMORIES}
    data["timekeeper"] = timekeeper_change_rate(groove)
    return {"hit_memory": hit_memory, "velocity_memory": feel[0], "timing_memory": feel[1],
            "timekeeper_memory": closest(switches, data["timekeeper"]),
            "hit_agreement": hits, "velocity_change": velocity, "offset_change": timing, "timekeeper_changes": switches,
            "hit_agreement_data": data["hits"], "velocity_change_data": data["velocity"],
            "offset_change_data": data["timing"], "timekeeper_changes_data": data["timekeeper"]}


def groove_scores(model: MusicVAE, outputs: np.ndarray, truth: np.ndarray, qpm: np.ndarray) -> dict[str, float]:
    """Proper scores of the true velocity and offset of every true hit under the model's
    predicted distribution: CRPS (MIDI units, milliseconds), for squared-error heads the
    absolute error of their point prediction; for binned heads also the true bin's NLL
    (`Representation.feel_errors`)."""
    hit = hits_of(truth) > 0.5
    step_ms = np.broadcast_to((60000.0 / np.asarray(qpm, np.float64) / STEPS_PER_QUARTER)[:, None, None], hit.shape)
    errors = model.representation.feel_errors(outputs, truth)
    velocity_crps, offset_crps = errors.pop("velocity_crps"), errors.pop("offset_crps")
    return {"velocity_crps": float(velocity_crps.mean() * 127.0),
            "offset_crps_ms": float((offset_crps / 2.0 * step_ms[hit]).mean()),
            **{key: float(value.mean()) for key, value in errors.items()}}


def _batch_pass(model: MusicVAE):
    """A compiled pass over one batch: teacher-forced and greedy-sampled reconstructions
    from z = mu, and the ELBO's terms with z drawn from q(z|x)."""
    rep, decoder = model.representation, model.decoder

    @tf.function(reduce_retracing=True)
    def run(groove, seed):
        inputs = rep.to_inputs(groove)
        controls = model.controls(inputs)
        mu, sigma = model.encode(inputs)
        outputs = decoder.teacher_forced(mu, inputs, controls=controls)
        samples = model.decode(mu, SamplingOptions(GREEDY_TEMPERATURE, seed[0] + seed[1], memory=(0.0, 0.0, 0.0)),
                               Given(point_feel=rep.plays_feel, controls=controls))
        z = mu + sigma * tf.random.stateless_normal(tf.shape(mu), seed=seed + 1)
        outputs_z = decoder.teacher_forced(z, inputs, controls=controls)
        nll = tf.reduce_sum(rep.loss(inputs, outputs_z), -1)
        return outputs, samples, nll, kl_divergence(mu, sigma), mu

    return run


def evaluate(
    model: MusicVAE,
    groove: np.ndarray,
    qpm: np.ndarray,
    batch_size: int = 256,
    seed: int = 0,
) -> dict[str, float]:
    """Reconstruction metrics over clips: teacher-forced and sampled (the decoder fed its
    own greedy outputs) from z = mu, and the ELBO's terms in nats per clip. Velocity and
    offset errors score the heads' point estimate (binned heads: the median); CRPS and
    bin NLL score the whole predicted distribution (teacher-forced)."""
    run = _batch_pass(model)
    teacher, sampled, nll, kl, mus, batch_scores, batch_weights = [], [], [], [], [], [], []
    for start in range(0, len(groove), batch_size):
        outputs, samples, batch_nll, batch_kl, mu = run(
            tf.constant(groove[start : start + batch_size]), tf.constant([seed, start], tf.int32)
        )
        teacher.append(model.representation.point_estimate(outputs).numpy())
        if model.representation.plays_feel:
            batch_scores.append(groove_scores(model, outputs.numpy(), groove[start : start + batch_size],
                                              qpm[start : start + batch_size]))
            batch_weights.append(float(hits_of(groove[start : start + batch_size]).sum()))
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
    if model.representation.plays_feel:
        for name, prediction in (("teacher_forced", teacher), ("sampled", sampled)):
            scores = {**hit_scores(prediction, groove), **hit_scores_per_clip(prediction, groove),
                      **timing_errors(prediction, groove, qpm)}
            results.update({f"{k}_{name}": v for k, v in scores.items()})
        weights = np.asarray(batch_weights) / np.sum(batch_weights)  # Per true hit.
        for key in batch_scores[0]:
            results[f"{key}_teacher_forced"] = float(sum(w * b[key] for w, b in zip(weights, batch_scores)))
    results["timekeeper_change_rate_sampled"] = timekeeper_change_rate(sampled)
    if model.config.input_transform == "tap":  # What the decoder plays off the rhythm it was given.
        results["untapped_hit_share_sampled"] = untapped_hit_share(sampled, groove)
    return results


def drumify_scores(vae, groove: np.ndarray, temperature: float = 0.5, seed: int = 0,
                   batch_size: int = 256) -> dict:
    """How a tap model drums each clip's tapped rhythm as users get it (`vae.drumify_tensors`),
    greedily ("_greedy") and at `temperature` ("_played"), scored against what the drummer
    played: hits pooled and per clip, the hits added on untapped steps, and how often the
    timekeeper changes between bars, beside the drummers'. "played" holds the grooves."""
    results = {"temperature": temperature, "timekeeper_change_rate_data": timekeeper_change_rate(groove),
               # What the cells figure would be if nothing were played: most cells are silent.
               "hit_accuracy_per_clip_silent": hit_scores_per_clip(np.zeros_like(groove), groove)[
                   "hit_accuracy_per_clip"]}
    for name, t in (("greedy", GREEDY_TEMPERATURE), ("played", temperature)):
        played = np.concatenate([vae.drumify_tensors(groove[i : i + batch_size], t, seed + i // batch_size)
                                 for i in range(0, len(groove), batch_size)])
        scores = {**hit_scores(played, groove), **hit_scores_per_clip(played, groove),
                  "untapped_hit_share": untapped_hit_share(played, groove),
                  "timekeeper_change_rate": timekeeper_change_rate(played)}
        results.update({f"{k}_{name}": v for k, v in scores.items()})
    results["played"] = played
    return results


def prior_samples(vae, num_samples: int, temperature: float = 1.0, seed: int = 0, prior: str = "fitted") -> np.ndarray:
    """Groove tensors [num_samples, steps, 27] exactly as users get them: the first
    `checks.MAX_BATCH` are `vae.sample_tensors(n, temperature, seed)` (what `groove-vae
    sample --seed` writes), each further batch the next seed's. `prior="normal"` draws
    z from N(0, I) instead of the model's prior."""
    from groove_vae.checks import MAX_BATCH

    return np.concatenate([vae.sample_tensors(min(MAX_BATCH, num_samples - start), temperature, seed + i, prior=prior)
                           for i, start in enumerate(range(0, num_samples, MAX_BATCH))])


def posterior_samples(model: MusicVAE, groove: np.ndarray, temperature: float = 1.0, seed: int = 0,
                      batch_size: int = 250) -> np.ndarray:
    """Clips decoded from a draw of their own posterior, z = mu + sigma * noise: what the
    decoder plays where the latent space is dense, to compare with prior samples."""
    decode = tf.function(lambda z, t, s, controls: model.decode(z, SamplingOptions(t, s), Given(controls=controls)),
                         reduce_retracing=True)
    batches = []
    for i, start in enumerate(range(0, len(groove), batch_size)):
        clips = tf.constant(groove[start : start + batch_size])
        mu, sigma = model.encode(clips)
        z = mu + sigma * tf.random.stateless_normal(tf.shape(mu), seed=[seed, 2000 + i])
        batches.append(decode(z, tf.constant(temperature), tf.constant(seed + i), model.controls(clips)).numpy())
    return np.concatenate(batches)


def humanize_scores(vae, groove: np.ndarray, qpm: np.ndarray, batch_size: int = 256, seed: int = 0) -> dict:
    """How a model plays the test split's hits when given them quantized and flat.

    Each clip's hits are kept (humanize never changes them); the figures compare the
    velocities and offsets the model plays (sampled, at temperature 1) with what the
    drummer played, beside the spread of both (a model that plays everything at the
    mean has a low error and no feel). MAE scores the point estimates played greedily
    (each step's median, later steps hearing the medians played before them, as the
    squared-error heads play their means), CRPS each step's distribution along the
    sampled performance.
    """
    from groove_vae.representations import transform_inputs

    model = vae.model
    decode = tf.function(lambda z, s, hits: model.decode(z, SamplingOptions(1.0, s), Given(hits=hits),
                                                         return_outputs=True),
                         reduce_retracing=True)
    decode_point = tf.function(lambda z, hits: model.decode(z, SamplingOptions(1.0), Given(hits=hits, point_feel=True)),
                               reduce_retracing=True)
    played, point, scores, weights = [], [], [], []
    for start in range(0, len(groove), batch_size):
        batch = groove[start : start + batch_size]
        flat = transform_inputs(tf.constant(batch), "humanize").numpy()
        z = vae.encode_tensors(flat)
        samples, outputs = decode(tf.constant(z), tf.constant(seed), tf.constant(hits_of(flat)))
        played.append(samples.numpy())
        point.append(decode_point(tf.constant(z), tf.constant(hits_of(batch))).numpy())
        scores.append(groove_scores(model, outputs.numpy(), batch, qpm[start : start + batch_size]))
        weights.append(float(hits_of(batch).sum()))
    played, point = np.concatenate(played), np.concatenate(point)
    hit = hits_of(groove) > 0.5
    step_ms = 60000.0 / np.asarray(qpm, np.float64) / STEPS_PER_QUARTER
    offset_ms = lambda g: offsets_of(g) / 2.0 * step_ms[:, None, None]  # noqa: E731
    weights = np.asarray(weights) / np.sum(weights)
    return {
        "velocity_mae": float(np.abs(velocities_of(point) - velocities_of(groove))[hit].mean() * 127),
        "offset_mae_ms": float(np.abs(offset_ms(point) - offset_ms(groove))[hit].mean()),
        **{key: float(sum(w * s[key] for w, s in zip(weights, scores))) for key in scores[0]},
        "velocity_std_played": float(velocities_of(played)[hit].std() * 127),
        "velocity_std_data": float(velocities_of(groove)[hit].std() * 127),
        "offset_std_ms_played": float(offset_ms(played)[hit].std()),
        "offset_std_ms_data": float(offset_ms(groove)[hit].std()),
        "loudness_jump_played": loudness_jump(played),
        "loudness_jump_data": loudness_jump(groove),
        "repeated_hit_velocity_change_played": repeated_hit_velocity_change(played),
        "repeated_hit_velocity_change_data": repeated_hit_velocity_change(groove),
    }


def infill_scores(vae, groove: np.ndarray, keep: list[int], temperature: float = 0.5, seed: int = 0,
                  batch_size: int = 256) -> dict:
    """How a model plays the instruments a beat lacks: each clip with only the `keep`
    classes given, the others generated; their hits scored against the drummer's.

    Beside it, the same F1 of the model's unconditioned prior samples (at the same
    temperature) against the same clips: what guessing a groove without hearing the
    kept instruments scores. The kept instruments are checked to come back unchanged.
    """
    generated_classes = [c for c in range(NUM_CLASSES) if c not in keep]
    timekeepers = [c for c in TIMEKEEPERS if c in generated_classes]
    mask = np.zeros(NUM_CLASSES, np.float32)
    mask[keep] = 1.0
    filled = np.concatenate([vae.infill_tensors(groove[s : s + batch_size], mask, temperature, seed + s)
                             for s in range(0, len(groove), batch_size)])
    kept_columns = [column for c in keep for column in layout.columns(c)]
    if not np.array_equal(filled[..., kept_columns], groove[..., kept_columns]):
        raise AssertionError("infill changed a kept instrument")
    prior = np.concatenate([vae.sample_tensors(min(batch_size, len(groove) - s), temperature, seed + 7 + s)
                            for s in range(0, len(groove), batch_size)])

    def f1(predicted, classes):
        p, t = hits_of(predicted)[..., classes] > 0.5, hits_of(groove)[..., classes] > 0.5
        both = float(np.sum(p & t))
        return 2 * both / max(float(p.sum() + t.sum()), 1.0)

    hit = hits_of(filled)[..., generated_classes] > 0.5
    return {
        "kept": [DRUM_CLASS_NAMES[c] for c in keep],
        "timekeeper_f1_infilled": f1(filled, timekeepers) if timekeepers else math.nan,
        "timekeeper_f1_prior": f1(prior, timekeepers) if timekeepers else math.nan,
        "generated_f1_infilled": f1(filled, generated_classes),
        "generated_f1_prior": f1(prior, generated_classes),
        "generated_hits_per_clip_infilled": float(hit.sum() / len(groove)),
        "generated_hits_per_clip_data": float((hits_of(groove)[..., generated_classes] > 0.5).sum() / len(groove)),
        "generated_velocity_std_infilled": float(velocities_of(filled)[..., generated_classes][hit].std() * 127),
        "timekeeper_change_rate_infilled": timekeeper_change_rate(filled),
        "timekeeper_change_rate_data": timekeeper_change_rate(groove),
    }
