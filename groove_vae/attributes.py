"""What a groove plays, as numbers a drummer would name: each a value per clip, with its unit.

These are the knobs of a drum machine (denser, more kick, ride instead of hi-hat, more
syncopated, louder, swing, laid back, a fill), measured on groove tensors [clips, steps,
27] (hits, velocities in [0, 1], offsets in [-1, 1] where 1 is half a 16th late), so that
a latent direction can be fitted to each and a steered beat checked against it.

Example:
>>> values = attributes.measure(groove)      # {"density": [clips], "swing": [clips], ...}
>>> attributes.ATTRIBUTES["swing"].unit
'16ths'
"""

from __future__ import annotations

import dataclasses

import numpy as np

from groove_vae import groove as layout

STEPS_PER_BAR = 16


@dataclasses.dataclass(frozen=True)
class Attribute:
    unit: str
    meaning: str
    valid: tuple[float, float]  # The values any 4/4 groove can take: a range outside it is impossible.


ATTRIBUTES = {
    "density": Attribute("hits per bar", "how many hits a bar plays, every drum counted", (0, 144)),
    "kick": Attribute("hits per bar", "kick drum hits", (0, 16)),
    "snare": Attribute("hits per bar", "snare hits", (0, 16)),
    "hihat": Attribute("hits per bar", "closed and open hi-hat hits", (0, 32)),
    "ride": Attribute("hits per bar", "ride cymbal hits", (0, 16)),
    "toms": Attribute("hits per bar", "low, mid and high tom hits", (0, 48)),
    "crash": Attribute("hits per bar", "crash cymbal hits", (0, 16)),
    "offbeat": Attribute("share of hits", "hits off the quarter-note beats", (0, 1)),
    "syncopation": Attribute("share of hits", "kick and snare hits on the e and a of a beat (odd 16ths)", (0, 1)),
    "loudness": Attribute("MIDI velocity", "the mean velocity of the hits", (1, 127)),
    "dynamics": Attribute("MIDI velocity", "the spread (standard deviation) of the hits' velocities", (0, 127)),
    "accents": Attribute("MIDI velocity", "how much louder hits on the beat are than hits off it", (-127, 127)),
    "swing": Attribute("16ths", "how much later the off-beat 16ths are played than the on-beat ones", (-1, 1)),
    "laid_back": Attribute("16ths", "the mean offset of every hit: above 0 behind the beat, below 0 pushed", (-0.5, 0.5)),
    "ride_share": Attribute("share of hits", "of the timekeeper's hits, the ride's (0: hi-hat, 1: ride)", (0, 1)),
    "fill": Attribute("hits per bar", "toms and crash together: how much of a fill it plays", (0, 64)),
    "repetition": Attribute("F1", "how much of each bar's hits the bar before played too", (0, 1)),
}


def measure(groove: np.ndarray, steps_per_bar: int = STEPS_PER_BAR) -> dict[str, np.ndarray]:
    """Groove tensors [clips, steps, 27] -> {attribute: values [clips]} (`ATTRIBUTES`).

    A figure with nothing to measure (the loudness of a silent clip, the swing of a clip
    with no off-beat 16th) is NaN, so means over clips can leave it out."""
    groove = np.asarray(groove, np.float64)
    if groove.ndim != 3 or groove.shape[-1] != layout.GROOVE_DEPTH or groove.shape[1] % steps_per_bar:
        raise ValueError(f"Expected groove tensors [clips, bars * {steps_per_bar}, 27], got {groove.shape}.")
    hit = layout.hits(groove) > 0.5
    bars = groove.shape[1] / steps_per_bar
    per_bar = lambda *drums: hit[..., list(drums)].sum(axis=(1, 2)) / bars  # noqa: E731
    step = np.arange(groove.shape[1]) % steps_per_bar
    on_beat, odd = (step % 4 == 0)[None, :, None], (step % 2 == 1)[None, :, None]
    velocity = layout.velocities(groove) * 127.0
    offset = layout.offsets(groove) / 2.0  # Fractions of a 16th.
    kick_snare = np.zeros(layout.NUM_CLASSES, bool)
    kick_snare[[layout.KICK, layout.SNARE]] = True
    ride = per_bar(layout.RIDE)
    hihat = per_bar(layout.CLOSED_HIHAT, layout.OPEN_HIHAT)
    values = {
        "density": hit.sum(axis=(1, 2)) / bars,
        "kick": per_bar(layout.KICK),
        "snare": per_bar(layout.SNARE),
        "hihat": hihat,
        "ride": ride,
        "toms": per_bar(layout.LOW_TOM, layout.MID_TOM, layout.HIGH_TOM),
        "crash": per_bar(layout.CRASH),
        "offbeat": _share(hit & ~on_beat, hit),
        "syncopation": _share(hit & odd & kick_snare, hit & kick_snare),
        "loudness": _mean(velocity, hit),
        "dynamics": _std(velocity, hit),
        "accents": _mean(velocity, hit & on_beat) - _mean(velocity, hit & ~on_beat),
        "swing": _mean(offset, hit & odd) - _mean(offset, hit & ~odd),
        "laid_back": _mean(offset, hit),
        "ride_share": np.divide(ride, ride + hihat, out=np.full(len(groove), np.nan), where=ride + hihat > 0),
        "fill": per_bar(layout.LOW_TOM, layout.MID_TOM, layout.HIGH_TOM, layout.CRASH),
        "repetition": _repetition(hit, steps_per_bar),
    }
    return {name: values[name] for name in ATTRIBUTES}


def _share(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    count = whole.sum(axis=(1, 2))
    return np.divide(part.sum(axis=(1, 2)), count, out=np.full(len(count), np.nan), where=count > 0)


def _mean(values: np.ndarray, where: np.ndarray) -> np.ndarray:
    count = where.sum(axis=(1, 2))
    total = np.where(where, values, 0.0).sum(axis=(1, 2))
    return np.divide(total, count, out=np.full(len(count), np.nan), where=count > 0)


def _std(values: np.ndarray, where: np.ndarray) -> np.ndarray:
    mean = _mean(values, where)
    spread = _mean((values - np.nan_to_num(mean)[:, None, None]) ** 2, where)
    return np.sqrt(spread)


def _repetition(hit: np.ndarray, steps_per_bar: int) -> np.ndarray:
    """Per clip, the mean over consecutive bar pairs of the F1 of one bar's hits against the other's."""
    bars = hit.reshape(len(hit), -1, steps_per_bar, hit.shape[-1])
    shared = (bars[:, 1:] & bars[:, :-1]).sum(axis=(2, 3))
    total = bars[:, 1:].sum(axis=(2, 3)) + bars[:, :-1].sum(axis=(2, 3))
    f1 = np.where(total > 0, 2 * shared / np.maximum(total, 1), np.nan)
    counted = (total > 0).sum(axis=1)
    return np.divide(np.nansum(f1, axis=1), counted, out=np.full(len(hit), np.nan), where=counted > 0)


# === Attribute vectors ===
ATTRIBUTE_FILE = "attributes.npz"
MAX_AMOUNT = 3.0  # Quartile gaps: past this a steered latent leaves where the decoder has learnt to play.


@dataclasses.dataclass(frozen=True, eq=False)
class AttributeVectors:
    """MusicVAE's attribute vectors (section 5.4): per attribute, the mean posterior of the
    training clips in its top quartile minus that of its bottom quartile. Adding `amount`
    times one to a beat's latent moves the beat along that attribute: +1 by about the gap
    between a typical clip of the bottom quartile and one of the top (`gaps`, in the
    attribute's unit).

    names [A], vectors [A, z], gaps [A] (top-quartile mean minus bottom-quartile mean).
    """

    names: tuple[str, ...]
    vectors: np.ndarray
    gaps: np.ndarray

    @classmethod
    def fit(cls, mu: np.ndarray, values: dict[str, np.ndarray]) -> "AttributeVectors":
        """Posterior means [clips, z] and `measure`'s values of the same clips -> the vectors."""
        mu = np.asarray(mu, np.float64)
        names, vectors, gaps = [], [], []
        for name in ATTRIBUTES:
            value = np.asarray(values[name], np.float64)
            if value.shape != (len(mu),):
                raise ValueError(f"{name}: expected one value per clip ({len(mu)}), got {value.shape}.")
            known = ~np.isnan(value)
            low, high = np.quantile(value[known], [0.25, 0.75])
            bottom, top = known & (value <= low), known & (value >= high)
            if low == high or not bottom.any() or not top.any():
                continue  # Too few distinct values to tell a top quartile from a bottom one.
            names.append(name)
            vectors.append(mu[top].mean(axis=0) - mu[bottom].mean(axis=0))
            gaps.append(value[top].mean() - value[bottom].mean())
        return cls(tuple(names), np.array(vectors, np.float32).reshape(len(names), mu.shape[1]),
                   np.array(gaps, np.float32))

    def shift(self, amounts: dict[str, float]) -> np.ndarray:
        """{attribute: amount} -> the latent shift [z]: the sum of amount times its vector."""
        check_amounts(amounts, self.names)
        shift = np.zeros(self.vectors.shape[1], np.float32)
        for name, amount in amounts.items():
            shift += float(amount) * self.vectors[self.names.index(name)]
        return shift

    def save(self, path: str) -> None:
        from groove_vae.files import atomic_write

        with atomic_write(path) as f:
            np.savez_compressed(f, names=np.array(self.names, dtype=str), vectors=self.vectors, gaps=self.gaps)

    @classmethod
    def load(cls, path: str) -> "AttributeVectors":
        """Reads `save`'s file; a file that is not one is a ValueError naming it."""
        try:
            with np.load(path) as f:
                return cls(tuple(f["names"].tolist()), f["vectors"].astype(np.float32), f["gaps"].astype(np.float32))
        except (OSError, KeyError, ValueError, EOFError) as e:
            raise ValueError(f"{path}: not an attribute vectors file: {e}") from None


def check_amounts(amounts, known) -> None:
    """Refuses an unknown attribute or an amount that is not a number from -3 to 3, by name."""
    if not isinstance(amounts, dict) or not amounts:
        raise ValueError(f"Attribute amounts are a mapping of attribute to amount, e.g. {{'density': 1.0}}; "
                         f"got {amounts!r}.")
    for name, amount in amounts.items():
        if name not in known:
            listed = ", ".join(known) or f"none (the model has no {ATTRIBUTE_FILE}; `groove-vae fit_prior` fits it)"
            raise ValueError(f"Unknown attribute {name!r}. Known attributes: {listed}.")
        if isinstance(amount, bool) or not isinstance(amount, (int, float, np.floating)) or not \
                -MAX_AMOUNT <= float(amount) <= MAX_AMOUNT:
            raise ValueError(f"The amount of {name} must be a number from {-MAX_AMOUNT:g} to {MAX_AMOUNT:g} "
                             f"(1: about the gap between its bottom and top quartiles), got {amount!r}.")


def parse_amounts(text: str) -> dict[str, float]:
    """"density=+1,swing=-0.5" (a command line's) -> {"density": 1.0, "swing": -0.5}."""
    amounts = {}
    for item in (part.strip() for part in text.split(",") if part.strip()):
        name, sep, value = item.partition("=")
        try:
            amounts[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise ValueError(f"Bad attribute amount {item!r}: expected name=amount, e.g. density=+1.") from None
    return amounts
