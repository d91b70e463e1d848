/* files.c - file tail under allowed roots: see files.h. */
#define _GNU_SOURCE /* O_PATH */
#include "files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/json_write.h"
#include "../common/log.h"
#include "../common/timeutil.h"
#include "beneath.h"

#define READ_PER_TICK (1u << 20)
#define BACK_MAX      (4u << 20) /* bytes searched backwards for the last n lines */

int files_roots_init(file_roots_t *fr, const char (*roots)[4096], int n, char *err, size_t cap)
{
    memset(fr, 0, sizeof *fr);
    for (int i = 0; i < n && i < FILES_ROOTS_MAX; i++) {
        char real[PATH_MAX];
        if (!realpath(roots[i], real)) {
            snprintf(err, cap, "tail root %s: %s", roots[i], strerror(errno));
            return -1;
        }
        snprintf(fr->r[i].real, sizeof fr->r[i].real, "%s", real);
        fr->r[i].fd = open(real, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fr->r[i].fd < 0) {
            snprintf(err, cap, "tail root %s: %s", roots[i], strerror(errno));
            files_roots_free(fr);
            return -1;
        }
        const char *base = strrchr(real, '/');
        base = base && base[1] ? base + 1 : "root";
        snprintf(fr->r[i].name, sizeof fr->r[i].name, "%s", base);
        /* make names unique: log, log-2, log-3 */
        for (int k = 2;; k++) {
            int clash = 0;
            for (int j = 0; j < i; j++)
                clash |= strcmp(fr->r[j].name, fr->r[i].name) == 0;
            if (!clash)
                break;
            snprintf(fr->r[i].name, sizeof fr->r[i].name, "%s-%d", base, k);
        }
        fr->n++;
    }
    return 0;
}

void files_roots_free(file_roots_t *fr)
{
    for (int i = 0; i < fr->n; i++)
        if (fr->r[i].fd >= 0)
            close(fr->r[i].fd);
    fr->n = 0;
}

static const char WHY_SYMLINK[] =
    "the path goes through a symlink now (refused: it could lead out of the root)";
static const char WHY_HARDLINK[] =
    "hard links are refused (the file has more than one link: it may be any file)";

/* What is at rel beneath rootfd now, without opening it for reading (no
 * device or fifo is ever opened): 0 with *st, or -1 with *why, and *hard = 1
 * when the path is unsafe rather than missing. */
static int probe(int rootfd, const char *rel, struct stat *st, const char **why, int *hard)
{
    *hard = 0;
    int fd = beneath_open(rootfd, rel, O_PATH);
    if (fd < 0) {
        *hard = errno == ELOOP || errno == EXDEV;
        *why = *hard ? WHY_SYMLINK : errno == ENOENT ? "no such file" : "cannot open the file";
        return -1;
    }
    int rc = fstat(fd, st);
    close(fd);
    if (rc) {
        *why = "cannot open the file";
        return -1;
    }
    return 0;
}

/* Opens rel beneath rootfd for reading: a regular file with one link.
 * Returns the descriptor with *st, or -1 with *why and *hard as probe(). */
static int open_checked(int rootfd, const char *rel, struct stat *st, const char **why, int *hard)
{
    struct stat pst;
    if (probe(rootfd, rel, &pst, why, hard))
        return -1;
    if (!S_ISREG(pst.st_mode)) {
        *why = "not a regular file";
        return -1;
    }
    int fd = beneath_open(rootfd, rel, O_RDONLY | O_NONBLOCK);
    if (fd < 0) {
        *hard = errno == ELOOP || errno == EXDEV;
        *why = *hard ? WHY_SYMLINK : "cannot open the file";
        return -1;
    }
    if (fstat(fd, st) || st->st_dev != pst.st_dev || st->st_ino != pst.st_ino ||
        !S_ISREG(st->st_mode)) {
        close(fd);
        *why = "the file changed while it was opened";
        return -1;
    }
    if (st->st_nlink > 1) {
        close(fd);
        *hard = 1;
        *why = WHY_HARDLINK;
        return -1;
    }
    return fd;
}

/* The root whose real path holds path ("<root>/<rel>"), the longest; -1
 * when none. *rel: the path inside it. */
static int root_of(const file_roots_t *fr, const char *path, const char **rel)
{
    int best = -1;
    size_t best_len = 0;
    for (int i = 0; i < fr->n; i++) {
        size_t rl = strlen(fr->r[i].real);
        if (rl > best_len && strncmp(path, fr->r[i].real, rl) == 0 && path[rl] == '/' &&
            path[rl + 1]) {
            best = i;
            best_len = rl;
        }
    }
    if (best >= 0)
        *rel = path + best_len + 1;
    return best;
}

int files_resolve(const file_roots_t *fr, const char *rel, char *out, size_t cap, const char **why)
{
    const char *slash = strchr(rel, '/');
    if (rel[0] == '/' || !slash || !slash[1]) {
        *why = "expected <root name>/<path>";
        return -1;
    }
    size_t nl = (size_t)(slash - rel);
    int root = -1;
    for (int i = 0; i < fr->n; i++)
        if (strlen(fr->r[i].name) == nl && memcmp(fr->r[i].name, rel, nl) == 0)
            root = i;
    if (root < 0) {
        *why = "no such tail root";
        return -1;
    }
    const char *path = slash + 1;
    if (path[0] == '/') {
        *why = "absolute paths are refused";
        return -1;
    }
    /* no ".." component, whatever the resolution would make of it */
    for (const char *p = path; *p;) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == 2 && p[0] == '.' && p[1] == '.') {
            *why = "'..' is refused";
            return -1;
        }
        p += len + (e ? 1 : 0);
    }
    char joined[PATH_MAX * 2], real[PATH_MAX];
    snprintf(joined, sizeof joined, "%s/%s", fr->r[root].real, path);
    if (!realpath(joined, real)) {
        *why = errno == ENOENT ? "no such file" : "cannot resolve the path";
        return -1;
    }
    size_t rl = strlen(fr->r[root].real);
    if (strncmp(real, fr->r[root].real, rl) != 0 || real[rl] != '/') {
        *why = "the path leaves its root (symlink)";
        return -1;
    }
    /* the real path has no symlinks left: it must open beneath the root
     * without following any, or something changed since realpath() */
    struct stat st;
    int hard, fd = open_checked(fr->r[root].fd, real + rl + 1, &st, why, &hard);
    if (fd < 0)
        return -1;
    close(fd);
    if (strlen(real) >= cap) {
        *why = "path too long";
        return -1;
    }
    snprintf(out, cap, "%s", real);
    return 0;
}

/* A listing of one root in progress (FILES_* limits of files.h). */
typedef struct lister {
    buf_t *out;
    const char *root;
    size_t rl;
    int files, visits, truncated;
} lister_t;

/* Lists the files of root/sub, then its subdirectories: the limits cut the
 * deepest parts of a large tree first. */
static void list_dir(lister_t *l, const char *sub, int depth)
{
    char dir[PATH_MAX * 2];
    snprintf(dir, sizeof dir, "%s%s%s", l->root, *sub ? "/" : "", sub);
    DIR *d = opendir(dir);
    if (!d)
        return;
    buf_t subdirs = BUF_INIT; /* relative paths, each NUL-terminated */
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (l->files >= FILES_LIST_MAX || l->visits >= FILES_VISIT_MAX) {
            l->truncated = 1;
            break;
        }
        l->visits++;
        char rel[PATH_MAX], full[PATH_MAX * 2], real[PATH_MAX];
        int rn = snprintf(rel, sizeof rel, "%s%s%s", sub, *sub ? "/" : "", e->d_name);
        if (rn < 0 || (size_t)rn >= sizeof rel)
            continue;
        snprintf(full, sizeof full, "%s/%s", l->root, rel);
        struct stat st;
        if (stat(full, &st))
            continue;
        /* only what files_resolve would allow */
        if (!realpath(full, real) || strncmp(real, l->root, l->rl) != 0 || real[l->rl] != '/')
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (depth < FILES_LIST_DEPTH)
                buf_append(&subdirs, rel, (size_t)rn + 1);
            continue;
        }
        if (!S_ISREG(st.st_mode) || st.st_nlink > 1)
            continue;
        char ts[RFC3339_MAX];
        time_format_rfc3339((int64_t)st.st_mtim.tv_sec * NS_PER_SEC + st.st_mtim.tv_nsec, ts);
        if (l->files++)
            buf_putc(l->out, ',');
        buf_puts(l->out, "{\"path\":");
        json_str(l->out, rel, (size_t)rn);
        buf_printf(l->out, ",\"size\":%lld,\"mtime\":\"%s\"}", (long long)st.st_size, ts);
    }
    closedir(d);
    for (size_t at = 0; at < subdirs.len && !l->truncated;) {
        const char *s = subdirs.data + at;
        at += strlen(s) + 1;
        list_dir(l, s, depth + 1);
    }
    buf_free(&subdirs);
}

void files_list_json(const file_roots_t *fr, buf_t *out)
{
    buf_puts(out, "{\"roots\":[");
    for (int i = 0; i < fr->n; i++) {
        lister_t l = {out, fr->r[i].real, strlen(fr->r[i].real), 0, 0, 0};
        if (i)
            buf_putc(out, ',');
        buf_puts(out, "{\"name\":");
        json_str(out, fr->r[i].name, strlen(fr->r[i].name));
        buf_puts(out, ",\"path\":");
        json_str(out, fr->r[i].real, strlen(fr->r[i].real));
        buf_puts(out, ",\"files\":[");
        list_dir(&l, "", 0);
        buf_printf(out, "],\"truncated\":%s}", l.truncated ? "true" : "false");
    }
    buf_puts(out, "]}\n");
}

/* ---- following ------------------------------------------------------------ */

struct file_follow {
    uv_timer_t timer;
    char path[PATH_MAX];
    int rootfd;      /* the root's directory (borrowed from file_roots_t) */
    const char *rel; /* the path inside it: points into path */
    int fd;
    dev_t dev;
    ino_t ino;
    uint64_t off;
    int follow;
    enum tail_framing framing;
    void *conn;
    tail_wake_fn wake;
    buf_t partial; /* a line not finished yet */
    buf_t lines;   /* JSON strings of complete lines, comma separated */
    size_t nlines;
    const char *control; /* "rotated" / "truncated" / "error" to send first */
    const char *error;   /* why it stopped (control "error") */
    buf_t msg;
    int initial_sent;
    int failed;     /* stopped: the path became unsafe */
    int error_sent; /* and the error went out */
};

static void add_line(file_follow_t *f, const char *p, size_t n)
{
    if (n && p[n - 1] == '\r')
        n--;
    if (n > FILES_LINE_MAX)
        n = FILES_LINE_MAX;
    if (f->nlines++)
        buf_putc(&f->lines, ',');
    json_str(&f->lines, p, n);
}

/* Splits bytes into lines, keeping an unfinished last line in partial. */
static void add_bytes(file_follow_t *f, const char *p, size_t n)
{
    while (n) {
        const char *nl = memchr(p, '\n', n);
        if (!nl) {
            size_t room =
                FILES_LINE_MAX + 1 > f->partial.len ? FILES_LINE_MAX + 1 - f->partial.len : 0;
            buf_append(&f->partial, p, n < room ? n : room);
            return;
        }
        size_t len = (size_t)(nl - p);
        if (f->partial.len) {
            buf_append(&f->partial, p, len);
            add_line(f, f->partial.data, f->partial.len);
            buf_reset(&f->partial);
        } else {
            add_line(f, p, len);
        }
        n -= len + 1;
        p = nl + 1;
    }
}

static void fail(file_follow_t *f, const char *why);

/* Reads what was appended since off (bounded per tick). */
static void read_new(file_follow_t *f)
{
    char buf[64 * 1024];
    size_t total = 0;
    while (total < READ_PER_TICK && f->lines.len < TAIL_MSG_MAX) {
        ssize_t r = pread(f->fd, buf, sizeof buf, (off_t)f->off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && !f->failed)
            fail(f, "cannot read the file"); /* not retried: a one-shot read would spin */
        if (r <= 0)
            break;
        f->off += (uint64_t)r;
        total += (size_t)r;
        add_bytes(f, buf, (size_t)r);
    }
}

/* Positions at the start of the last n lines; when BACK_MAX bytes hold
 * fewer, at the start of the first whole line in them (a line cut by the
 * window is not sent). */
static void seek_last_lines(file_follow_t *f, size_t n, uint64_t size)
{
    char buf[64 * 1024];
    uint64_t pos = size, scanned = 0, first_line = UINT64_MAX;
    size_t found = 0;
    /* a final newline ends the last line rather than starting another */
    int skip_last = 1;
    if (n == 0) {
        f->off = size;
        return;
    }
    while (pos > 0 && scanned < BACK_MAX) {
        size_t chunk = pos > sizeof buf ? sizeof buf : (size_t)pos;
        pos -= chunk;
        if (pread(f->fd, buf, chunk, (off_t)pos) != (ssize_t)chunk)
            break;
        scanned += chunk;
        for (size_t i = chunk; i-- > 0;) {
            if (buf[i] != '\n')
                continue;
            if (skip_last && pos + i + 1 == size) {
                skip_last = 0;
                continue;
            }
            skip_last = 0;
            first_line = pos + i + 1;
            if (++found == n) { /* the last n lines start after it */
                f->off = first_line;
                return;
            }
        }
    }
    /* at the file's start, or the window ended inside a line: skip to the
     * line after it (unless the last line alone is longer than the window) */
    f->off = pos > 0 && first_line != UINT64_MAX ? first_line : pos;
}

/* The path is no longer safe to follow: what was read is sent, then the
 * error, and the follower is done. */
static void fail(file_follow_t *f, const char *why)
{
    log_warn("files: stopped following %s: %s", f->path, why);
    if (f->partial.len) {
        add_line(f, f->partial.data, f->partial.len);
        buf_reset(&f->partial);
    }
    f->failed = 1;
    f->error = why;
    f->control = "error";
    uv_timer_stop(&f->timer);
}

/* Nothing new in the file: is there a new one at the path (rotation)? Only
 * beneath the root, through no symlink, and with one link. */
static void check_rotation(file_follow_t *f)
{
    struct stat now, nst;
    const char *why;
    int hard;
    if (probe(f->rootfd, f->rel, &now, &why, &hard)) {
        if (hard)
            fail(f, why);
        return; /* missing for now: renamed away, the new one not there yet */
    }
    if (now.st_ino == f->ino && now.st_dev == f->dev)
        return;
    /* renamed away and a new file created: the old one is drained */
    int fd = open_checked(f->rootfd, f->rel, &nst, &why, &hard);
    if (fd < 0) {
        if (hard)
            fail(f, why);
        return; /* not a regular file (yet): the old one is followed still */
    }
    if (f->partial.len) {
        add_line(f, f->partial.data, f->partial.len);
        buf_reset(&f->partial);
    }
    close(f->fd);
    f->fd = fd;
    f->dev = nst.st_dev;
    f->ino = nst.st_ino;
    f->off = 0;
    f->control = "rotated";
    read_new(f);
}

static void on_poll(uv_timer_t *t)
{
    file_follow_t *f = t->data;
    struct stat st;
    if (f->failed || fstat(f->fd, &st))
        return;
    if (st.st_size > (off_t)f->off) {
        read_new(f);
    } else if (st.st_size < (off_t)f->off) {
        /* truncated in place (copytruncate): start again */
        f->off = 0;
        buf_reset(&f->partial);
        f->control = "truncated";
        read_new(f);
    } else {
        check_rotation(f);
    }
    if (f->nlines || f->control)
        f->wake(f->conn);
}

file_follow_t *files_follow(uv_loop_t *loop, const file_roots_t *fr, const char *path, size_t n,
                            int follow, enum tail_framing framing, void *conn, tail_wake_fn wake,
                            const char **why)
{
    const char *rel;
    int root = root_of(fr, path, &rel);
    if (root < 0 || strlen(path) >= PATH_MAX) {
        *why = "not under a tail root";
        return NULL;
    }
    struct stat st;
    int hard, fd = open_checked(fr->r[root].fd, rel, &st, why, &hard);
    if (fd < 0)
        return NULL;
    file_follow_t *f = xcalloc(1, sizeof *f);
    snprintf(f->path, sizeof f->path, "%s", path);
    f->rootfd = fr->r[root].fd;
    f->rel = f->path + (rel - path);
    f->fd = fd;
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    f->follow = follow;
    f->framing = framing;
    f->conn = conn;
    f->wake = wake;
    seek_last_lines(f, n, (uint64_t)st.st_size);
    read_new(f);
    uv_timer_init(loop, &f->timer);
    f->timer.data = f;
    if (follow)
        uv_timer_start(&f->timer, on_poll, FILES_POLL_MS, FILES_POLL_MS);
    wake(conn);
    return f;
}

static void put(buf_t *b, enum tail_framing fr, const char *event, const char *json, size_t n)
{
    buf_reset(b);
    buf_reserve(b, TAIL_HEADROOM + n + 64);
    b->len = TAIL_HEADROOM;
    if (fr == TAIL_SSE) {
        buf_puts(b, "event: ");
        buf_puts(b, event);
        buf_puts(b, "\ndata: ");
    }
    buf_append(b, json, n);
    if (fr == TAIL_SSE)
        buf_puts(b, "\n\n");
}

/* Nothing more to read (as of now). */
static int at_end(const file_follow_t *f)
{
    struct stat st;
    return fstat(f->fd, &st) || (uint64_t)st.st_size <= f->off;
}

int files_next(file_follow_t *f, char **data, size_t *len)
{
    /* after a failure, the lines read before it go first */
    if (f->control && !(f->failed && (f->nlines || !f->initial_sent))) {
        if (f->failed) {
            buf_t json = BUF_INIT;
            buf_puts(&json, "{\"type\":\"error\",\"error\":");
            json_str(&json, f->error, strlen(f->error));
            buf_putc(&json, '}');
            put(&f->msg, f->framing, "error", json.data, json.len);
            buf_free(&json);
            f->error_sent = 1;
        } else {
            char json[64];
            int n = snprintf(json, sizeof json, "{\"type\":\"%s\"}", f->control);
            put(&f->msg, f->framing, f->control, json, (size_t)n);
        }
        f->control = NULL;
    } else {
        /* a one-shot read (follow=0) reads on from here: one read may have
         * ended inside a line longer than it, with no whole line to send */
        if (!f->follow && f->initial_sent && !f->nlines && !f->failed)
            read_new(f);
        if (!f->follow && f->partial.len && at_end(f)) {
            /* it ends with the last line, newline or not; before the end a
             * line still unfinished waits for its end in the next read */
            add_line(f, f->partial.data, f->partial.len);
            buf_reset(&f->partial);
        }
        if (!f->nlines && f->initial_sent)
            return 0;
        buf_t *b = &f->msg;
        buf_reset(b);
        buf_reserve(b, TAIL_HEADROOM + f->lines.len + 64);
        b->len = TAIL_HEADROOM;
        if (f->framing == TAIL_SSE)
            buf_puts(b, "event: lines\ndata: ");
        buf_putc(b, '[');
        buf_append(b, f->lines.data, f->lines.len);
        buf_putc(b, ']');
        if (f->framing == TAIL_SSE)
            buf_puts(b, "\n\n");
        buf_reset(&f->lines);
        buf_shrink(&f->lines, 1u << 20);
        f->nlines = 0;
        f->initial_sent = 1;
        if (!f->follow)
            read_new(f); /* a one-shot read goes on until the end */
    }
    *data = f->msg.data + TAIL_HEADROOM;
    *len = f->msg.len - TAIL_HEADROOM;
    return 1;
}

int files_failed(const file_follow_t *f)
{
    return f->failed;
}

int files_done(const file_follow_t *f)
{
    if (f->failed)
        return f->error_sent;
    if (f->follow || !f->initial_sent || f->nlines || f->control || f->partial.len)
        return 0;
    return at_end(f);
}

static void on_closed(uv_handle_t *h)
{
    file_follow_t *f = h->data;
    buf_free(&f->partial);
    buf_free(&f->lines);
    buf_free(&f->msg);
    free(f);
}

void files_unfollow(file_follow_t *f)
{
    if (!f)
        return;
    close(f->fd);
    uv_timer_stop(&f->timer);
    uv_close((uv_handle_t *)&f->timer, on_closed);
}
