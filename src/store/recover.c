/* recover.c - reading a data directory back at open: find segments, check
 * or rebuild their indexes, cut a torn tail, restore producers, the next seq
 * and the memory window, into a recover_result_t (recover.h) that
 * store_open() takes over. Recovery never sees a store_t.
 *
 * RECOVERY
 *
 * A crash can leave, at worst: a last segment that ends in part of a frame
 * (a write cut short), a new segment file with no complete header (a roll
 * cut short), a missing or stale index (a seal cut short), a producer
 * snapshot older than the last segment (a roll cut short). Sealed segments
 * were synced before the next one was created, so their frames are whole.
 *
 *   1. Segments are listed by name; each header must name the same seq.
 *   2. A sealed segment keeps its index when the index describes exactly
 *      the file's size; otherwise it is rebuilt by a scan and saved.
 *   3. The last segment is scanned frame by frame. At the first bad frame
 *      the rest of the file is searched for a good one: if there is one,
 *      the damage is reported and skipped (records after it are kept);
 *      if not, the tail is cut at the last good frame and the cut is
 *      reported in records and bytes.
 *   4. next_seq continues after the newest record, or after the seq
 *      reservation a previous boot left (reserve.h) when that is higher,
 *      so no seq that a reader may have seen is handed out twice.
 *   5. Producers: the snapshot, plus meta frames of the segments from the
 *      snapshot's segment on.
 *   6. The memory window is filled with the newest records, read the way
 *      queries read them (reader.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/timeutil.h"
#include "reader.h"
#include "recover.h"
#include "reserve.h"
#include "zseg.h"

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* First seqs of the segment files (.log, .zlog) in dir/segments, sorted,
 * each once. A .zlog.tmp (a compression cut short, zseg.h) is removed. */
static uint64_t *list_segments(const char *segdir, size_t *n)
{
    DIR *d = opendir(segdir);
    uint64_t *v = NULL;
    size_t cap = 0;
    *n = 0;
    if (!d)
        return NULL;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *name = e->d_name;
        size_t len = strlen(name);
        if (strspn(name, "0123456789") != 20)
            continue;
        if (len == 29 && strcmp(name + 20, ".zlog.tmp") == 0) {
            char tmp[4300];
            snprintf(tmp, sizeof tmp, "%s/%s", segdir, name);
            log_warn("store: removing %s (a compression cut short)", tmp);
            unlink(tmp);
            continue;
        }
        if (!(len == 24 && strcmp(name + 20, ".log") == 0) &&
            !(len == 25 && strcmp(name + 20, ".zlog") == 0))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            v = xrealloc(v, cap * sizeof *v);
        }
        v[(*n)++] = strtoull(name, NULL, 10);
    }
    closedir(d);
    if (*n)
        qsort(v, *n, sizeof *v, cmp_u64);
    size_t k = 0;
    for (size_t i = 0; i < *n; i++)
        if (!k || v[k - 1] != v[i])
            v[k++] = v[i];
    *n = k;
    return v;
}

static void apply_meta(void *arg, const record_t *r)
{
    producer_table_t *t = arg;
    producer_batch_t b;
    if (producer_meta_parse(r, &b) == 0)
        producer_record(t, r->app.p, r->app.n, &b);
}

/* Scans a whole segment into g->ix, skipping damaged stretches, feeding
 * meta frames to producers when it is not NULL. Returns the offset after
 * the last good frame. *damaged counts skipped stretches. */
static uint64_t scan_segment(segment_t *g, uint64_t prev_seq, uint64_t file_size,
                             producer_table_t *producers, uint64_t *damaged,
                             enum scan_stop *last_stop)
{
    uint64_t from = SEGMENT_HDR, end = SEGMENT_HDR;
    seg_scan_t sc;
    for (;;) {
        if (segment_scan(g->fd, from, prev_seq, &g->ix, producers ? apply_meta : NULL, producers,
                         &sc)) {
            log_error("store: reading segment %" PRIu64 ": %s", g->first_seq, strerror(errno));
            *last_stop = SCAN_CORRUPT;
            return end;
        }
        end = sc.end;
        prev_seq = sc.last_seq;
        *last_stop = sc.stop;
        if (sc.stop == SCAN_END || sc.end >= file_size)
            return end;
        uint64_t next = segment_resync(g->fd, sc.end + 1, file_size, prev_seq);
        if (next >= file_size)
            return end; /* nothing good after: a torn or corrupt tail */
        log_warn("store: segment %" PRIu64 ": damaged bytes %" PRIu64 "..%" PRIu64
                 " skipped, records after them kept",
                 g->first_seq, sc.end, next);
        (*damaged)++;
        from = next;
    }
}

/* Counts whole-looking frames in [from, to): what a cut tail held. */
static uint64_t count_frames(int fd, uint64_t from, uint64_t to)
{
    uint64_t n = 0;
    char hdr[RECORD_FRAME_HDR];
    while (from + RECORD_FRAME_HDR <= to) {
        if (pread(fd, hdr, sizeof hdr, (off_t)from) != (ssize_t)sizeof hdr)
            break;
        uint64_t size = frame_size(hdr);
        if (size < RECORD_HEAD || from + size > to)
            break;
        n++;
        from += size;
    }
    return n;
}

/* Opens segment `first` and appends it to r->segs (steps 1 to 3). The last
 * one is opened read-write; metas says whether its meta frames go into
 * r->producers (step 5). Returns 0 (also when an unfinished last segment
 * was removed), or -1 with err filled. */
/* A compressed segment (zseg.h): when its .log is there too, the rewrite
 * was cut short after the rename; the .zlog is kept when it opens whole,
 * and the .log goes (and the reverse). Returns 1 when the segment was
 * taken from the .zlog, 0 when the .log is to be opened, -1 on error. */
static int open_zseg(recover_result_t *r, const char *dir, uint64_t first, uint64_t *prev_seq,
                     int metas, char *err, size_t errcap)
{
    char zpath[4200], path[4200], why[300];
    struct stat st;
    segment_path(zpath, sizeof zpath, dir, first, ".zlog");
    segment_path(path, sizeof path, dir, first, ".log");
    if (stat(zpath, &st) != 0)
        return 0;
    int has_log = stat(path, &st) == 0, repaired = 0;
    segment_t *g = zseg_open(dir, first, !has_log, &repaired, why, sizeof why);
    if (!g && has_log) {
        log_warn("store: %s; the segment is read from its .log", why);
        unlink(zpath);
        return 0;
    }
    if (!g) {
        snprintf(err, errcap, "%s", why);
        return -1;
    }
    if (has_log) {
        log_info("store: segment %" PRIu64 " was compressed: its .log removed", first);
        unlink(path);
    }
    segment_path(path, sizeof path, dir, first, ".idx"); /* a rewrite cut short may leave it */
    unlink(path);
    if (repaired)
        log_warn("store: compressed segment %" PRIu64 ": block table rebuilt (%" PRIu64
                 " records in %zu whole blocks)",
                 first, g->ix.records, g->ix.n);
    if (metas && zseg_each_meta(g, apply_meta, &r->producers))
        log_error("store: reading compressed segment %" PRIu64 ": %s", first, strerror(EIO));
    if (g->ix.records) {
        if (g->ix.e[0].seq <= *prev_seq)
            log_warn("store: segment %" PRIu64 " overlaps the one before it", first);
        *prev_seq = g->ix.last_seq;
    }
    seglist_push(&r->segs, g);
    return 1;
}

static int open_one(recover_result_t *r, const char *dir, uint64_t first, int last,
                    uint64_t *prev_seq, int metas, char *err, size_t errcap)
{
    char path[4200], hdr[SEGMENT_HDR];
    int z = open_zseg(r, dir, first, prev_seq, metas, err, errcap);
    if (z)
        return z < 0 ? -1 : 0;
    segment_path(path, sizeof path, dir, first, ".log");
    int fd = open(path, (last ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errcap, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    fstat(fd, &st);
    uint64_t hseq;
    if (pread(fd, hdr, sizeof hdr, 0) != (ssize_t)sizeof hdr ||
        segment_header_decode(hdr, sizeof hdr, &hseq) || hseq != first) {
        close(fd);
        if (last && st.st_size <= SEGMENT_HDR) {
            /* a roll cut short: the new file never got its header */
            log_warn("store: removing unfinished segment %s (%lld bytes)", path,
                     (long long)st.st_size);
            unlink(path);
            return 0;
        }
        snprintf(err, errcap, "%s is not a logship segment (bad header)", path);
        return -1;
    }
    segment_t *g =
        segment_new(first, fd, 0, (int64_t)st.st_mtim.tv_sec * NS_PER_SEC + st.st_mtim.tv_nsec);
    uint64_t size = (uint64_t)st.st_size, damaged = 0;
    enum scan_stop stop = SCAN_END;

    char ipath[4200];
    segment_path(ipath, sizeof ipath, dir, first, ".idx");
    if (!last && !metas && index_load(&g->ix, ipath, size) == 0) {
        /* step 2: the index describes this file exactly */
    } else {
        index_free(&g->ix);
        index_init(&g->ix, first);
        g->ix.bytes = SEGMENT_HDR;
        uint64_t end =
            scan_segment(g, *prev_seq, size, metas ? &r->producers : NULL, &damaged, &stop);
        if (end < size) {
            if (last) {
                uint64_t frames = count_frames(fd, end, size);
                log_warn("store: recovery cut the tail of segment %" PRIu64 ": %" PRIu64
                         " bytes, %" PRIu64 " whole-looking record(s) after a %s frame",
                         first, size - end, frames, stop == SCAN_TORN ? "torn" : "corrupt");
                if (ftruncate(fd, (off_t)end) || fdatasync(fd)) {
                    snprintf(err, errcap, "cannot cut the torn tail of %s: %s", path,
                             strerror(errno));
                    segment_unref(g);
                    return -1;
                }
                size = end;
            } else {
                log_warn("store: sealed segment %" PRIu64 " has %" PRIu64
                         " damaged bytes at its end; readers skip them",
                         first, size - end);
            }
        }
        g->ix.bytes = size;
        if (!last && index_save(&g->ix, ipath))
            log_warn("store: cannot save rebuilt index %s: %s", ipath, strerror(errno));
        else if (!last)
            log_info("store: rebuilt index of segment %" PRIu64 " (%" PRIu64 " records)", first,
                     g->ix.records);
    }
    atomic_store(&g->size, size);
    g->sealed = !last;
    if (g->ix.records) {
        if (g->ix.e[0].seq <= *prev_seq)
            log_warn("store: segment %" PRIu64 " overlaps the one before it", first);
        *prev_seq = g->ix.last_seq;
    }
    seglist_push(&r->segs, g);
    return 0;
}

typedef struct newest {
    buf_t frames; /* newest first */
    size_t left;
} newest_t;

static int keep_newest(void *arg, const record_t *rec)
{
    newest_t *nw = arg;
    size_t size = record_frame_size(rec);
    char *p = buf_reserve(&nw->frames, size);
    record_encode(p, rec);
    record_seal(p, rec->seq);
    nw->frames.len += size;
    return --nw->left == 0;
}

/* Step 6: loads the newest records into r->window. */
static void fill_window(recover_result_t *r, size_t records)
{
    newest_t nw = {BUF_INIT, records};
    filter_t f;
    filter_init(&f);
    if (!nw.left || !r->last_seq)
        return;
    _Atomic uint64_t damaged = 0;
    reader_scan(&r->segs, NULL, r->last_seq, &damaged, &f, 1, keep_newest, &nw);
    r->damaged = atomic_load(&damaged);
    size_t n = 0, cap = 1024;
    size_t *offs = xmalloc(cap * sizeof *offs);
    for (size_t off = 0; off < nw.frames.len; off += frame_size(nw.frames.data + off)) {
        if (n == cap)
            offs = xrealloc(offs, (cap *= 2) * sizeof *offs);
        offs[n++] = off;
    }
    for (size_t i = n; i-- > 0;) {
        const char *p = nw.frames.data + offs[i];
        ring_push(&r->window, p, frame_size(p));
    }
    free(offs);
    buf_free(&nw.frames);
}

int recover_dir(const char *dir, const store_opts_t *o, recover_result_t *r, char *err,
                size_t errcap)
{
    char segdir[4200];
    memset(r, 0, sizeof *r);
    producer_table_init(&r->producers);
    snprintf(segdir, sizeof segdir, "%s/segments", dir);
    if (ring_init(&r->window, o->memory_records, o->memory_bytes)) {
        snprintf(err, errcap, "cannot allocate the memory window");
        goto fail;
    }

    /* producers: the snapshot says from which segment on to replay metas */
    char snap[4200];
    uint64_t snap_seg = 0;
    snprintf(snap, sizeof snap, "%s/producers.snap", dir);
    if (producer_load(&r->producers, snap, &snap_seg) != 0)
        snap_seg = 0;

    size_t n;
    uint64_t *firsts = list_segments(segdir, &n);
    uint64_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        int last = i + 1 == n;
        int metas = firsts[i] >= snap_seg;
        if (open_one(r, dir, firsts[i], last, &prev, metas, err, errcap)) {
            free(firsts);
            goto fail;
        }
    }
    free(firsts);

    /* step 4 */
    uint64_t reserve = reserve_read(dir);
    r->last_seq = prev;
    r->next_seq = (prev > reserve ? prev : reserve) + 1;
    if (reserve > prev)
        log_warn("store: the machine restarted since the last write: seqs %" PRIu64 "..%" PRIu64
                 " may have been seen and are skipped",
                 prev + 1, reserve);
    r->reserved = reserve > prev ? reserve : prev;

    /* an empty last segment whose name no longer fits next_seq is replaced */
    if (r->segs.n) {
        segment_t *g = r->segs.v[r->segs.n - 1];
        if (!g->compressed && !g->ix.records && g->first_seq != r->next_seq) {
            char path[4200];
            segment_path(path, sizeof path, dir, g->first_seq, ".log");
            unlink(path);
            r->segs.n--;
            segment_unref(g);
        }
    }
    fill_window(r, o->memory_records);
    return 0;
fail:
    recover_result_free(r);
    return -1;
}

void recover_result_free(recover_result_t *r)
{
    seglist_free(&r->segs);
    producer_table_free(&r->producers);
    ring_free(&r->window);
    memset(r, 0, sizeof *r);
}
