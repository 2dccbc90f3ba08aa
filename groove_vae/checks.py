"""The ranges of the numbers users give, checked before any work starts.

One place for the API, the scripts and the web app, so a bad value is refused the same
way everywhere: at once, with one line that names it, before a model loads or a file is
touched. Importing this module is cheap (no TensorFlow).
"""

from __future__ import annotations

import math
import numbers

MIN_QPM, MAX_QPM = 20.0, 400.0  # A written note at 1 qpm would be minutes long; 0 puts every note at time 0.
MAX_TEMPERATURE = 10.0  # Past this, every logit is near 0: uniform noise, not a groove.
MAX_SEED = 2**31 - 1  # The decoder's seeds are int32: 2**32 would decode as 0 does.
MAX_BATCH = 1024  # Clips per call: 1,024 decodes in well under 1 GB; far more is a typo.
MAX_INTERPOLATION_STEPS = 256
MAX_TRIES = 16  # Decodes per beat that `sample(constraints=...)` may try.
MAX_NUM_BARS = 256  # Of sample or continue_groove: about 8.5 minutes at 120 qpm.


def check_qpm(qpm: float) -> float:
    if not (isinstance(qpm, numbers.Real) and math.isfinite(qpm) and MIN_QPM <= qpm <= MAX_QPM):
        raise ValueError(f"qpm must be a tempo from {MIN_QPM:g} to {MAX_QPM:g} quarter notes per minute, got {qpm}.")
    return float(qpm)


def check_temperature(temperature: float) -> float:
    if not (isinstance(temperature, numbers.Real) and math.isfinite(temperature)
            and 0.0 < temperature <= MAX_TEMPERATURE):
        raise ValueError(f"temperature must be above 0 and at most {MAX_TEMPERATURE:g}, got {temperature}.")
    return float(temperature)


def check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed must be an integer from 0 to {MAX_SEED}, got {seed!r}.")
    return int(seed)


def check_count(name: str, value: int, low: int = 1, high: int = MAX_BATCH) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer from {low} to {high}, got {value!r}.")
    return int(value)
