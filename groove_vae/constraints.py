"""Latent constraints: ask for a beat by what it plays, without retraining the VAE.

After Engel, Hoffman and Roberts, "Latent Constraints: Learning to Generate Conditionally
from Unconditional Generative Models" (ICLR 2018). Small networks learn, in latent space:

- attribute critics: from a latent and a temperature, what the decoder will play, as the
  attributes of `groove_vae.attributes` (density, kick, swing, ...);
- a style critic: which GMD style a latent's clip was played in;
- the paper's actor: moves a prior draw, as little as it must, to where the critics say
  the decoder plays what was asked, and keeps it where the model's prior draws (its
  log-density stands in for the paper's realism critic).

New beats (`sample(constraints=...)`) take, of 128 prior draws per beat, the one the critics
rank best (`rank`), then check what the decoder played. Measured on the bundled model, that
meets conditions more often than the actor's moves and keeps the prior's realism: the
actor's latents, pushed where the critics are least sure, switch timekeeper from bar to
bar 2-4 times as often as drummers do (experiments/2026-12-06-constraints.md). The actor
stays for that comparison.

For an existing beat, gradient steps on the actor's objective from the beat's own latent
make the edit (`edit_latents`), so that as much of the beat as the condition allows survives.

A condition (`Constraints`) is a set of attribute ranges, in the attributes' own units,
and optionally a style: "density=20..30, swing=0.1.., toms=0, timekeeper=ride, style=funk".

Example:
>>> wanted = Constraints.parse("density=20..30, timekeeper=ride")
>>> order = constraint_model.rank(prior_draws, wanted, temperature=0.5)  # [n, C] -> [n, C]
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import tensorflow as tf

from groove_vae.attributes import ATTRIBUTES
from groove_vae.sampling import Prior, SamplingOptions, StandardNormal

CONSTRAINT_FILE = "constraints.npz"
INSTRUMENTS = ("kick", "snare", "hihat", "ride", "toms", "crash")  # "no=toms", "with=crash".
PRESENT = 0.25  # Hits per bar that count as "plays it": one hit in four bars.
# Which cymbal keeps time, as a range of ride_share (the ride's share of the timekeeper's hits).
TIMEKEEPERS = {"ride": (0.5, 1.0), "hihat": (0.0, 0.25)}
MAX_CONDITIONS = 8
CANDIDATES = 128  # Prior draws per beat that the critics rank for `sample(constraints=...)`.
CONSTRAIN_CHUNK = 16  # Beats whose candidates are drawn and ranked at once (the SavedModel's cap per request).
_INF = math.inf


# === What is asked ===
@dataclasses.dataclass(frozen=True)
class Constraints:
    """Attribute ranges {name: (low, high)} in the attributes' units (either end may be
    infinite) and optionally a GMD style. Checked on construction: an unknown attribute,
    a bound that is not a number, or a range no beat can meet is a ValueError that names
    the attribute and its valid range."""

    ranges: dict[str, tuple[float, float]] = dataclasses.field(default_factory=dict)
    style: str | None = None

    def __post_init__(self):
        if not isinstance(self.ranges, dict):
            raise ValueError(f"Constraint ranges are a mapping of attribute to (low, high), got {self.ranges!r}.")
        if not self.ranges and self.style is None:
            raise ValueError("No constraint given: name at least one attribute range or a style.")
        if len(self.ranges) > MAX_CONDITIONS:
            raise ValueError(f"At most {MAX_CONDITIONS} attribute ranges at once, got {len(self.ranges)}.")
        for name, bounds in self.ranges.items():
            check_range(name, bounds)

    @classmethod
    def parse(cls, spec) -> "Constraints":
        """A `Constraints`, a mapping or a command line's text -> `Constraints`.

        Text: comma-separated items, each `attribute=low..high` (either end may be left
        out: `swing=0.1..`), `attribute=value` (exactly; `toms=0`), `timekeeper=ride` or
        `hihat`, `no=<instrument>`, `with=<instrument>` and `style=<GMD style>`. A mapping
        takes the same keys, with (low, high) pairs or single numbers for attributes.
        """
        if isinstance(spec, Constraints):
            return spec
        if isinstance(spec, str):
            items = []
            for item in (part.strip() for part in spec.split(",") if part.strip()):
                name, sep, value = item.partition("=")
                if not sep or not name.strip() or not value.strip():
                    raise ValueError(f"Bad constraint {item!r}: expected name=value, e.g. density=20..30, "
                                     "toms=0, timekeeper=ride, no=toms or style=funk.")
                items.append((name.strip(), value.strip()))
        elif isinstance(spec, dict):
            items = list(spec.items())
        else:
            raise ValueError(f"Constraints are text like 'density=20..30,toms=0' or a mapping, got {spec!r}.")
        ranges, style = {}, None
        for name, value in items:
            if name == "style":
                style = str(value)
            elif name == "timekeeper":
                if value not in TIMEKEEPERS:
                    raise ValueError(f"timekeeper must be one of {', '.join(TIMEKEEPERS)}, got {value!r}.")
                ranges["ride_share"] = TIMEKEEPERS[value]
            elif name in ("no", "with"):
                for instrument in value if isinstance(value, (list, tuple)) else [value]:
                    if instrument not in INSTRUMENTS:
                        raise ValueError(f"{name}= takes an instrument ({', '.join(INSTRUMENTS)}), got {instrument!r}.")
                    ranges[instrument] = (0.0, 0.0) if name == "no" else (PRESENT, _INF)
            else:
                ranges[name] = _bounds(name, value)
        return cls(ranges, style)

    def met(self, values: dict[str, np.ndarray], styles: np.ndarray | None = None) -> np.ndarray:
        """Which clips meet every range, from `attributes.measure`'s values (and, with a
        style, each clip's style as the style critic reads it) -> bool [clips]."""
        ok = None
        for name, (low, high) in self.ranges.items():
            value = np.asarray(values[name], np.float64)
            inside = ~np.isnan(value) & (value >= low - 1e-9) & (value <= high + 1e-9)
            ok = inside if ok is None else ok & inside
        if self.style is not None:
            if styles is None:
                raise ValueError("Checking a style constraint needs each clip's style.")
            ok = (np.asarray(styles) == self.style) if ok is None else ok & (np.asarray(styles) == self.style)
        return ok

    def describe(self) -> str:
        parts = [f"{name}={_fmt(low)}..{_fmt(high)}" if low != high else f"{name}={_fmt(low)}"
                 for name, (low, high) in self.ranges.items()]
        return ", ".join(parts + ([f"style={self.style}"] if self.style else []))


def _fmt(value: float) -> str:
    return "" if math.isinf(value) else f"{value:g}"


def _bounds(name: str, value) -> tuple[float, float]:
    if isinstance(value, str):
        low, sep, high = value.partition("..")
        try:
            if not sep:
                return float(low), float(low)
            return (float(low) if low.strip() else -_INF), (float(high) if high.strip() else _INF)
        except ValueError:
            raise ValueError(f"Bad range for {name}: {value!r}; expected low..high, low.., ..high or a value.") from None
    if isinstance(value, (int, float, np.floating)) and not isinstance(value, bool):
        return float(value), float(value)
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return tuple(-_INF if v is None and i == 0 else _INF if v is None else v for i, v in enumerate(value))
    raise ValueError(f"Bad range for {name}: {value!r}; expected (low, high) or a number.")


def check_range(name: str, bounds) -> None:
    """Refuses an unknown attribute, a bound that is not a number, and a range outside what
    any beat can play (`Attribute.valid`), naming the attribute and its valid range."""
    if name not in ATTRIBUTES:
        raise ValueError(f"Unknown attribute {name!r}. Known: {', '.join(ATTRIBUTES)}, "
                         f"and timekeeper=, no=, with=, style=.")
    valid_low, valid_high = ATTRIBUTES[name].valid
    where = f"{name} ({ATTRIBUTES[name].unit}) takes values from {valid_low:g} to {valid_high:g}"
    if not isinstance(bounds, tuple) or len(bounds) != 2 or any(
            isinstance(b, bool) or not isinstance(b, (int, float, np.floating)) or math.isnan(b) for b in bounds):
        raise ValueError(f"The range of {name} must be two numbers (low, high); got {bounds!r}. {where}.")
    low, high = bounds
    if low > high:
        raise ValueError(f"The range of {name} is empty: low {low:g} is above high {high:g}. {where}.")
    if low > valid_high or high < valid_low or (math.isinf(low) and low > 0) or (math.isinf(high) and high < 0):
        raise ValueError(f"No beat can meet {name}={_fmt(low)}..{_fmt(high)}: {where}.")


# === The networks ===
REALISM_WEIGHT = 10.0  # Per nat per dimension below the prior's typical draws.



def _mlp(inputs: int, width: int, depth: int, outputs: int, name: str) -> tf.keras.Model:
    import keras

    layers = [keras.Input((inputs,))] + [keras.layers.Dense(width, activation="gelu") for _ in range(depth)]
    return keras.Sequential(layers + [keras.layers.Dense(outputs)], name=name)


class ConstraintModel:
    """The critics and the actor of one VAE's latent space, and what they were fitted on.

    names [A]: the attributes the critics predict; mean, std [A]: their standardisation
    (the critics work in standard units); styles [S]; z_size; sigma: the mean posterior
    standard deviation (the distance penalty's scale); prior: the model's prior, and
    typical: the log-density per dimension that 90% of its draws reach (the realism
    penalty's floor).
    """

    WIDTH, DEPTH, ACTOR_WIDTH = 512, 3, 512

    def __init__(self, names, mean, std, styles, z_size: int, sigma: float, typical: float,
                 prior: Prior | None = None, weights: dict | None = None):
        self.names = tuple(names)
        self.mean = np.asarray(mean, np.float32)
        self.std = np.asarray(std, np.float32)
        self.styles = tuple(styles)
        self.z_size = int(z_size)
        self.sigma = float(sigma)
        self.typical = float(typical)
        self.prior = prior or StandardNormal(self.z_size)
        a, s = len(self.names), len(self.styles)
        self.condition_size = 4 * a + s + 1
        self.attribute_critic = _mlp(self.z_size + 1, self.WIDTH, self.DEPTH, a, "attribute_critic")
        self.style_critic = _mlp(self.z_size, self.WIDTH, 2, s, "style_critic")
        self.actor = _mlp(self.z_size + self.condition_size + 1, self.ACTOR_WIDTH, self.DEPTH, 2 * self.z_size, "actor")
        if weights is not None:
            for net in self.networks:
                net.set_weights([weights[f"{net.name}/{i}"] for i in range(len(net.weights))])

    @property
    def networks(self):
        return (self.attribute_critic, self.style_critic, self.actor)

    # --- conditions as tensors ---
    def condition(self, wanted: Constraints) -> np.ndarray:
        """`Constraints` -> the actor's condition vector [4A + S + 1]: per attribute
        (has low, low, has high, high) in standard units, then the style one-hot and
        whether a style is asked."""
        vector = np.zeros(self.condition_size, np.float32)
        for name, (low, high) in wanted.ranges.items():
            if name not in self.names:
                raise ValueError(f"These constraints were fitted without {name!r} (known: {', '.join(self.names)}).")
            i = self.names.index(name)
            valid_low, valid_high = ATTRIBUTES[name].valid  # A bound at the edge of what is possible is none.
            if low > valid_low:
                vector[4 * i : 4 * i + 2] = 1.0, (low - self.mean[i]) / self.std[i]
            if high < valid_high:
                vector[4 * i + 2 : 4 * i + 4] = 1.0, (high - self.mean[i]) / self.std[i]
        if wanted.style is not None:
            if wanted.style not in self.styles:
                raise ValueError(f"Unknown style {wanted.style!r}. Known styles: {', '.join(self.styles)}.")
            vector[4 * len(self.names) + self.styles.index(wanted.style)] = 1.0
            vector[-1] = 1.0
        return vector

    def condition_tensor(self, lows, highs, style):
        """`condition` as TensorFlow ops, for the SavedModel: lows, highs [len(ATTRIBUTES)]
        in `ATTRIBUTES`' order (a bound at or beyond the attribute's valid range is no
        bound) and a style name ("": none) -> [4A + S + 1]."""
        order = [list(ATTRIBUTES).index(name) for name in self.names]
        valid = np.array([ATTRIBUTES[name].valid for name in self.names], np.float32)
        low, high = tf.gather(lows, order), tf.gather(highs, order)
        has_low = tf.cast(low > valid[:, 0], tf.float32)
        has_high = tf.cast(high < valid[:, 1], tf.float32)
        per_attribute = tf.stack([has_low, has_low * (low - self.mean) / self.std,
                                  has_high, has_high * (high - self.mean) / self.std], -1)
        one_hot = tf.cast(tf.equal(tf.constant(self.styles or ("",), tf.string), style), tf.float32)[: len(self.styles)]
        return tf.concat([tf.reshape(per_attribute, [-1]), one_hot, [tf.cast(style != "", tf.float32)]], 0)

    def _condition_loss(self, z, temperature, condition):
        """Per latent, how far the critics say its beat is from the condition (0: met)."""
        a = len(self.names)
        predicted = self.attribute_critic(tf.concat([z, temperature[:, None]], -1))
        parts = tf.reshape(condition[:, : 4 * a], [-1, a, 4])
        has_low, low, has_high, high = tf.unstack(parts, axis=-1)
        margin = tf.minimum(0.1, tf.maximum(high - low, 0.0) / 4.0) * has_low * has_high + 0.1 * (
            1.0 - has_low * has_high)
        missed = has_low * tf.nn.relu(low + margin - predicted) + has_high * tf.nn.relu(predicted - high + margin)
        loss = tf.reduce_sum(missed, -1)
        style = condition[:, 4 * a : -1]
        log_p = tf.nn.log_softmax(self.style_critic(z), -1)
        return loss - condition[:, -1] * tf.reduce_sum(style * tf.maximum(log_p, -10.0), -1)

    def _distance(self, moved, start):
        return tf.reduce_mean(tf.math.log1p(tf.square((moved - start) / self.sigma)), -1)

    def _realism_loss(self, z):
        """Nats per dimension below what 90% of the prior's draws reach (0 above)."""
        return tf.nn.relu(self.typical - self.prior.log_density(z))

    def objective(self, moved, start, temperature, condition, distance_weight: float,
                  realism_weight: float = REALISM_WEIGHT):
        """Per latent: condition missed + realism lost + distance moved (weighted)."""
        return (self._condition_loss(moved, temperature, condition) + realism_weight * self._realism_loss(moved)
                + distance_weight * self._distance(moved, start))

    def act(self, z, condition, temperature):
        """The actor: latents [n, z] -> latents moved toward `condition` [n, 4A + S + 1]
        at `temperature` [n]. A gate per dimension blends the latent with the actor's
        proposal, so the actor can leave most of a latent as it was."""
        out = self.actor(tf.concat([z, condition, temperature[:, None]], -1))
        gate = tf.sigmoid(out[:, : self.z_size])
        return (1.0 - gate) * z + gate * out[:, self.z_size :]

    # --- what users call ---
    def rank(self, candidates, wanted: Constraints, temperature: float) -> np.ndarray:
        """Candidate latents [n, C, z] (prior draws) -> for each row, the candidates' indices
        [n, C], the one the critics say best meets `wanted` first. Choosing among the prior's
        own draws keeps what the prior plays well (a steady timekeeper, new beats); the
        actor's moved latents meet conditions less often and play less like a drummer
        (experiments/2026-12-06-constraints.md)."""
        candidates = np.asarray(candidates, np.float32)
        n, c, z = candidates.shape
        return tf.argsort(tf.reshape(self.missed(candidates.reshape(n * c, z), wanted, temperature), [n, c]),
                          axis=-1, stable=True).numpy()

    def missed(self, z, wanted, temperature):
        """How far the critics say each latent's beat [n] is from `wanted` (0: met), as
        TensorFlow ops; `wanted` a `Constraints` or a condition vector."""
        condition = self.condition(wanted) if isinstance(wanted, Constraints) else wanted
        z = tf.convert_to_tensor(z, tf.float32)
        n = tf.shape(z)[0]
        return self._condition_loss(z, tf.fill([n], tf.cast(temperature, tf.float32)),
                                    tf.tile(tf.convert_to_tensor(condition, tf.float32)[None], [n, 1]))

    def actor_latents(self, z, wanted: Constraints, temperature: float) -> np.ndarray:
        """Prior draws [n, z] -> latents whose beats meet `wanted` (by the critics)."""
        z = tf.constant(np.asarray(z, np.float32))
        n = tf.shape(z)[0]
        condition = tf.tile(self.condition(wanted)[None], [n, 1])
        return self.act(z, condition, tf.fill([n], float(temperature))).numpy()

    def edit_latents(self, z, wanted: Constraints, temperature: float, distance_weight: float = 0.5,
                     steps: int = 60, learning_rate: float = 0.05) -> np.ndarray:
        """A beat's own latents [n, z] -> the nearest latents whose beats meet `wanted`, by
        gradient steps on the actor's objective from where the beat is (identity-preserving
        edits: raise `distance_weight` to keep more of the beat)."""
        import keras

        start = tf.constant(np.asarray(z, np.float32))
        n = tf.shape(start)[0]
        condition = tf.tile(self.condition(wanted)[None], [n, 1])
        temperature = tf.fill([n], float(temperature))
        moved = tf.Variable(start)
        optimizer = keras.optimizers.Adam(learning_rate)
        for _ in range(steps):
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(self.objective(moved, start, temperature, condition, distance_weight))
            optimizer.apply_gradients([(tape.gradient(loss, moved), moved)])
        return moved.numpy()

    def style_of(self, z) -> np.ndarray:
        """The style critic's reading of latents [n, z] -> style names [n]."""
        return np.array(self.styles)[np.argmax(self.style_critic(np.asarray(z, np.float32)).numpy(), -1)]

    # --- files ---
    def save(self, path: str) -> None:
        from groove_vae.files import atomic_write

        arrays = {f"{net.name}/{i}": w.numpy().astype(np.float16) for net in self.networks
                  for i, w in enumerate(net.weights)}
        with atomic_write(path) as f:
            np.savez_compressed(f, names=np.array(self.names, str), mean=self.mean, std=self.std,
                                styles=np.array(self.styles, str), z_size=self.z_size, sigma=self.sigma,
                                typical=self.typical, **arrays)

    @classmethod
    def load(cls, path: str, prior: Prior | None = None) -> "ConstraintModel":
        """Reads `save`'s file, to act with the model's `prior` (the one it was fitted with);
        a file that is not one is a ValueError naming it."""
        try:
            with np.load(path) as f:
                weights = {k: f[k].astype(np.float32) for k in f.files if "/" in k}
                return cls(f["names"].tolist(), f["mean"], f["std"], f["styles"].tolist(), int(f["z_size"]),
                           float(f["sigma"]), float(f["typical"]), prior, weights)
        except (OSError, KeyError, ValueError, EOFError) as e:
            raise ValueError(f"{path}: not a constraints file: {e}") from None


# === Fitting ===
TEMPERATURES = (0.5, 1.0, 0.75)  # Decoded at each in turn: the critics read a latent at any of them.


@dataclasses.dataclass
class CriticData:
    """What the critics learn from: latents [n, z], the temperature each was decoded at
    [n], and `attributes.measure` of the decoded beats {name: [n]}."""

    z: np.ndarray
    temperature: np.ndarray
    values: dict[str, np.ndarray]


def decoded_attributes(vae, z: np.ndarray, seed: int = 0, batch_size: int = 512) -> CriticData:
    """Decodes latents in batches, each batch at the next of `TEMPERATURES`, and measures
    what the decoder played."""
    from groove_vae import attributes

    temperature = np.empty(len(z), np.float32)
    values = []
    for k, i in enumerate(range(0, len(z), batch_size)):
        temperature[i : i + batch_size] = TEMPERATURES[k % len(TEMPERATURES)]
        groove = vae.decode_tensors(z[i : i + batch_size], float(temperature[i]), seed + k)
        values.append(attributes.measure(groove, vae.config.steps_per_bar))
    return CriticData(z, temperature, {name: np.concatenate([v[name] for v in values]) for name in values[0]})


def critic_latents(vae, mu: np.ndarray, sigma: np.ndarray, seed: int = 0) -> np.ndarray:
    """Where the critics must be right: the training clips' posterior draws, as many prior
    draws, and as many prior draws moved along random attribute vectors (where the actor
    and the sliders take latents)."""
    rng = np.random.default_rng(seed)
    n = len(mu)
    posterior = mu + sigma * rng.standard_normal(mu.shape).astype(np.float32)
    prior = vae.sampler.latents(n, SamplingOptions(seed=seed + 1)).numpy()
    moved = vae.sampler.latents(n, SamplingOptions(seed=seed + 2)).numpy()
    vectors = vae.sampler.attributes
    if vectors is not None:
        amounts = rng.uniform(-2.0, 2.0, (n, len(vectors.names))) * (rng.random((n, len(vectors.names))) < 0.2)
        moved = moved + (amounts @ vectors.vectors).astype(np.float32)
    return np.concatenate([posterior, prior, moved]).astype(np.float32)


def random_conditions(model: ConstraintModel, values: dict[str, np.ndarray], styles_weights: np.ndarray,
                      n: int, rng: np.random.Generator) -> np.ndarray:
    """n conditions [n, 4A + S + 1] like users ask: one to three at once, ranges around
    values the decoder does play (above, below, between, absent or present), and styles."""
    a = len(model.names)
    conditions = np.zeros((n, model.condition_size), np.float32)
    known = {name: (v[~np.isnan(v)] - model.mean[i]) / model.std[i] for i, name in enumerate(model.names)
             for v in [values[name]]}
    zero = -model.mean / model.std
    present = (PRESENT - model.mean) / model.std
    for row in conditions:
        for _ in range(rng.choice([1, 2, 3], p=[0.5, 0.3, 0.2])):
            if model.styles and rng.random() < 0.15:
                row[4 * a + rng.choice(len(model.styles), p=styles_weights)] = 1.0
                row[-1] = 1.0
                continue
            i = rng.integers(a)
            value = rng.choice(known[model.names[i]])
            kind = rng.choice(["above", "below", "between", "absent", "present"], p=[0.3, 0.3, 0.25, 0.1, 0.05])
            if kind in ("absent", "present") and model.names[i] not in INSTRUMENTS + ("fill", "density"):
                kind = "between"
            if kind == "above":
                row[4 * i : 4 * i + 2] = 1.0, value
            elif kind == "below":
                row[4 * i + 2 : 4 * i + 4] = 1.0, value
            elif kind == "between":
                width = rng.uniform(0.2, 1.0)
                row[4 * i : 4 * i + 4] = 1.0, value - width, 1.0, value + width
            elif kind == "absent":
                row[4 * i + 2 : 4 * i + 4] = 1.0, zero[i]
            else:
                row[4 * i : 4 * i + 2] = 1.0, present[i]
    return conditions


def prior_draws(prior: Prior, n: int, seed: int) -> np.ndarray:
    """n draws [n, z] of a prior, as `sample` makes them."""
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((n, prior.z_size)).astype(np.float32)
    return prior.latents(noise, rng.random(n).astype(np.float32)).numpy()


def fit(vae, mu: np.ndarray, sigma: np.ndarray, styles: np.ndarray, data: CriticData | None = None,
        prior: Prior | None = None, epochs: int = 8, actor_steps: int = 3000, distance_weight: float = 0.1,
        seed: int = 0, log=print) -> ConstraintModel:
    """Fits the critics and the actor of `vae`'s latent space, from its training clips'
    posteriors (mu, sigma [clips, z]) and GMD style labels [clips] ("" when unknown).
    `data`: the decoded latents the attribute critics learn from (default: decodes
    `critic_latents`, the slow part: about a minute per 10,000 latents on 2 cores).
    `prior`: the prior the actor moves draws of (default: the model's)."""
    import keras

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    if prior is None:
        prior = vae.sampler.prior
    if data is None:
        data = decoded_attributes(vae, critic_latents(vae, mu, sigma, seed), seed)
    names = tuple(n for n in ATTRIBUTES if np.isfinite(data.values[n]).mean() > 0.5)
    table = np.stack([data.values[n] for n in names], -1)
    mean, std = np.nanmean(table, 0), np.nanstd(table, 0) + 1e-6
    labelled = np.asarray(styles) != ""
    style_names = tuple(sorted(set(np.asarray(styles)[labelled].tolist())))
    starts = prior_draws(prior, 16_384, seed + 3)
    typical = float(np.quantile(prior.log_density(starts).numpy(), 0.1))
    model = ConstraintModel(names, mean, std, style_names, mu.shape[1], float(np.mean(sigma)), typical, prior)

    # Attribute critics: what the decoder plays at each temperature.
    targets = ((table - mean) / std).astype(np.float32)
    inputs = np.concatenate([data.z, data.temperature[:, None]], -1).astype(np.float32)
    _train(model.attribute_critic, inputs, targets, _masked_mse, epochs, rng, log)
    # Style critic: the style each training clip was played in, from its posterior draws.
    label = np.array([style_names.index(s) if s else -1 for s in np.asarray(styles)])[labelled]
    z_styled = lambda: (mu + sigma * rng.standard_normal(mu.shape))[labelled].astype(np.float32)  # noqa: E731
    _train(model.style_critic, z_styled, label, _cross_entropy, epochs, rng, log)
    # Actor: prior draws moved to meet random conditions, staying where the prior draws and near.
    counts = np.array([np.sum(np.asarray(styles) == s) for s in style_names], np.float64)
    style_weights = np.sqrt(counts) / np.sqrt(counts).sum() if len(counts) else counts
    optimizer = keras.optimizers.Adam(3e-4)
    step = tf.function(lambda z, c, t: _actor_step(model, optimizer, z, c, t, distance_weight))
    for i in range(actor_steps):
        pick = rng.integers(len(starts), size=256)
        conditions = random_conditions(model, data.values, style_weights, 256, rng)
        t = rng.choice(TEMPERATURES, 256).astype(np.float32)
        loss = step(tf.constant(starts[pick]), tf.constant(conditions), tf.constant(t))
        if i % 500 == 0 or i == actor_steps - 1:
            log(f"actor step {i}: objective {float(loss):.3f}")
    return model


def _actor_step(model, optimizer, z, conditions, temperature, distance_weight):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(model.objective(model.act(z, conditions, temperature), z, temperature, conditions,
                                              distance_weight))
    weights = model.actor.trainable_weights
    optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights))
    return loss


def _masked_mse(y, predicted):
    known = tf.math.is_finite(y)
    return tf.reduce_sum(tf.where(known, tf.square(tf.where(known, y, 0.0) - predicted), 0.0)) / tf.maximum(
        tf.reduce_sum(tf.cast(known, tf.float32)), 1.0)


def _cross_entropy(y, logits):
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(tf.cast(y, tf.int32), logits))


def _train(net, inputs, targets, loss_fn, epochs: int, rng, log, batch_size: int = 256):
    """Adam on `loss_fn`, `epochs` passes over inputs (an array, or a function giving a
    fresh draw of them each epoch) with a tenth held out to report."""
    import keras

    optimizer = keras.optimizers.Adam(1e-3)

    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, net(x, training=True))
        optimizer.apply_gradients(zip(tape.gradient(loss, net.trainable_weights), net.trainable_weights))
        return loss

    n = len(targets)
    order = rng.permutation(n)
    held, kept = order[: n // 10], order[n // 10 :]
    for epoch in range(epochs):
        x = inputs() if callable(inputs) else inputs
        shuffled = rng.permutation(kept)
        for i in range(0, len(shuffled) - batch_size + 1, batch_size):
            batch = shuffled[i : i + batch_size]
            step(tf.constant(x[batch]), tf.constant(targets[batch]))
        if epoch == epochs - 1 or epoch % 5 == 0:
            held_loss = float(loss_fn(tf.constant(targets[held]), net(x[held])))
            log(f"{net.name} epoch {epoch}: held-out loss {held_loss:.4f}")
