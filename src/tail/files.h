/* files.h - tailing plain log files under allowed roots (--tail-root).
 *
 * Each root directory gets a name (its base name, made unique) and its files
 * are addressed as "<name>/<path inside the root>". A requested path is
 * refused unless it resolves, symlinks followed, to a regular file inside
 * its root: no "..", no absolute paths, no symlink leaving the root, no
 * devices, directories or pipes, and no file with more than one hard link
 * (a link inside the root could name any file of the filesystem).
 *
 * Every open, the first and each one after a rotation, goes through the
 * resolved path (which has no symlinks left) beneath the root's directory
 * descriptor with beneath_open() (beneath.h): no symlink is followed on the
 * way, so a directory swapped for a symlink after the check cannot lead the
 * open out of the root. A path that has become unsafe (a symlink in the way,
 * a hard link at the path) stops the follower with {"type":"error"}.
 *
 * A follower sends the last n lines, then new lines as they are written,
 * checking the file every FILES_POLL_MS: growth is read; a new file at the
 * path (rotation by rename) is drained and then followed from its start
 * ({"type":"rotated"}); a file that shrank was truncated and is read again
 * from its start ({"type":"truncated"}). Messages are JSON arrays of line
 * strings. Followers: loop thread only.
 *
 * The listing is bounded (FILES_LIST_MAX files and FILES_VISIT_MAX entries
 * looked at per root, FILES_LIST_DEPTH levels) and touches nothing but the
 * filesystem and its output, so it can run on the thread pool.
 */
#ifndef LOGSHIP_FILES_H
#define LOGSHIP_FILES_H

#include <uv.h>

#include "../common/buf.h"
#include "tail.h"

#define FILES_ROOTS_MAX  16
#define FILES_POLL_MS    200
#define FILES_LINE_MAX   (64u * 1024)
#define FILES_LIST_MAX   2000  /* files listed per root */
#define FILES_VISIT_MAX  10000 /* directory entries looked at per root */
#define FILES_LIST_DEPTH 4     /* subdirectory levels listed */

typedef struct file_roots {
    struct {
        char name[256];
        char real[4096]; /* realpath of the root */
        int fd;          /* the root directory (O_PATH), for beneath_open */
    } r[FILES_ROOTS_MAX];
    int n;
} file_roots_t;

/* Resolves, opens and names the roots. Returns 0, or -1 with err filled. */
int files_roots_init(file_roots_t *fr, const char (*roots)[4096], int n, char *err, size_t cap);
/* Closes the roots' descriptors. */
void files_roots_free(file_roots_t *fr);

/* Resolves "<name>/<path>" (as decoded from the URL) to the real path of a
 * regular file inside that root, and checks that it opens beneath the root.
 * Returns 0, or -1 with *why (a refusal). */
int files_resolve(const file_roots_t *fr, const char *rel, char *out, size_t cap, const char **why);

/* {"roots":[{"name":..,"path":..,"files":[{"path":..,"size":..,"mtime":..}],
 * "truncated":false}]}; truncated: a limit above was reached. Any thread. */
void files_list_json(const file_roots_t *fr, buf_t *out);

typedef struct file_follow file_follow_t;

/* Starts following the file at real path `path` (from files_resolve) under
 * fr (which outlives the follower): the last n lines first, then (when
 * follow) what is appended. NULL with *why if it cannot be read. */
file_follow_t *files_follow(uv_loop_t *loop, const file_roots_t *fr, const char *path, size_t n,
                            int follow, enum tail_framing framing, void *conn, tail_wake_fn wake,
                            const char **why);
/* The next message (with TAIL_HEADROOM before it), or 0 when none is ready. */
int files_next(file_follow_t *f, char **data, size_t *len);
/* 1 when the follower has sent everything it will (follow=0, or stopped
 * after an error). */
int files_done(const file_follow_t *f);
/* 1 when it stopped after an error (sent as {"type":"error","error":..}). */
int files_failed(const file_follow_t *f);
void files_unfollow(file_follow_t *f);

#endif
