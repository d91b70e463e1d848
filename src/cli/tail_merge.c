/* tail_merge.c - several servers' tails in child processes, merged by time:
 * see tail_merge.h. */
#include "tail_merge.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/timeutil.h"
#include "cli.h"
#include "merge.h"

#define READ_CHUNK (64 * 1024)

typedef struct child {
    pid_t pid;
    int fd;     /* -1 once it ended */
    buf_t part; /* a line split across reads */
} child_t;

static int start(child_t *c, size_t n, size_t i, tail_merge_child_fn fn, void *arg)
{
    int p[2];
    if (pipe(p)) {
        cli_error("cannot make a pipe: %s", strerror(errno));
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        cli_error("cannot start a process for server %zu: %s", i + 1, strerror(errno));
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        for (size_t k = 0; k < n; k++)
            if (k != i && c[k].fd >= 0)
                close(c[k].fd);
        close(p[0]);
        if (dup2(p[1], STDOUT_FILENO) < 0)
            _exit(CLI_EXIT_FAIL);
        close(p[1]);
        int rc = fn(arg, i);
        fflush(stdout);
        _exit(rc);
    }
    close(p[1]);
    fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
    c[i].pid = pid;
    c[i].fd = p[0];
    return 0;
}

/* Hands the whole lines of what child i sent to the merge. */
static void take(merge_t *m, child_t *c, size_t i, const char *p, size_t n, int64_t now,
                 size_t *bad)
{
    buf_t *part = &c[i].part;
    const char *end = p + n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) {
            buf_append(part, p, (size_t)(end - p));
            return;
        }
        const char *line = p;
        size_t len = (size_t)(nl - p);
        if (part->len) {
            buf_append(part, p, len);
            line = part->data;
            len = part->len;
        }
        if (len && merge_push(m, i, line, len, now) && ++*bad <= 3)
            cli_error("a record without a time from server %zu: left out", i + 1);
        buf_reset(part);
        p = nl + 1;
    }
}

int tail_merge_run(size_t n, tail_merge_child_fn fn, tail_merge_print_fn print, void *arg,
                   volatile sig_atomic_t *stop)
{
    child_t c[MERGE_SOURCES_MAX];
    if (n > MERGE_SOURCES_MAX)
        n = MERGE_SOURCES_MAX;
    memset(c, 0, sizeof c);
    for (size_t i = 0; i < n; i++)
        c[i].fd = -1;
    size_t alive = 0;
    int rc = CLI_EXIT_OK, quit = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        if (start(c, n, i, fn, arg))
            rc = CLI_EXIT_FAIL;
        else
            alive++;
    }
    merge_t m;
    merge_init(&m, n);
    const int64_t hold = TAIL_MERGE_HOLD_MS * NS_PER_MS;
    char *chunk = xmalloc(READ_CHUNK);
    buf_t out = BUF_INIT;
    size_t bad = 0;
    int told = 0;
    while (alive) {
        if ((*stop || rc || quit) && !told) {
            for (size_t i = 0; i < n; i++)
                if (c[i].fd >= 0)
                    kill(c[i].pid, SIGTERM);
            told = 1;
        }
        struct pollfd p[MERGE_SOURCES_MAX];
        size_t idx[MERGE_SOURCES_MAX], np = 0;
        for (size_t i = 0; i < n; i++)
            if (c[i].fd >= 0) {
                p[np] = (struct pollfd){.fd = c[i].fd, .events = POLLIN};
                idx[np++] = i;
            }
        int64_t now = time_mono_ns(), due = merge_due(&m, hold);
        int ms = 1000;
        if (due != INT64_MAX)
            ms = due <= now ? 0 : (int)((due - now) / NS_PER_MS + 1);
        if (ms > 1000)
            ms = 1000;
        if (poll(p, np, ms) < 0 && errno != EINTR)
            break;
        now = time_mono_ns();
        for (size_t k = 0; k < np; k++) {
            if (!p[k].revents)
                continue;
            size_t i = idx[k];
            ssize_t r = read(c[i].fd, chunk, READ_CHUNK);
            if (r > 0) {
                take(&m, c, i, chunk, (size_t)r, now, &bad);
            } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                close(c[i].fd);
                c[i].fd = -1;
                merge_done(&m, i);
                alive--;
            }
        }
        buf_reset(&out);
        while (!quit && merge_pop(&m, now, hold, 0, &out)) {
            int pr = print(arg, out.data, out.len);
            if (pr) {
                quit = 1;
                rc = pr < 0 ? CLI_EXIT_FAIL : rc;
            }
            buf_reset(&out);
        }
    }
    /* the children are gone: what they sent goes out, oldest first */
    buf_reset(&out);
    while (!quit && merge_pop(&m, 0, hold, 1, &out)) {
        int pr = print(arg, out.data, out.len);
        if (pr) {
            quit = 1;
            rc = pr < 0 ? CLI_EXIT_FAIL : rc;
        }
        buf_reset(&out);
    }
    for (size_t i = 0; i < n; i++) {
        if (!c[i].pid)
            continue;
        if (c[i].fd >= 0)
            close(c[i].fd);
        int st;
        while (waitpid(c[i].pid, &st, 0) < 0 && errno == EINTR)
            ;
        int code = WIFEXITED(st) ? WEXITSTATUS(st) : CLI_EXIT_FAIL;
        if (!quit && code > rc)
            rc = code;
        buf_free(&c[i].part);
    }
    free(chunk);
    buf_free(&out);
    merge_free(&m);
    return rc;
}
