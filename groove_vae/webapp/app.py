"""The web app's HTTP API: a thin FastAPI layer over `GrooveVAE`, and the page's static files.

Example:
>>> import groove_vae
>>> from groove_vae.webapp.app import create_app
>>> app = create_app(groove_vae.load())  # no tap model given: /api/drumify answers 503
>>> # uvicorn.run(app, host="127.0.0.1", port=8000)

A beat travels as JSON, one object per hit: `step` 0-63 (16th notes), `drum` 0-8 (the
classes of `groove_vae.drums`: kick, snare, closed hi-hat, ...), `velocity` in [0, 1]
(MIDI velocity / 127) and `offset` in [-1, 1] (twice the distance from the 16th-note
grid, in steps), as in the groove tensor:

    {"qpm": 120.0, "steps": 64, "notes": [{"step": 0, "drum": 0, "velocity": 0.8, "offset": -0.1}, ...]}

Every error is JSON, {"error": "..."}: 403 for a request from another site (an Origin
that is not the app's own) or for a Host the app does not answer to (DNS rebinding), 408
for a body not sent in time, 413 for a body over the upload limit, 415 for a file that
is not MIDI, 422 for MIDI the model cannot take (no drums, not 4/4, ...) and for invalid
arguments, 503 for what this server lacks (a Tap2Drum model, FluidSynth) and, with a
Retry-After header, when the model's queue is full.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import threading
from typing import Callable, Iterable, Literal

import numpy as np
from fastapi import FastAPI, File, HTTPException, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException

from groove_vae import groove as layout
from groove_vae import converter, paths, render
from groove_vae.api import GrooveVAE, blend_latents
from groove_vae.attributes import ATTRIBUTES
from groove_vae.checks import MAX_QPM, MAX_SEED, MAX_TRIES, MIN_QPM  # The API's ranges (a WAV at 1 qpm would be hours long).
from groove_vae.drums import DRUM_CLASS_NAMES, NUM_CLASSES

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")  # The names a local app answers to (its Host header).
STATIC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
MAX_UPLOAD_BYTES = 1_000_000  # A 4-bar drum MIDI file is a few kB.
NO_TAP_MODEL = (
    "Drumify needs a Tap2Drum model, and none is loaded: the bundled groovae_tap2drum is not "
    "installed. Start the server with --tap_run_dir=<a model trained with input_transform=tap>."
)
QUEUE_DEPTH = 8  # Model requests that may wait behind the running one before the app answers 503.
METHOD_HELP = ("morph: each cell the beats disagree on changes once, in the model's order; slerp / linear: "
               "the blended latent decoded")
BODY_TIMEOUT_S = 20.0  # A request body not sent whole within this is refused (408).
MAX_WAV_SECONDS = 120.0  # /api/wav's longest render: 16 bars at 32 qpm; a WAV of 120 s is 21 MB.

log = logging.getLogger(__name__)


# === Request bodies ===
class Note(BaseModel):
    step: int = Field(ge=0, description="16th-note step, 0 to steps - 1")
    drum: int = Field(ge=0, lt=NUM_CLASSES, description="drum class, as in groove_vae.drums")
    velocity: float = Field(0.8, ge=0.0, le=1.0, description="MIDI velocity / 127")
    offset: float = Field(0.0, ge=-1.0, le=1.0, description="twice the distance from the grid, in steps")


BEAT_STEPS = (64, 128, 256)  # 4, 8 or 16 bars: what the grid shows and plays.


class Beat(BaseModel):
    qpm: float = Field(converter.DEFAULT_QPM, ge=MIN_QPM, le=MAX_QPM)
    steps: Literal[64, 128, 256] = Field(64, description="16th-note steps: 64, 128 or 256 (4, 8 or 16 bars)")
    notes: list[Note] = Field(default_factory=list, max_length=4096)


class SampleRequest(BaseModel):
    temperature: float = Field(0.5, gt=0.0, le=10.0)
    seed: int = Field(0, ge=0, le=MAX_SEED)
    style: str | None = None
    strength: float = Field(1.0, ge=0.0, le=3.0)
    steer: Literal["prior", "vector"] = "prior"
    qpm: float = Field(converter.DEFAULT_QPM, ge=MIN_QPM, le=MAX_QPM)
    bars: Literal[4, 8, 16] = Field(4, description="one performance of this many bars, its phrases from one latent")
    attributes: dict[str, float] | None = Field(None, description="attribute amounts, -3 to 3: {\"density\": 1.0}")
    constraints: str | None = Field(None, max_length=500,
                                    description="what the beat must play: \"density=20..30,timekeeper=ride,no=toms\"")
    tries: int = Field(4, ge=1, le=MAX_TRIES, description="with constraints: draws until one meets them")


class DecodeRequest(BaseModel):
    z: list[float]
    temperature: float = Field(1.0, gt=0.0, le=10.0)
    seed: int = Field(0, ge=0, le=MAX_SEED)
    qpm: float = Field(converter.DEFAULT_QPM, ge=MIN_QPM, le=MAX_QPM)


class BlendRequest(BaseModel):
    corners: list[list[float]] = Field(description="four latents: (x, y) = (0, 0), (1, 0), (0, 1), (1, 1)")
    x: float = Field(ge=0.0, le=1.0)
    y: float = Field(ge=0.0, le=1.0)
    temperature: float = Field(0.5, gt=0.0, le=10.0)
    seed: int = Field(0, ge=0, le=MAX_SEED)
    qpm: float = Field(converter.DEFAULT_QPM, ge=MIN_QPM, le=MAX_QPM)
    method: Literal[paths.METHODS] = Field(paths.DEFAULT_METHOD, description=METHOD_HELP)


class InterpolateRequest(BaseModel):
    a: Beat
    b: Beat
    num_steps: int = Field(8, ge=2, le=64)
    temperature: float = Field(0.5, gt=0.0, le=10.0)
    seed: int = Field(0, ge=0, le=MAX_SEED)
    method: Literal[paths.METHODS] = Field(paths.DEFAULT_METHOD, description=METHOD_HELP)


class BeatRequest(BaseModel):
    beat: Beat
    temperature: float = Field(0.5, gt=0.0, le=10.0, description="drumify only")
    seed: int = Field(0, ge=0, le=MAX_SEED)


class InfillRequest(BaseModel):
    beat: Beat
    keep: list[int] = Field(description="the drum classes kept exactly as they are; the model plays the others",
                            min_length=1, max_length=NUM_CLASSES - 1)
    temperature: float = Field(0.5, gt=0.0, le=10.0)
    seed: int = Field(0, ge=0, le=MAX_SEED)


class SteerRequest(BaseModel):
    beat: Beat
    attributes: dict[str, float] | None = Field(None, description="attribute amounts, -3 to 3: {\"density\": 1.0}")
    constraints: str | None = Field(None, max_length=500,
                                    description="what the edited beat must play: \"no=toms,timekeeper=ride\"")
    temperature: float = Field(0.5, gt=0.0, le=10.0)
    seed: int = Field(0, ge=0, le=MAX_SEED)


class ContinueRequest(BaseModel):
    beat: Beat
    bars: Literal[8, 16] = Field(description="the length of the continued beat, the given one included")
    temperature: float = Field(0.5, gt=0.0, le=10.0)
    seed: int = Field(0, ge=0, le=MAX_SEED)
    variation: float = Field(0.0, ge=0.0, le=1.0, description="0 stays in the beat's groove; 1 wanders")


# === Beats <-> groove tensors ===
def groove_to_beat(groove: np.ndarray, qpm: float) -> dict:
    """A groove [steps, 27] -> the JSON beat: one note per hit, in step then drum order."""
    notes = [
        {"step": int(step), "drum": int(drum),
         "velocity": round(float(np.clip(groove[step, NUM_CLASSES + drum], 0.0, 1.0)), 4),
         "offset": round(float(np.clip(layout.offsets(groove)[step, drum], -1.0, 1.0)), 4)}
        for step, drum in zip(*np.nonzero(layout.hits(groove) > 0.5))
    ]
    return {"qpm": float(qpm), "steps": int(groove.shape[0]), "notes": notes}


def beat_to_groove(beat: Beat, steps: int | None = None) -> np.ndarray:
    """The JSON beat -> a groove [steps, 27] (default: the beat's own steps); of two notes
    on one step and drum, the louder wins."""
    steps = steps or beat.steps
    groove = np.zeros((steps, converter.GROOVE_DEPTH), np.float32)
    for note in beat.notes:
        if note.step >= steps:
            raise ValueError(f"A note's step is {note.step}; a beat has steps 0 to {steps - 1}.")
        if groove[note.step, note.drum] and note.velocity <= groove[note.step, NUM_CLASSES + note.drum]:
            continue
        groove[note.step, layout.columns(note.drum)] = (
            1.0, note.velocity, note.offset)
    return groove


def _require_hits(beat: Beat, verb: str) -> None:
    if not beat.notes:
        raise ValueError(f"The beat is empty: draw or upload one to {verb}.")


# === The app ===
def create_app(vae: GrooveVAE, tap_vae: GrooveVAE | None = None, tap_message: str = NO_TAP_MODEL,
               max_upload_bytes: int = MAX_UPLOAD_BYTES, model_name: str = "groove-vae",
               allowed_hosts: Iterable[str] | None = LOCAL_HOSTS, queue_depth: int = QUEUE_DEPTH,
               body_timeout_s: float = BODY_TIMEOUT_S, humanize_vae: GrooveVAE | None = None,
               infill_vae: GrooveVAE | None = None) -> FastAPI:
    """The API over loaded models (tests pass tiny ones); `tap_vae` None makes drumify a 503;
    `humanize_vae` (a model trained with input_transform=humanize) plays /api/humanize and
    `infill_vae` (input_transform=infill) /api/infill, else `vae` does.

    Beats of 8 and 16 bars are played in overlapping 4-bar windows (groove_vae.windows);
    the latent verbs (encode, blend, interpolate) hear a beat's first 4 bars.

    Model calls run one at a time through a bounded queue (the CPU is better spent on one
    request at a time); `allowed_hosts` None answers any Host (a server for other machines).
    """
    if tap_vae is not None and tap_vae.config.input_transform != "tap":
        raise ValueError(f"The drumify model has input_transform={tap_vae.config.input_transform}; it needs tap.")
    app = FastAPI(title="groove-vae", summary="A drum machine over a MusicVAE", docs_url=None,
                  redoc_url=None, openapi_url="/api/openapi.json")
    app.add_middleware(BodyLimitMiddleware, max_bytes=max_upload_bytes, timeout_s=body_timeout_s)
    app.add_middleware(SameOriginMiddleware, allowed_hosts=allowed_hosts)  # Added last: runs first.
    _add_error_handlers(app)
    queue = ModelQueue(queue_depth)
    app.state.queue = queue
    kit_lock = threading.Lock()
    steps = vae.config.num_steps
    one_shots: dict[str, bytes] = {}

    @app.get("/api/info")
    async def info() -> dict:
        return {
            "model": model_name, "z_size": vae.config.z_size, "steps": steps, "drums": list(DRUM_CLASS_NAMES),
            "styles": list(vae.style_names), "max_upload_bytes": max_upload_bytes,
            "attributes": [{"name": name, "unit": ATTRIBUTES[name].unit, "meaning": ATTRIBUTES[name].meaning}
                           for name in vae.attribute_names],
            "constraints": vae.constraint_model is not None,
            "drumify": {"available": tap_vae is not None, "message": None if tap_vae else tap_message},
            "fluidsynth": _fluidsynth_problem() is None,
        }

    @app.post("/api/sample")
    async def sample(request: SampleRequest, http: Request) -> dict:
        """A beat from the prior (steered toward a style if one is named) and its latent."""
        def work():
            options = dict(style=request.style or None, strength=request.strength, steer=request.steer,
                           num_bars=request.bars, attributes=request.attributes or None)
            if request.constraints:
                z, grooves, met = vae.constrained_sample(1, request.constraints, request.temperature, request.seed,
                                                         tries=request.tries, **options)
                return z, grooves[0], bool(met[0])
            z = vae.sample_latents(1, request.seed, options["style"], request.strength, request.steer,
                                   attributes=options["attributes"])
            return z, vae.decode_phrases(z, request.bars, request.temperature, request.seed)[0], None

        z, groove, met = await queue.run(http, work)
        return {"beat": groove_to_beat(groove, request.qpm), "z": z[0].tolist(), "meets": met}

    @app.post("/api/encode")
    async def encode(beat: Beat, http: Request) -> dict:
        z = await queue.run(http, lambda: vae.encode_tensors(beat_to_groove(beat)[None, :steps])[0])
        return {"z": z.tolist()}

    @app.post("/api/decode")
    async def decode(request: DecodeRequest, http: Request) -> dict:
        groove = await queue.run(http, lambda: vae.decode_tensors([request.z], request.temperature, request.seed)[0])
        return {"beat": groove_to_beat(groove, request.qpm)}

    @app.post("/api/blend")
    async def blend(request: BlendRequest, http: Request) -> dict:
        """Beat Blender: the corners mixed at (x, y) (`vae.blend_tensors`), with a fixed seed."""
        blend_latents(request.corners, request.x, request.y)  # Checks the corners' shape before the queue.
        groove, z = await queue.run(http, lambda: vae.blend_tensors(request.corners, request.x, request.y,
                                                                    request.temperature, request.seed, request.method))
        return {"beat": groove_to_beat(groove, request.qpm), "z": z.tolist()}

    @app.post("/api/interpolate")
    async def interpolate(request: InterpolateRequest, http: Request) -> dict:
        """The path from beat a to beat b (`vae.interpolate_tensors`), every step with the same draws."""
        a, b = beat_to_groove(request.a)[:steps], beat_to_groove(request.b)[:steps]
        beats = await queue.run(http, lambda: vae.interpolate_tensors(a, b, request.num_steps, request.method,
                                                                      request.temperature, request.seed))
        return {"beats": [groove_to_beat(g, request.a.qpm) for g in beats]}

    @app.post("/api/steer")
    async def steer(request: SteerRequest, http: Request) -> dict:
        """The beat moved along the model's attribute vectors (denser, louder, ride, ...)."""
        _require_hits(request.beat, "steer")
        groove = await queue.run(http, lambda: vae.steer_tensors(
            beat_to_groove(request.beat), request.attributes, request.temperature, request.seed,
            request.constraints or None))
        return {"beat": groove_to_beat(groove, request.beat.qpm)}

    @app.post("/api/humanize")
    async def humanize(request: BeatRequest, http: Request) -> dict:
        """The same hits, played with the model's velocities and microtiming."""
        _require_hits(request.beat, "humanize")
        player = humanize_vae or vae
        groove = await queue.run(http, lambda: player.play_windows(
            beat_to_groove(request.beat), lambda w, draws: player.humanize_tensors(w, request.seed, draws),
            request.seed, temperature=1.0))
        return {"beat": groove_to_beat(groove, request.beat.qpm)}

    @app.post("/api/drumify")
    async def drumify(request: BeatRequest, http: Request) -> dict:
        """Tap2Drum: a rhythm (only when each step is hit counts) -> a full-kit groove."""
        if tap_vae is None:
            raise HTTPException(503, tap_message)
        _require_hits(request.beat, "drumify")
        groove = await queue.run(http, lambda: tap_vae.play_windows(
            beat_to_groove(request.beat),
            lambda w, draws: tap_vae.drumify_tensors(w, request.temperature, request.seed, draws), request.seed,
            temperature=request.temperature))
        return {"beat": groove_to_beat(groove, request.beat.qpm)}

    @app.post("/api/infill")
    async def infill(request: InfillRequest, http: Request) -> dict:
        """The kept drums exactly as they are; the model plays the others around them."""
        _require_hits(request.beat, "infill")
        if any(not 0 <= drum < NUM_CLASSES for drum in request.keep):
            raise ValueError(f"keep holds drum classes 0 to {NUM_CLASSES - 1}, got {request.keep}.")
        keep = np.zeros(NUM_CLASSES, np.float32)
        keep[request.keep] = 1.0
        player = infill_vae or vae
        groove = await queue.run(http, lambda: player.play_windows(
            beat_to_groove(request.beat),
            lambda w, draws: player.infill_tensors(w, keep, request.temperature, request.seed, draws), request.seed,
            temperature=request.temperature))
        return {"beat": groove_to_beat(groove, request.beat.qpm)}

    @app.post("/api/continue")
    async def continue_(request: ContinueRequest, http: Request) -> dict:
        """The beat as it is, then bars in its groove up to `bars` (the model hears its last 4)."""
        _require_hits(request.beat, "continue")
        given = beat_to_groove(request.beat)
        last = max(note.step for note in request.beat.notes) // 16 + 1  # Bars the beat plays, from its start.
        given = given[: last * 16]
        if last >= request.bars:
            raise ValueError(f"The beat already plays {last} bars; continue it to more than that.")
        new = await queue.run(http, lambda: vae.continue_tensors(
            given, request.bars - last, request.temperature, request.seed, request.variation))
        return {"beat": groove_to_beat(np.concatenate([given, new]), request.beat.qpm)}

    @app.post("/api/upload")
    async def upload(http: Request, file: UploadFile = File(description="a 4/4 drum MIDI file")) -> dict:
        """MIDI file -> its first 4 bars as a beat, and their latent (for a blender corner)."""
        data = await file.read(max_upload_bytes + 1)
        if len(data) > max_upload_bytes:
            raise HTTPException(413, _too_large_message(len(data), max_upload_bytes))
        name = os.path.basename(file.filename or "") or "upload"

        def work():
            grid, tempo = vae.grid(data, source=name)
            qpm = tempo.qpm
            if not MIN_QPM <= qpm <= MAX_QPM:
                raise ValueError(f"{name}: tempo {qpm:g} qpm; the app takes {MIN_QPM:g} to {MAX_QPM:g} qpm.")
            shown = next(s for s in BEAT_STEPS if s >= min(len(grid), BEAT_STEPS[-1]))
            beat = np.zeros((shown, converter.GROOVE_DEPTH), np.float32)
            beat[: min(len(grid), shown)] = grid[:shown]
            return beat, len(grid) // 16, qpm, vae.encode_tensors(beat[None, :steps])[0]

        beat, bars, qpm, z = await queue.run(http, work)
        return {"beat": groove_to_beat(beat, qpm), "z": z.tolist(), "bars": bars, "name": name}

    @app.post("/api/midi")
    def midi(beat: Beat) -> Response:
        """The beat as a General MIDI drum file (channel 10, one exemplar pitch per class)."""
        ns = converter.groove_to_note_sequence(beat_to_groove(beat), beat.qpm)
        return Response(converter.note_sequence_to_midi_bytes(ns), media_type="audio/midi",
                        headers={"Content-Disposition": 'attachment; filename="groove.mid"'})

    def kit(why: str) -> dict[str, bytes]:
        """The General MIDI kit's one-shots, rendered by FluidSynth on first use, then kept."""
        with kit_lock:
            if not one_shots:
                try:
                    one_shots.update(render.render_one_shots())
                except render.RenderError as e:
                    raise HTTPException(503, f"{why}: {e}") from e
        return one_shots

    @app.post("/api/wav")
    async def wav(beat: Beat, http: Request) -> Response:
        """The beat mixed from the General MIDI kit's one-shots, as the page plays it (at most
        MAX_WAV_SECONDS long; it waits its turn in the model's queue, as rendering is heavy work)."""
        seconds = beat.steps * 60.0 / beat.qpm / converter.STEPS_PER_QUARTER
        if seconds > MAX_WAV_SECONDS:
            fastest = beat.steps * 60.0 / MAX_WAV_SECONDS / converter.STEPS_PER_QUARTER
            raise ValueError(f"The WAV would be {seconds:.0f} s long ({beat.steps // 16} bars at {beat.qpm:g} qpm); "
                             f"the app renders at most {MAX_WAV_SECONDS:g} s: play it at {fastest:g} qpm or more, "
                             "or fewer bars.")
        groove = beat_to_groove(beat)
        data = await queue.run(http, lambda: render.mix_one_shots(groove, beat.qpm, kit("No WAV")))
        return Response(data, media_type="audio/wav",
                        headers={"Content-Disposition": 'attachment; filename="groove.wav"'})

    @app.get("/api/sounds/{name}.wav")
    def sound(name: str) -> Response:
        """A one-shot of one drum class for the page's player."""
        if name not in DRUM_CLASS_NAMES:
            raise HTTPException(404, f"No drum {name!r}; drums: {', '.join(DRUM_CLASS_NAMES)}.")
        shots = kit("No drum samples (the page synthesizes its own)")
        return Response(shots[name], media_type="audio/wav", headers={"Cache-Control": "max-age=86400"})

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(os.path.join(STATIC_DIR, "index.html"))

    @app.get("/api/docs", include_in_schema=False)
    async def docs() -> FileResponse:
        """The API reference, drawn by the page itself from /api/openapi.json: nothing from the internet."""
        return FileResponse(os.path.join(STATIC_DIR, "api.html"))

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def warm_up(*models: GrooveVAE | None) -> None:
    """Traces every model function a request uses, so the first request is as fast as the rest."""
    for vae in filter(None, models):
        if vae.config.input_transform == "tap":  # Plays a rhythm; with decoder controls it cannot sample.
            vae.drumify_tensors(np.zeros((1, vae.config.num_steps, converter.GROOVE_DEPTH), np.float32))
            continue
        groove = vae.sample_tensors(1, seed=0)
        if vae.config.input_transform == "infill":
            vae.infill_tensors(groove, np.eye(NUM_CLASSES, dtype=np.float32)[0])
        else:
            vae.humanize_tensors(groove)
    if models and models[0] is not None:  # The main model also blends (the morph's probes).
        models[0].blend_tensors(models[0].sample_latents(4, seed=0), 0.5, 0.5)


def _fluidsynth_problem() -> str | None:
    if shutil.which("fluidsynth") is None:
        return f"FluidSynth is not installed; {render.INSTALL_HINT}."
    try:
        render.find_soundfont()
    except render.RenderError as e:
        return str(e)
    return None


def _too_large_message(size: int, limit: int) -> str:
    return (f"The upload is {size / 1e6:.1f} MB, over the {limit / 1e6:.1f} MB limit "
            "(a 4-bar drum MIDI file is a few kB).")


# === Errors: always JSON, 4xx for bad input ===
def _error(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(converter.ConversionError)
    async def bad_midi(request, error: converter.ConversionError) -> JSONResponse:
        log.info("refused %s: %s", request.url.path, error)
        return _error(415 if error.reason in ("unparsable", "unreadable") else 422, str(error))

    @app.exception_handler(ValueError)
    async def bad_value(request, error: ValueError) -> JSONResponse:
        log.info("refused %s: %s", request.url.path, error)
        return _error(422, str(error))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request, error: RequestValidationError) -> JSONResponse:
        problems = []
        for e in error.errors():
            where = ".".join(str(part) for part in e.get("loc", ()) if part != "body")
            problems.append(f"{where}: {e.get('msg')}" if where else str(e.get("msg")))
        return _error(422, "; ".join(problems) or "Invalid request.")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request, error: StarletteHTTPException) -> JSONResponse:
        return _error(error.status_code, str(error.detail), error.headers)

    @app.exception_handler(Exception)
    async def server_error(request, error: Exception) -> JSONResponse:
        log.exception("error on %s", request.url.path)
        return _error(500, f"Internal error ({type(error).__name__}); see the server's log.")


# === Backpressure and who may drive the app ===
class ModelQueue:
    """Runs model work one call at a time, with at most `depth` calls waiting.

    A full queue answers 503 with Retry-After at once instead of stacking threads (so cheap
    routes such as /api/info and the static files never wait behind the model), and a
    request whose client has gone by the time its turn comes is dropped, not computed.
    """

    def __init__(self, depth: int = QUEUE_DEPTH):
        if depth < 0:
            raise ValueError(f"queue_depth must be >= 0, got {depth}.")
        self.depth = depth
        self.pending = 0  # Admitted calls: the running one and those waiting.
        self.dropped = 0  # Calls whose client left before their turn.
        self.refused = 0  # Calls answered 503 because the queue was full.
        self._model = threading.Lock()
        self._count = threading.Lock()

    async def run(self, request: Request, work: Callable):
        with self._count:
            if self.pending > self.depth:
                self.refused += 1
                raise HTTPException(503, f"The model is busy ({self.pending} requests ahead); try again shortly.",
                                    headers={"Retry-After": "1"})
            self.pending += 1
        try:
            await run_in_threadpool(self._model.acquire)  # Not cancellable: the lock is always released below.
            try:
                if await request.is_disconnected():
                    self.dropped += 1
                    log.info("dropped %s: its client went away while it waited", request.url.path)
                    raise HTTPException(499, "The client went away.")
                return await run_in_threadpool(work)
            finally:
                self._model.release()
        finally:
            with self._count:
                self.pending -= 1


def _hostname(host: str) -> str:
    """'127.0.0.1:8000' -> '127.0.0.1', '[::1]:8000' -> '::1', 'localhost' -> 'localhost'."""
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class SameOriginMiddleware:
    """Only the app's own page may drive it, as local servers such as Jupyter check.

    A Host header that is not one of `allowed_hosts` is a DNS-rebinding attempt (another
    site's name resolved to 127.0.0.1); an Origin header other than the app's own is
    another web page's script (a "simple" cross-origin POST is sent without asking). Both
    get 403. Requests without an Origin (curl, scripts, the page's own GETs) pass.
    """

    def __init__(self, app, allowed_hosts: Iterable[str] | None = LOCAL_HOSTS):
        self.app = app
        self.allowed_hosts = None if allowed_hosts is None else {h.lower() for h in allowed_hosts}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        host = headers.get("host", "")
        # Not Starlette's TrustedHostMiddleware: it answers a plain-text 400, where every refusal here is a JSON error.
        if self.allowed_hosts is not None and _hostname(host.lower()) not in self.allowed_hosts:
            log.warning("refused a request for Host %r", host)
            return await _error(403, f"This app answers to {', '.join(sorted(self.allowed_hosts))}, "
                                     f"not to Host {host!r}.")(scope, receive, send)
        origin = headers.get("origin")
        if origin is not None and origin.lower() != f"{scope.get('scheme', 'http')}://{host}".lower():
            log.warning("refused a request from Origin %r", origin)
            return await _error(403, f"Requests from {origin} are refused: only this app's own page "
                                     "may drive it.")(scope, receive, send)
        return await self.app(scope, receive, send)


class BodyLimitMiddleware:
    """Refuses a request body over `max_bytes` with a JSON 413, whether declared or streamed,
    and one not sent whole within `timeout_s` of its first read with a 408 (a half-sent or
    trickled body holds no thread)."""

    def __init__(self, app, max_bytes: int, timeout_s: float = BODY_TIMEOUT_S):
        self.app = app
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            # Read what the client sends (up to a bound) so it sees the answer, not a reset.
            more, drained = True, 0
            while more and drained < 64 * self.max_bytes:
                message = await receive()
                drained += len(message.get("body", b""))
                more = message.get("more_body", False)
            response = _error(413, _too_large_message(int(declared), self.max_bytes))
            return await response(scope, receive, send)
        received, complete, deadline = 0, False, None

        async def limited_receive():
            nonlocal received, complete, deadline
            if complete:  # After the body: waits for a disconnect, unbounded by design.
                return await receive()
            now = asyncio.get_running_loop().time()
            deadline = deadline or now + self.timeout_s  # One deadline for the whole body, not one per chunk.
            try:
                if now >= deadline:
                    raise asyncio.TimeoutError
                message = await asyncio.wait_for(receive(), deadline - now)
            except asyncio.TimeoutError:
                raise StarletteHTTPException(408, f"The request body was not sent within {self.timeout_s:g} s.")
            received += len(message.get("body", b""))
            complete = message.get("type") != "http.request" or not message.get("more_body", False)
            if received > self.max_bytes:  # A body sent without its length.
                raise StarletteHTTPException(413, _too_large_message(received, self.max_bytes))
            return message

        await self.app(scope, limited_receive, send)
