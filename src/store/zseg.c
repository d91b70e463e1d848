/* zseg.c - compressed sealed segments: see zseg.h. */
#include "zseg.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#include "../common/log.h"
#include "../common/timeutil.h"
#include "io.h"

#define BLOCK_MAGIC "LSZB"
#define TABLE_MAGIC "LSZTABLE"
#define TABLE_HDR   48
#define ENTRY_HDR   36

/* the filter of a block whose content is not known: everything may match
 * (bfilter.h: every level, no counts, every set unknown, no bloom) */
static const char open_filter[46] = {
    1,          (char)0xFF, 0,          0,          [36] = (char)0xFF,
    (char)0xFF, (char)0xFF, (char)0xFF, (char)0xFF, (char)0xFF,
    0,          0,          0,          0};

static ssize_t read_at(int fd, char *p, size_t n, uint64_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, p + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int zseg_decode_block(const char *p, size_t n, buf_t *out)
{
    buf_reset(out);
    if (n < ZSEG_BLOCK_HDR || memcmp(p, BLOCK_MAGIC, 4) != 0)
        return -1;
    uint32_t clen = rd32(p + 4), rlen = rd32(p + 8);
    if (clen != n - ZSEG_BLOCK_HDR || rlen > ZSEG_BLOCK_MAX)
        return -1;
    if ((uint32_t)XXH3_64bits(p + ZSEG_BLOCK_HDR, clen) != rd32(p + 12))
        return -1;
    unsigned long long want = ZSTD_getFrameContentSize(p + ZSEG_BLOCK_HDR, clen);
    if (want != rlen)
        return -1;
    char *dst = buf_reserve(out, rlen ? rlen : 1);
    size_t got = ZSTD_decompress(dst, rlen, p + ZSEG_BLOCK_HDR, clen);
    if (ZSTD_isError(got) || got != rlen)
        return -1;
    out->len = rlen;
    return 0;
}

/* ---- writing ---------------------------------------------------------------- */

typedef struct writer {
    int fd;
    uint64_t off;
    ZSTD_CCtx *cctx;
    buf_t raw, comp, table, filters;
    bfilter_builder_t bb;
    uint32_t blocks;
} writer_t;

/* Compresses raw[0..n) as one block at w->off, noting it in the table. */
static int put_block(writer_t *w, const char *raw, size_t n, uint64_t seq, int64_t min_ts,
                     int64_t max_ts)
{
    size_t bound = ZSTD_compressBound(n);
    buf_reset(&w->comp);
    char *dst = buf_reserve(&w->comp, ZSEG_BLOCK_HDR + bound);
    size_t c = ZSTD_compress2(w->cctx, dst + ZSEG_BLOCK_HDR, bound, raw, n);
    if (ZSTD_isError(c))
        return -EINVAL;
    memcpy(dst, BLOCK_MAGIC, 4);
    wr32(dst + 4, (uint32_t)c);
    wr32(dst + 8, (uint32_t)n);
    wr32(dst + 12, (uint32_t)XXH3_64bits(dst + ZSEG_BLOCK_HDR, c));
    int rc = write_all(w->fd, dst, ZSEG_BLOCK_HDR + c);
    if (rc)
        return rc;
    /* the block's filter, from its records */
    size_t pos = 0;
    while (pos < n) {
        record_t r;
        size_t size;
        if (!record_verify(raw + pos, n - pos, &size) || record_decode(raw + pos, n - pos, &r) <= 0)
            break; /* damaged bytes kept as they were: the filter says "unknown" below */
        if (!(r.flags & RECORD_F_META))
            bfilter_add(&w->bb, &r);
        pos += size;
    }
    buf_reset(&w->filters);
    bfilter_finish(&w->bb, &w->filters); /* and the builder starts over */
    if (pos < n) {
        /* damaged bytes, kept as they were: readers resync inside the
         * block, so its filter must let everything through */
        buf_reset(&w->filters);
        buf_append(&w->filters, open_filter, sizeof open_filter);
    }
    char e[ENTRY_HDR];
    wr64(e, seq);
    wr64(e + 8, w->off);
    wr64(e + 16, (uint64_t)min_ts);
    wr64(e + 24, (uint64_t)max_ts);
    wr32(e + 32, (uint32_t)w->filters.len);
    buf_append(&w->table, e, ENTRY_HDR);
    buf_append(&w->table, w->filters.data, w->filters.len);
    w->off += ZSEG_BLOCK_HDR + c;
    w->blocks++;
    return 0;
}

static void writer_free(writer_t *w)
{
    ZSTD_freeCCtx(w->cctx);
    buf_free(&w->raw);
    buf_free(&w->comp);
    buf_free(&w->table);
    buf_free(&w->filters);
    bfilter_builder_free(&w->bb);
}

/* Writes the whole .zlog.tmp of g into fd. stop_half: stop halfway. */
static int write_file(writer_t *w, const segment_t *g, int level, const _Atomic int *stop,
                      int stop_half)
{
    const seg_index_t *ix = &g->ix;
    uint64_t size = atomic_load(&g->size);
    char hdr[SEGMENT_HDR];
    memcpy(hdr, ZSEG_MAGIC, 8);
    wr32(hdr + SEGMENT_OFF_VERSION, ZSEG_VERSION);
    wr32(hdr + SEGMENT_OFF_HDR_LEN, SEGMENT_HDR);
    wr64(hdr + SEGMENT_OFF_FIRST, g->first_seq);
    wr64(hdr + SEGMENT_OFF_CREATED, (uint64_t)time_now_ns());
    int rc = write_all(w->fd, hdr, sizeof hdr);
    if (rc)
        return rc;
    w->off = SEGMENT_HDR;
    w->cctx = ZSTD_createCCtx();
    if (!w->cctx)
        return -ENOMEM;
    ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 1);
    bfilter_builder_init(&w->bb);
    buf_reserve(&w->table, TABLE_HDR);
    w->table.len = TABLE_HDR;
    /* blocks: runs of the .log's index blocks, the first from the header
     * on (meta frames before the first record are kept) */
    size_t i = 0;
    uint64_t start = SEGMENT_HDR;
    while (i < ix->n) {
        if (stop && atomic_load(stop))
            return -ECANCELED;
        size_t j = i + 1;
        int64_t lo = ix->e[i].min_ts, hi = ix->e[i].max_ts;
        while (j < ix->n && ix->e[j].offset - start < ZSEG_BLOCK_RAW) {
            if (ix->e[j].min_ts < lo)
                lo = ix->e[j].min_ts;
            if (ix->e[j].max_ts > hi)
                hi = ix->e[j].max_ts;
            j++;
        }
        uint64_t end = j < ix->n ? ix->e[j].offset : size;
        if (end - start > ZSEG_BLOCK_MAX)
            return -EFBIG;
        buf_reset(&w->raw);
        char *p = buf_reserve(&w->raw, (size_t)(end - start));
        ssize_t r = read_at(g->fd, p, (size_t)(end - start), start);
        if (r != (ssize_t)(end - start))
            return r < 0 ? -errno : -EIO;
        rc = put_block(w, p, (size_t)(end - start), ix->e[i].seq, lo, hi);
        if (rc)
            return rc;
        if (stop_half)
            return ZSEG_CRASHED; /* one block written of several */
        start = end;
        i = j;
    }
    char *t = w->table.data;
    wr32(t, w->blocks);
    wr32(t + 4, 0);
    wr64(t + 8, ix->last_seq);
    wr64(t + 16, ix->records);
    wr64(t + 24, (uint64_t)ix->min_ts);
    wr64(t + 32, (uint64_t)ix->max_ts);
    wr64(t + 40, w->off);
    rc = write_all(w->fd, w->table.data, w->table.len);
    if (rc)
        return rc;
    char foot[ZSEG_FOOTER];
    wr64(foot, w->off);
    wr64(foot + 8, w->table.len);
    wr64(foot + 16, XXH3_64bits(w->table.data, w->table.len));
    memcpy(foot + 24, TABLE_MAGIC, 8);
    return write_all(w->fd, foot, sizeof foot);
}

static int fault_at(zseg_fault_fn fault, void *arg, enum zseg_step step)
{
    return fault && fault(arg, (int)step);
}

int zseg_compact(const char *dir, const segment_t *g, int level, const _Atomic int *stop,
                 zseg_swap_fn swap, void *swap_arg, zseg_fault_fn fault, void *fault_arg)
{
    char tmp[4300], path[4200], segdir[4200];
    segment_path(path, sizeof path, dir, g->first_seq, ".zlog");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    snprintf(segdir, sizeof segdir, "%s/segments", dir);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    writer_t w = {.fd = fd};
    int half = fault_at(fault, fault_arg, ZSEG_STEP_WRITE);
    int rc = write_file(&w, g, level, stop, half);
    writer_free(&w);
    if (rc == ZSEG_CRASHED) {
        close(fd);
        return ZSEG_CRASHED; /* the half-written .tmp stays, as a crash leaves it */
    }
    if (!rc && fault_at(fault, fault_arg, ZSEG_STEP_SYNC)) {
        close(fd);
        return ZSEG_CRASHED;
    }
    if (!rc && fdatasync(fd))
        rc = -errno;
    close(fd);
    if (rc) {
        unlink(tmp);
        return rc;
    }
    if (fault_at(fault, fault_arg, ZSEG_STEP_RENAME))
        return ZSEG_CRASHED;
    if (rename(tmp, path)) {
        rc = -errno;
        unlink(tmp);
        return rc;
    }
    if (fault_at(fault, fault_arg, ZSEG_STEP_SYNC_DIR))
        return ZSEG_CRASHED;
    if ((rc = io_sync_dir(segdir)))
        log_warn("store: cannot sync %s: %s", segdir, strerror(-rc));
    if (fault_at(fault, fault_arg, ZSEG_STEP_SWAP))
        return ZSEG_CRASHED;
    char why[200];
    segment_t *fresh = zseg_open(dir, g->first_seq, 0, NULL, why, sizeof why);
    if (!fresh) {
        log_error("store: the compressed segment %s does not read back: %s", path, why);
        unlink(path);
        return -EIO;
    }
    if (swap && swap(swap_arg, fresh)) {
        segment_unref(fresh);
        unlink(path); /* the segment went meanwhile (retention) */
        return -ENOENT;
    }
    if (!swap)
        segment_unref(fresh);
    if (fault_at(fault, fault_arg, ZSEG_STEP_UNLINK_LOG))
        return ZSEG_CRASHED;
    segment_path(path, sizeof path, dir, g->first_seq, ".log");
    unlink(path);
    if (fault_at(fault, fault_arg, ZSEG_STEP_UNLINK_IDX))
        return ZSEG_CRASHED;
    segment_path(path, sizeof path, dir, g->first_seq, ".idx");
    unlink(path);
    return 0;
}

/* ---- reading ------------------------------------------------------------------ */

/* Parses a table into g (its index and filters). */
static int load_table(segment_t *g, char *t, size_t n)
{
    if (n < TABLE_HDR)
        return -1;
    uint32_t blocks = rd32(t);
    if (blocks > n / ENTRY_HDR)
        return -1;
    seg_index_t *ix = &g->ix;
    ix->last_seq = rd64(t + 8);
    ix->records = rd64(t + 16);
    ix->min_ts = (int64_t)rd64(t + 24);
    ix->max_ts = (int64_t)rd64(t + 32);
    uint64_t end = rd64(t + 40);
    ix->e = xrealloc(ix->e, (blocks ? blocks : 1) * sizeof *ix->e);
    ix->n = ix->cap = blocks;
    g->bf = xcalloc(blocks ? blocks : 1, sizeof *g->bf);
    size_t pos = TABLE_HDR;
    uint64_t prev_off = 0;
    for (uint32_t i = 0; i < blocks; i++) {
        if (n - pos < ENTRY_HDR)
            return -1;
        const char *e = t + pos;
        ix->e[i].seq = rd64(e);
        ix->e[i].offset = rd64(e + 8);
        ix->e[i].min_ts = (int64_t)rd64(e + 16);
        ix->e[i].max_ts = (int64_t)rd64(e + 24);
        uint32_t fl = rd32(e + 32);
        pos += ENTRY_HDR;
        if (n - pos < fl || ix->e[i].offset < SEGMENT_HDR || ix->e[i].offset <= prev_off ||
            ix->e[i].offset >= end)
            return -1;
        prev_off = ix->e[i].offset;
        if (bfilter_parse(t + pos, fl, &g->bf[i]))
            return -1;
        pos += fl;
    }
    if (pos != n)
        return -1;
    ix->bytes = end;
    atomic_store(&g->size, end);
    return 0;
}

/* Walks the blocks of a file whose table is lost: each block is checked,
 * decoded and its records noted; a bad block is skipped when its header
 * still says where the next one is, the rest dropped at a bad header. */
static void rebuild(segment_t *g, uint64_t file_size)
{
    seg_index_t *ix = &g->ix;
    buf_t comp = BUF_INIT, raw = BUF_INIT, filters = BUF_INIT;
    bfilter_builder_t bb;
    bfilter_builder_init(&bb);
    size_t cap = 0;
    uint64_t off = SEGMENT_HDR, end = SEGMENT_HDR;
    char *blob = NULL;
    size_t blob_len = 0;
    size_t *blob_off = NULL;
    for (;;) {
        char h[ZSEG_BLOCK_HDR];
        if (off + ZSEG_BLOCK_HDR > file_size ||
            read_at(g->fd, h, sizeof h, off) != (ssize_t)sizeof h || memcmp(h, BLOCK_MAGIC, 4))
            break;
        uint32_t clen = rd32(h + 4);
        if (off + ZSEG_BLOCK_HDR + clen > file_size)
            break;
        buf_reset(&comp);
        char *p = buf_reserve(&comp, ZSEG_BLOCK_HDR + clen);
        if (read_at(g->fd, p, ZSEG_BLOCK_HDR + clen, off) != (ssize_t)(ZSEG_BLOCK_HDR + clen))
            break;
        uint64_t next = off + ZSEG_BLOCK_HDR + clen;
        if (zseg_decode_block(p, ZSEG_BLOCK_HDR + clen, &raw) == 0) {
            index_entry_t e = {0, off, INT64_MAX, INT64_MIN};
            size_t pos = 0;
            while (pos < raw.len) {
                record_t r;
                size_t size;
                if (!record_verify(raw.data + pos, raw.len - pos, &size) ||
                    record_decode(raw.data + pos, raw.len - pos, &r) <= 0)
                    break;
                pos += size;
                if (r.flags & RECORD_F_META)
                    continue;
                if (!e.seq)
                    e.seq = r.seq;
                e.min_ts = r.ts < e.min_ts ? r.ts : e.min_ts;
                e.max_ts = r.ts > e.max_ts ? r.ts : e.max_ts;
                ix->min_ts = r.ts < ix->min_ts ? r.ts : ix->min_ts;
                ix->max_ts = r.ts > ix->max_ts ? r.ts : ix->max_ts;
                ix->last_seq = r.seq;
                ix->records++;
                bfilter_add(&bb, &r);
            }
            buf_reset(&filters);
            bfilter_finish(&bb, &filters);
            if (e.seq && pos == raw.len) {
                if (ix->n == cap) {
                    cap = cap ? cap * 2 : 64;
                    ix->e = xrealloc(ix->e, cap * sizeof *ix->e);
                    blob_off = xrealloc(blob_off, cap * sizeof *blob_off);
                }
                blob_off[ix->n] = blob_len;
                ix->e[ix->n++] = e;
                blob = xrealloc(blob, blob_len + filters.len + 4);
                wr32(blob + blob_len, (uint32_t)filters.len);
                memcpy(blob + blob_len + 4, filters.data, filters.len);
                blob_len += filters.len + 4;
            } else if (e.seq) {
                /* damage inside the frames: the block is read, its filter open */
                if (ix->n == cap) {
                    cap = cap ? cap * 2 : 64;
                    ix->e = xrealloc(ix->e, cap * sizeof *ix->e);
                    blob_off = xrealloc(blob_off, cap * sizeof *blob_off);
                }
                blob_off[ix->n] = blob_len;
                e.min_ts = INT64_MIN;
                e.max_ts = INT64_MAX;
                ix->e[ix->n++] = e;
                blob = xrealloc(blob, blob_len + sizeof open_filter + 4);
                wr32(blob + blob_len, sizeof open_filter);
                memcpy(blob + blob_len + 4, open_filter, sizeof open_filter);
                blob_len += sizeof open_filter + 4;
            }
        } else {
            log_warn("store: compressed segment %" PRIu64 ": damaged block at byte %" PRIu64
                     " skipped",
                     g->first_seq, off);
        }
        off = end = next;
    }
    ix->bytes = end;
    atomic_store(&g->size, end);
    g->zmeta = blob;
    g->bf = xcalloc(ix->n ? ix->n : 1, sizeof *g->bf);
    for (size_t i = 0; i < ix->n; i++)
        bfilter_parse(blob + blob_off[i] + 4, rd32(blob + blob_off[i]), &g->bf[i]);
    free(blob_off);
    buf_free(&comp);
    buf_free(&raw);
    buf_free(&filters);
    bfilter_builder_free(&bb);
}

segment_t *zseg_open(const char *dir, uint64_t first, int repair, int *repaired, char *why,
                     size_t cap)
{
    char path[4200], hdr[SEGMENT_HDR], foot[ZSEG_FOOTER];
    segment_path(path, sizeof path, dir, first, ".zlog");
    if (repaired)
        *repaired = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, cap, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    fstat(fd, &st);
    uint64_t size = (uint64_t)st.st_size;
    if (read_at(fd, hdr, sizeof hdr, 0) != (ssize_t)sizeof hdr || memcmp(hdr, ZSEG_MAGIC, 8) ||
        rd32(hdr + SEGMENT_OFF_VERSION) != ZSEG_VERSION ||
        rd32(hdr + SEGMENT_OFF_HDR_LEN) != SEGMENT_HDR || rd64(hdr + SEGMENT_OFF_FIRST) != first) {
        close(fd);
        snprintf(why, cap, "%s is not a compressed logship segment (bad header)", path);
        return NULL;
    }
    segment_t *g =
        segment_new(first, fd, 0, (int64_t)st.st_mtim.tv_sec * NS_PER_SEC + st.st_mtim.tv_nsec);
    g->compressed = 1;
    g->sealed = 1;
    int ok = 0;
    if (size >= SEGMENT_HDR + ZSEG_FOOTER &&
        read_at(fd, foot, sizeof foot, size - ZSEG_FOOTER) == (ssize_t)sizeof foot &&
        !memcmp(foot + 24, TABLE_MAGIC, 8)) {
        uint64_t toff = rd64(foot), tlen = rd64(foot + 8);
        if (toff >= SEGMENT_HDR && tlen <= (1u << 30) && toff + tlen + ZSEG_FOOTER == size) {
            char *t = xmalloc(tlen ? tlen : 1);
            if (read_at(fd, t, tlen, toff) == (ssize_t)tlen &&
                XXH3_64bits(t, tlen) == rd64(foot + 16) && load_table(g, t, tlen) == 0 &&
                g->ix.bytes == toff) {
                g->zmeta = t;
                ok = 1;
            } else {
                free(t);
            }
        }
    }
    if (!ok) {
        if (!repair) {
            segment_unref(g);
            snprintf(why, cap, "%s: its block table is damaged or missing", path);
            return NULL;
        }
        free(g->bf);
        g->bf = NULL;
        index_free(&g->ix);
        index_init(&g->ix, first);
        rebuild(g, size);
        if (repaired)
            *repaired = 1;
    }
    return g;
}

int zseg_each_meta(const segment_t *g, void (*fn)(void *arg, const record_t *r), void *arg)
{
    buf_t comp = BUF_INIT, raw = BUF_INIT;
    int rc = 0;
    uint64_t size = atomic_load(&g->size);
    for (size_t i = 0; i < g->ix.n; i++) {
        uint64_t from = g->ix.e[i].offset, to = i + 1 < g->ix.n ? g->ix.e[i + 1].offset : size;
        buf_reset(&comp);
        char *p = buf_reserve(&comp, (size_t)(to - from));
        if (read_at(g->fd, p, (size_t)(to - from), from) != (ssize_t)(to - from)) {
            rc = -EIO;
            break;
        }
        if (zseg_decode_block(p, (size_t)(to - from), &raw))
            continue;
        for (size_t pos = 0; pos < raw.len;) {
            record_t r;
            size_t sz;
            if (!record_verify(raw.data + pos, raw.len - pos, &sz) ||
                record_decode(raw.data + pos, raw.len - pos, &r) <= 0)
                break;
            if (r.flags & RECORD_F_META)
                fn(arg, &r);
            pos += sz;
        }
    }
    buf_free(&comp);
    buf_free(&raw);
    return rc;
}
