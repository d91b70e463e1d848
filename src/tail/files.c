/* files.c - file tail under allowed roots: see files.h. */
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

#define LIST_MAX      2000 /* files listed per root */
#define LIST_DEPTH    4
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

int files_resolve(const file_roots_t *fr, const char *rel, char *out, size_t cap,
                  const char **why)
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
    struct stat st;
    if (stat(real, &st) || !S_ISREG(st.st_mode)) {
        *why = "not a regular file";
        return -1;
    }
    snprintf(out, cap, "%s", real);
    return 0;
}

static void list_dir(buf_t *out, const char *root, const char *sub, int depth, int *count)
{
    char dir[PATH_MAX * 2];
    snprintf(dir, sizeof dir, "%s%s%s", root, *sub ? "/" : "", sub);
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    size_t rl = strlen(root);
    while ((e = readdir(d)) && *count < LIST_MAX) {
        if (e->d_name[0] == '.')
            continue;
        char rel[PATH_MAX], full[PATH_MAX * 2], real[PATH_MAX];
        snprintf(rel, sizeof rel, "%s%s%s", sub, *sub ? "/" : "", e->d_name);
        snprintf(full, sizeof full, "%s/%s", root, rel);
        struct stat st;
        if (stat(full, &st))
            continue;
        /* only what files_resolve would allow */
        if (!realpath(full, real) || strncmp(real, root, rl) != 0 || real[rl] != '/')
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (depth < LIST_DEPTH)
                list_dir(out, root, rel, depth + 1, count);
            continue;
        }
        if (!S_ISREG(st.st_mode))
            continue;
        char ts[RFC3339_MAX];
        time_format_rfc3339((int64_t)st.st_mtim.tv_sec * NS_PER_SEC + st.st_mtim.tv_nsec, ts);
        if ((*count)++)
            buf_putc(out, ',');
        buf_puts(out, "{\"path\":");
        json_str(out, rel, strlen(rel));
        buf_printf(out, ",\"size\":%lld,\"mtime\":\"%s\"}", (long long)st.st_size, ts);
    }
    closedir(d);
}

void files_list_json(const file_roots_t *fr, buf_t *out)
{
    buf_puts(out, "{\"roots\":[");
    for (int i = 0; i < fr->n; i++) {
        int count = 0;
        if (i)
            buf_putc(out, ',');
        buf_puts(out, "{\"name\":");
        json_str(out, fr->r[i].name, strlen(fr->r[i].name));
        buf_puts(out, ",\"path\":");
        json_str(out, fr->r[i].real, strlen(fr->r[i].real));
        buf_puts(out, ",\"files\":[");
        list_dir(out, fr->r[i].real, "", 0, &count);
        buf_puts(out, "]}");
    }
    buf_puts(out, "]}\n");
}

/* ---- following ------------------------------------------------------------ */

struct file_follow {
    uv_timer_t timer;
    char path[PATH_MAX];
    int fd;
    dev_t dev;
    ino_t ino;
    uint64_t off;
    int follow;
    enum tail_framing framing;
    void *conn;
    tail_wake_fn wake;
    buf_t partial;  /* a line not finished yet */
    buf_t lines;    /* JSON strings of complete lines, comma separated */
    size_t nlines;
    const char *control; /* "rotated" / "truncated" to send first */
    buf_t msg;
    int initial_sent;
    int closing;
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
            size_t room = FILES_LINE_MAX + 1 > f->partial.len ? FILES_LINE_MAX + 1 - f->partial.len : 0;
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

/* Reads what was appended since off (bounded per tick). */
static void read_new(file_follow_t *f)
{
    char buf[64 * 1024];
    size_t total = 0;
    while (total < READ_PER_TICK && f->lines.len < TAIL_MSG_MAX) {
        ssize_t r = pread(f->fd, buf, sizeof buf, (off_t)f->off);
        if (r <= 0)
            break;
        f->off += (uint64_t)r;
        total += (size_t)r;
        add_bytes(f, buf, (size_t)r);
    }
}

/* Positions at the start of the last n lines. */
static void seek_last_lines(file_follow_t *f, size_t n, uint64_t size)
{
    char buf[64 * 1024];
    uint64_t pos = size, scanned = 0;
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
            if (++found == n) { /* the last n lines start after it */
                f->off = pos + i + 1;
                return;
            }
        }
    }
    f->off = pos;
}

static void on_poll(uv_timer_t *t)
{
    file_follow_t *f = t->data;
    struct stat st, now;
    if (fstat(f->fd, &st))
        return;
    if (st.st_size > (off_t)f->off) {
        read_new(f);
    } else if (st.st_size < (off_t)f->off) {
        /* truncated in place (copytruncate): start again */
        f->off = 0;
        buf_reset(&f->partial);
        f->control = "truncated";
        read_new(f);
    } else if (stat(f->path, &now) == 0 && (now.st_ino != f->ino || now.st_dev != f->dev)) {
        /* renamed away and a new file created: the old one is drained */
        int fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        struct stat nst;
        if (fd >= 0 && fstat(fd, &nst) == 0 && S_ISREG(nst.st_mode)) {
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
        } else if (fd >= 0) {
            close(fd);
        }
    }
    if (f->nlines || f->control)
        f->wake(f->conn);
}

file_follow_t *files_follow(uv_loop_t *loop, const char *path, size_t n, int follow,
                            enum tail_framing framing, void *conn, tail_wake_fn wake,
                            const char **why)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        *why = "cannot open the file";
        return NULL;
    }
    file_follow_t *f = xcalloc(1, sizeof *f);
    snprintf(f->path, sizeof f->path, "%s", path);
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

int files_next(file_follow_t *f, char **data, size_t *len)
{
    if (f->control) {
        char json[64];
        int n = snprintf(json, sizeof json, "{\"type\":\"%s\"}", f->control);
        put(&f->msg, f->framing, f->control, json, (size_t)n);
        f->control = NULL;
    } else if (f->nlines || !f->initial_sent) {
        if (!f->follow && f->partial.len) {
            /* a one-shot read ends with the last line, newline or not */
            add_line(f, f->partial.data, f->partial.len);
            buf_reset(&f->partial);
        }
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
    } else {
        return 0;
    }
    *data = f->msg.data + TAIL_HEADROOM;
    *len = f->msg.len - TAIL_HEADROOM;
    return 1;
}

int files_done(const file_follow_t *f)
{
    struct stat st;
    if (f->follow || !f->initial_sent || f->nlines || f->control || f->partial.len)
        return 0;
    return fstat(f->fd, &st) || (uint64_t)st.st_size <= f->off;
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
