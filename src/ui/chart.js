// chart.js - the volume chart above Live and History: records per interval
// from /api/stats?by=level, stacked by level (most severe on top), on a
// canvas. Dragging across it picks a time range (onZoom(fromMs, toMs)); a
// click without a drag does nothing. The same numbers are in a visually
// hidden table next to it (screen readers, and the tests: the bars sum to
// the total).

const LEVELS = ['emerg', 'alert', 'crit', 'error', 'warning', 'notice', 'info', 'debug'];

const pad = (n) => String(n).padStart(2, '0');

function tickLabel(ms, spanMs) {
  const d = new Date(ms);
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (spanMs > 2 * 86400e3) return `${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  if (spanMs > 86400e3) return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${hm}`;
  if (spanMs <= 5 * 60e3) return `${hm}:${pad(d.getSeconds())}`;
  return hm;
}

const STEPS = [1e3, 5e3, 10e3, 30e3, 60e3, 300e3, 600e3, 1800e3, 3600e3, 3 * 3600e3, 6 * 3600e3,
  12 * 3600e3, 86400e3, 7 * 86400e3, 30 * 86400e3];

// A canvas's 2D context sized to its CSS box at the screen's pixel ratio
// (defaults when it has no box yet), cleared; w and h in CSS pixels.
export function canvasContext(c, defW, defH) {
  const dpr = window.devicePixelRatio || 1;
  const w = c.clientWidth || defW;
  const h = c.clientHeight || defH;
  if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
    c.width = Math.round(w * dpr);
    c.height = Math.round(h * dpr);
  }
  const g = c.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  return { g, w, h };
}

export class VolumeChart {
  constructor(canvas, { onZoom }) {
    this.canvas = canvas;
    this.onZoom = onZoom;
    this.data = null;
    this.drag = null; // {x0, x1} in CSS pixels while dragging
    canvas.addEventListener('pointerdown', (ev) => {
      if (!this.data || ev.button !== 0) return;
      canvas.setPointerCapture(ev.pointerId);
      const x = this.xOf(ev);
      this.drag = { x0: x, x1: x };
      this.draw();
    });
    canvas.addEventListener('pointermove', (ev) => {
      if (!this.drag) return;
      this.drag.x1 = this.xOf(ev);
      this.draw();
    });
    const end = (ev) => {
      if (!this.drag) return;
      const { x0, x1 } = this.drag;
      this.drag = null;
      this.draw();
      if (ev.type === 'pointerup' && Math.abs(x1 - x0) >= 4) {
        const a = this.timeAt(Math.min(x0, x1));
        const b = this.timeAt(Math.max(x0, x1));
        if (b > a) this.onZoom(Math.floor(a), Math.ceil(b));
      }
    };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  xOf(ev) {
    const r = this.canvas.getBoundingClientRect();
    return Math.max(0, Math.min(r.width, ev.clientX - r.left));
  }

  // the time at x CSS pixels from the left
  timeAt(x) {
    const w = this.canvas.clientWidth || 1;
    const { from, to } = this.span();
    return from + (x / w) * (to - from);
  }

  span() {
    const d = this.data;
    const iv = d.interval_ms || 1;
    const from = Math.floor(d.since_ms / iv) * iv;
    const to = Math.max(from + iv, Math.ceil(d.until_ms / iv) * iv);
    return { from, to, iv };
  }

  // d: an /api/stats?by=level answer
  set(d) {
    this.data = d;
    this.draw();
  }

  draw() {
    const c = this.canvas;
    const { g, w, h } = canvasContext(c, 300, 64);
    const d = this.data;
    if (!d) return;
    const css = getComputedStyle(document.documentElement);
    const color = (i) => css.getPropertyValue(`--l${i}`).trim() || '#888';
    const muted = css.getPropertyValue('--muted').trim() || '#888';
    const axis = 14; // px of labels at the bottom
    const plotH = h - axis - 2;
    const { from, to, iv } = this.span();
    const px = w / ((to - from) / iv); // width of one bucket
    const max = Math.max(1, ...d.buckets.map((b) => b.total));
    for (const b of d.buckets) {
      const x = ((b.t - from) / (to - from)) * w;
      let y = plotH + 1;
      // least severe at the bottom
      for (let i = LEVELS.length - 1; i >= 0; i--) {
        const n = (b.counts && b.counts[LEVELS[i]]) || 0;
        if (!n) continue;
        const bh = (n / max) * plotH;
        g.fillStyle = color(i);
        g.fillRect(x + (px > 3 ? 0.5 : 0), y - bh, Math.max(1, px - (px > 3 ? 1 : 0)), bh);
        y -= bh;
      }
    }
    // time ticks
    g.fillStyle = muted;
    g.font = '10px system-ui, sans-serif';
    g.textBaseline = 'bottom';
    const spanMs = to - from;
    const want = Math.max(2, Math.floor(w / 90));
    const step = STEPS.find((s) => spanMs / s <= want) || STEPS[STEPS.length - 1];
    const off = new Date().getTimezoneOffset() * 60e3; // ticks on local round times
    for (let t = Math.ceil((from - off) / step) * step + off; t < to; t += step) {
      const x = ((t - from) / spanMs) * w;
      g.fillRect(x, plotH + 1, 1, 3);
      const label = tickLabel(t, spanMs);
      const tw = g.measureText(label).width;
      if (x - tw / 2 >= 0 && x + tw / 2 <= w) g.fillText(label, x - tw / 2, h);
    }
    if (this.drag) {
      const a = Math.min(this.drag.x0, this.drag.x1);
      const b = Math.max(this.drag.x0, this.drag.x1);
      g.globalAlpha = 0.25;
      g.fillStyle = css.getPropertyValue('--accent').trim() || '#4fb3ff';
      g.fillRect(a, 0, b - a, plotH + 1);
      g.globalAlpha = 1;
    }
  }
}
