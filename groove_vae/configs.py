"""Model and training configuration: one typed dataclass, small JSON files, overrides.

A config file in `configs/` (shipped in the package as `groove_vae/named_configs/`) holds only the values that differ from its base (the
dataclass defaults, or another config named by "base"). Command-line overrides use
Magenta's `--hparams=key=value,...` form, parsed with type checks.
"""

from __future__ import annotations

import dataclasses
import json
import os
import typing
from collections.abc import Mapping
from typing import Any

_PACKAGE = os.path.dirname(os.path.abspath(__file__))
# The checkout's top-level configs/; an installed wheel carries them as groove_vae/named_configs/.
CONFIG_DIR = next((d for d in (os.path.join(os.path.dirname(_PACKAGE), "configs"), os.path.join(_PACKAGE, "named_configs"))
                   if os.path.isfile(os.path.join(d, "groovae_4bar.json"))), os.path.join(_PACKAGE, "named_configs"))


@dataclasses.dataclass(frozen=True)
class Config:
    """Everything that defines a model and how it trains."""

    # === Data ===
    representation: str = "groove"  # "groove" (hits/velocities/offsets) or "drums" (512-way).
    num_bars: int = 4
    steps_per_bar: int = 16
    # What the encoder sees: "none", "humanize" (hits only), "tap" (one rhythm) or "infill" (some instruments).
    input_transform: str = "none"

    # === Model ===
    decoder: str = "hierarchical"  # "hierarchical" (conductor + per-bar decoder) or "flat".
    # What the decoder hears at each step beside z and the step before: "none", or "tap" (the
    # tapped rhythm at that step, as GrooVAE's hits-as-controls: Drumify plays on the taps).
    decoder_controls: str = "none"
    z_size: int = 256
    encoder_rnn_sizes: tuple[int, ...] = (512, 512)  # Bidirectional, per direction.
    conductor_rnn_sizes: tuple[int, ...] = (256, 256)
    conductor_output_size: int = 256
    decoder_rnn_sizes: tuple[int, ...] = (256, 256)
    dropout_rate: float = 0.7  # Magenta's groovae: dropout_keep_prob 0.3.
    groove_loss: str = "magenta"  # mse heads: "magenta": velocity/offset error on all cells; "masked": on true hits.
    groove_heads: str = "mse"  # "mse": a velocity and an offset per cell; "binned": a softmax over bins of each, sampled.
    velocity_bins: int = 32  # binned heads: equal bins over MIDI velocity 0-127 (4 units each).
    offset_bins: int = 32  # binned heads: equal bins over the offset's [-1, 1] (1/32 of a 16th each).

    # === Objective ===
    free_bits: float = 48.0
    max_beta: float = 0.2
    beta_warmup_steps: int = 0  # Linear KL warm-up from 0 to max_beta; 0 means none (Magenta's groovae).
    # Weight of the velocity and offset terms in the training objective (reported losses stay
    # unweighted). Below 1 the hits get a larger share of each step's gradient: the binned
    # heads' cross-entropy is some 30x the squared errors' and slows learning the hits.
    feel_loss_weight: float = 1.0

    # === Sampling ===
    # Correlation between where a drum's hit (velocity, offset) falls in its distribution and
    # where the same drum's fell at the same step of the bar before (0: every draw afresh;
    # velocity and timing: binned heads). Each draw stays one from the model's distribution,
    # but patterns, accents and push repeat from bar to bar as a drummer's do. A lower
    # temperature already makes bars repeat, so the hit memory is one value for every
    # temperature, or one for each of MEMORY_TEMPERATURES, interpolated between them. Fitted
    # after training: `groove-vae calibrate_feel`.
    hit_memory: tuple[float, ...] = (0.0,)
    velocity_memory: float = 0.0
    timing_memory: float = 0.0
    # The share of each timekeeper hit draw (closed and open hi-hat, ride) that is one draw for
    # the whole performance: its timekeeper then changes between bars about as often as a
    # drummer's (fitted for the Drumify model, whose taps do not say which cymbal keeps time).
    timekeeper_memory: float = 0.0

    # === Scheduled sampling ===
    sampling_schedule: str = "constant"  # "constant" or "inverse_sigmoid".
    sampling_rate: float = 0.0  # Constant: probability of feeding samples; inverse_sigmoid: k.

    # === Optimization ===
    batch_size: int = 512
    learning_rate: float = 1e-3
    decay_rate: float = 0.9999
    min_learning_rate: float = 1e-5
    clip_norm: float = 1.0
    seed: int = 0

    # === Speed (see experiments/2026-12-05-performance.md) ===
    # "auto" (mixed_bfloat16 where the CPU has bfloat16 units or the GPU bfloat16 tensor cores, else float32),
    # "float32" or "mixed_bfloat16" (LSTMs in bfloat16; weights, outputs, loss in float32).
    precision: str = "auto"
    jit_compile: bool = False  # XLA-compile the train step (slower on CPU; no scheduled sampling).

    @property
    def num_steps(self) -> int:
        return self.num_bars * self.steps_per_bar

    def __post_init__(self):
        if not isinstance(self.hit_memory, tuple):  # One number, or a list, given in code.
            hit_memory = self.hit_memory if isinstance(self.hit_memory, (list, tuple)) else [self.hit_memory]
            object.__setattr__(self, "hit_memory", tuple(float(v) for v in hit_memory))
        _check_choice("representation", self.representation, ("groove", "drums"))
        _check_choice("decoder", self.decoder, ("hierarchical", "flat"))
        _check_choice("input_transform", self.input_transform, ("none", "humanize", "tap", "infill"))
        if self.input_transform != "none" and self.representation != "groove":
            raise ValueError(f"input_transform={self.input_transform} needs representation=groove.")
        _check_choice("decoder_controls", self.decoder_controls, ("none", "tap"))
        if self.decoder_controls != "none" and self.representation != "groove":
            raise ValueError(f"decoder_controls={self.decoder_controls} needs representation=groove.")
        _check_choice("groove_loss", self.groove_loss, ("magenta", "masked"))
        _check_choice("sampling_schedule", self.sampling_schedule, ("constant", "inverse_sigmoid"))
        _check_choice("groove_heads", self.groove_heads, ("mse", "binned"))
        if self.groove_heads == "binned" and self.representation != "groove":
            raise ValueError("groove_heads=binned needs representation=groove.")
        _check_choice("precision", self.precision, ("auto", "float32", "mixed_bfloat16"))
        if self.jit_compile and (self.sampling_schedule != "constant" or self.sampling_rate > 0):
            raise ValueError(
                "jit_compile does not support scheduled sampling: XLA cannot compile its tf.cond of step loops."
            )
        if not self.feel_loss_weight > 0.0:
            raise ValueError(f"feel_loss_weight must be positive, got {self.feel_loss_weight}.")
        for name in SAMPLING_KEYS:
            values = getattr(self, name)
            if not all(0.0 <= v < 1.0 for v in (values if isinstance(values, tuple) else [values])):
                raise ValueError(f"{name} must be in [0, 1), got {values}.")
        if len(self.hit_memory) not in (1, len(MEMORY_TEMPERATURES)):
            raise ValueError(f"hit_memory takes one value, or one for each temperature in {MEMORY_TEMPERATURES}; "
                             f"got {self.hit_memory}.")
        if not 0.0 <= self.dropout_rate < 1.0:
            raise ValueError(f"dropout_rate must be in [0, 1), got {self.dropout_rate}.")
        for name in ("z_size", "num_bars", "steps_per_bar", "batch_size", "conductor_output_size",
                     "velocity_bins", "offset_bins"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}.")
        for name in ("encoder_rnn_sizes", "conductor_rnn_sizes", "decoder_rnn_sizes"):
            sizes = getattr(self, name)
            if not sizes or any(s <= 0 for s in sizes):
                raise ValueError(f"{name} must be a non-empty list of positive sizes, got {sizes}.")

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}


# How a trained model samples, fitted after training (`calibrate_feel`): a run resumes with them changed.
SAMPLING_KEYS = ("hit_memory", "velocity_memory", "timing_memory", "timekeeper_memory")
# The sampling temperatures at which a hit memory table gives its values.
MEMORY_TEMPERATURES = (0.5, 0.75, 1.0, 1.25, 1.5)


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}.")


_FIELD_TYPES = typing.get_type_hints(Config)


def _coerce(key: str, value: Any) -> Any:
    """Checks and converts one value to the type of the Config field `key`."""
    if key not in _FIELD_TYPES:
        valid = ", ".join(sorted(_FIELD_TYPES))
        raise ValueError(f"Unknown config key {key!r}. Valid keys: {valid}.")
    field_type = _FIELD_TYPES[key]
    try:
        if field_type is bool:
            if isinstance(value, str):
                if value.lower() not in ("true", "false", "1", "0"):
                    raise ValueError
                return value.lower() in ("true", "1")
            return bool(value)
        if field_type in (int, float):
            if isinstance(value, bool):
                raise ValueError
            number = field_type(value)
            if field_type is int and isinstance(value, float) and value != number:
                raise ValueError
            return number
        if field_type is str:
            if not isinstance(value, str):
                raise ValueError
            return value
        # tuple[int, ...] or tuple[float, ...]
        if isinstance(value, str):
            value = [v for v in value.strip("[]()").replace(":", ";").split(";") if v.strip()]
        elif isinstance(value, (int, float)):
            value = [value]
        item = float if field_type == tuple[float, ...] else int
        if any(isinstance(v, bool) or (item is int and isinstance(v, float) and v != int(v)) for v in value):
            raise ValueError
        return tuple(item(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"Config key {key!r} expects {field_type}, got {value!r}.") from None


def config_path(name: str) -> str:
    """Finds a config by name (in `configs/`) or by file path."""
    if name.endswith(".json") and os.path.exists(name):
        return name
    path = os.path.join(CONFIG_DIR, f"{name}.json")
    if os.path.exists(path):
        return path
    raise ValueError(f"Unknown config {name!r}. Available: {', '.join(available_configs())}.")


def available_configs() -> list[str]:
    if not os.path.isdir(CONFIG_DIR):
        return []
    return sorted(f[:-5] for f in os.listdir(CONFIG_DIR) if f.endswith(".json"))


def from_dict(values: Mapping[str, Any], base: Config | None = None) -> Config:
    """Applies a mapping of overrides (type-checked) to `base` or the defaults."""
    base = base or Config()
    return dataclasses.replace(base, **{k: _coerce(k, v) for k, v in values.items()})


def load_config(name: str) -> Config:
    """Loads a named config (or JSON path), resolving its "base" chain."""
    with open(config_path(name)) as f:
        try:
            values = json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f"{config_path(name)}: not valid JSON ({e}).") from None
    base_name = values.pop("base", None)
    base = load_config(base_name) if base_name else Config()
    values.pop("description", None)
    return from_dict(values, base)


# Hand-written, kept: Magenta's HParams.parse left with tf.contrib; nothing in absl or Keras parses its "a=1,b=[512,512]" form.
def parse_hparams(hparams: str) -> dict[str, str]:
    """Parses "a=1,b=[512,512],c=x" into strings; commas inside brackets stay."""
    result, depth, token = {}, 0, ""
    for char in hparams + ",":
        depth += char in "[(" and 1 or 0
        depth -= char in "])" and 1 or 0
        if char == "," and depth == 0:
            if token.strip():
                if "=" not in token:
                    raise ValueError(f"Bad hparams item {token.strip()!r}: expected key=value.")
                key, value = token.split("=", 1)
                result[key.strip()] = value.strip().replace(",", ";")
            token = ""
        else:
            token += char
    return result


def apply_hparams(config: Config, hparams: str) -> Config:
    """Returns `config` with "key=value,..." overrides applied (type-checked)."""
    return from_dict(parse_hparams(hparams), config) if hparams else config


def save_config(config: Config, path: str) -> None:
    from groove_vae.files import write_text

    write_text(path, json.dumps(config.to_dict(), indent=2, sort_keys=True) + "\n")


def read_saved_config(path: str) -> Config:
    """Reads a config written by `save_config` (a run's resolved config); a file that is
    unreadable, not JSON or not a config is a ValueError naming it."""
    try:
        with open(path) as f:
            values = json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: not a readable config ({e}).") from None
    if not isinstance(values, dict):
        raise ValueError(f"{path}: not a config (a JSON object of hyperparameters).")
    try:
        return from_dict(values)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{path}: {e}") from None
