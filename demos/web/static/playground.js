// Page 2: the deep-stack playground. The engine trains (slope-curves' run, one step per
// call); this file only keeps what each step reported and draws it.
'use strict';

startPage((engine) => {
  const $ = (id) => document.getElementById(id);
  const catalogue = lessonOrder(engine);
  const optimizers = engine.optimizers();
  const CLASS_COLOURS = ['#2166ac', '#d6604d', '#1b7837', '#762a83', '#e08214'];
  const GRID = 32; // the decision boundary's resolution
  const BOUNDARY_EVERY_MS = 300; // its refresh while playing (it costs a forward pass of 1024 points)

  // --- settings: the form and the address -------------------------------------------------
  const FIELDS = {
    data: { el: 'data', type: 'string', def: 'moons' },
    samples: { el: 'samples', type: 'number', def: 200 },
    act: { el: 'act', type: 'string', def: 'relu' },
    depth: { el: 'depth', type: 'number', def: 4 },
    width: { el: 'width', type: 'number', def: 16 },
    init: { el: 'init', type: 'string', def: 'xavier_uniform' },
    bias: { el: 'bias', type: 'number', def: 0 },
    optim: { el: 'optim', type: 'string', def: 'adam' },
    lr: { el: 'lr', type: 'number', def: null }, // null: the optimizer's default
    seed: { el: 'seed', type: 'number', def: 1 },
  };
  const fill = (sel, names) => sel.replaceChildren(...names.map((n) => new Option(n, n)));
  fill($('data'), engine.dataNames());
  fill($('act'), catalogue.map((a) => a.name));
  fill($('optim'), optimizers.map((o) => o.name));
  $('inits').replaceChildren(...engine.initNames().map((n) => new Option(n.replace('(std)', '(0.1)'))));
  const defaultLr = (optim) => (optimizers.find((o) => o.name === optim) || optimizers[0]).lr;

  function readUrl() {
    const q = new URLSearchParams(location.search);
    for (const [key, f] of Object.entries(FIELDS)) {
      const v = q.has(key) ? q.get(key) : f.def;
      $(f.el).value = v === null ? defaultLr($('optim').value) : v;
    }
    if (!q.has('lr')) $('lr').value = defaultLr($('optim').value);
  }
  function settings() {
    const s = {};
    for (const [key, f] of Object.entries(FIELDS))
      s[key] = f.type === 'number' ? Number($(f.el).value) : $(f.el).value.trim();
    return s;
  }
  function writeUrl(s) {
    const q = new URLSearchParams();
    for (const [key, v] of Object.entries(s)) q.set(key, String(v));
    history.replaceState(null, '', '?' + q.toString());
  }

  // --- the run -------------------------------------------------------------------------------
  let run = null; // {settings, points, extent, history, last, boundary}
  const speed = { steps: 0, since: 0, perSecond: 0 };

  function reset() {
    pause();
    const s = settings();
    writeUrl(s);
    const started = engine.start({
      data: s.data, samples: s.samples, activation: s.act, depth: s.depth, width: s.width,
      init: s.init, bias: s.bias, optim: s.optim, lr: s.lr, seed: s.seed,
    });
    $('error').textContent = started.error || '';
    if (started.error) {
      run = null;
      $('play').disabled = $('step').disabled = true;
      draw();
      return;
    }
    $('play').disabled = $('step').disabled = false;
    const points = engine.points();
    const xs = [...points.train.x, ...points.test.x];
    const ext = (k) => {
      const v = xs.filter((_, i) => i % 2 === k);
      const lo = Math.min(...v), hi = Math.max(...v), pad = 0.1 * (hi - lo) + 0.1;
      return [lo - pad, hi + pad];
    };
    run = {
      settings: s,
      act: catalogue.find((a) => a.name === s.act),
      points,
      extent: { x: ext(0), y: ext(1) },
      history: { step: [], trainLoss: [], testLoss: [], trainAccuracy: [], testAccuracy: [] },
      last: null,
      boundary: null,
      boundaryAt: 0,
    };
    step(); // step 0's measurements, so every view has something to show
    updateBoundary();
    draw();
  }

  // One optimizer step (the report describes the parameters before it).
  function step() {
    if (!run || (run.last && run.last.diverged)) return false;
    const r = engine.step();
    if (r.error) {
      $('error').textContent = r.error;
      pause();
      return false;
    }
    const h = run.history;
    h.step.push(r.step);
    h.trainLoss.push(r.trainLoss);
    h.testLoss.push(r.testLoss);
    h.trainAccuracy.push(r.trainAccuracy);
    h.testAccuracy.push(r.testAccuracy);
    run.last = r;
    speed.steps++;
    if (r.diverged) {
      $('error').textContent = 'The run ' + r.diverged + '. Reset, or lower the learning rate.';
      pause();
      return false;
    }
    return true;
  }

  function updateBoundary() {
    if (!run) return;
    const { x, y } = run.extent;
    run.boundary = engine.predictGrid(GRID, x[0], x[1], y[0], y[1]);
    run.boundaryAt = performance.now();
  }

  // --- Play / Pause / Step / Reset ---------------------------------------------------------------
  let playing = false;
  // Running averages of one step's and one redraw's cost. Each animation frame trains for
  // most of the frame; the views redraw every other frame (30 per second is live enough for
  // curves and bars, and leaves the engine twice the time).
  const cost = { step: 5, draw: 5 };
  const average = (key, ms) => { cost[key] = 0.8 * cost[key] + 0.2 * ms; };
  let lastDraw = 0;
  function frame() {
    if (!playing) return;
    const t0 = performance.now();
    const drawNow = t0 - lastDraw >= 30;
    const budget = 14 - (drawNow ? cost.draw : 0);
    let t = t0;
    do {
      const ok = step();
      const now = performance.now();
      average('step', now - t);
      t = now;
      if (!ok) break;
    } while (t - t0 + cost.step < budget);
    if (drawNow) {
      if (t - run.boundaryAt > BOUNDARY_EVERY_MS) updateBoundary();
      const d0 = performance.now();
      draw(d0 - lastTable > 250);
      lastDraw = performance.now();
      average('draw', lastDraw - d0);
    }
    const now = performance.now();
    if (now - speed.since >= 1000) {
      speed.perSecond = (speed.steps * 1000) / (now - speed.since);
      speed.steps = 0;
      speed.since = now;
    }
    if (playing) requestAnimationFrame(frame);
  }
  function play() {
    if (!run || playing) return;
    playing = true;
    speed.steps = 0;
    speed.since = performance.now();
    $('play').disabled = true;
    $('pause').disabled = false;
    requestAnimationFrame(frame);
  }
  function pause() {
    if (playing) requestAnimationFrame(() => draw());
    playing = false;
    $('play').disabled = !run;
    $('pause').disabled = true;
  }
  $('play').addEventListener('click', play);
  $('pause').addEventListener('click', pause);
  $('step').addEventListener('click', () => {
    pause();
    step();
    updateBoundary();
    draw();
  });
  $('reset').addEventListener('click', reset);
  $('optim').addEventListener('change', () => { $('lr').value = defaultLr($('optim').value); });
  for (const f of Object.values(FIELDS)) $(f.el).addEventListener('change', reset);
  window.addEventListener('resize', () => draw());

  // --- drawing -----------------------------------------------------------------------------------
  function clear(id) {
    const box = fitCanvas($(id));
    box.ctx.clearRect(0, 0, box.width, box.height);
    return box;
  }

  function drawCurves(id, legendId, train, test, label, log) {
    const box = clear(id);
    if (!run || run.history.step.length === 0) return;
    const h = run.history;
    const tf = (v) => (log ? Math.log10(Math.max(v, 1e-12)) : v);
    const a = train.map(tf), b = test.map(tf);
    const finite = [...a, ...b].filter(Number.isFinite);
    let lo = Math.min(...finite), hi = Math.max(...finite);
    if (!log) { lo = Math.min(lo, 0); hi = Math.max(hi, 1); }
    if (log && hi - lo < 0.3) { const mid = (lo + hi) / 2; lo = mid - 0.15; hi = mid + 0.15; }
    const f = new Frame(box, [0, Math.max(1, h.step[h.step.length - 1])], [lo, hi],
      { l: 56, r: 10, t: 8, b: 34 });
    f.axes(box.ctx, 'step', label, { log });
    const c = run.act.colour;
    f.line(box.ctx, h.step, b, c, 2, 0.9, [5, 3]);
    f.line(box.ctx, h.step, a, c, 2);
    legend($(legendId), [
      { label: `train (${run.act.name})`, colour: c },
      { label: 'test', colour: c, dash: true },
    ]);
  }

  function mix(probs, k, classes) {
    let r = 0, g = 0, b = 0;
    for (let c = 0; c < classes; c++) {
      const hex = CLASS_COLOURS[c % CLASS_COLOURS.length];
      const p = probs[k * classes + c];
      r += p * parseInt(hex.slice(1, 3), 16);
      g += p * parseInt(hex.slice(3, 5), 16);
      b += p * parseInt(hex.slice(5, 7), 16);
    }
    const light = (v) => Math.round(255 - 0.45 * (255 - v)); // pale, so the points show
    return [light(r), light(g), light(b)];
  }

  function drawBoundary() {
    const box = clear('boundary');
    if (!run || !run.boundary || run.boundary.error) return;
    const { x, y } = run.extent;
    const f = new Frame(box, x, y, { l: 44, r: 10, t: 8, b: 34 });
    const classes = run.points.classes;
    const img = new ImageData(GRID, GRID);
    for (let i = 0; i < GRID; i++) // grid row i is y0 + i * dy: the image's bottom row
      for (let j = 0; j < GRID; j++) {
        const [r, g, b] = mix(run.boundary, i * GRID + j, classes);
        const o = ((GRID - 1 - i) * GRID + j) * 4;
        img.data.set([r, g, b, 255], o);
      }
    const off = new OffscreenCanvas(GRID, GRID);
    off.getContext('2d').putImageData(img, 0, 0);
    const ctx = box.ctx;
    ctx.imageSmoothingEnabled = true;
    // each grid value sits at a cell centre: stretch so the centres land on the grid's points
    const cw = f.w / (GRID - 1), ch = f.h / (GRID - 1);
    ctx.save();
    ctx.beginPath();
    ctx.rect(f.m.l, f.m.t, f.w, f.h);
    ctx.clip();
    ctx.drawImage(off, f.m.l - cw / 2, f.m.t - ch / 2, f.w + cw, f.h + ch);
    ctx.restore();
    f.axes(ctx, 'x1', 'x2');
    const dots = (set, hollow) => {
      for (let i = 0; i < set.y.length; i++) {
        ctx.beginPath();
        ctx.arc(f.px(set.x[2 * i]), f.py(set.x[2 * i + 1]), 3.2, 0, 2 * Math.PI);
        const c = CLASS_COLOURS[set.y[i] % CLASS_COLOURS.length];
        if (hollow) { ctx.strokeStyle = c; ctx.lineWidth = 1.5; ctx.stroke(); }
        else { ctx.fillStyle = c; ctx.fill(); ctx.strokeStyle = '#fff'; ctx.lineWidth = 0.8; ctx.stroke(); }
      }
    };
    dots(run.points.train, false);
    dots(run.points.test, true);
    legend($('boundary-legend'), [
      ...Array.from({ length: classes }, (_, c) => ({ label: `class ${c}`, colour: CLASS_COLOURS[c] })),
      { label: '● train  ○ test; shade: the model’s class probabilities', colour: 'transparent' },
    ]);
  }

  // Bars of log10(values[l]) for layers 1..L, with optional reference marks per layer.
  function drawBars(id, values, label, colour, refs, refLine) {
    const box = clear(id);
    if (!values) return;
    const L = values.length;
    const logs = Array.from(values, (v) => (v > 0 ? Math.log10(v) : NaN));
    const all = [...logs, ...(refs || []).map((v) => Math.log10(v)), ...(refLine ? [Math.log10(refLine)] : [])]
      .filter(Number.isFinite);
    if (!logs.some(Number.isFinite)) { // every value 0: say so rather than draw empty axes
      box.ctx.fillStyle = '#b2182b';
      box.ctx.font = '13px system-ui, sans-serif';
      box.ctx.textAlign = 'center';
      box.ctx.fillText(`every layer's value is 0: no gradient reaches the weights`, box.width / 2, box.height / 2);
      box.ctx.fillText('(every path from the loss runs through a dead unit)', box.width / 2, box.height / 2 + 18);
      return;
    }
    const lo = Math.floor(Math.min(...all)) - 0.5, hi = Math.ceil(Math.max(...all)) + 0.2;
    const f = new Frame(box, [0.5, L + 0.5], [lo, hi], { l: 56, r: 10, t: 8, b: 34 });
    f.axes(box.ctx, 'layer l (1 = nearest the input)', label, { log: true });
    const ctx = box.ctx;
    const bw = Math.max(2, (f.w / L) * 0.7);
    for (let l = 0; l < L; l++) {
      if (!Number.isFinite(logs[l])) continue;
      ctx.fillStyle = colour;
      const top = f.py(logs[l]);
      ctx.fillRect(f.px(l + 1) - bw / 2, top, bw, f.m.t + f.h - top);
      if (refs) {
        ctx.strokeStyle = '#222';
        ctx.lineWidth = 2;
        const y = f.py(Math.log10(refs[l]));
        ctx.beginPath(); ctx.moveTo(f.px(l + 1) - bw / 2 - 2, y); ctx.lineTo(f.px(l + 1) + bw / 2 + 2, y); ctx.stroke();
      }
    }
    if (refLine) f.line(ctx, [0.5, L + 0.5], [Math.log10(refLine), Math.log10(refLine)], '#222', 1.5, 1, [5, 3]);
  }

  // The 0.25^(L-l) reference: the last layer's norm times sigmoid's slope bound per layer between.
  function reference(grad) {
    const L = grad.length;
    const sig = catalogue.find((a) => a.name === 'sigmoid').maxSlope;
    return Array.from(grad, (_, i) => grad[L - 1] * Math.pow(sig, L - 1 - i));
  }

  function drawUnits() {
    if (run && run.last) // as tall as the grid needs
      $('units').style.height = Math.min(300, 22 * run.last.dead.length + 44) + 'px';
    const box = clear('units');
    if (!run || !run.last) return;
    const dead = run.last.dead;
    const ctx = box.ctx;
    const layers = dead.length, width = run.settings.width;
    const m = { l: 56, t: 8, r: 10, b: 34 };
    const cw = Math.min(22, (box.width - m.l - m.r) / width), ch = Math.min(22, (box.height - m.t - m.b) / layers);
    let deadCount = 0;
    ctx.font = '11px system-ui, sans-serif';
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (let l = 0; l < layers; l++) {
      const y = m.t + (layers - 1 - l) * ch; // layer 1 at the bottom, as data flows up
      if (layers <= 16 || l % 4 === 0 || l === layers - 1) { ctx.fillStyle = '#444'; ctx.fillText(`layer ${l + 1}`, m.l - 4, y + ch / 2); }
      for (let u = 0; u < dead[l].length; u++) {
        const x = m.l + u * cw;
        const d = dead[l][u] === 1;
        deadCount += d;
        ctx.fillStyle = d ? '#3b3b3b' : run.act.colour;
        ctx.globalAlpha = d ? 1 : 0.55;
        ctx.fillRect(x + 1, y + 1, cw - 2, ch - 2);
        ctx.globalAlpha = 1;
        if (d && cw > 7 && ch > 7) {
          ctx.strokeStyle = '#f4a582';
          ctx.lineWidth = 1.5;
          ctx.beginPath();
          ctx.moveTo(x + 3, y + 3); ctx.lineTo(x + cw - 3, y + ch - 3);
          ctx.moveTo(x + cw - 3, y + 3); ctx.lineTo(x + 3, y + ch - 3);
          ctx.stroke();
        }
      }
    }
    ctx.fillStyle = '#222';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'bottom';
    ctx.fillText('unit', m.l + (width * cw) / 2, box.height - 2);
    const total = layers * width;
    $('dead-count').textContent = `— dead: ${deadCount} of ${total} (deaths ${run.last.deaths}, revivals ${run.last.revivals})`;
    $('dead-count').dataset.dead = deadCount;
    legend($('units-legend'), [
      { label: 'alive', colour: run.act.colour },
      { label: 'dead: slope 0 for every training example', colour: '#3b3b3b' },
    ]);
  }

  function drawTable() {
    const body = $('layer-table').tBodies[0];
    if (!run || !run.last) { body.replaceChildren(); return; }
    const r = run.last, ref = reference(r.gradNorm);
    body.replaceChildren(...Array.from(r.gradNorm, (g, l) => {
      const tr = document.createElement('tr');
      const hidden = l < r.dead.length;
      const dead = hidden ? r.dead[l].reduce((a, b) => a + b, 0) : null;
      for (const v of [l + 1, fmt(g, 3), fmt(ref[l], 3), fmt(r.updateRatio[l], 3),
        hidden ? `${dead} of ${r.dead[l].length}` : 'output', fmt(r.meanSlope[l], 3)]) {
        const td = document.createElement('td');
        td.textContent = v;
        tr.append(td);
      }
      tr.dataset.grad = g;
      return tr;
    }));
  }

  let lastTable = 0;
  // Redraws every view; the per-layer table (DOM, the costly part) only when `table`.
  function draw(table = true) {
    drawCurves('loss', 'loss-legend', run ? run.history.trainLoss : [], run ? run.history.testLoss : [], 'cross-entropy', true);
    drawCurves('acc', 'acc-legend', run ? run.history.trainAccuracy : [], run ? run.history.testAccuracy : [], 'accuracy', false);
    drawBoundary();
    const r = run && run.last;
    drawBars('grads', r && r.gradNorm, '‖dL/dW‖', run ? run.act.colour : '#888', r && reference(r.gradNorm));
    legend($('grad-legend'), [
      { label: run ? run.act.name : '', colour: run ? run.act.colour : '#888' },
      { label: '0.25^(L−l) × the last layer’s: sigmoid’s slope bound (the weights’ gain multiplies it)', colour: '#222' },
    ]);
    drawUnits();
    drawBars('ratios', r && r.updateRatio, 'std(ΔW) / std(W)', run ? run.act.colour : '#888', null, 1e-3);
    legend($('ratio-legend'), [
      { label: 'this step’s update, per layer', colour: run ? run.act.colour : '#888' },
      { label: '1e-3, a healthy rate (Karpathy)', colour: '#222', dash: true },
    ]);
    if (table) {
      drawTable();
      lastTable = performance.now();
    }
    if (r) {
      $('readline').textContent = `step ${r.step}: train loss ${fmt(r.trainLoss)}, test loss ${fmt(r.testLoss)}, ` +
        `train accuracy ${fmt(r.trainAccuracy, 3)}, test accuracy ${fmt(r.testAccuracy, 3)}` +
        (playing && speed.perSecond ? `; ${Math.round(speed.perSecond)} steps/s` : '');
    } else {
      $('readline').textContent = '';
    }
  }

  // For the browser test and a curious learner's console.
  window.playground = {
    get run() { return run; },
    speed,
    cost,
    reset,
    play,
    pause,
    steps(n) { for (let i = 0; i < n; i++) if (!step()) break; updateBoundary(); draw(); },
  };

  readUrl();
  reset();
  return 'engine loaded';
});
