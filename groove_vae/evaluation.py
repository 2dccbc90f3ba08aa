"""How good a model is, measured as the MusicVAE paper (Table 1) and GrooVAE measure it.

The metric functions are plain numpy on groove tensors ([clips, steps, 27]: hits,
velocities in [0, 1], offsets in [-1, 1]) so they can be checked on hand-made cases;
`evaluate` runs a model over a split and fills them in.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from groove_vae import configs
from groove_vae import groove as layout
from groove_vae.converter import STEPS_PER_QUARTER
from groove_vae.drums import DRUM_CLASS_NAMES, NUM_CLASSES
from groove_vae.model import MusicVAE, kl_divergence
from groove_vae.sampling import Given, SamplingOptions

# "Sampled" reconstruction feeds back (near-)argmax hits, played at the heads' point
# velocity and offset: a draw fed back would score the feel's spread, not the model.
GREEDY_TEMPERATURE = 1e-4
TIMEKEEPERS = layout.TIMEKEEPERS
hits_of, velocities_of, offsets_of = layout.hits, layout.velocities, layout.offsets
timekeepers = layout.timekeepers


def step_accuracy(predicted: np.ndarray, truth: np.ndarray) -> float:
    """Fraction of steps whose set of 9 drum classes is exactly right (paper, Table 1)."""
    return float(np.mean(np.all(hits_of(predicted) == hits_of(truth), axis=-1)))


def hit_scores(predicted: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Precision, recall and F1 of hits over (step, instrument) cells."""
    p, t = hits_of(predicted) > 0.5, hits_of(truth) > 0.5
    true_positives = float(np.sum(p & t))
    precision = true_positives / max(float(np.sum(p)), 1.0)
    recall = true_positives / max(float(np.sum(t)), 1.0)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"hit_precision": precision, "hit_recall": recall, "hit_f1": f1}


def timing_errors(predicted: np.ndarray, truth: np.ndarray, qpm: np.ndarray) -> dict[str, float]:
    """Velocity MAE (MIDI units) and offset MAE (milliseconds at each clip's tempo),
    on cells that are hits in both."""
    both = (hits_of(predicted) > 0.5) & (hits_of(truth) > 0.5)
    if not both.any():
        return {"velocity_mae": math.nan, "offset_mae_ms": math.nan}
    velocity_error = np.abs(velocities_of(predicted) - velocities_of(truth)) * 127.0
    step_ms = 60000.0 / np.asarray(qpm, np.float64) / STEPS_PER_QUARTER  # [clips]
    # An offset of 1 is half a step.
    offset_error_ms = np.abs(offsets_of(predicted) - offsets_of(truth)) / 2.0 * step_ms[:, None, None]
    return {
        "velocity_mae": float(velocity_error[both].mean()),
        "offset_mae_ms": float(offset_error_ms[both].mean()),
    }


def hits_per_bar(groove: np.ndarray, steps_per_bar: int = 16) -> dict[str, float]:
    """Mean hits per bar for each instrument."""
    num_bars = groove.shape[1] / steps_per_bar
    per_class = hits_of(groove).sum(axis=(0, 1)) / (len(groove) * num_bars)
    return {name: float(v) for name, v in zip(DRUM_CLASS_NAMES, per_class)}


def feel(groove: np.ndarray, steps_per_bar: int = 16) -> dict[str, float]:
    """What a listener hears beyond the hits: loudness and its spread (MIDI units),
    microtiming spread (fractions of a 16th), and how bars relate: of consecutive bar
    pairs, the share with identical hit grids, the share of their cells that agree, how
    much of a bar's hits the bar before played too (`bar_hit_agreement`), the share whose
    timekeeper changes, how far their mean velocity jumps, and how much a hit's
    velocity changes from the same drum at the same step of the bar before (a
    drummer's bars repeat their accents; bars whose velocities are drawn afresh don't)."""
    hit = hits_of(groove) > 0.5
    velocities, offsets = velocities_of(groove)[hit] * 127.0, offsets_of(groove)[hit] / 2.0
    bars = hit.reshape(len(groove), -1, steps_per_bar, NUM_CLASSES)
    same_cells = bars[:, 1:] == bars[:, :-1]
    return {
        "velocity_mean": float(velocities.mean()) if velocities.size else math.nan,
        "velocity_std": float(velocities.std()) if velocities.size else math.nan,
        "offset_std_16ths": float(offsets.std()) if offsets.size else math.nan,
        "repeated_bar_fraction": float(np.mean(np.all(same_cells, axis=(2, 3)))),
        "bar_cell_agreement": float(np.mean(same_cells)),
        "bar_hit_agreement": bar_hit_agreement(groove, steps_per_bar),
        "timekeeper_change_rate": timekeeper_change_rate(groove, steps_per_bar),
        "loudness_jump": loudness_jump(groove, steps_per_bar),
        "repeated_hit_velocity_change": repeated_hit_velocity_change(groove, steps_per_bar),
    }


def repeated_hit_velocity_change(groove: np.ndarray, steps_per_bar: int = 16) -> float:
    """Mean |velocity difference| (MIDI units) between a hit and the same drum's hit at the
    same step of the bar before, over every such pair: how well accents repeat."""
    return _repeated_hit_change(groove, velocities_of(groove) * 127.0, steps_per_bar)


def repeated_hit_offset_change(groove: np.ndarray, steps_per_bar: int = 16) -> float:
    """The same for offsets (16ths): how well the push and pull repeat."""
    return _repeated_hit_change(groove, offsets_of(groove) / 2.0, steps_per_bar)


def _repeated_hit_change(groove: np.ndarray, values: np.ndarray, steps_per_bar: int) -> float:
    hit = (hits_of(groove) > 0.5).reshape(len(groove), -1, steps_per_bar, NUM_CLASSES)
    values = values.reshape(hit.shape)
    both = hit[:, 1:] & hit[:, :-1]
    return float(np.abs(values[:, 1:] - values[:, :-1])[both].mean()) if both.any() else math.nan


MEMORIES = tuple(round(0.1 * i, 1) for i in range(10))


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
    figures behind them."""
    model = vae.model
    decode = tf.function(lambda z, t, s, hits, m: model.decode(z, SamplingOptions(t, s, memory=m), Given(hits=hits)),
                         reduce_retracing=True)
    mu, sigma = zip(*(vae.posterior_tensors(groove[i : i + batch_size]) for i in range(0, len(groove), batch_size)))
    mu, sigma = np.concatenate(mu), np.concatenate(sigma)
    drawn = mu + sigma * np.random.default_rng(seed).standard_normal(mu.shape).astype(np.float32)

    def play(z, temperature, memory, forced_hits=None):
        return np.concatenate([
            decode(tf.constant(z[i : i + batch_size]), tf.constant(temperature, tf.float32),
                   tf.constant(seed + i // batch_size),  # Each batch its own draws.
                   None if forced_hits is None else tf.constant(forced_hits[i : i + batch_size]),
                   tf.constant(memory, tf.float32)).numpy()
            for i in range(0, len(groove), batch_size)])

    closest = lambda figures, target: min(figures, key=lambda m: abs(figures[m] - target))  # noqa: E731
    data = {"velocity": repeated_hit_velocity_change(groove), "timing": repeated_hit_offset_change(groove),
            "hits": bar_hit_agreement(groove)}
    velocity, timing = {}, {}
    if vae.config.groove_heads == "binned":  # Squared-error heads play every hit at its mean: nothing to remember.
        for memory in memories:
            played = play(mu, 1.0, (0.0, memory, memory), hits_of(groove))
            velocity[memory], timing[memory] = repeated_hit_velocity_change(played), repeated_hit_offset_change(played)
    feel = (closest(velocity, data["velocity"]) if velocity else 0.0,
            closest(timing, data["timing"]) if timing else 0.0)
    hits = {t: {m: bar_hit_agreement(play(drawn, t, (m, *feel))) for m in memories}
            for t in configs.MEMORY_TEMPERATURES}
    return {"hit_memory": tuple(closest(hits[t], data["hits"]) for t in configs.MEMORY_TEMPERATURES),
            "velocity_memory": feel[0], "timing_memory": feel[1],
            "hit_agreement": hits, "velocity_change": velocity, "offset_change": timing,
            "hit_agreement_data": data["hits"], "velocity_change_data": data["velocity"],
            "offset_change_data": data["timing"]}


def bar_hit_agreement(groove: np.ndarray, steps_per_bar: int = 16) -> float:
    """How much of a bar's pattern the bar before played too: the mean over consecutive
    bar pairs of the F1 of one bar's hits against the other's. Drummers repeat most of a
    bar (about 0.69 on GMD's clips); a model that draws each bar's hits afresh, less."""
    hit = (hits_of(groove) > 0.5).reshape(len(groove), -1, steps_per_bar, NUM_CLASSES)
    agreement = _hits_shared(hit[:, :-1], hit[:, 1:])
    return float(np.mean(agreement)) if agreement.size else math.nan


def _hits_shared(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Bar pairs [..., steps_per_bar, 9] -> the F1 of one bar's hits against the other's,
    for each pair with a hit in either."""
    shared = (before & after).sum(axis=(-2, -1))
    total = before.sum(axis=(-2, -1)) + after.sum(axis=(-2, -1))
    return (2 * shared / np.maximum(total, 1))[total > 0]


def loudness_jump(groove: np.ndarray, steps_per_bar: int = 16) -> float:
    """Mean |change| of the mean velocity (MIDI units) between consecutive bars that both have hits."""
    jumps = _loudness_jumps(groove, range(1, groove.shape[1] // steps_per_bar), steps_per_bar)
    return float(np.mean(jumps)) if jumps.size else math.nan


def _loudness_jumps(groove: np.ndarray, bars, steps_per_bar: int) -> np.ndarray:
    """|mean velocity of bar b - that of bar b - 1| (MIDI units), for each b in `bars` and
    each performance whose two bars both have hits, bar by bar."""
    hit = (hits_of(groove) > 0.5).reshape(len(groove), -1, steps_per_bar, NUM_CLASSES)
    loudness = (velocities_of(groove).reshape(hit.shape) * hit).sum(axis=(2, 3))
    count = hit.sum(axis=(2, 3))
    mean = loudness / np.maximum(count, 1)
    jumps = [np.abs(mean[:, b] - mean[:, b - 1])[(count[:, b] > 0) & (count[:, b - 1] > 0)] * 127 for b in bars]
    return np.concatenate(jumps) if jumps else np.zeros(0)


def feel_by_instrument(groove: np.ndarray) -> dict[str, dict[str, float]]:
    """Per drum class with hits: velocity mean and spread (MIDI units), microtiming
    spread (16ths) and the number of hits. Kick, snare and hats play at different
    loudness, so a pooled spread can match the data while every drum is wrong."""
    hit = hits_of(groove) > 0.5
    result = {}
    for c, name in enumerate(DRUM_CLASS_NAMES):
        cells = hit[..., c]
        if not cells.any():
            continue
        velocity, offset = velocities_of(groove)[..., c][cells] * 127.0, offsets_of(groove)[..., c][cells] / 2.0
        result[name] = {"velocity_mean": float(velocity.mean()), "velocity_std": float(velocity.std()),
                        "offset_std_16ths": float(offset.std()), "hits": int(cells.sum())}
    return result


def timekeeper_change_rate(groove: np.ndarray, steps_per_bar: int = 16) -> float:
    """The share of consecutive bar pairs, both with a timekeeper, whose timekeeper differs."""
    keeper = timekeepers(groove, steps_per_bar)
    both = (keeper[:, 1:] >= 0) & (keeper[:, :-1] >= 0)
    if not both.any():
        return math.nan
    return float(np.mean((keeper[:, 1:] != keeper[:, :-1])[both]))


FILL_DRUMS = (layout.LOW_TOM, layout.MID_TOM, layout.HIGH_TOM)


def marked_timekeeper_changes(groove: np.ndarray, steps_per_bar: int = 16) -> float:
    """The share of timekeeper changes a drummer marks: a tom, or a snare roll (3 or more
    hits), in the last beat before the change, or a crash in the first beat after it.
    Drummers switch from ride to hi-hat at a section's edge with a fill; a switch with
    neither is the "programmed" change listeners notice. NaN where nothing changes."""
    keeper = timekeepers(groove, steps_per_bar)
    changed = (keeper[:, 1:] >= 0) & (keeper[:, :-1] >= 0) & (keeper[:, 1:] != keeper[:, :-1])
    if not changed.any():
        return math.nan
    hit = hits_of(groove) > 0.5
    bars = hit.reshape(len(groove), -1, steps_per_bar, NUM_CLASSES)
    beat = steps_per_bar // 4
    last_beat, first_beat = bars[:, :-1, -beat:], bars[:, 1:, :beat]  # Either side of each boundary.
    fill = last_beat[..., list(FILL_DRUMS)].any(axis=(2, 3)) | (last_beat[..., layout.SNARE].sum(axis=2) >= 3)
    crash = first_beat[..., layout.CRASH].any(axis=2)
    return float(np.mean((fill | crash)[changed]))


def crps_binned(probs: np.ndarray, truth: np.ndarray, resolution: int = 8) -> np.ndarray:
    """The continuous ranked probability score of values in [0, 1] under distributions
    over equal bins [..., bins], uniform within each bin: the integral of
    (F(x) - [x >= truth])^2 over [0, 1], in the values' units (lower is better; for a
    point forecast it is the absolute error, so it compares distributional and
    point heads)."""
    probs = np.asarray(probs, np.float64)
    bins = probs.shape[-1]
    grid = (np.arange(bins * resolution) + 0.5) / (bins * resolution)  # Midpoints, [G].
    index, fraction = np.divmod(grid * bins, 1.0)
    index = index.astype(int)
    below = np.concatenate([np.zeros(probs.shape[:-1] + (1,)), np.cumsum(probs, -1)[..., :-1]], -1)
    cdf = below[..., index] + probs[..., index] * fraction  # [..., G]
    step = (grid >= np.asarray(truth, np.float64)[..., None]).astype(np.float64)
    return np.mean(np.square(cdf - step), axis=-1)


def groove_scores(model: MusicVAE, outputs: np.ndarray, truth: np.ndarray, qpm: np.ndarray) -> dict[str, float]:
    """Proper scores of the true velocity and offset of every true hit under the model's
    predicted distribution: CRPS (MIDI units, milliseconds), for squared-error heads the
    absolute error of their point prediction; for binned heads also the true bin's NLL."""
    rep = model.representation
    hit = hits_of(truth) > 0.5
    step_ms = np.broadcast_to((60000.0 / np.asarray(qpm, np.float64) / STEPS_PER_QUARTER)[:, None, None], hit.shape)
    if getattr(rep, "heads", None) == "binned":
        velocity_probs, offset_probs = (p.numpy() for p in rep.probabilities(tf.constant(outputs)))
        velocity_crps = crps_binned(velocity_probs[hit], velocities_of(truth)[hit])
        offset_crps = crps_binned(offset_probs[hit], (offsets_of(truth)[hit] + 1.0) / 2.0) * 2.0
        velocity_nll, offset_nll = (x.numpy()[hit] for x in rep.groove_nll(tf.constant(truth), tf.constant(outputs)))
        extra = {"velocity_bin_nll": float(velocity_nll.mean()), "offset_bin_nll": float(offset_nll.mean())}
    else:
        _, velocity, offset = (x.numpy() for x in rep.split(tf.constant(outputs)))
        velocity_crps = np.abs(velocity[hit] - velocities_of(truth)[hit])
        offset_crps = np.abs(offset[hit] - offsets_of(truth)[hit])
        extra = {}
    return {"velocity_crps": float(velocity_crps.mean() * 127.0),
            "offset_crps_ms": float((offset_crps / 2.0 * step_ms[hit]).mean()), **extra}


def active_dimensions(mu: np.ndarray, threshold: float = 0.01) -> int:
    """Latent dimensions whose posterior mean varies across clips (Burda et al., 2016)."""
    return int(np.sum(np.var(mu, axis=0) > threshold))


def _batch_pass(model: MusicVAE):
    """A compiled pass over one batch: teacher-forced and greedy-sampled reconstructions
    from z = mu, and the ELBO's terms with z drawn from q(z|x)."""
    rep, decoder = model.representation, model.decoder

    @tf.function(reduce_retracing=True)
    def run(groove, seed):
        inputs = rep.to_inputs(groove)
        mu, sigma = model.encode(inputs)
        outputs = decoder.teacher_forced(mu, inputs)
        samples = model.decode(mu, SamplingOptions(GREEDY_TEMPERATURE, seed[0] + seed[1], memory=(0.0, 0.0, 0.0)),
                               Given(point_feel=rep.name == "groove"))
        z = mu + sigma * tf.random.stateless_normal(tf.shape(mu), seed=seed + 1)
        outputs_z = decoder.teacher_forced(z, inputs)
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
        if model.representation.name == "groove":
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
    if model.representation.name == "groove":
        for name, prediction in (("teacher_forced", teacher), ("sampled", sampled)):
            scores = {**hit_scores(prediction, groove), **timing_errors(prediction, groove, qpm)}
            results.update({f"{k}_{name}": v for k, v in scores.items()})
        weights = np.asarray(batch_weights) / np.sum(batch_weights)  # Per true hit.
        for key in batch_scores[0]:
            results[f"{key}_teacher_forced"] = float(sum(w * b[key] for w, b in zip(weights, batch_scores)))
    results["timekeeper_change_rate_sampled"] = timekeeper_change_rate(sampled)
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
    decode = tf.function(lambda z, t, s: model.decode(z, SamplingOptions(t, s)), reduce_retracing=True)
    batches = []
    for i, start in enumerate(range(0, len(groove), batch_size)):
        mu, sigma = model.encode(tf.constant(groove[start : start + batch_size]))
        z = mu + sigma * tf.random.stateless_normal(tf.shape(mu), seed=[seed, 2000 + i])
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


def within(value: float, reference: float, tolerance: float) -> bool:
    """Whether `value` lies within `tolerance` (a fraction) of `reference`."""
    return abs(value - reference) <= tolerance * abs(reference)


def feel_table(reference: np.ndarray, samples: dict[str, np.ndarray], tolerance: float = 0.10,
               beside: dict[str, np.ndarray] | None = None, reference_name: str = "reference") -> str:
    """Velocity mean, velocity spread and microtiming spread of sample sets, pooled and per
    drum, each marked "ok" when within `tolerance` of `reference`'s: the clips a model can
    learn from (its training and validation clips) when judging its samples, since GMD's
    splits were not played alike. `beside` (say, the test clips) are shown, not judged."""
    sets = {reference_name: reference, **(beside or {}), **samples}
    pooled = {name: feel(g) for name, g in sets.items()}
    per_drum = {name: feel_by_instrument(g) for name, g in sets.items()}
    header = f"{'feel':<34}" + "".join(f"{name:>18}" for name in sets)
    lines = [header, "-" * len(header)]
    references = 1 + len(beside or {})

    def row(label, values):
        cells = [f"{v:>18.3f}" for v in values[:references]]
        cells += [f"{v:>15.3f} {'ok' if within(v, values[0], tolerance) else '  '}" for v in values[references:]]
        lines.append(f"{label:<34}" + "".join(cells))

    for key in ("velocity_mean", "velocity_std", "offset_std_16ths"):
        row(f"all drums {key}", [pooled[n][key] for n in sets])
    for drum in DRUM_CLASS_NAMES:
        if drum not in per_drum[reference_name] or per_drum[reference_name][drum]["hits"] < 200:
            continue
        for key in ("velocity_mean", "velocity_std", "offset_std_16ths"):
            row(f"{drum} {key}", [per_drum[n].get(drum, {}).get(key, math.nan) for n in sets])
    for key in ("timekeeper_change_rate", "bar_hit_agreement", "loudness_jump", "repeated_hit_velocity_change"):
        values = [pooled[n][key] for n in sets]
        lines.append(f"{key:<34}" + "".join(f"{v:>18.3f}" for v in values))
    lines.append(f"(ok: within {tolerance:.0%} of the {reference_name}'s)")
    return "\n".join(lines)


def split_figures(groove: np.ndarray) -> dict:
    """The data figures the feel targets are set against, for one set of clips: how many,
    the timekeeper change rate and the share of changes with a fill or crash, and each
    drum's velocity mean and spread (`feel_by_instrument`)."""
    if not len(groove):
        return {"clips": 0}
    return {"clips": len(groove), "timekeeper_change_rate": timekeeper_change_rate(groove),
            "timekeeper_changes_marked": marked_timekeeper_changes(groove), "by_drum": feel_by_instrument(groove)}


def splits_table(splits: dict[str, np.ndarray], drummers: dict[str, np.ndarray], drum: str = "open_hihat") -> str:
    """Splits side by side (clips, timekeeper changes, every drum's loudness), then each
    drummer's share of them and how they play `drum`: where two splits differ, the drummers
    each holds are usually why. `splits` and `drummers` map a split's name to its clips
    [clips, steps, 27] and their drummers [clips] (see data.ClipSet.drummers)."""
    if drum not in DRUM_CLASS_NAMES:
        raise ValueError(f"Unknown drum {drum!r}; one of {', '.join(DRUM_CLASS_NAMES)}.")
    figures = {name: split_figures(groove) for name, groove in splits.items()}
    width = 16
    lines = [f"{'':<34}" + "".join(f"{name:>{width}}" for name in splits)]
    lines.append("-" * len(lines[0]))

    def row(label, cell):
        lines.append(f"{label:<34}" + "".join(f"{cell(f):>{width}}" for f in figures.values()))

    row("clips", lambda f: f"{f['clips']:,}")
    row("timekeeper changes per boundary", lambda f: f"{f.get('timekeeper_change_rate', math.nan):.3f}")
    row("  of them with a fill or crash", lambda f: f"{f.get('timekeeper_changes_marked', math.nan):.3f}")
    for name in DRUM_CLASS_NAMES:
        def loudness(f, name=name):
            d = f.get("by_drum", {}).get(name)
            return f"{d['velocity_mean']:.1f} / {d['velocity_std']:.1f}" if d else "-"
        row(f"{name} velocity mean / spread", loudness)

    names = sorted({d for ds in drummers.values() for d in ds}, key=lambda d: (len(d), d))
    lines += ["", f"By drummer: clips, timekeeper changes per boundary, {drum} velocity mean (hits)",
              f"{'drummer':<12}" + "".join(f"{name:>30}" for name in splits)]
    for d in names:
        cells = []
        for name, groove in splits.items():
            mine = groove[drummers[name] == d]
            if not len(mine):
                cells.append(f"{'-':>30}")
                continue
            played = feel_by_instrument(mine).get(drum)
            loud = f"{played['velocity_mean']:.1f} ({played['hits']})" if played else "-"
            cells.append(f"{len(mine):>7,} {timekeeper_change_rate(mine):>6.3f} {loud:>15}")
        lines.append(f"{d or '(none)':<12}" + "".join(cells))
    return "\n".join(lines)


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


def infill_table(scores: dict) -> str:
    """The infill scores as lines: generated hits against the drummer's, infilled and from the prior."""
    kept = ", ".join(scores["kept"])
    lines = [f"infill, keeping {kept}: the generated instruments' hits against the drummer's",
             f"{'':<34}{'infilled':>10}{'prior':>10}{'data':>10}",
             f"{'F1, hi-hats and ride':<34}{scores['timekeeper_f1_infilled']:>10.3f}{scores['timekeeper_f1_prior']:>10.3f}",
             f"{'F1, every generated instrument':<34}{scores['generated_f1_infilled']:>10.3f}"
             f"{scores['generated_f1_prior']:>10.3f}",
             f"{'generated hits per clip':<34}{scores['generated_hits_per_clip_infilled']:>10.1f}{'':>10}"
             f"{scores['generated_hits_per_clip_data']:>10.1f}",
             f"{'timekeeper changes between bars':<34}{scores['timekeeper_change_rate_infilled']:>10.3f}{'':>10}"
             f"{scores['timekeeper_change_rate_data']:>10.3f}"]
    return "\n".join(lines)


def bar_pair_scores(groove: np.ndarray, bars: list[int], steps_per_bar: int = 16) -> dict[str, float]:
    """How bar b follows bar b - 1, for each b in `bars`, over performances [n, steps, 27]:
    how often the timekeeper changes, how much of the hit grid the two bars share (F1 of
    one bar's hits against the other's), and the jump in mean velocity (MIDI units).
    Measured at window seams and at the same bars of real performances, it shows
    whether a stitched performance holds together as a drummer's does."""
    hit = (hits_of(groove) > 0.5).reshape(len(groove), -1, steps_per_bar, NUM_CLASSES)
    keeper = timekeepers(groove, steps_per_bar)
    changes, agreement = [], []
    for b in bars:
        both = (keeper[:, b] >= 0) & (keeper[:, b - 1] >= 0)
        changes += list((keeper[both, b] != keeper[both, b - 1]).astype(float))
        agreement += list(_hits_shared(hit[:, b - 1], hit[:, b]))
    mean = lambda values: float(np.mean(values)) if len(values) else math.nan  # noqa: E731
    return {"timekeeper_change_rate": mean(changes), "hit_agreement": mean(agreement),
            "loudness_jump": mean(_loudness_jumps(groove, bars, steps_per_bar))}
