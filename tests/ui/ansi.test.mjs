// ansi.test.mjs - src/ui/ansi.js on its own (no browser): SGR sequences
// become styled runs, every other escape sequence disappears, and the text
// itself is left exactly as it was.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { parseAnsi, safeText, showBidi, showControls, stripAnsi, xterm256 } from '../../src/ui/ansi.js';

const styled = (text) => parseAnsi(text).map((r) => {
  const o = { text: r.text };
  for (const k of ['fg', 'bg']) if (r[k] !== null) o[k] = r[k];
  for (const k of ['bold', 'dim', 'italic', 'underline', 'strike', 'inverse']) if (r[k]) o[k] = true;
  return o;
});

test('plain text and markup stay text', () => {
  assert.deepEqual(styled('hello <img src=x onerror=alert(1)> & "q"'),
    [{ text: 'hello <img src=x onerror=alert(1)> & "q"' }]);
  assert.deepEqual(styled(''), []);
});

test('basic, bright and background colors, bold, reset', () => {
  assert.deepEqual(styled('\x1b[31mred\x1b[0m plain'), [{ text: 'red', fg: 1 }, { text: ' plain' }]);
  assert.deepEqual(styled('\x1b[1;92;44mx\x1b[39my\x1b[49;22mz'),
    [{ text: 'x', fg: 10, bg: 4, bold: true }, { text: 'y', bg: 4, bold: true }, { text: 'z' }]);
  assert.deepEqual(styled('\x1b[103ma\x1b[mb'), [{ text: 'a', bg: 11 }, { text: 'b' }]);
  assert.deepEqual(styled('\x1b[2;3;4;7;9ma\x1b[23;24;27;29mb'),
    [{ text: 'a', dim: true, italic: true, underline: true, inverse: true, strike: true }, { text: 'b', dim: true }]);
});

test('256 and 24-bit colors, both separators', () => {
  assert.deepEqual(styled('\x1b[38;5;208mo\x1b[48;5;3mb'), [{ text: 'o', fg: 208 }, { text: 'b', fg: 208, bg: 3 }]);
  assert.deepEqual(styled('\x1b[38;2;10;20;30mc\x1b[0m'), [{ text: 'c', fg: [10, 20, 30] }]);
  assert.deepEqual(styled('\x1b[38:2::1:2:3mc\x1b[48:5:9md'), [{ text: 'c', fg: [1, 2, 3] }, { text: 'd', fg: [1, 2, 3], bg: 9 }]);
  // out of range or cut short: no color, and the rest of the text is kept
  assert.deepEqual(styled('\x1b[38;2;300;0;0mx'), [{ text: 'x' }]);
  assert.deepEqual(styled('\x1b[38;5mx'), [{ text: 'x' }]);
  assert.deepEqual(xterm256(208), [255, 135, 0]);
  assert.deepEqual(xterm256(16), [0, 0, 0]);
  assert.deepEqual(xterm256(231), [255, 255, 255]);
  assert.deepEqual(xterm256(244), [128, 128, 128]);
  assert.equal(xterm256(7), null);
});

test('other escape sequences are removed, not shown', () => {
  assert.equal(stripAnsi('a\x1b[2Jb\x1b[10;20Hc\x1b[?25ld\x1b[Ke'), 'abcde');
  assert.equal(stripAnsi('\x1b]0;window title\x07text'), 'text');
  assert.equal(stripAnsi('\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\'), 'link');
  assert.equal(stripAnsi('lone \x1b escape \x1bM and \x9b31m C1'), 'lone  escape  and  C1');
  assert.equal(stripAnsi('\x1b]0;never ends'), '');
});

test('control characters become visible symbols', () => {
  assert.equal(showControls('a\x07b\x00c\td\ne\x7f'), 'a\u2407b\u2400c\td\ne\u2421');
});

test('bidirectional controls become visible escapes and cannot reorder text', () => {
  // an RLO would show "photo\u202egnp.exe" as "photoexe.png"
  assert.equal(showBidi('photo\u202egnp.exe'), 'photo\u27e8U+202E\u27e9gnp.exe');
  const all = ['\u061c', '\u200e', '\u200f', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e',
    '\u2066', '\u2067', '\u2068', '\u2069'];
  for (const c of all) {
    const hex = c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    assert.equal(showBidi(`a${c}b`), `a\u27e8U+${hex}\u27e9b`);
  }
  // C1 controls are invisible otherwise: shown the same way
  assert.equal(showBidi('x\u0085y\u009fz'), 'x\u27e8U+0085\u27e9y\u27e8U+009F\u27e9z');
  // right-to-left text itself, joiners and neighbours are left alone
  const text = 'שלום مرحبا a\u200db \u2065\u206a\u202f\u2070';
  assert.equal(showBidi(text), text);
  assert.equal(showBidi(''), '');
});

test('safeText: controls and bidi controls both, for any value', () => {
  assert.equal(safeText('a\x1b[31m\u202eb\x07'), 'a\u241b[31m\u27e8U+202E\u27e9b\u2407');
  assert.equal(safeText(undefined), '');
  assert.equal(safeText(null), '');
  assert.equal(safeText(42), '42');
  assert.equal(safeText('tab\tand\nnewline'), 'tab\tand\nnewline');
  // no other character is touched
  let plain = '';
  for (let c = 0x20; c < 0x3000; c++) {
    if (c === 0x7f || (c >= 0x80 && c <= 0x9f) || c === 0x61c || c === 0x200e || c === 0x200f ||
      (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)) continue;
    plain += String.fromCharCode(c);
  }
  assert.equal(safeText(plain), plain);
});
