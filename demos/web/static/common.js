// What both pages share: loading slope's engine (slope.js, the engine compiled to
// WebAssembly) and drawing on a canvas. Nothing here computes an activation, a loss or a
// gradient: every number drawn comes from the engine.
'use strict';

// The engine, once loaded.
const slopeEngine = createSlope();

// Runs page(engine) once the engine has loaded and shows the line it returns in #status,
// or why the engine or the page failed; then marks the body ready (the browser test waits).
function startPage(page) {
  const status = document.getElementById('status');
  slopeEngine.then((engine) => {
    status.textContent = page(engine);
    status.classList.add('ok');
    document.body.dataset.ready = 'true';
  }).catch((e) => {
    status.textContent = 'the engine failed to load: ' + e;
    status.classList.add('bad');
    throw e;
  });
}

// The catalogue with the lesson's four activations first (the engine's list, the one the
// demos use), then every other registered one in catalogue order.
function lessonOrder(engine) {
  const catalogue = engine.catalogue(), four = engine.lessonActivations();
  const first = four.map((n) => catalogue.find((a) => a.name === n)).filter(Boolean);
  return first.concat(catalogue.filter((a) => !four.includes(a.name)));
}

// A number short enough to read: 4 significant digits, exponent form when tiny or huge.
function fmt(x, digits = 4) {
  if (x === undefined || x === null || Number.isNaN(x)) return 'n/a';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a < 1e-3 || a >= 1e5) return x.toExponential(digits - 2);
  return String(Number(x.toPrecision(digits)));
}

// A canvas sized to its CSS box at the screen's pixel ratio; returns its 2-D context in
// CSS pixels.
function fitCanvas(canvas) {
  const r = canvas.getBoundingClientRect();
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(r.width * dpr));
  const h = Math.max(1, Math.round(r.height * dpr));
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return { ctx, width: r.width, height: r.height };
}

// "Nice" tick positions covering [lo, hi], about `count` of them.
function ticks(lo, hi, count = 6) {
  const span = hi - lo;
  if (!(span > 0)) return [lo];
  const raw = span / count;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const out = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step)
    out.push(Math.abs(t) < step * 1e-9 ? 0 : t);
  return out;
}

// Ticks of a log10 axis over [lo, hi] (in log10 units): the powers of ten, thinned to about
// `count`; where fewer than two powers fall inside, 1, 2 and 5 times them; in a range
// narrower still, evenly spaced values.
function logTicks(lo, hi, count = 6) {
  const powers = [];
  for (let k = Math.ceil(lo); k <= Math.floor(hi); k++) powers.push(k);
  if (powers.length >= 2) {
    const every = Math.ceil(powers.length / count);
    return powers.filter((k) => k % every === 0);
  }
  const out = [];
  for (let k = Math.floor(lo); k <= Math.ceil(hi); k++)
    for (const m of [1, 2, 5]) {
      const t = k + Math.log10(m);
      if (t >= lo && t <= hi) out.push(t);
    }
  if (out.length >= 2) return out;
  // a narrow range: evenly spaced values, placed on the log axis
  return ticks(Math.pow(10, lo), Math.pow(10, hi), count).filter((v) => v > 0).map(Math.log10);
}

// A plot frame: maps data to canvas pixels inside margins and draws axes with labels.
class Frame {
  constructor(box, xr, yr, margin = { l: 48, r: 12, t: 12, b: 34 }) {
    Object.assign(this, { box, xr, yr, m: margin });
    this.w = box.width - margin.l - margin.r;
    this.h = box.height - margin.t - margin.b;
  }
  px(x) { return this.m.l + ((x - this.xr[0]) / (this.xr[1] - this.xr[0])) * this.w; }
  py(y) { return this.m.t + (1 - (y - this.yr[0]) / (this.yr[1] - this.yr[0])) * this.h; }
  x(px) { return this.xr[0] + ((px - this.m.l) / this.w) * (this.xr[1] - this.xr[0]); }
  y(py) { return this.yr[0] + (1 - (py - this.m.t) / this.h) * (this.yr[1] - this.yr[0]); }

  // Axes at the frame's edges (never through the origin, so labels cannot collide there),
  // a light grid, tick labels, and axis titles. `log` labels the y axis as powers of ten.
  axes(ctx, xlabel, ylabel, { log = false, zeroLines = false } = {}) {
    ctx.save();
    ctx.font = '11px system-ui, sans-serif';
    ctx.fillStyle = '#444';
    ctx.strokeStyle = '#e3e3e3';
    ctx.lineWidth = 1;
    const xt = ticks(this.xr[0], this.xr[1], Math.max(2, Math.floor(this.w / 70)));
    const yt = log
      ? logTicks(this.yr[0], this.yr[1], Math.max(2, Math.floor(this.h / 30)))
      : ticks(this.yr[0], this.yr[1], Math.max(2, Math.floor(this.h / 35)));
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    for (const t of xt) {
      const p = this.px(t);
      ctx.beginPath(); ctx.moveTo(p, this.m.t); ctx.lineTo(p, this.m.t + this.h); ctx.stroke();
      ctx.fillText(fmt(t, 3), p, this.m.t + this.h + 4);
    }
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    const powers = yt.every(Number.isInteger); // label 1e-4, 1e-2, ...; else the values
    for (const t of yt) {
      const p = this.py(t);
      ctx.beginPath(); ctx.moveTo(this.m.l, p); ctx.lineTo(this.m.l + this.w, p); ctx.stroke();
      ctx.fillText(log ? (powers ? '1e' + t : fmt(Math.pow(10, t), 3)) : fmt(t, 3), this.m.l - 4, p);
    }
    if (zeroLines) {
      ctx.strokeStyle = '#9a9a9a';
      if (this.xr[0] < 0 && this.xr[1] > 0) {
        ctx.beginPath(); ctx.moveTo(this.px(0), this.m.t); ctx.lineTo(this.px(0), this.m.t + this.h); ctx.stroke();
      }
      if (this.yr[0] < 0 && this.yr[1] > 0) {
        ctx.beginPath(); ctx.moveTo(this.m.l, this.py(0)); ctx.lineTo(this.m.l + this.w, this.py(0)); ctx.stroke();
      }
    }
    ctx.strokeStyle = '#777';
    ctx.strokeRect(this.m.l, this.m.t, this.w, this.h);
    ctx.fillStyle = '#222';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'bottom';
    ctx.fillText(xlabel, this.m.l + this.w / 2, this.box.height - 2);
    ctx.save();
    ctx.translate(11, this.m.t + this.h / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = 'middle';
    ctx.fillText(ylabel + (log ? ' (log scale)' : ''), 0, 0);
    ctx.restore();
    ctx.restore();
  }

  // A polyline through (xs[i], ys[i]), clipped to the frame; non-finite points break it.
  line(ctx, xs, ys, colour, width = 2, alpha = 1, dash = []) {
    ctx.save();
    ctx.beginPath();
    ctx.rect(this.m.l, this.m.t, this.w, this.h);
    ctx.clip();
    ctx.strokeStyle = colour;
    ctx.globalAlpha = alpha;
    ctx.lineWidth = width;
    ctx.setLineDash(dash);
    ctx.beginPath();
    let pen = false;
    for (let i = 0; i < xs.length; i++) {
      if (!Number.isFinite(ys[i])) { pen = false; continue; }
      const X = this.px(xs[i]), Y = this.py(ys[i]);
      if (pen) ctx.lineTo(X, Y); else ctx.moveTo(X, Y);
      pen = true;
    }
    ctx.stroke();
    ctx.restore();
  }
}

// A legend in its own strip (an HTML element), never over a plot.
function legend(el, items) {
  const key = JSON.stringify(items);
  if (el.dataset.key === key) return; // unchanged: keep the DOM as it is
  el.dataset.key = key;
  el.replaceChildren(...items.map(({ label, colour, dash, faint }) => {
    const s = document.createElement('span');
    s.className = 'key';
    const sw = document.createElement('i');
    sw.style.borderTopColor = colour;
    if (dash) sw.style.borderTopStyle = 'dashed';
    if (faint) sw.style.opacity = 0.45;
    s.append(sw, document.createTextNode(label));
    return s;
  }));
}
