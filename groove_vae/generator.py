"""The tensor-level generator: a trained model's verbs on latents and groove tensors
([batch, steps, 27]), with its prior, styles, attribute vectors and constraints.
`groove_vae.api.GrooveVAE` adds MIDI in and NoteSequences out on top of it.
"""

from __future__ import annotations

import functools
import os
import threading

import numpy as np
import tensorflow as tf

from groove_vae import bundled, checks, converter, paths, runs, windows
from groove_vae import groove as layout
from groove_vae.attributes import ATTRIBUTE_FILE, AttributeVectors, check_amounts, measure
from groove_vae.checks import MAX_TRIES
from groove_vae.constraints import CANDIDATES, CONSTRAIN_CHUNK, CONSTRAINT_FILE, ConstraintModel, Constraints
from groove_vae.model import MusicVAE
from groove_vae.precision import generation_precision
from groove_vae.sampling import Given, Prior, Sampler, SamplingOptions, SongDraws, StandardNormal, load_prior
from groove_vae.styles import StylePriors

STYLE_FILE = "styles.npz"
# A graph of our own TensorFlow code, traced as written: its loops are tf.while_loops
# already, and AutoGraph's rewrite of every function it calls took most of a cold
# `groove-vae sample`'s first decode (3-4 s of its 10).
_graph = functools.partial(tf.function, autograph=False)


def slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Spherical interpolation from a (t=0) to b (t=1); linear when they are parallel."""
    if t == 0.0 or t == 1.0:
        return np.array(a if t == 0.0 else b, copy=True)
    a_unit, b_unit = a / np.linalg.norm(a), b / np.linalg.norm(b)
    omega = np.arccos(np.clip(np.dot(a_unit, b_unit), -1.0, 1.0))
    if np.sin(omega) < 1e-6:
        return (1.0 - t) * a + t * b
    return (np.sin((1.0 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)


def blend_latents(corners, x: float, y: float) -> np.ndarray:
    """Beat Blender: four corner latents [4, z_size] mixed bilinearly at a point of the unit square.

    Corners are ordered (0, 0), (1, 0), (0, 1), (1, 1) as (x, y); each corner's point
    returns its latent, the centre their mean.
    """
    corners = np.asarray(corners, np.float32)
    if corners.ndim != 2 or corners.shape[0] != 4:
        raise ValueError(f"Expected four corner latents [4, z_size], got {list(corners.shape)}.")
    if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
        raise ValueError(f"The blend point must lie in [0, 1] x [0, 1], got ({x}, {y}).")
    weights = np.array([(1 - x) * (1 - y), x * (1 - y), (1 - x) * y, x * y], np.float32)
    return weights @ corners


MORPH_PLANS = 8  # Morph plans (corner beats and thresholds) a model keeps for the Beat Blender.
PROBES = 9  # Latents along an interpolation where the morph reads the hit probabilities.


class GrooveGenerator:
    """A trained model's verbs on tensors: latents in, groove tensors out (and back).

    Whole grids longer than the model's 4 bars are played in overlapping windows, one every
    `hop_bars` bars, each bar taken from the window it sits in the middle of
    (`groove_vae.windows`); `hop_bars = 4` cuts them end to end instead. Each window is
    played `window_candidates` times, and each keeps the copy that agrees best with the
    window before it where they overlap; 1 plays each window once, in about 40% of the time.
    """

    hop_bars = windows.HOP_BARS
    window_candidates = windows.CANDIDATES
    # Batches of up to this many latents decode through an XLA-compiled function: 2-3x faster
    # at batch 1 (fewer, fused ops per step), 1.7x at 64 (where the rows also run as chains at
    # once, `decoders._chains`); batches are padded to a power of two, so at most 7 sizes
    # compile (a second or two each, once per process). Above it the graph's larger matmuls
    # catch up (1,000 beats: 970 clips/s, 876 in compiled chunks of 64;
    # experiments/2026-12-07-sampling-speed.md). 0 never compiles (the commands, which decode
    # once), and then the latents and feel draws run eagerly too, where tracing them would
    # cost more than it saves. Hits are the same either way; velocities and offsets can
    # differ in the last float bits.
    jit_max_batch = 64

    def __init__(self, model: MusicVAE, styles: StylePriors | None = None, prior: Prior | None = None,
                 attributes: AttributeVectors | None = None, constraints: ConstraintModel | None = None):
        self.model = model
        self.config = model.config
        styles = styles or StylePriors.empty(self.config.z_size)
        if styles.names and styles.z_size != self.config.z_size:
            raise ValueError(f"The styles are for z_size {styles.z_size}, the model's is {self.config.z_size}; "
                             "rerun scripts/compute_styles.py for this model.")
        if prior is not None and prior.z_size != self.config.z_size:
            raise ValueError(f"The prior is over z of size {prior.z_size}, the model's is {self.config.z_size}.")
        # The prior, the style priors and the feel memory: how a seed becomes latents and draws.
        self.sampler = Sampler(prior or StandardNormal(self.config.z_size), styles, model.feel, attributes)
        if constraints is not None and constraints.z_size != self.config.z_size:
            raise ValueError(f"The constraints are over z of size {constraints.z_size}, the model's is "
                             f"{self.config.z_size}.")
        self.constraint_model = constraints  # The latent constraints' critics and actor, or None.
        steps = self.config.num_steps
        z_spec = tf.TensorSpec([None, self.config.z_size], tf.float32)
        # Temperature, seed, and where each step's feel is drawn (`feel_draws`).
        scalar = [tf.TensorSpec([], tf.float32), tf.TensorSpec([], tf.int32),
                  tf.TensorSpec([None, steps, converter.GROOVE_DEPTH], tf.float32)]
        self._decode = self._decoder(lambda z, t, s, draws: model.decode(z, SamplingOptions(t, s), draws=draws),
                                     [z_spec, *scalar])
        self._decode_forced = self._decoder(
            lambda z, t, s, draws, hits: model.decode(z, SamplingOptions(t, s), Given(hits=hits), draws),
            [z_spec, *scalar, tf.TensorSpec([None, steps, converter.NUM_CLASSES], tf.float32)],
        )
        self._decode_given = self._decoder(
            lambda z, t, s, draws, given, keep: model.decode(z, SamplingOptions(t, s), Given(groove=given, keep=keep),
                                                             draws),
            [z_spec, *scalar, tf.TensorSpec([None, steps, converter.GROOVE_DEPTH], tf.float32),
             tf.TensorSpec([None, converter.NUM_CLASSES], tf.float32)],
        )
        groove_spec = tf.TensorSpec([None, steps, converter.GROOVE_DEPTH], tf.float32)
        self._decode_heard = self._decoder(  # Each window played by a decoder that hears its controls.
            lambda z, t, s, draws, groove: model.decode(z, SamplingOptions(t, s), Given(controls=model.controls(groove)),
                                                        draws),
            [z_spec, *scalar, groove_spec], from_z_alone=False,
        )
        self._decode_on_taps = self._decoder(  # Drumify: each window's rhythm heard (if the decoder can) and kept.
            lambda z, t, s, draws, groove: model.decode(z, SamplingOptions(t, s), model.drumify_given(groove), draws),
            [z_spec, *scalar, groove_spec], from_z_alone=False,
        )
        self._probes = _graph(  # The morph's probes: each step's raw outputs too.
            lambda z, t, s, draws: model.decode(z, SamplingOptions(t, s), draws=draws, return_outputs=True),
            input_signature=[z_spec, *scalar])
        self._plans: dict = {}  # `_morph_plan`'s last few, oldest first.
        self._plans_lock = threading.Lock()
        # A seed's plain latents and a window's feel draws, also as graphs: run eagerly, their
        # few dozen small ops took 7 ms of a 64-beat sample's 80 (the same kernels, so the
        # same numbers). The latents' graph holds its prior's arrays: one per prior.
        self._plain_latents = lambda n, seed, prior: self.sampler.latents(n, SamplingOptions(seed=seed, prior=prior))
        self._scores = lambda n, num_bars, seed, temperature: model.feel.scores(
            n, num_bars, seed, temperature, self.config.steps_per_bar)
        self._scores_graph = _graph(self._scores)
        self._latents_graph_of = (None, None)  # (the prior, its graph): the last one drawn from.
        self._posterior = _graph(
            lambda groove: model.encode(model.representation.to_inputs(groove)),
            input_signature=[tf.TensorSpec([None, steps, converter.GROOVE_DEPTH], tf.float32)],
        )

    def _decode_outputs(self, z, temperature, seed, draws):
        """The morph's probes: latents -> (grooves, each step's raw outputs)."""
        self._check_plays_z()
        return self._probes(z, temperature, seed, draws)

    def _decoder(self, decode, input_signature, from_z_alone=True):
        """decode(z, ...) as a graph, XLA-compiled for batches of at most `jit_max_batch`
        (padded with zero rows to the next power of two: XLA compiles each batch size anew,
        and each is traced with its size known, so the step loop can split it into chains,
        `decoders._chains`). `from_z_alone`: it plays latents alone, which a decoder that
        hears controls cannot."""
        graph = _graph(decode, input_signature=input_signature)
        compiled, lock = {}, threading.Lock()  # Padded batch size -> decode, XLA-compiled for it.

        def xla(size):
            with lock:  # The web app decodes from several threads: one function per size.
                if size not in compiled:
                    specs = [tf.TensorSpec([size, *spec.shape[1:]], spec.dtype) if spec.shape.rank else spec
                             for spec in input_signature]
                    compiled[size] = _graph(decode, input_signature=specs, jit_compile=True)
                return compiled[size]

        def run(z, *args):
            if from_z_alone:
                self._check_plays_z()
            n = int(z.shape[0])
            if n > self.jit_max_batch:
                return graph(z, *args)
            size = 1 << (n - 1).bit_length()
            pad = lambda x: x if x.shape.rank == 0 or size == n else tf.pad(  # noqa: E731
                x, [[0, size - n]] + [[0, 0]] * (x.shape.rank - 1))
            return xla(size)(pad(z), *map(pad, args))[:n]

        return run

    @classmethod
    def load(cls, path: str | None = None, precision: str | None = None) -> "GrooveGenerator":
        """Loads a bundled model (no `path`, or its name) or a model or training run directory.

        `precision` ("float32" or "mixed_bfloat16"): the one to generate in; none:
        float32 on a machine without a GPU, where it decodes faster, else the one the
        model was trained with (`precision.generation_precision`). bfloat16 decodes
        batches above `jit_max_batch` faster on a CPU with AVX512-BF16 or AMX, with nearly
        all sampled hits unchanged (experiments/2026-12-05-performance.md).
        """
        path = bundled.resolve(path)
        if not os.path.isdir(path) and not os.path.exists(path + ".index"):  # A directory, or one checkpoint.
            names = ", ".join(bundled.MODELS)
            raise FileNotFoundError(f"{path}: no such model directory (bundled models: {names}).")
        style_path = os.path.join(path, STYLE_FILE)
        styles = StylePriors.load(style_path) if os.path.exists(style_path) else None
        model = runs.restore_model(path, precision=precision or generation_precision)
        model_dir = path if os.path.isdir(path) else os.path.dirname(path)
        prior = load_prior(model_dir, model.config.z_size)
        attributes_path = os.path.join(model_dir, ATTRIBUTE_FILE)
        attributes = AttributeVectors.load(attributes_path) if os.path.exists(attributes_path) else None
        if attributes is not None and attributes.vectors.shape[1] != model.config.z_size:
            raise ValueError(f"{attributes_path}: vectors of size {attributes.vectors.shape[1]}, the model's z is "
                             f"{model.config.z_size}; refit them with `groove-vae fit_prior --run_dir={model_dir}`.")
        if styles and styles.names and styles.z_size != model.config.z_size:
            raise ValueError(f"{style_path}: styles for z_size {styles.z_size}, the model's is "
                             f"{model.config.z_size}; rerun scripts/compute_styles.py --run_dir={path}.")
        constraints_path = os.path.join(model_dir, CONSTRAINT_FILE)
        constraints = ConstraintModel.load(constraints_path, prior) if os.path.exists(constraints_path) else None
        if constraints is not None and constraints.z_size != model.config.z_size:
            raise ValueError(f"{constraints_path}: constraints over z of size {constraints.z_size}, the model's is "
                             f"{model.config.z_size}; refit them with `groove-vae fit_constraints --run_dir={model_dir}`.")
        return cls(model, styles, prior, attributes, constraints)

    @property
    def styles(self) -> StylePriors:
        """The GMD styles' conditional priors (the model's styles.npz)."""
        return self.sampler.styles

    @styles.setter
    def styles(self, styles: StylePriors) -> None:
        self.sampler.styles = styles

    @property
    def prior(self) -> Prior:
        """Where unsteered latents are drawn from (the model's prior.npz, else N(0, I))."""
        return self.sampler.prior

    # === Tensors ===
    def decode_tensors(self, z, temperature: float = 1.0, seed: int = 0, draws: np.ndarray | None = None) -> np.ndarray:
        """z [batch, z_size] -> groove tensors [batch, steps, 27]; `draws`: see `feel_draws`."""
        z = self._check_z(z)
        checks.check_temperature(temperature)
        checks.check_seed(seed)
        return self._decode(tf.constant(z), tf.constant(temperature, tf.float32), tf.constant(seed, tf.int32),
                            self._draws(draws, len(z), seed, temperature)).numpy()

    def feel_draws(self, n: int, num_bars: int, seed: int = 0, *, temperature: float) -> np.ndarray:
        """Where the hits, velocities and offsets of `n` performances of `num_bars` are
        drawn: normal scores [n, num_bars * 16, 27], each bar's following the bar before's
        by the config's `hit_memory` (at `temperature`), `velocity_memory` and
        `timing_memory` (experiments/2026-12-05-feel.md). Every verb that
        takes `draws` makes its own from its seed; the windows of a long input take their
        slices of one song's, so the memory carries across the seams between them."""
        checks.check_seed(seed)
        checks.check_temperature(temperature)
        # Graphs for the one window's length: each other length would trace (and unroll) anew.
        scores = self._scores_graph if self.jit_max_batch and num_bars == self.config.num_bars else self._scores
        return scores(tf.constant(n), num_bars, tf.constant(seed), tf.constant(temperature, tf.float32)).numpy()

    def song_draws(self, n: int, num_bars: int, seed: int = 0, *, temperature: float) -> SongDraws:
        """`feel_draws` of one long song, made a span of bars at a time: `.bars(first, stop)`
        (`sampling.SongDraws`), so a song of hours never holds them all."""
        checks.check_seed(seed)
        checks.check_temperature(temperature)
        return self.model.feel.song(n, num_bars, seed, temperature, self.config.steps_per_bar)

    def _draws(self, draws: np.ndarray | None, n: int, seed: int, temperature: float) -> tf.Tensor:
        """The draws given (checked), or `n` windows' own from `seed`, for `temperature`."""
        shape = (n, self.config.num_steps, converter.GROOVE_DEPTH)
        if draws is None:
            draws = self.feel_draws(n, self.config.num_bars, seed, temperature=temperature)
        draws = np.asarray(draws, np.float32)
        if draws.shape != shape:
            raise ValueError(f"Expected feel draws {list(shape)}, got {list(draws.shape)}.")
        return tf.constant(draws, tf.float32)

    def sample_tensors(self, n: int, temperature: float = 0.5, seed: int = 0, style: str | None = None,
                       strength: float = 1.0, steer: str = "prior", num_bars: int | None = None,
                       prior: str = "fitted", attributes: dict[str, float] | None = None,
                       constraints=None, tries: int = 4) -> np.ndarray:
        """z from the prior, or from a style's (see `sample_latents`) -> groove tensors
        [n, steps, 27]; with `num_bars`, each one performance [n, num_bars * 16, 27] (see `sample`).

        `constraints` ("density=20..30,toms=0", a mapping or a `Constraints`: see
        `groove_vae.constraints`): each beat's latent is the one of `CANDIDATES` prior draws
        that the model's constraint critics rank best, and what it plays is checked: a beat
        that misses is played from the next-ranked draw, up to `tries` decodes in all, and the
        first that meets the constraints is kept (else the first)."""
        if constraints is None:
            return self.decode_phrases(self.sample_latents(n, seed, style, strength, steer, prior, attributes),
                                       num_bars, temperature, seed)
        return self.constrained_sample(n, constraints, temperature, seed, style, strength, steer, num_bars, prior,
                                       attributes, tries)[1]

    def constrained_sample(self, n: int, constraints, temperature: float = 0.5, seed: int = 0,
                           style: str | None = None, strength: float = 1.0, steer: str = "prior",
                           num_bars: int | None = None, prior: str = "fitted",
                           attributes: dict[str, float] | None = None, tries: int = 4):
        """`sample_tensors(constraints=...)` with the latents it kept: -> (z [n, z_size],
        grooves), and which beats meet the constraints, bool [n]."""
        wanted = self._wanted(constraints)
        checks.check_count("tries", tries, 1, MAX_TRIES)
        checks.check_count("The number of samples", n)
        candidates, order = [], []
        for chunk, start in enumerate(range(0, n, CONSTRAIN_CHUNK)):  # Bounded memory: 16 x 128 draws at a time.
            size = min(CONSTRAIN_CHUNK, n - start)
            chunk_seed = seed if chunk == 0 else (seed * 7919 + 7 * chunk) % checks.MAX_SEED
            options = SamplingOptions(seed=chunk_seed, prior=prior, style=style, strength=strength, steer=steer,
                                      attributes=attributes)
            z = self.sampler.latents(size * CANDIDATES, options).numpy().reshape(size, CANDIDATES, -1)
            candidates.append(z)
            order.append(self.constraint_model.rank(z, wanted, temperature))
        candidates, order = np.concatenate(candidates), np.concatenate(order)
        z_kept = candidates[np.arange(n), order[:, 0]]
        grooves = None
        met = np.zeros(n, bool)
        for k in range(tries):
            pending = np.flatnonzero(~met)
            try_seed = seed if k == 0 else (seed * 7919 + k) % checks.MAX_SEED
            z = candidates[pending, order[pending, k]]
            groove = self.decode_phrases(z, num_bars, temperature, try_seed)
            meets = self.meets(groove, wanted)
            if grooves is None:
                grooves = groove
            z_kept[pending[meets]], grooves[pending[meets]] = z[meets], groove[meets]
            met[pending[meets]] = True
            if met.all():
                break
        return z_kept, grooves, met

    def decode_phrases(self, z, num_bars: int | None = None, temperature: float = 1.0, seed: int = 0) -> np.ndarray:
        """Latents [n, z_size] -> one performance each [n, num_bars * 16, 27]: every 4-bar
        phrase decoded from the same latent with its own draws (no `num_bars`: 4 bars)."""
        z = self._check_z(z)
        phrases = self._phrases(num_bars)
        if len(z) * phrases > checks.MAX_BATCH:
            raise ValueError(f"{len(z)} beats of {num_bars} bars are {len(z) * phrases} phrases to decode; at most "
                             f"{checks.MAX_BATCH} at once.")
        # One memory through each performance.
        draws = self.feel_draws(len(z), phrases * self.config.num_bars, seed, temperature=temperature)
        return self.decode_tensors(np.repeat(z, phrases, axis=0), temperature, seed,
                                   draws.reshape(len(z) * phrases, self.config.num_steps, -1)).reshape(
            len(z), -1, converter.GROOVE_DEPTH)

    def sample_latents(self, n: int, seed: int = 0, style: str | None = None, strength: float = 1.0,
                       steer: str = "prior", prior: str = "fitted",
                       attributes: dict[str, float] | None = None) -> np.ndarray:
        """The latents [n, z_size] that `sample_tensors` decodes for the same arguments: from
        the model's prior (`prior="fitted"`: the density fitted to its training clips'
        posteriors, prior.npz; "normal": N(0, I)), steered toward a GMD style if one is named
        (`sampling.Sampler.latents`), and moved along the model's attribute vectors by
        `attributes` ({"density": 1.0, "swing": -0.5}: see `attribute_names`). The exported
        SavedModel's `sample` draws the same."""
        checks.check_count("The number of samples", n)
        options = SamplingOptions(seed=seed, prior=prior, style=style, strength=strength, steer=steer,
                                  attributes=attributes)
        if style is None and not attributes:
            latents = self._latents_graph() if self.jit_max_batch else self._plain_latents
            return latents(tf.constant(n), tf.constant(seed), options.prior).numpy()
        return self.sampler.latents(n, options).numpy()

    def _latents_graph(self):
        """`_plain_latents` as a graph of the current prior (a new one for a replaced prior)."""
        prior, graph = self._latents_graph_of
        if prior is not self.sampler.prior:
            prior, graph = self.sampler.prior, _graph(self._plain_latents)
            self._latents_graph_of = (prior, graph)
        return graph

    def encode_tensors(self, groove: np.ndarray) -> np.ndarray:
        """Groove tensors [batch, steps, 27] -> posterior means [batch, z_size]."""
        return self.posterior_tensors(groove)[0]

    def posterior_tensors(self, groove: np.ndarray, batch_size: int = 512) -> tuple[np.ndarray, np.ndarray]:
        """Groove tensors [clips, steps, 27] -> posterior mu and sigma, each [clips, z_size],
        encoded `batch_size` clips at a time (a whole split fits in memory this way)."""
        groove = np.asarray(groove, np.float32)
        if groove.ndim != 3 or groove.shape[1:] != (self.config.num_steps, converter.GROOVE_DEPTH):
            raise ValueError(f"Expected groove tensors [batch, {self.config.num_steps}, 27], got {groove.shape}.")
        bad = ~np.isfinite(groove)
        if bad.any():  # NaN would encode to NaN latents and decode to garbage without a word.
            clip, step, column = map(int, np.argwhere(bad)[0])
            raise ValueError(f"Groove tensors must be finite: {int(bad.sum())} values are NaN or Inf "
                             f"(the first at clip {clip}, step {step}, column {column}).")
        if len(groove) <= batch_size:
            mu, sigma = self._posterior(tf.constant(groove))
            return mu.numpy(), sigma.numpy()
        parts = [self.posterior_tensors(groove[i : i + batch_size]) for i in range(0, len(groove), batch_size)]
        return tuple(np.concatenate(p) for p in zip(*parts))

    def play_windows(self, grid: np.ndarray, play, seed: int = 0, *, temperature: float) -> np.ndarray:
        """A whole grid -> what `play` (windows [n, steps, 27] and their feel draws
        [n, steps, 27] -> windows) makes of it, stitched. The draws are the windows' slices
        of one song's (`feel_draws` from `seed`, for `play`'s `temperature`), so a window's
        first bar remembers the bar before it, which the window before played."""
        return windows.play(grid, play, self.config.steps_per_bar, self.config.num_bars, self.hop_bars,
                            self.window_candidates,
                            lambda copies, bars: self.song_draws(copies, bars, seed, temperature=temperature))

    def continue_tensors(self, grid: np.ndarray, num_bars: int, temperature: float = 0.5, seed: int = 0,
                         variation: float = 0.0) -> np.ndarray:
        """A whole grid [steps, 27] -> the `num_bars` bars that follow it [num_bars * 16, 27]
        (see `continue_groove`)."""
        checks.check_count("num_bars", num_bars, 1, checks.MAX_NUM_BARS)
        if not 0.0 <= variation <= 1.0:
            raise ValueError(f"variation must be between 0 and 1, got {variation}.")
        window = self.config.num_steps
        grid = np.asarray(grid, np.float32)
        if not layout.hits(grid).any():
            raise ValueError("There is nothing to continue: the beat is empty.")
        heard = grid[-min(len(grid), window):]
        context = np.tile(heard, (-(-window // len(heard)), 1))[:window]
        z = self.encode_tensors(context[None])[0]
        phrases = -(-num_bars // self.config.num_bars)
        noise = tf.random.stateless_normal([phrases, self.config.z_size], seed=[seed, 2]).numpy()
        draws = self.feel_draws(1, phrases * self.config.num_bars, seed, temperature=temperature).reshape(
            phrases, self.config.num_steps, -1)
        new = self.decode_tensors(z[None] + variation * noise, temperature, seed, draws).reshape(
            -1, converter.GROOVE_DEPTH)
        return new[: num_bars * self.config.steps_per_bar]

    def _phrases(self, num_bars: int | None) -> int:
        if num_bars is None:
            return 1
        checks.check_count("num_bars", num_bars, self.config.num_bars, checks.MAX_NUM_BARS)
        if num_bars % self.config.num_bars:
            raise ValueError(f"num_bars must be a multiple of {self.config.num_bars}, got {num_bars}.")
        return num_bars // self.config.num_bars

    def interpolate_tensors(self, groove_a: np.ndarray, groove_b: np.ndarray, num_steps: int = 8,
                            method: str = paths.DEFAULT_METHOD, temperature: float = 0.5,
                            seed: int = 0) -> np.ndarray:
        """Two 4-bar windows [steps, 27] -> the path [num_steps, steps, 27] (see `interpolate`)."""
        paths.check_method(method)
        checks.check_count("num_steps", num_steps, 2, checks.MAX_INTERPOLATION_STEPS)
        checks.check_temperature(temperature)
        checks.check_seed(seed)
        z_a, z_b = self.encode_tensors(np.stack([groove_a, groove_b]).astype(np.float32))
        latents = self.interpolate_latents(z_a, z_b, num_steps, "linear" if method == "linear" else "slerp")
        if method != "morph":
            return np.stack([self.decode_tensors(z[None], temperature, seed)[0] for z in latents])
        ts = np.linspace(0.0, 1.0, num_steps)
        probes = self.interpolate_latents(z_a, z_b, PROBES, "slerp")
        return self.morph_tensors(np.stack([z_a, z_b]), np.stack([1 - ts, ts], 1), latents, probes, temperature, seed)

    @staticmethod
    def interpolate_latents(z_a, z_b, num_steps: int, method: str = "slerp") -> np.ndarray:
        ts = np.linspace(0.0, 1.0, num_steps)
        if method == "linear":
            return np.stack([(1 - t) * z_a + t * z_b for t in ts]).astype(np.float32)
        return np.stack([slerp(z_a, z_b, t) for t in ts]).astype(np.float32)

    def blend_tensors(self, corners, x: float, y: float, temperature: float = 0.5, seed: int = 0,
                      method: str = paths.DEFAULT_METHOD) -> tuple[np.ndarray, np.ndarray]:
        """Beat Blender: four corner latents [4, z_size] at (0, 0), (1, 0), (0, 1), (1, 1) and
        a point of the unit square -> (the beat there [steps, 27], its latent [z_size]).

        "morph" (the default) plays the corners' hits mixed by the point's bilinear weights
        (`groove_vae.paths`: each cell changes once along any straight drag, in the model's
        order) with the feel of the blended latent; "linear" (or "slerp") decodes the blended
        latent. A corner's point plays its latent's beat either way."""
        paths.check_method(method)
        checks.check_temperature(temperature)
        checks.check_seed(seed)
        corners = self._check_z(corners)
        z = blend_latents(corners, x, y)
        if method != "morph":
            return self.decode_tensors(z[None], temperature, seed)[0], z
        weights = np.array([[(1 - x) * (1 - y), x * (1 - y), (1 - x) * y, x * y]])
        grid = np.linspace(0.0, 1.0, 3)
        probes = np.stack([blend_latents(corners, px, py) for py in grid for px in grid])
        return self.morph_tensors(corners, weights, z[None], probes, temperature, seed)[0], z

    def morph_tensors(self, corners, weights, latents, probes, temperature: float = 0.5, seed: int = 0) -> np.ndarray:
        """The morph between K corner latents [K, z_size]: at P points, weights [P, K] (rows
        summing to 1) and their latents [P, z_size] -> grooves [P, steps, 27].

        The corners' beats are decoded from their latents; each cell's threshold comes from
        the decoder's hit probabilities at `probes` [M, z_size] (latents across the blend);
        each point plays the cells whose corners' weight passes the threshold
        (`paths.blend_hits`), with the velocities and offsets the decoder gives those hits at
        the point's latent. All with one set of feel draws; a point with a corner's weight
        1 is that corner's beat exactly."""
        corners, latents, probes = self._check_z(corners), self._check_z(latents), self._check_z(probes)
        weights = np.asarray(weights, np.float64)
        if weights.shape != (len(latents), len(corners)):
            raise ValueError(f"Expected weights [{len(latents)}, {len(corners)}] (points, corners), "
                             f"got {list(weights.shape)}.")
        beats, cell_thresholds, draws = self._morph_plan(corners, probes, temperature, seed)
        hits = paths.blend_hits(layout.hits(beats), weights, cell_thresholds)
        played = self._decode_forced(tf.constant(latents), tf.constant(temperature, tf.float32),
                                     tf.constant(seed, tf.int32), tf.constant(np.repeat(draws, len(latents), 0)),
                                     tf.constant(hits)).numpy()
        for i, row in enumerate(weights):
            if np.max(row) >= 1.0:
                played[i] = beats[int(np.argmax(row))]
        return played

    def _morph_plan(self, corners: np.ndarray, probes: np.ndarray, temperature: float, seed: int):
        """The corners' beats [K, steps, 27], the cells' thresholds and the feel draws
        [1, steps, 27]; the last few are kept, so dragging the Beat Blender's point over the
        same corners decodes only the point."""
        key = (corners.tobytes(), probes.tobytes(), float(temperature), int(seed))
        with self._plans_lock:
            if key in self._plans:
                return self._plans[key]
        beats = np.stack([self.decode_tensors(z[None], temperature, seed)[0] for z in corners])
        draws = self.feel_draws(1, self.config.num_bars, seed, temperature=temperature)
        _, outputs = self._decode_outputs(tf.constant(probes), tf.constant(temperature, tf.float32),
                                          tf.constant(seed, tf.int32), tf.constant(np.repeat(draws, len(probes), 0)))
        probs = tf.sigmoid(tf.cast(outputs[..., :converter.NUM_CLASSES], tf.float32) / temperature).numpy()
        plan = beats, paths.thresholds(layout.hits(beats), probs, self.config.steps_per_bar), draws
        with self._plans_lock:
            self._plans[key] = plan
            while len(self._plans) > MORPH_PLANS:
                self._plans.pop(next(iter(self._plans)))
        return plan

    def humanize_tensors(self, groove: np.ndarray, seed: int = 0, draws: np.ndarray | None = None) -> np.ndarray:
        """Groove windows [batch, steps, 27] -> the same hits with the model's velocities and
        offsets; `draws`: see `feel_draws`."""
        if not self.model.representation.plays_feel:
            raise ValueError("humanize needs a groove model (representation=groove).")
        checks.check_seed(seed)
        z = self.encode_tensors(groove)
        hits = layout.hits(np.asarray(groove, np.float32))
        return self._decode_forced(tf.constant(z), tf.constant(1.0), tf.constant(seed),
                                   self._draws(draws, len(z), seed, 1.0), tf.constant(hits)).numpy()

    def drumify_tensors(self, groove: np.ndarray, temperature: float = 0.5, seed: int = 0,
                        draws: np.ndarray | None = None) -> np.ndarray:
        """Rhythm windows [batch, steps, 27] (a hit at a step, on any drum, is a tap) -> full-kit
        grooves [batch, steps, 27] played on the taps: a hit on every tapped step, none
        between (`sampling.on_the_taps`). Needs a tap model."""
        self._check_tap()
        return self._replay(self._decode_on_taps, groove, temperature, seed, draws)

    def reconstruct_tensors(self, groove: np.ndarray, temperature: float = 0.5, seed: int = 0,
                            draws: np.ndarray | None = None) -> np.ndarray:
        """Groove windows [batch, steps, 27] -> each played from its posterior mean (and, for
        a model whose decoder hears controls, with each step hearing the window's own)."""
        if self.config.decoder_controls == "none":
            return self.decode_tensors(self.encode_tensors(groove), temperature, seed, draws)
        return self._replay(self._decode_heard, groove, temperature, seed, draws)

    def _replay(self, decode, groove, temperature, seed, draws) -> np.ndarray:
        """`decode`(z, temperature, seed, draws, groove) of windows from their posterior means."""
        checks.check_temperature(temperature)
        checks.check_seed(seed)
        groove = np.asarray(groove, np.float32)
        z = self.encode_tensors(groove)
        return decode(tf.constant(z), tf.constant(temperature, tf.float32), tf.constant(seed),
                      self._draws(draws, len(z), seed, temperature), tf.constant(groove)).numpy()

    def _check_plays_z(self) -> None:
        if self.config.decoder_controls != "none":
            raise ValueError(f"This model's decoder hears a tapped rhythm at every step (decoder_controls="
                             f"{self.config.decoder_controls}): it drumifies rhythms, it cannot play latents alone "
                             "(sample, decode, interpolate, steer); use the bundled groovae_4bar for those.")

    def _check_tap(self) -> None:
        if self.config.input_transform != "tap":
            raise ValueError(
                "drumify needs a model trained with input_transform=tap, such as "
                f"groove_vae.load('tap2drum'); this one has input_transform={self.config.input_transform}."
            )

    def infill_tensors(self, groove: np.ndarray, keep, temperature: float = 0.5, seed: int = 0,
                       draws: np.ndarray | None = None) -> np.ndarray:
        """Groove windows [batch, steps, 27] and `keep` [9] or [batch, 9] (1 = kept) -> the
        same windows with the kept instruments as given and the others generated."""
        if not self.model.representation.plays_feel:
            raise ValueError("infill needs a groove model (representation=groove).")
        checks.check_temperature(temperature)
        checks.check_seed(seed)
        groove = np.asarray(groove, np.float32)
        keep = np.broadcast_to(np.asarray(keep, np.float32), (len(groove), converter.NUM_CLASSES)).copy()
        hidden = groove * np.tile(keep, 3)[:, None, :]
        z = self.encode_tensors(hidden)
        return self._decode_given(tf.constant(z), tf.constant(temperature, tf.float32), tf.constant(seed, tf.int32),
                                  self._draws(draws, len(z), seed, temperature), tf.constant(groove),
                                  tf.constant(keep)).numpy()

    @staticmethod
    def _keep_classes(keep, add) -> list[int]:
        """keep= or add= (instrument names) -> the sorted class indices kept as played."""
        if (keep is None) == (add is None):
            raise ValueError("infill takes keep= (the instruments to keep as played) or add= (those to generate), "
                             "not both or neither.")
        named = keep if keep is not None else add
        if isinstance(named, str):  # "kick,snare", as a command line gives it.
            named = [name for name in named.split(",") if name]
        classes = sorted({layout.instrument_index(name.strip()) for name in named})
        if add is not None:
            classes = [c for c in range(converter.NUM_CLASSES) if c not in classes]
        if not classes:
            raise ValueError("infill needs at least one instrument to keep.")
        if len(classes) == converter.NUM_CLASSES:
            raise ValueError("infill with every instrument kept has nothing to play.")
        return classes

    # === Attributes ===
    @property
    def attribute_names(self) -> tuple[str, ...]:
        """The attributes `steer` and `sample(attributes=...)` move along (the model's attributes.npz)."""
        return () if self.sampler.attributes is None else self.sampler.attributes.names

    def steer_tensors(self, grid: np.ndarray, amounts: dict[str, float] | None = None, temperature: float = 0.5,
                      seed: int = 0, constraints=None) -> np.ndarray:
        """A whole grid [steps, 27] -> the same length steered (see `steer`): each window
        encoded, moved and played back, stitched."""
        move = self._mover(amounts, constraints, temperature)
        return self.play_windows(
            grid, lambda w, draws: self.decode_tensors(move(self.encode_tensors(w)), temperature, seed, draws), seed,
            temperature=temperature)

    def _mover(self, amounts, constraints, temperature):
        """Latents -> latents moved by `amounts` along the attribute vectors, then edited to
        meet `constraints`; both checked before any work."""
        if amounts is None and constraints is None:
            raise ValueError("Nothing to steer by: give attribute amounts, constraints, or both.")
        if amounts is not None:
            check_amounts(amounts, self.attribute_names)  # Nothing named is a mistake here, not "no change".
        shift = self.sampler.shift(amounts) if amounts else 0.0
        wanted = self._wanted(constraints)
        checks.check_temperature(temperature)
        if wanted is None:
            return lambda z: z + shift
        return lambda z: self.constraint_model.edit_latents(z + shift, wanted, temperature)

    # === Constraints ===
    def _wanted(self, constraints) -> Constraints | None:
        """Parses and checks `constraints` against this model's (None stays None)."""
        if constraints is None:
            return None
        wanted = Constraints.parse(constraints)
        if self.constraint_model is None:
            raise ValueError(f"This model has no {CONSTRAINT_FILE}; `groove-vae fit_constraints --run_dir=...` "
                             "fits one.")
        self.constraint_model.condition(wanted)  # Names an attribute or style the critics do not know.
        return wanted

    def meets(self, groove: np.ndarray, constraints) -> np.ndarray:
        """Which beats [n, steps, 27] play what `constraints` ask, as measured on the beat (a
        style: as the style critic reads the beat's first 4 bars) -> bool [n]."""
        wanted = Constraints.parse(constraints)
        groove = np.asarray(groove, np.float32)
        styles = None
        if wanted.style is not None:
            styles = self._wanted(wanted) and self.constraint_model.style_of(
                self.encode_tensors(groove[:, : self.config.num_steps]))
        return wanted.met(measure(groove, self.config.steps_per_bar), styles)

    # === Styles ===
    @property
    def style_names(self) -> tuple[str, ...]:
        """The styles `sample(style=...)` knows (from the model's styles.npz)."""
        return self.styles.names

    def _check_z(self, z) -> np.ndarray:
        z = np.asarray(z, np.float32)
        if z.ndim != 2 or z.shape[1] != self.config.z_size:
            raise ValueError(f"z must have shape [batch, {self.config.z_size}], got {list(z.shape)}.")
        if not np.all(np.isfinite(z)):
            raise ValueError("z must be finite (no NaN or Inf).")
        checks.check_count("The batch of latents", len(z))
        return z
