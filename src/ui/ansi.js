// ansi.js - ANSI escape sequences in log messages, made safe to show.
//
// parseAnsi() turns a message into runs of plain text with the styles that
// SGR sequences (ESC [ ... m) gave them; every other escape sequence (cursor
// moves, OSC titles and hyperlinks, lone ESC bytes) is dropped. The caller
// builds DOM nodes from the runs with textContent only, so nothing in a
// message is ever parsed as HTML. showControls() and showBidi() make the
// characters that act instead of showing visible. Pure: no DOM, so node
// can test it.

// A run: {text, fg, bg, bold, dim, italic, underline, strike, inverse}.
// fg and bg are null (the default), a palette index 0..255, or an
// [r, g, b] array for 24-bit colors.
const PLAIN = Object.freeze({
  fg: null, bg: null, bold: false, dim: false, italic: false,
  underline: false, strike: false, inverse: false,
});

// CSI (parameters, intermediates, final byte), OSC (to BEL or ST, or the
// end of the text when unterminated), any other two-byte escape, a lone ESC.
// eslint-disable-next-line no-control-regex
const ESCAPE = /\x1b(?:\[([0-?]*)[ -/]*([@-~])|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_]|)|\x9b[0-?]*[ -/]*[@-~]/g;

function clamp8(n) {
  return Number.isInteger(n) && n >= 0 && n <= 255 ? n : null;
}

// Applies one SGR parameter list ("1;31", "38;5;208", "38:2::10:20:30").
function applySgr(st, params) {
  const list = params === '' ? ['0'] : params.split(';');
  for (let i = 0; i < list.length; i++) {
    const p = list[i];
    if (p.includes(':')) {
      // ITU T.416 form: 38:5:n, 38:2:r:g:b or 38:2:colorspace:r:g:b
      const sub = p.split(':').map((x) => (x === '' ? NaN : Number(x)));
      if (sub[0] === 38 || sub[0] === 48) {
        const key = sub[0] === 38 ? 'fg' : 'bg';
        if (sub[1] === 5) st[key] = clamp8(sub[2]);
        else if (sub[1] === 2) {
          const rgb = sub.length >= 6 ? sub.slice(3, 6) : sub.slice(2, 5);
          st[key] = rgb.every((c) => clamp8(c) !== null) ? rgb : null;
        }
      } else if (sub[0] === 4) st.underline = sub[1] !== 0;
      continue;
    }
    const n = p === '' ? 0 : Number(p);
    if (!Number.isInteger(n)) continue;
    if (n === 0) Object.assign(st, PLAIN);
    else if (n === 1) st.bold = true;
    else if (n === 2) st.dim = true;
    else if (n === 3) st.italic = true;
    else if (n === 4) st.underline = true;
    else if (n === 7) st.inverse = true;
    else if (n === 9) st.strike = true;
    else if (n === 21 || n === 22) { st.bold = false; st.dim = false; }
    else if (n === 23) st.italic = false;
    else if (n === 24) st.underline = false;
    else if (n === 27) st.inverse = false;
    else if (n === 29) st.strike = false;
    else if (n >= 30 && n <= 37) st.fg = n - 30;
    else if (n >= 40 && n <= 47) st.bg = n - 40;
    else if (n >= 90 && n <= 97) st.fg = n - 90 + 8;
    else if (n >= 100 && n <= 107) st.bg = n - 100 + 8;
    else if (n === 39) st.fg = null;
    else if (n === 49) st.bg = null;
    else if (n === 38 || n === 48) {
      const key = n === 38 ? 'fg' : 'bg';
      const mode = Number(list[i + 1]);
      if (mode === 5) {
        st[key] = clamp8(Number(list[i + 2]));
        i += 2;
      } else if (mode === 2) {
        const rgb = list.slice(i + 2, i + 5).map(Number);
        st[key] = rgb.length === 3 && rgb.every((c) => clamp8(c) !== null) ? rgb : null;
        i += 4;
      } else {
        i = list.length; // malformed: the rest cannot be trusted
      }
    }
    // anything else (blink, fonts, overline, ...) is ignored
  }
}

export function parseAnsi(text) {
  const runs = [];
  let st = { ...PLAIN };
  let last = 0;
  const push = (s) => {
    if (!s) return;
    const prev = runs[runs.length - 1];
    if (prev && sameStyle(prev, st)) prev.text += s;
    else runs.push({ text: s, ...st });
  };
  ESCAPE.lastIndex = 0;
  for (let m; (m = ESCAPE.exec(text)) !== null;) {
    push(text.slice(last, m.index));
    last = ESCAPE.lastIndex;
    if (m[2] === 'm') {
      st = { ...st };
      applySgr(st, m[1]);
    }
    if (m[0] === '') ESCAPE.lastIndex++; // never loops on an empty match
  }
  push(text.slice(last));
  return runs;
}

function sameStyle(a, b) {
  return a.bold === b.bold && a.dim === b.dim && a.italic === b.italic &&
    a.underline === b.underline && a.strike === b.strike && a.inverse === b.inverse &&
    colorEq(a.fg, b.fg) && colorEq(a.bg, b.bg);
}

function colorEq(a, b) {
  if (Array.isArray(a) && Array.isArray(b)) return a[0] === b[0] && a[1] === b[1] && a[2] === b[2];
  return a === b;
}

// The xterm 256-color palette entries 16..255 as [r, g, b]; 0..15 are left
// to the stylesheet so they follow the page's theme.
export function xterm256(n) {
  if (n < 16) return null;
  if (n >= 232) {
    const v = 8 + (n - 232) * 10;
    return [v, v, v];
  }
  const i = n - 16;
  const level = (k) => (k === 0 ? 0 : 55 + k * 40);
  return [level(Math.floor(i / 36)), level(Math.floor(i / 6) % 6), level(i % 6)];
}

// Text without any escape sequence (for search, copy, titles).
export function stripAnsi(text) {
  return parseAnsi(text).map((r) => r.text).join('');
}

// Control characters other than tab and newline shown as their Unicode
// control pictures (U+2400..), so a stray BEL or NUL is visible, not lost.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/g;
export function showControls(text) {
  return text.replace(CONTROL, (c) => String.fromCharCode(c === '\x7f' ? 0x2421 : 0x2400 + c.charCodeAt(0)));
}

// Bidirectional controls (U+061C, U+200E, U+200F, U+202A..U+202E,
// U+2066..U+2069) reorder the text around them as it is displayed: an RLO
// in "photo\u202egnp.exe" shows it as "photoexe.png". Each one, and each C1
// control (U+0080..U+009F, invisible), is shown as a visible escape such
// as ⟨U+202E⟩ instead, so it can neither act nor hide. (The stylesheet also
// isolates every field, so right-to-left text in one cannot move another.)
const BIDI = /[\u0080-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
export function showBidi(text) {
  return text.replace(BIDI, (c) => `\u27e8U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}\u27e9`);
}

// Any text taken from a record or the server, made safe to show as text.
export function safeText(text) {
  return showBidi(showControls(String(text ?? '')));
}
