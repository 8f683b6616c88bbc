// Page 1: the lesson's widget. One tab per registered activation; f(w x + b) solid and its
// slope faint, both from the engine; a kink handle to drag; the facts and the measured
// maximum slope; the exercises. JavaScript here only draws and handles input.
'use strict';

startPage((engine) => {
  const $ = (id) => document.getElementById(id);
  const catalogue = lessonOrder(engine);
  const sigmoid = catalogue.find((a) => a.name === 'sigmoid');
  const relu = catalogue.find((a) => a.name === 'relu');
  const DEFAULT_VIEW = { x0: -4, x1: 4, y0: -1.25, y1: 2.75 };
  const state = {
    act: catalogue[0],
    w: 1,
    kink: 0, // the x where w x + b = 0; b = -w * kink
    b: 0,
    cursor: 1,
    view: { ...DEFAULT_VIEW },
  };
  const plot = $('plot');
  let frame = null; // the last drawn Frame, for mapping pointer positions
  const stats = { frameTimes: [], draws: 0 };

  // --- tabs (keyboard: ← → Home End move between them) ---------------------------------
  const tabs = catalogue.map((a, i) => {
    const t = document.createElement('button');
    t.role = 'tab';
    t.id = 'tab-' + a.name;
    t.textContent = a.name;
    t.setAttribute('aria-controls', 'panel');
    t.style.setProperty('--colour', a.colour);
    t.addEventListener('click', () => select(i));
    t.addEventListener('keydown', (e) => {
      const k = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: catalogue.length - 1 }[e.key];
      if (k === undefined) return;
      e.preventDefault();
      const j = (k + catalogue.length) % catalogue.length;
      select(j);
      tabs[j].focus();
    });
    $('tabs').append(t);
    return t;
  });

  function select(i) {
    state.act = catalogue[i];
    tabs.forEach((t, j) => {
      t.setAttribute('aria-selected', String(i === j));
      t.tabIndex = i === j ? 0 : -1;
    });
    $('panel').setAttribute('aria-labelledby', tabs[i].id);
    showFacts();
    redraw();
  }

  function showFacts() {
    const a = state.act;
    const where = a.maxSlopeLastAt > a.maxSlopeAt
      ? `reached on x ∈ [${fmt(a.maxSlopeAt)}, ${fmt(a.maxSlopeLastAt)}]${a.maxSlopeLastAt >= 10 ? ' (to the grid’s end)' : ''}`
      : `at x = ${fmt(a.maxSlopeAt)}`;
    const rows = [
      ['formula', `${a.name}(x) = ${a.formula}`],
      ['range', a.range],
      ['zero-centred', a.zeroCentred ? 'yes' : 'no'],
      ['at a kink', a.kink],
      ['its job', a.job],
      ['max slope', `${fmt(a.maxSlope)} ${where}${a.maxSlopeAtEdge ? ', still rising at the grid’s edge' : ''}`],
      ['found', 'numerically, by the engine, on x = k/1000 over [−10, 10]'],
    ];
    $('facts').replaceChildren(...rows.flatMap(([k, v]) => {
      const dt = document.createElement('dt');
      dt.textContent = k;
      const dd = document.createElement('dd');
      dd.textContent = v;
      dd.id = 'fact-' + k.replace(/[^a-z]+/g, '-');
      return [dt, dd];
    }));
  }

  // --- the kink and w ------------------------------------------------------------------
  function setKink(x) {
    state.kink = Math.round(x * 100) / 100;
    state.b = state.w === 0 ? state.b : -state.w * state.kink;
    redraw();
  }
  $('w').addEventListener('input', () => {
    state.w = Number($('w').value);
    $('w-out').textContent = fmt(state.w);
    if (state.w !== 0) state.b = -state.w * state.kink; // the kink stays where it is
    redraw();
  });

  // --- the curves from the engine --------------------------------------------------------
  // f(w x + b) and d/dx = w f'(w x + b) at n points over the view, from one engine call.
  function composite(n) {
    const { x0, x1 } = state.view;
    const xs = new Float64Array(n);
    for (let i = 0; i < n; i++) xs[i] = x0 + ((x1 - x0) * i) / (n - 1);
    const f = new Float64Array(n), df = new Float64Array(n);
    if (state.w === 0) {
      f.fill(engine.value(state.act.id, state.b));
      return { xs, f, df };
    }
    const u0 = state.w * x0 + state.b, u1 = state.w * x1 + state.b;
    const c = engine.curve(state.act.id, Math.min(u0, u1), Math.max(u0, u1), n);
    for (let i = 0; i < n; i++) {
      const k = u0 <= u1 ? i : n - 1 - i;
      f[i] = c.f[k];
      df[i] = state.w * c.df[k];
    }
    return { xs, f, df };
  }

  function draw() {
    const t0 = performance.now();
    const box = fitCanvas(plot);
    const { ctx } = box;
    const v = state.view;
    frame = new Frame(box, [v.x0, v.x1], [v.y0, v.y1]);
    ctx.clearRect(0, 0, box.width, box.height);
    frame.axes(ctx, 'x', 'y', { zeroLines: true });
    const n = Math.max(200, Math.round(frame.w * 2));
    const { xs, f, df } = composite(n);
    const colour = state.act.colour;
    frame.line(ctx, xs, df, colour, 2, 0.35);
    frame.line(ctx, xs, f, colour, 2.5);
    // the cursor
    const cx = state.cursor;
    ctx.save();
    ctx.strokeStyle = '#999';
    ctx.setLineDash([3, 3]);
    ctx.beginPath();
    ctx.moveTo(frame.px(cx), frame.m.t);
    ctx.lineTo(frame.px(cx), frame.m.t + frame.h);
    ctx.stroke();
    ctx.restore();
    // the kink handle, at w x + b = 0
    if (state.w !== 0) {
      const hx = frame.px(state.kink), hy = frame.py(engine.value(state.act.id, 0));
      ctx.save();
      ctx.fillStyle = colour;
      ctx.strokeStyle = '#fff';
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.arc(hx, hy, 8, 0, 2 * Math.PI);
      ctx.fill();
      ctx.stroke();
      ctx.restore();
    }
    const name = state.act.name;
    const fx = state.w * cx + state.b;
    const sign = state.b < 0 ? '−' : '+';
    $('fn-label').textContent = `${name}(${fmt(state.w)} x ${sign} ${fmt(Math.abs(state.b))})`;
    $('r-w').textContent = fmt(state.w);
    $('r-b').textContent = fmt(state.b + 0); // + 0: no "-0"
    $('kink-label').textContent = (state.act.kink === 'smooth' ? 'centre' : 'kink') + ' at x = −b/w';
    $('r-kink').textContent = state.w === 0 ? 'none (w = 0)' : fmt(-state.b / state.w + 0);
    $('r-x').textContent = fmt(cx);
    $('r-f').textContent = fmt(engine.value(state.act.id, fx));
    $('r-df').textContent = fmt(state.w * engine.slope(state.act.id, fx));
    legend($('legend'), [
      { label: `${name}(w x + b)`, colour },
      { label: 'its slope', colour, faint: true },
    ]);
    stats.draws++;
    stats.frameTimes.push(performance.now() - t0);
    if (stats.frameTimes.length > 600) stats.frameTimes.shift();
  }

  let pending = false;
  function redraw() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      draw();
    });
  }

  // --- pointer (mouse and touch) and keyboard ----------------------------------------------
  let drag = null;
  function local(e) {
    const r = plot.getBoundingClientRect();
    return { X: e.clientX - r.left, Y: e.clientY - r.top };
  }
  plot.addEventListener('pointerdown', (e) => {
    if (!frame) return;
    const { X, Y } = local(e);
    const hx = frame.px(state.kink), hy = frame.py(engine.value(state.act.id, 0));
    const onHandle = state.w !== 0 && Math.hypot(X - hx, Y - hy) <= 14;
    drag = onHandle ? { kind: 'kink' } : { kind: 'pan', X, Y, view: { ...state.view } };
    try { plot.setPointerCapture(e.pointerId); } catch { /* a synthetic pointer */ }
    plot.focus();
    e.preventDefault();
  });
  plot.addEventListener('pointermove', (e) => {
    if (!frame) return;
    const { X, Y } = local(e);
    state.cursor = frame.x(X);
    if (drag && drag.kind === 'kink') {
      setKink(Math.round(frame.x(X) * 20) / 20); // snaps to 0.05
      state.cursor = state.kink;
    } else if (drag && drag.kind === 'pan') {
      const dx = ((X - drag.X) / frame.w) * (drag.view.x1 - drag.view.x0);
      const dy = ((Y - drag.Y) / frame.h) * (drag.view.y1 - drag.view.y0);
      Object.assign(state.view, {
        x0: drag.view.x0 - dx, x1: drag.view.x1 - dx, y0: drag.view.y0 + dy, y1: drag.view.y1 + dy,
      });
    }
    redraw();
  });
  const end = () => { drag = null; };
  plot.addEventListener('pointerup', end);
  plot.addEventListener('pointercancel', end);
  plot.addEventListener('wheel', (e) => {
    if (!frame) return;
    e.preventDefault();
    const { X, Y } = local(e);
    const k = Math.exp(Math.sign(e.deltaY) * 0.1);
    const cx = frame.x(X), cy = frame.y(Y), v = state.view;
    Object.assign(v, { x0: cx + (v.x0 - cx) * k, x1: cx + (v.x1 - cx) * k, y0: cy + (v.y0 - cy) * k, y1: cy + (v.y1 - cy) * k });
    redraw();
  }, { passive: false });
  plot.addEventListener('dblclick', () => { state.view = { ...DEFAULT_VIEW }; redraw(); });
  plot.addEventListener('keydown', (e) => {
    const step = e.shiftKey ? 0.01 : 0.1;
    if (e.key === 'ArrowRight') setKink(state.kink + step);
    else if (e.key === 'ArrowLeft') setKink(state.kink - step);
    else return;
    state.cursor = state.kink;
    e.preventDefault();
  });
  window.addEventListener('resize', redraw);

  // --- the exercises -------------------------------------------------------------------
  function exercises() {
    const x = Number($('ex-x').value);
    if (!Number.isFinite(x)) {
      $('ex-relu').textContent = 'Type a number for x.';
      $('ex-sigmoid').textContent = '';
      return;
    }
    const r = engine.value(relu.id, x);
    $('ex-relu').textContent = `relu(${fmt(x)}) = max(0, ${fmt(x)}) = ${fmt(r)}` +
      (x > 0 ? ' (x is positive: it passes unchanged, slope 1)' : ' (x is not positive: 0 comes out, slope 0)');
    const e = Math.exp(-x); // the worked step only; the answer is the engine's
    const s = engine.value(sigmoid.id, x);
    $('ex-sigmoid').textContent = `sigmoid(${fmt(x)}) = 1 / (1 + e^(${fmt(-x)})) = 1 / (1 + ${fmt(e)}) = ${fmt(s)}` +
      `; its slope σ(1 − σ) = ${fmt(s)} × ${fmt(1 - s)} = ${fmt(engine.slope(sigmoid.id, x))}`;
    bound();
  }
  $('ex-x').addEventListener('input', exercises);

  function bound() {
    const L = Number($('L').value);
    const x = Number($('ex-x').value) || 0;
    $('L-out').textContent = L;
    $('L-sup').textContent = L;
    $('max-sig').textContent = fmt(sigmoid.maxSlope) + ' (measured, at x = ' + fmt(sigmoid.maxSlopeAt) + ')';
    $('bound').textContent = fmt(Math.pow(sigmoid.maxSlope, L));
    $('measured').textContent = fmt(engine.chainGradient(sigmoid.id, x, L));
    const Ls = [], b = [], m = [];
    for (let k = 1; k <= 32; k++) {
      Ls.push(k);
      b.push(Math.log10(Math.pow(sigmoid.maxSlope, k)));
      m.push(Math.log10(engine.chainGradient(sigmoid.id, x, k)));
    }
    const box = fitCanvas($('bound-plot'));
    const lo = Math.floor(Math.min(...m.filter(Number.isFinite), ...b)) - 1;
    const f = new Frame(box, [1, 32], [lo, 0], { l: 62, r: 12, t: 8, b: 34 });
    box.ctx.clearRect(0, 0, box.width, box.height);
    f.axes(box.ctx, 'L, sigmoid layers', 'gradient factor', { log: true });
    f.line(box.ctx, Ls, b, '#888', 2, 1, [6, 4]);
    f.line(box.ctx, Ls, m, sigmoid.colour, 2.5);
    box.ctx.fillStyle = sigmoid.colour;
    box.ctx.beginPath();
    box.ctx.arc(f.px(L), f.py(m[L - 1]), 5, 0, 2 * Math.PI);
    box.ctx.fill();
    legend($('bound-legend'), [
      { label: '0.25^L, the bound', colour: '#888', dash: true },
      { label: `measured through L sigmoids from x = ${fmt(x)}`, colour: sigmoid.colour },
    ]);
  }
  $('L').addEventListener('input', bound);
  window.addEventListener('resize', bound);

  // For the browser test and for a curious learner's console.
  window.widget = {
    state,
    stats,
    select: (name) => select(catalogue.findIndex((a) => a.name === name)),
    toPixel: (x, y) => {
      const r = plot.getBoundingClientRect();
      return { x: r.left + frame.px(x), y: r.top + frame.py(y) };
    },
    handle: () => window.widget.toPixel(state.kink, engine.value(state.act.id, 0)),
  };

  select(0);
  exercises();
  return `engine loaded: ${catalogue.length} activations`;
});
