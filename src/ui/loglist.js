// loglist.js - a virtual list of fixed-height rows: holds up to `limit`
// items but keeps only the rows on screen (plus a margin) in the DOM, so
// 10,000 or 100,000 lines cost no more to show than fifty.
//
// Layout: the scroller (overflow: auto) holds a spacer as tall as all the
// rows, and inside it a block of pooled row elements moved (transform) to
// where the first visible row is. Row height comes from the stylesheet
// (.row), measured once and again on resize.
//
// Following: while the view is scrolled to the bottom new items keep it
// there; when the reader scrolls up it stays put (trimming old items above
// shifts the scroll position so the same lines stay in view) and
// onFollow(false) lets the page offer "jump to latest".

const OVERSCAN = 8;

export class LogList {
  constructor(scroller, { renderRow, rowClass = 'row', limit = 10000, onFollow = () => {}, onSelect = null }) {
    this.scroller = scroller;
    this.rowClass = rowClass; // the class of a typical row, to measure
    this.renderRow = renderRow;
    this.limit = limit;
    this.onFollow = onFollow;
    this.onSelect = onSelect;
    this.items = [];
    this.follow = true;
    this.unseen = 0; // items added below while not following
    this.selected = null;
    this.rowH = 0;
    this.pool = [];
    this.frame = 0;
    this.dirty = true; // every visible row must be drawn again

    this.spacer = document.createElement('div');
    this.spacer.className = 'spacer';
    this.block = document.createElement('div');
    this.block.className = 'rows';
    this.spacer.append(this.block);
    scroller.append(this.spacer);

    scroller.addEventListener('scroll', () => this.onScroll(), { passive: true });
    if (onSelect) {
      this.block.addEventListener('click', (ev) => {
        if (window.getSelection && String(window.getSelection()).length) return; // selecting text
        const row = ev.target.closest('.row');
        if (row && row.item) this.select(row.item);
      });
    }
    this.resizeObserver = new ResizeObserver(() => this.measure());
    this.resizeObserver.observe(scroller);
    this.measure();
  }

  get length() {
    return this.items.length;
  }

  // Row height from the stylesheet; keeps the first visible item in place.
  measure() {
    const probe = document.createElement('div');
    probe.className = `${this.rowClass} probe`;
    probe.textContent = 'M';
    this.block.append(probe);
    const h = probe.getBoundingClientRect().height;
    probe.remove();
    if (h > 0 && Math.abs(h - this.rowH) > 0.01) {
      const first = this.rowH ? this.scroller.scrollTop / this.rowH : 0;
      this.rowH = h;
      this.spacer.style.height = `${this.items.length * h}px`;
      if (this.follow) this.toEnd();
      else this.scroller.scrollTop = first * h;
      this.dirty = true;
    }
    this.schedule();
  }

  setLimit(n) {
    this.limit = n;
    this.trim();
    this.schedule();
  }

  append(items) {
    if (!items.length) return;
    for (const it of items) this.items.push(it);
    if (!this.follow) this.unseen += items.length;
    this.trim();
    this.schedule();
  }

  // Older items above the current ones (history paging): the view keeps
  // showing the same lines.
  prepend(items) {
    if (!items.length) return;
    this.items = items.concat(this.items);
    this.shiftScroll(items.length);
    this.dirty = true;
    this.schedule();
  }

  clear() {
    this.items = [];
    this.unseen = 0;
    this.selected = null;
    this.setFollow(true);
    this.dirty = true;
    this.schedule();
  }

  // Drops the oldest items beyond the limit.
  trim() {
    const over = this.items.length - this.limit;
    if (over <= 0) return;
    this.items.splice(0, over);
    if (!this.follow) this.shiftScroll(-over);
    this.dirty = true;
  }

  shiftScroll(rows) {
    // set the spacer first, or the browser clamps the new position
    this.spacer.style.height = `${this.items.length * this.rowH}px`;
    this.scroller.scrollTop = Math.max(0, this.scroller.scrollTop + rows * this.rowH);
  }

  toEnd() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  jumpToLatest() {
    this.setFollow(true);
    this.unseen = 0;
    this.spacer.style.height = `${this.items.length * this.rowH}px`;
    this.toEnd();
    this.schedule();
  }

  setFollow(f) {
    if (f === this.follow) return;
    this.follow = f;
    if (f) this.unseen = 0;
    this.onFollow(f, this.unseen);
  }

  atBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.clientHeight - s.scrollTop <= Math.max(2, this.rowH / 2);
  }

  onScroll() {
    this.setFollow(this.atBottom());
    this.schedule();
  }

  select(item, notify = true) {
    this.selected = item;
    this.dirty = true;
    this.schedule();
    if (notify && this.onSelect) this.onSelect(item);
  }

  // Scrolls item into view (the view stops following the newest).
  reveal(item) {
    const i = this.items.indexOf(item);
    if (i < 0) return;
    const h = this.rowH || 20;
    const s = this.scroller;
    this.spacer.style.height = `${this.items.length * h}px`;
    const top = i * h;
    if (top < s.scrollTop || top + h > s.scrollTop + s.clientHeight) {
      this.follow = false;
      s.scrollTop = Math.max(0, top - s.clientHeight / 2);
    }
    this.schedule();
  }

  // Moves the selection by delta items (skipping markers) without opening
  // it: the j and k keys. Returns the item now selected.
  move(delta) {
    const n = this.items.length;
    if (!n) return null;
    let i = this.selected ? this.items.indexOf(this.selected) : -1;
    if (i < 0) i = delta > 0 ? -1 : n;
    for (let j = i + delta; j >= 0 && j < n; j += delta) {
      const it = this.items[j];
      if (it && it.kind !== 'marker') {
        this.select(it, false);
        this.reveal(it);
        return it;
      }
    }
    return this.selected;
  }

  // Redraws every row (a change of how rows look, e.g. a new search term).
  refresh() {
    this.dirty = true;
    this.schedule();
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  render() {
    const n = this.items.length;
    const h = this.rowH || 20;
    this.spacer.style.height = `${n * h}px`;
    if (this.follow) this.toEnd();
    const top = this.scroller.scrollTop;
    const view = this.scroller.clientHeight;
    const first = Math.max(0, Math.floor(top / h) - OVERSCAN);
    const last = Math.min(n, Math.ceil((top + view) / h) + OVERSCAN);
    const count = Math.max(0, last - first);

    while (this.pool.length < count) {
      const row = document.createElement('div');
      this.pool.push(row);
      this.block.append(row);
    }
    for (let i = 0; i < this.pool.length; i++) {
      const row = this.pool[i];
      if (i >= count) {
        if (!row.hidden) {
          row.hidden = true;
          row.item = null;
        }
        continue;
      }
      const item = this.items[first + i];
      row.hidden = false;
      if (row.item !== item || this.dirty) {
        row.item = item;
        this.renderRow(row, item);
      }
      row.classList.toggle('sel', item === this.selected);
    }
    this.dirty = false;
    this.block.style.transform = `translateY(${first * h}px)`;
    if (!this.follow) this.onFollow(false, this.unseen);
  }
}
