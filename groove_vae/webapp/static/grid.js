// The drum grid: 9 instruments x 64 steps, kick at the bottom as drum editors draw it.
// Velocity is the shade (soft hits are dim, loud ones bright); microtiming shifts a hit
// off its grid line, and a tick marks the grid line it belongs to.

export const LABELS = ["Kick", "Snare", "Closed hat", "Open hat", "Low tom", "Mid tom", "High tom", "Crash", "Ride"];
const HUES = [14, 32, 48, 58, 150, 165, 180, 205, 225]; // Drums warm, toms green, cymbals blue.
const COLORS = {
  background: "#15171c", beatShade: "#1b1e25", row: "#23272f", step: "#262a33", beat: "#3a404c",
  bar: "#6b7383", label: "#b9bec7", header: "#8b919c", tick: "rgba(255,255,255,0.55)",
};

export function hitColor(drum, velocity) {
  const v = Math.max(0, Math.min(1, velocity));
  return `hsla(${HUES[drum]}, 85%, ${28 + 42 * v}%, ${0.35 + 0.65 * v})`;
}

// Geometry of a grid drawn into a canvas of CSS size (width, height).
export function layout(width, height, steps, { labels = true } = {}) {
  const labelWidth = labels ? 88 : 0;
  const header = labels ? 18 : 0;
  const rows = LABELS.length;
  return {
    labelWidth, header, steps, rows,
    cell: (width - labelWidth - 2) / steps,
    rowHeight: (height - header) / rows,
  };
}

function prepare(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || canvas.width;
  const height = canvas.clientHeight || canvas.height;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  return { ctx, width, height };
}

export function drawGrid(canvas, beat, options = {}) {
  const { ctx, width, height } = prepare(canvas);
  const steps = (beat && beat.steps) || 64;
  const g = layout(width, height, steps, options);
  const x0 = g.labelWidth;
  ctx.fillStyle = COLORS.background;
  ctx.fillRect(0, 0, width, height);

  // Every other beat shaded, then 16th, beat and bar lines.
  ctx.fillStyle = COLORS.beatShade;
  for (let step = 4; step < steps; step += 8) ctx.fillRect(x0 + step * g.cell, g.header, 4 * g.cell, height - g.header);
  for (let row = 1; row < g.rows; row++) {
    ctx.fillStyle = COLORS.row;
    ctx.fillRect(x0, g.header + row * g.rowHeight, steps * g.cell, 1);
  }
  for (let step = 0; step <= steps; step++) {
    const bar = step % 16 === 0;
    ctx.fillStyle = bar ? COLORS.bar : step % 4 === 0 ? COLORS.beat : COLORS.step;
    ctx.fillRect(Math.round(x0 + step * g.cell), g.header, bar ? 2 : 1, height - g.header);
  }
  if (options.labels !== false) {
    ctx.font = "12px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    ctx.fillStyle = COLORS.header;
    for (let step = 0; step < steps; step += 4) {
      const bar = Math.floor(step / 16) + 1;
      const label = step % 16 === 0 ? `${bar}` : `${bar}.${(step % 16) / 4 + 1}`;
      ctx.fillStyle = step % 16 === 0 ? COLORS.label : COLORS.header;
      ctx.fillText(label, x0 + step * g.cell + 4, g.header / 2 + 1);
    }
    for (let drum = 0; drum < g.rows; drum++) {
      const y = g.header + (g.rows - 1 - drum) * g.rowHeight;
      ctx.fillStyle = `hsl(${HUES[drum]}, 70%, 62%)`;
      ctx.fillRect(6, y + g.rowHeight / 2 - 4, 8, 8);
      ctx.fillStyle = COLORS.label;
      ctx.fillText(LABELS[drum], 20, y + g.rowHeight / 2 + 1);
    }
  }

  // Hits: a bar as wide as 70% of a step, centred on its played time.
  const notes = (beat && beat.notes) || [];
  const width70 = Math.max(2, g.cell * 0.7);
  const inset = Math.max(1, g.rowHeight * 0.14);
  for (const note of notes) {
    const y = g.header + (g.rows - 1 - note.drum) * g.rowHeight;
    const centre = x0 + (note.step + 0.5 + note.offset / 2) * g.cell;
    ctx.fillStyle = hitColor(note.drum, note.velocity);
    roundRect(ctx, centre - width70 / 2, y + inset, width70, g.rowHeight - 2 * inset, Math.min(3, width70 / 3));
    if (options.labels !== false && Math.abs(note.offset) > 0.02) {
      // A hit off the grid: a tick through it marks its grid position (right of the hit's
      // centre when it is early, left when late) and a line under it spans the shift.
      const grid = x0 + (note.step + 0.5) * g.cell;
      ctx.fillStyle = COLORS.tick;
      ctx.fillRect(grid - 0.5, y + inset + 2, 1, g.rowHeight - 2 * inset);
      ctx.fillRect(Math.min(grid, centre), y + g.rowHeight - inset + 1, Math.max(1, Math.abs(centre - grid)), 1.5);
    }
  }
  return g;
}

function roundRect(ctx, x, y, w, h, r) {
  ctx.beginPath();
  ctx.moveTo(x + r, y);
  ctx.arcTo(x + w, y, x + w, y + h, r);
  ctx.arcTo(x + w, y + h, x, y + h, r);
  ctx.arcTo(x, y + h, x, y, r);
  ctx.arcTo(x, y, x + w, y, r);
  ctx.closePath();
  ctx.fill();
}

// The cell under a point (CSS pixels within the canvas), or null outside the hits area.
export function cellAt(canvas, beat, x, y) {
  const g = layout(canvas.clientWidth, canvas.clientHeight, (beat && beat.steps) || 64);
  const step = Math.floor((x - g.labelWidth) / g.cell);
  const row = Math.floor((y - g.header) / g.rowHeight);
  if (step < 0 || step >= g.steps || row < 0 || row >= g.rows) return null;
  return { step, drum: g.rows - 1 - row };
}

// The playhead, on a transparent canvas laid over the grid; position in steps, or null.
export function drawPlayhead(canvas, position, steps = 64) {
  const { ctx, width, height } = prepare(canvas);
  ctx.clearRect(0, 0, width, height);
  if (position === null) return;
  const g = layout(width, height, steps);
  const x = g.labelWidth + position * g.cell;
  ctx.fillStyle = "rgba(255, 200, 120, 0.13)";
  ctx.fillRect(g.labelWidth + Math.floor(position) * g.cell, g.header, g.cell, height - g.header);
  ctx.fillStyle = "rgba(255, 214, 150, 0.9)";
  ctx.fillRect(x - 1, g.header, 2, height - g.header);
}
