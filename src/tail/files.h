/* files.h - tailing plain log files under allowed roots (--tail-root).
 *
 * Each root directory gets a name (its base name, made unique) and its files
 * are addressed as "<name>/<path inside the root>". A requested path is
 * refused unless it resolves, symlinks followed, to a regular file inside
 * its root: no "..", no absolute paths, no symlink leaving the root, no
 * devices, directories or pipes.
 *
 * A follower sends the last n lines, then new lines as they are written,
 * checking the file every FILES_POLL_MS: growth is read; a new file at the
 * path (rotation by rename) is drained and then followed from its start
 * ({"type":"rotated"}); a file that shrank was truncated and is read again
 * from its start ({"type":"truncated"}). Messages are JSON arrays of line
 * strings. Loop thread only.
 */
#ifndef LOGSHIP_FILES_H
#define LOGSHIP_FILES_H

#include <uv.h>

#include "../common/buf.h"
#include "tail.h"

#define FILES_ROOTS_MAX 16
#define FILES_POLL_MS   200
#define FILES_LINE_MAX  (64u * 1024)

typedef struct file_roots {
    struct {
        char name[256];
        char real[4096]; /* realpath of the root */
    } r[FILES_ROOTS_MAX];
    int n;
} file_roots_t;

/* Resolves and names the roots. Returns 0, or -1 with err filled. */
int files_roots_init(file_roots_t *fr, const char (*roots)[4096], int n, char *err, size_t cap);

/* Resolves "<name>/<path>" (as decoded from the URL) to the real path of a
 * regular file inside that root. Returns 0, or -1 with *why (a refusal). */
int files_resolve(const file_roots_t *fr, const char *rel, char *out, size_t cap,
                  const char **why);

/* {"roots":[{"name":..,"path":..,"files":[{"path":..,"size":..,"mtime":..}]}]} */
void files_list_json(const file_roots_t *fr, buf_t *out);

typedef struct file_follow file_follow_t;

/* Starts following the file at real path `path`: the last n lines first,
 * then (when follow) what is appended. NULL with *why if it cannot be read. */
file_follow_t *files_follow(uv_loop_t *loop, const char *path, size_t n, int follow,
                            enum tail_framing framing, void *conn, tail_wake_fn wake,
                            const char **why);
/* The next message (with TAIL_HEADROOM before it), or 0 when none is ready. */
int files_next(file_follow_t *f, char **data, size_t *len);
/* 1 when the follower has sent everything it will (follow=0). */
int files_done(const file_follow_t *f);
void files_unfollow(file_follow_t *f);

#endif
