// The page: one current beat on the grid, four ways to make one, a player, downloads.
// Every model call goes to the local server (see app.py for the JSON); its errors are shown
// in the message line as the server words them.

import { cellAt, drawGrid, drawPlayhead, LABELS } from "./grid.js";
import { Player } from "./player.js";

const $ = (selector) => document.querySelector(selector);
const CORNER_COLORS = ["#ff8a3d", "#4cc3ff", "#b98cff", "#7bd389"];
const CORNER_STYLES = ["rock", "funk", "jazz", "hiphop"];
const TAP_DRUM = 0; // Taps are drawn on the kick row; Tap2Drum hears only when steps are hit.
const STEP_PIXELS = 14; // Past 4 bars the grid keeps this width per 16th and scrolls.
const INFILL_KEEP = [0, 1]; // Kick and snare kept: the model plays hats, ride, toms and crash.

const state = {
  info: null,
  beat: { qpm: 120, steps: 64, notes: [] },
  z: null,
  name: "groove",
  version: 0,
  history: [],
  corners: [null, null, null, null], // {beat, z, label}
  point: { x: 0.5, y: 0.5 },
  steerSource: null, // {beat, name, version}: the beat the sliders move, as it was before they did.
  requests: 0,
};
window.grooveApp = state; // For the browser tests and the curious.

const player = new Player(() => state.beat, () => updatePlayButton());

// === Server calls ===
class ApiError extends Error {
  constructor(message, status) { super(message); this.status = status; }
}

async function api(path, body, { blob = false } = {}) {
  const options = body instanceof FormData ? { method: "POST", body }
    : body !== undefined ? { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }
    : {};
  state.requests += 1;
  document.body.dataset.busy = "true";
  let response;
  try {
    response = await fetch(path, options);
  } catch (error) {
    throw showError("The server does not answer: is groove-vae serve still running?", 0);
  } finally {
    state.requests -= 1;
    if (!state.requests) delete document.body.dataset.busy;
  }
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try { message = (await response.json()).error || message; } catch (e) { /* not JSON */ }
    throw showError(message, response.status);
  }
  return blob ? response.blob() : response.json();
}

function showError(message, status) {
  const box = $("#message");
  box.textContent = message;
  box.className = "error";
  box.dataset.status = String(status);
  return new ApiError(message, status);
}

function showInfo(message) {
  const box = $("#message");
  box.textContent = message;
  box.className = "info";
  delete box.dataset.status;
}

// Runs an action from a button; an ApiError is already on screen, anything else is shown.
function action(run) {
  return async (...args) => {
    try {
      await run(...args);
    } catch (error) {
      if (!(error instanceof ApiError)) showError(error.message || String(error), 0);
    }
  };
}

// === The current beat ===
function setBeat(beat, { z = null, name = "groove", message = null, remember = true } = {}) {
  if (remember && state.beat.notes.length) {
    state.history.push({ beat: state.beat, z: state.z, name: state.name });
    if (state.history.length > 50) state.history.shift();
  }
  state.beat = { qpm: beat.qpm, steps: beat.steps || 64, notes: beat.notes };
  state.z = z;
  state.name = name;
  state.version += 1;
  $("#qpm").value = Math.round(beat.qpm * 10) / 10;
  $("#undo").disabled = !state.history.length;
  redraw();
  if (message) showInfo(message);
}

function redraw() {
  const canvas = $("#grid");
  const steps = state.beat.steps || 64;
  // 4 bars fit the page; 8 and 16 keep a 16th wide enough to click, and the grid scrolls.
  $("#grid-stack").style.width = steps > 64 ? `${88 + steps * STEP_PIXELS}px` : "";
  drawGrid(canvas, state.beat);
  canvas.dataset.version = String(state.version);
  canvas.dataset.notes = String(state.beat.notes.length);
  const counts = LABELS.map((label, drum) => [label, state.beat.notes.filter((n) => n.drum === drum).length])
    .filter(([, n]) => n).map(([label, n]) => `${label.toLowerCase()} ${n}`);
  $("#beat-info").textContent = state.beat.notes.length
    ? `${state.name} · ${state.beat.notes.length} hits (${counts.join(", ")}) · ${round(state.beat.qpm)} qpm`
    : "empty beat: sample one, or draw hits";
}

const round = (x, digits = 0) => Number(x.toFixed(digits));

function editCell(event) {
  const canvas = $("#grid");
  const box = canvas.getBoundingClientRect();
  const cell = cellAt(canvas, state.beat, event.clientX - box.left, event.clientY - box.top);
  if (!cell) return;
  const notes = state.beat.notes.filter((n) => !(n.step === cell.step && n.drum === cell.drum));
  if (notes.length === state.beat.notes.length) notes.push({ step: cell.step, drum: cell.drum, velocity: 0.8, offset: 0 });
  setBeat({ ...state.beat, notes }, { name: "drawn beat" });
}

// === Sample ===
async function sample(newSeed) {
  if (newSeed) $("#seed").value = Math.floor(Math.random() * 100000);
  const style = $("#style").value || null;
  const seed = Number($("#seed").value) || 0;
  const body = { temperature: Number($("#temperature").value), seed, style, bars: Number($("#sample-bars").value),
                 strength: Number($("#strength").value), qpm: Number($("#qpm").value) || 120 };
  const result = await api("/api/sample", body);
  const label = `${style || "sample"} · seed ${seed}`;
  const steer = style ? `, toward ${style} (strength ${body.strength})` : "";
  const empty = result.beat.notes.length ? "" : " The model drew no notes for this seed: try another.";
  setBeat(result.beat, { z: result.z, name: label,
                         message: `New beat: seed ${seed}${steer}, temperature ${body.temperature.toFixed(2)}.${empty}` });
}

// === Steer ===
const STEER_SHOWN = ["density", "kick", "snare", "hihat", "ride_share", "toms", "syncopation", "loudness",
                     "accents", "laid_back", "swing", "fill"]; // The rest are in the API.

function setupSteer() {
  const attributes = (state.info && state.info.attributes) || [];
  const box = $("#steer-sliders");
  box.innerHTML = "";
  for (const { name, unit, meaning } of attributes.filter((a) => STEER_SHOWN.includes(a.name))) {
    const label = document.createElement("label");
    label.title = `${meaning} (${unit})`;
    label.innerHTML = `${name.replace("_", " ")} <input type="range" id="steer-${name}" data-attribute="${name}" `
      + `min="-2" max="2" step="0.25" value="0"> <output for="steer-${name}">0.00</output>`;
    box.appendChild(label);
    bindOutput(`steer-${name}`);
    label.querySelector("input").addEventListener("input", debounce(action(requestSteer), 120));
  }
  if (!attributes.length) box.textContent = "This model has no attribute vectors (groove-vae fit_prior fits them).";
}

function steerAmounts() {
  const amounts = {};
  for (const input of document.querySelectorAll("#steer-sliders input")) {
    if (Number(input.value)) amounts[input.dataset.attribute] = Number(input.value);
  }
  return amounts;
}

let steerInFlight = false;
let steerPending = false;

// One request at a time, always from the beat as it was before the sliders moved it.
async function requestSteer() {
  if (!state.steerSource || state.steerSource.version !== state.version) {
    if (!state.beat.notes.length) throw showError("The grid is empty: make a beat first.", 0);
    state.steerSource = { beat: state.beat, name: state.name, version: null };
  }
  if (steerInFlight) { steerPending = true; return; }
  steerInFlight = true;
  try {
    const amounts = steerAmounts();
    const source = state.steerSource;
    const result = Object.keys(amounts).length
      ? await api("/api/steer", { beat: source.beat, attributes: amounts, seed: 0 })
      : { beat: source.beat };
    const moved = Object.entries(amounts).map(([k, v]) => `${k} ${v > 0 ? "+" : ""}${v}`).join(", ");
    setBeat(result.beat, { name: moved ? `${source.name} · ${moved}` : source.name, remember: false });
    source.version = state.version;
    $("#steer-source").textContent = `moving: ${source.name}`;
  } finally {
    steerInFlight = false;
    if (steerPending) { steerPending = false; await requestSteer(); }
  }
}

async function steerNewBeat() {
  const seed = Math.floor(Math.random() * 100000);
  const amounts = steerAmounts();
  const result = await api("/api/sample", { seed, temperature: 0.5, attributes: amounts,
                                            qpm: Number($("#qpm").value) || 120 });
  const moved = Object.entries(amounts).map(([k, v]) => `${k} ${v > 0 ? "+" : ""}${v}`).join(", ");
  setBeat(result.beat, { z: result.z, name: `sample · seed ${seed}${moved ? ` · ${moved}` : ""}` });
  state.steerSource = null; // The sliders now start from this beat as it is.
}

// The latent constraints: a new beat that plays what is asked, or the grid's beat edited to.
function constraintsText() {
  const text = $("#constraints").value.trim();
  if (!text) throw showError("Write what the beat should play, e.g. timekeeper=ride, no=toms.", 0);
  if (!(state.info && state.info.constraints)) {
    throw showError("This model has no latent constraints (groove-vae fit_constraints fits them).", 0);
  }
  return text;
}

async function constrainedNewBeat() {
  const constraints = constraintsText();
  const seed = Math.floor(Math.random() * 100000);
  const result = await api("/api/sample", { seed, temperature: 0.5, constraints,
                                            qpm: Number($("#qpm").value) || 120 });
  const missed = result.meets ? "" : " (none of 4 draws met it all)";
  setBeat(result.beat, { z: result.z, name: `sample · seed ${seed} · ${constraints}${missed}` });
  state.steerSource = null;
}

async function constrainedEdit() {
  const constraints = constraintsText();
  if (!state.beat.notes.length) throw showError("The grid is empty: make a beat first.", 0);
  const result = await api("/api/steer", { beat: state.beat, constraints, seed: 0 });
  setBeat(result.beat, { name: `${state.name} · ${constraints}` });
  state.steerSource = null;
}

// === Beat Blender ===
function renderCorner(index) {
  const element = document.querySelector(`.corner[data-corner="${index}"]`);
  const corner = state.corners[index];
  element.style.setProperty("--corner", CORNER_COLORS[index]);
  if (!element.firstChild) {
    element.innerHTML = `<p class="name"></p><canvas></canvas><div class="buttons">
      <button data-do="sample">Sample</button>
      <label class="file">Upload… <input type="file" accept=".mid,.midi,audio/midi"></label>
      <button data-do="grid" title="The beat on the grid becomes this corner">From grid</button></div>`;
    element.querySelector('[data-do="sample"]').onclick = action(() => sampleCorner(index));
    element.querySelector('[data-do="grid"]').onclick = action(() => cornerFromGrid(index));
    element.querySelector("input").onchange = action(async (event) => {
      const result = await uploadFile(event.target);
      if (result) setCorner(index, { beat: result.beat, z: result.z, label: result.name });
    });
  }
  element.querySelector(".name").innerHTML = corner ? `${escapeHtml(corner.label)}` : "<span>empty</span>";
  drawGrid(element.querySelector("canvas"), corner ? corner.beat : null, { labels: false });
}

function setCorner(index, corner) {
  state.corners[index] = corner;
  renderCorner(index);
  drawPad();
  if (state.corners.every(Boolean)) requestBlend();
}

async function sampleCorner(index, style = null) {
  const seed = Math.floor(Math.random() * 100000);
  const result = await api("/api/sample", { seed, style, temperature: 0.5, qpm: Number($("#qpm").value) || 120 });
  setCorner(index, { beat: result.beat, z: result.z, label: `${style || "sample"} · seed ${seed}` });
}

async function cornerFromGrid(index) {
  if (!state.beat.notes.length) throw showError("The grid is empty: make a beat first.", 0);
  const z = state.z || (await api("/api/encode", state.beat)).z;
  setCorner(index, { beat: state.beat, z, label: state.name });
}

async function fillCorners() {
  const styles = (state.info && state.info.styles) || [];
  for (let i = 0; i < 4; i++) {
    if (!state.corners[i]) await sampleCorner(i, styles.includes(CORNER_STYLES[i]) ? CORNER_STYLES[i] : null);
  }
}

let blendInFlight = false;
let blendPending = false;

// One request at a time; a point moved meanwhile is decoded when it returns.
async function requestBlend() {
  if (!state.corners.every(Boolean)) return;
  if (blendInFlight) { blendPending = true; return; }
  blendInFlight = true;
  try {
    const { x, y } = state.point;
    const result = await api("/api/blend", {
      corners: state.corners.map((c) => c.z), x, y, seed: 0,
      temperature: Number($("#blend-temperature").value), qpm: Number($("#qpm").value) || 120,
    });
    setBeat(result.beat, { z: result.z, name: `blend (${x.toFixed(2)}, ${y.toFixed(2)})`, remember: false });
  } catch (error) {
    if (!(error instanceof ApiError)) showError(String(error), 0);
  } finally {
    blendInFlight = false;
    if (blendPending) { blendPending = false; requestBlend(); }
  }
}

function drawPad() {
  const canvas = $("#pad");
  const ratio = window.devicePixelRatio || 1;
  const size = 300;
  canvas.width = size * ratio;
  canvas.height = size * ratio;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  // The corner colours mixed bilinearly, as the latents are.
  const rgb = CORNER_COLORS.map((hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)));
  const cells = 30;
  const step = size / cells;
  for (let i = 0; i < cells; i++) {
    for (let j = 0; j < cells; j++) {
      const x = (i + 0.5) / cells, y = (j + 0.5) / cells;
      const w = [(1 - x) * (1 - y), x * (1 - y), (1 - x) * y, x * y];
      const c = [0, 1, 2].map((k) => Math.round(0.42 * w.reduce((s, wk, n) => s + wk * rgb[n][k], 0) + 0.58 * 24));
      ctx.fillStyle = `rgb(${c.join(",")})`;
      ctx.fillRect(i * step, j * step, step + 0.5, step + 0.5);
    }
  }
  ctx.strokeStyle = "rgba(255,255,255,0.08)";
  for (let k = 1; k < 4; k++) {
    ctx.beginPath(); ctx.moveTo((k * size) / 4, 0); ctx.lineTo((k * size) / 4, size); ctx.stroke();
    ctx.beginPath(); ctx.moveTo(0, (k * size) / 4); ctx.lineTo(size, (k * size) / 4); ctx.stroke();
  }
  ctx.font = "600 11px system-ui, sans-serif";
  const spots = [[8, 16, "left"], [size - 8, 16, "right"], [8, size - 9, "left"], [size - 8, size - 9, "right"]];
  state.corners.forEach((corner, i) => {
    ctx.fillStyle = CORNER_COLORS[i];
    ctx.textAlign = spots[i][2];
    ctx.fillText(corner ? corner.label.split(" · ")[0] : "empty", spots[i][0], spots[i][1]);
  });
  const px = state.point.x * size, py = state.point.y * size;
  ctx.beginPath();
  ctx.arc(px, py, 11, 0, 2 * Math.PI);
  ctx.fillStyle = "rgba(255,255,255,0.92)";
  ctx.fill();
  ctx.lineWidth = 3;
  ctx.strokeStyle = "#0f1115";
  ctx.stroke();
  $("#blend-point").textContent = `(${state.point.x.toFixed(2)}, ${state.point.y.toFixed(2)})`;
}

function movePoint(x, y) {
  state.point = { x: Math.min(1, Math.max(0, x)), y: Math.min(1, Math.max(0, y)) };
  drawPad();
  requestBlend();
}

function setupPad() {
  const pad = $("#pad");
  const fromEvent = (event) => {
    const box = pad.getBoundingClientRect();
    movePoint((event.clientX - box.left) / box.width, (event.clientY - box.top) / box.height);
  };
  let dragging = false;
  pad.addEventListener("pointerdown", (event) => { dragging = true; pad.setPointerCapture(event.pointerId); fromEvent(event); });
  pad.addEventListener("pointermove", (event) => { if (dragging) fromEvent(event); });
  pad.addEventListener("pointerup", () => { dragging = false; });
  pad.addEventListener("keydown", (event) => {
    const moves = { ArrowLeft: [-0.05, 0], ArrowRight: [0.05, 0], ArrowUp: [0, -0.05], ArrowDown: [0, 0.05] };
    if (!moves[event.key]) return;
    event.preventDefault();
    movePoint(state.point.x + moves[event.key][0], state.point.y + moves[event.key][1]);
  });
}

// === Humanize and Drumify ===
async function uploadFile(input) {
  const file = input.files[0];
  input.value = "";
  if (!file) return null;
  const form = new FormData();
  form.append("file", file, file.name);
  const result = await api("/api/upload", form);
  return result;
}

async function uploadToGrid(input) {
  const result = await uploadFile(input);
  if (!result) return;
  const shown = result.beat.steps / 16;
  const more = result.bars > shown ? ` (the first ${shown} bars of ${result.bars})` : ` (${result.bars} bars)`;
  setBeat(result.beat, { z: result.z, name: result.name, message: `Loaded ${result.name}${more}.` });
}

async function humanize() {
  const seed = Number($("#humanize-seed").value) || 0;
  const result = await api("/api/humanize", { beat: state.beat, seed });
  setBeat(result.beat, { name: `${state.name}, humanized`, message: "Humanized: the same hits, played by the model." });
}

function flatten() {
  const notes = state.beat.notes.map((n) => ({ ...n, velocity: 0.8, offset: 0 }));
  setBeat({ ...state.beat, notes }, { name: `${state.name}, flattened` });
}

async function drumify() {
  const temperature = Number($("#drumify-temperature").value);
  const result = await api("/api/drumify", { beat: state.beat, temperature, seed: 0 });
  setBeat(result.beat, { name: "drumified", message: "Drumified: a full kit that follows the rhythm." });
}

// === Infill and Continue ===
function setupInfill() {
  const box = $("#infill-keep");
  box.textContent = "Keep:";
  LABELS.forEach((label, drum) => {
    const item = document.createElement("label");
    item.innerHTML = `<input type="checkbox" value="${drum}"${INFILL_KEEP.includes(drum) ? " checked" : ""}> ${label}`;
    box.appendChild(item);
  });
}

async function infill() {
  const keep = [...document.querySelectorAll("#infill-keep input:checked")].map((input) => Number(input.value));
  if (!keep.length) throw showError("Tick at least one drum to keep.", 0);
  if (keep.length === LABELS.length) throw showError("Every drum is kept: untick the ones the model should play.", 0);
  const body = { beat: state.beat, keep, temperature: Number($("#infill-temperature").value),
                 seed: Number($("#infill-seed").value) || 0 };
  const result = await api("/api/infill", body);
  const kept = keep.map((drum) => LABELS[drum].toLowerCase()).join(", ");
  // A groove the model hears as whole (a snare roll with no timekeeper) can come back with nothing added.
  const added = result.beat.notes.filter((note) => !keep.includes(note.drum)).length;
  const message = added
    ? `Infilled: ${kept} as they were, the rest played by the model.`
    : `The model added nothing: ${kept} already sound like a whole groove to it. Try another seed or a higher temperature.`;
  setBeat(result.beat, { name: `${state.name}, infilled`, message });
}

async function continueBeat() {
  const bars = Number($("#continue-bars").value);
  const body = { beat: state.beat, bars, seed: Number($("#continue-seed").value) || 0,
                 variation: Number($("#continue-variation").value), temperature: 0.5 };
  const result = await api("/api/continue", body);
  setBeat(result.beat, { name: `${state.name}, continued`, message: `Continued to ${bars} bars in the same groove.` });
}

const recording = { active: false, start: 0, taps: [] };

async function record() {
  if (recording.active) return;
  await ensureAudio();
  player.stop();
  const qpm = Number($("#qpm").value) || 120;
  const beatSeconds = 60 / qpm;
  const now = player.context.currentTime + 0.1;
  for (let beat = 0; beat < 20; beat++) player.click(now + beat * beatSeconds, beat % 4 === 0);
  Object.assign(recording, { active: true, start: now + 4 * beatSeconds, taps: [], qpm });
  $("#record").classList.add("recording");
  const end = recording.start + 16 * beatSeconds;
  const tick = () => {
    const t = player.context.currentTime;
    if (t < recording.start) {
      $("#record-status").textContent = `count-in… ${4 - Math.floor((t - now) / beatSeconds)}`;
    } else if (t < end) {
      $("#record-status").textContent = `recording bar ${1 + Math.floor((t - recording.start) / (4 * beatSeconds))} of 4 · ${recording.taps.length} taps`;
    } else {
      finishRecording();
      return;
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}

function tap() {
  const pad = $("#tap-pad");
  pad.classList.add("flash");
  setTimeout(() => pad.classList.remove("flash"), 80);
  if (recording.active && player.context) recording.taps.push(player.context.currentTime);
}

function finishRecording() {
  recording.active = false;
  $("#record").classList.remove("recording");
  const stepSeconds = 60 / recording.qpm / 4;
  const notes = new Map();
  for (const time of recording.taps) {
    const position = (time - recording.start) / stepSeconds;
    const step = Math.round(position);
    if (step < 0 || step >= 64) continue;
    notes.set(step, { step, drum: TAP_DRUM, velocity: 0.8, offset: Math.max(-1, Math.min(1, 2 * (position - step))) });
  }
  $("#record-status").textContent = `${notes.size} taps`;
  if (!notes.size) { showError("No taps were recorded: tap any key or the TAP pad while recording.", 0); return; }
  setBeat({ qpm: recording.qpm, steps: 64, notes: [...notes.values()] },
           { name: "tapped rhythm", message: "Your rhythm is on the grid: press Drumify." });
}

// === Playback and downloads ===
async function ensureAudio() {
  $("#sound-info").textContent = `Sound: ${await player.prepare()}.`;
}

async function togglePlay() {
  if (player.playing) {
    player.stop();
  } else {
    player.loop = $("#loop").checked;
    await player.start();
    $("#sound-info").textContent = `Sound: ${player.kitSource}.`;
    animate();
  }
  updatePlayButton();
}

function updatePlayButton() {
  $("#play").textContent = player.playing ? "■ Stop" : "▶ Play";
  $("#play").dataset.playing = String(player.playing);
  if (!player.playing) drawPlayhead($("#playhead"), null);
}

function animate() {
  if (!player.playing) { drawPlayhead($("#playhead"), null); return; }
  const position = player.position();
  drawPlayhead($("#playhead"), position, state.beat.steps);
  followPlayhead(position);
  $("#playhead").dataset.position = position === null ? "" : position.toFixed(2);
  requestAnimationFrame(animate);
}

// Keeps the playhead in view while a long beat plays: a page of the grid at a time.
function followPlayhead(position) {
  const scroller = $("#grid-scroll");
  if (position === null || scroller.scrollWidth <= scroller.clientWidth) return;
  const x = 88 + position * STEP_PIXELS;
  if (x < scroller.scrollLeft + 88 || x > scroller.scrollLeft + scroller.clientWidth - 40) {
    scroller.scrollLeft = Math.max(0, x - 88);
  }
}

async function download(kind) {
  const blob = await api(`/api/${kind}`, state.beat, { blob: true });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = `${slug(state.name)}.${kind === "midi" ? "mid" : "wav"}`;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  showInfo(`Downloaded ${link.download}.`);
}

const slug = (text) => text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "groove";
const escapeHtml = (text) => text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

// === Wiring ===
function selectTab(name) {
  showInfo("");
  for (const tab of document.querySelectorAll('[role="tab"]')) {
    const selected = tab.id === `tab-${name}`;
    tab.setAttribute("aria-selected", String(selected));
    $(`#${tab.getAttribute("aria-controls")}`).hidden = !selected;
  }
  if (name === "blend") {
    drawPad();
    state.corners.forEach((_, i) => renderCorner(i));
    action(async () => { await fillCorners(); })();
  }
}

function bindOutput(id) {
  const input = $(`#${id}`);
  const output = document.querySelector(`output[for="${id}"]`);
  const show = () => { output.textContent = Number(input.value).toFixed(input.step.includes(".0") ? 2 : 1); };
  input.addEventListener("input", show);
  show();
}

function debounce(run, ms) {
  let timer = null;
  return () => { clearTimeout(timer); timer = setTimeout(run, ms); };
}

async function start() {
  for (const id of ["strength", "temperature", "blend-temperature", "drumify-temperature", "infill-temperature",
                    "continue-variation"]) bindOutput(id);
  setupInfill();
  $("#steer-reset").onclick = action(async () => {
    for (const input of document.querySelectorAll("#steer-sliders input")) {
      input.value = "0";
      input.dispatchEvent(new Event("input"));
    }
  });
  $("#steer-new").onclick = action(steerNewBeat);
  $("#constraints-new").onclick = action(constrainedNewBeat);
  $("#constraints-edit").onclick = action(constrainedEdit);
  $("#infill").onclick = action(infill);
  $("#continue").onclick = action(continueBeat);
  for (const tab of document.querySelectorAll('[role="tab"]')) tab.onclick = () => selectTab(tab.id.slice(4));
  $("#sample").onclick = action(() => sample(true));
  $("#resample").onclick = action(() => sample(false));
  const again = debounce(action(() => sample(false)), 200);
  for (const id of ["#style", "#strength", "#temperature"]) $(id).addEventListener("change", again);
  $("#blend-temperature").addEventListener("change", () => requestBlend());
  $("#play").onclick = action(togglePlay);
  $("#loop").onchange = () => { player.loop = $("#loop").checked; };
  $("#qpm").onchange = () => {
    const qpm = Number($("#qpm").value);
    if (qpm >= 20 && qpm <= 400) { state.beat = { ...state.beat, qpm }; redraw(); }
  };
  $("#undo").onclick = () => {
    const previous = state.history.pop();
    if (previous) setBeat(previous.beat, { z: previous.z, name: previous.name, remember: false });
  };
  $("#download-midi").onclick = action(() => download("midi"));
  $("#download-wav").onclick = action(() => download("wav"));
  $("#grid").addEventListener("click", editCell);
  $("#humanize-file").onchange = action((event) => uploadToGrid(event.target));
  $("#drumify-file").onchange = action((event) => uploadToGrid(event.target));
  $("#humanize").onclick = action(humanize);
  $("#clear").onclick = () => setBeat({ ...state.beat, notes: [] }, { name: "empty" });
  $("#flatten").onclick = flatten;
  $("#drumify").onclick = action(drumify);
  $("#record").onclick = action(record);
  $("#tap-pad").addEventListener("pointerdown", (event) => { event.preventDefault(); tap(); });
  document.addEventListener("keydown", (event) => {
    const typing = ["INPUT", "SELECT", "TEXTAREA"].includes(event.target.tagName);
    if (recording.active && !event.repeat && !typing && !event.metaKey && !event.ctrlKey) {
      event.preventDefault();
      tap();
    } else if (event.key === " " && !typing && event.target.id !== "pad") {
      event.preventDefault();
      action(togglePlay)();
    }
  });
  window.addEventListener("resize", redraw);
  setupPad();
  redraw();

  state.info = await api("/api/info");
  const info = state.info;
  for (const style of info.styles) $("#style").add(new Option(style, style));
  $("#model-info").textContent = `${info.model} · ${info.styles.length} styles · `
    + `Drumify ${info.drumify.available ? "on" : "off"} · WAV ${info.fluidsynth ? "on" : "off (no FluidSynth)"}`;
  if (!info.drumify.available) {
    $("#drumify-notice").textContent = info.drumify.message;
    $("#drumify-notice").hidden = false;
  }
  if (!info.fluidsynth) $("#download-wav").title = "The server has no FluidSynth: no WAV.";
  setupSteer();
  document.body.dataset.ready = "true";
  await sample(false);
}

action(start)();
