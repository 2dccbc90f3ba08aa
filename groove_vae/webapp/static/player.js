// Plays a beat with Web Audio: one-shot samples per instrument (the server's General MIDI
// soundfont, rendered once by FluidSynth; synthesized drums when it has none), velocity
// as gain and microtiming in the schedule. A look-ahead scheduler reads the current beat
// every step, so a beat that changes while it loops is heard at once.

export const DRUMS = ["kick", "snare", "closed_hihat", "open_hihat", "low_tom", "mid_tom", "high_tom", "crash", "ride"];
const LOOKAHEAD = 0.15; // Seconds scheduled ahead of the audio clock.
const TIMER_MS = 25;

export class Player {
  // getBeat() returns the beat to play now; onStop() is called when playback ends.
  constructor(getBeat, onStop = () => {}) {
    this.getBeat = getBeat;
    this.onStop = onStop;
    this.context = null;
    this.kit = null;
    this.kitSource = null;
    this.playing = false;
    this.loop = true;
    this.sources = [];
    this.marks = []; // [step, time, step seconds] of scheduled steps, for the playhead.
  }

  // The audio context and the kit; call from a user gesture (browsers insist).
  async prepare() {
    if (!this.context) {
      this.context = new AudioContext();
      this.master = this.context.createGain();
      this.master.gain.value = 0.9;
      this.master.connect(this.context.destination);
    }
    await this.context.resume();
    if (!this.kit) await this.loadKit();
    return this.kitSource;
  }

  async start() {
    await this.prepare();
    this.stop(false);
    this.playing = true;
    this.step = 0;
    this.nextTime = this.context.currentTime + 0.08;
    this.marks = [];
    this.endTime = null;
    this.timer = setInterval(() => this.schedule(), TIMER_MS);
    this.schedule();
  }

  // Stops scheduling; `silence` also cuts the hits still ringing.
  stop(notify = true, silence = true) {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const wasPlaying = this.playing;
    this.playing = false;
    this.marks = [];
    if (silence) {
      for (const source of this.sources || []) {
        try { source.stop(); } catch (e) { /* already ended */ }
      }
      this.sources = [];
    }
    if (notify && wasPlaying) this.onStop();
  }

  // The step under the playhead (fractional), or null when stopped.
  position() {
    if (!this.playing || !this.context) return null;
    const now = this.context.currentTime;
    let current = null;
    for (const mark of this.marks) if (mark[1] <= now) current = mark;
    if (!current) return null;
    return current[0] + Math.min(1, (now - current[1]) / current[2]);
  }

  schedule() {
    const context = this.context;
    const beat = this.getBeat();
    const steps = beat.steps || 64;
    const stepSeconds = 60 / beat.qpm / 4;
    const byStep = new Map();
    for (const note of beat.notes) {
      if (!byStep.has(note.step)) byStep.set(note.step, []);
      byStep.get(note.step).push(note);
    }
    const horizon = context.currentTime + Math.max(LOOKAHEAD, stepSeconds);
    if (this.endTime !== null) {
      if (context.currentTime > this.endTime) this.stop(true, false);
      return;
    }
    while (this.nextTime < horizon) {
      for (const note of byStep.get(this.step) || []) {
        const when = Math.max(context.currentTime, this.nextTime + (note.offset / 2) * stepSeconds);
        this.hit(note.drum, note.velocity, when);
      }
      this.marks.push([this.step, this.nextTime, stepSeconds]);
      if (this.marks.length > 64) this.marks.shift();
      this.nextTime += stepSeconds;
      this.step += 1;
      if (this.step >= steps) {
        this.step = 0;
        if (!this.loop) {
          this.endTime = this.nextTime;
          return;
        }
      }
    }
  }

  hit(drum, velocity, when) {
    const source = this.context.createBufferSource();
    source.buffer = this.kit[drum];
    const gain = this.context.createGain();
    gain.gain.value = velocity * velocity; // FluidSynth's default velocity curve, roughly.
    source.connect(gain).connect(this.master);
    if (drum === 2 && this.openHat) { // A closed hi-hat chokes the open one.
      try { this.openHat.stop(when); } catch (e) { /* already ended */ }
    }
    if (drum === 3) this.openHat = source;
    source.start(when);
    this.sources.push(source);
    source.onended = () => { this.sources = this.sources.filter((s) => s !== source); };
  }

  async loadKit() {
    try {
      const buffers = await Promise.all(DRUMS.map(async (name) => {
        const response = await fetch(`/api/sounds/${name}.wav`);
        if (!response.ok) throw new Error((await response.json()).error);
        return await this.context.decodeAudioData(await response.arrayBuffer());
      }));
      this.kit = buffers;
      this.kitSource = "General MIDI soundfont (FluidSynth)";
    } catch (error) {
      this.kit = synthesizeKit(this.context);
      this.kitSource = "synthesized drums";
    }
    return this.kitSource;
  }

  // A short metronome click (count-in and tap recording).
  click(when, accent) {
    const osc = this.context.createOscillator();
    const gain = this.context.createGain();
    osc.frequency.value = accent ? 1760 : 1320;
    gain.gain.setValueAtTime(0.25, when);
    gain.gain.exponentialRampToValueAtTime(0.001, when + 0.05);
    osc.connect(gain).connect(this.master);
    osc.start(when);
    osc.stop(when + 0.06);
  }
}

// Drums made from sines and noise, for a server without FluidSynth.
export function synthesizeKit(context) {
  const rate = context.sampleRate;
  const make = (seconds, fill) => {
    const buffer = context.createBuffer(1, Math.round(seconds * rate), rate);
    const data = buffer.getChannelData(0);
    let phase = 0, previous = 0;
    for (let i = 0; i < data.length; i++) {
      const t = i / rate;
      const noise = Math.random() * 2 - 1;
      const bright = noise - previous; // A crude high-pass: cymbals and hats.
      previous = noise;
      const out = fill(t, noise, bright, (freq) => { phase += 2 * Math.PI * freq / rate; return Math.sin(phase); });
      data[i] = Math.max(-1, Math.min(1, out));
    }
    return buffer;
  };
  const tom = (base) => make(0.45, (t, n, b, sine) => 0.9 * sine(base * (1 + 0.6 * Math.exp(-t / 0.04))) * Math.exp(-t / 0.16));
  const metal = [517, 809, 1337, 2103, 3211];
  return [
    make(0.5, (t, n, b, sine) => sine(45 + 110 * Math.exp(-t / 0.03)) * Math.exp(-t / 0.18)),
    make(0.3, (t, n, b, sine) => 0.7 * n * Math.exp(-t / 0.07) + 0.5 * sine(185) * Math.exp(-t / 0.04)),
    make(0.09, (t, n, b) => 0.6 * b * Math.exp(-t / 0.018)),
    make(0.6, (t, n, b) => 0.5 * b * Math.exp(-t / 0.16)),
    tom(85), tom(115), tom(155),
    make(1.6, (t, n, b) => 0.5 * b * Math.exp(-t / 0.5)),
    make(1.2, (t, n, b) => (0.18 * b + 0.08 * metal.reduce((s, f) => s + Math.sin(2 * Math.PI * f * t), 0)) * Math.exp(-t / 0.4)),
  ];
}
