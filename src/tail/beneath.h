/* beneath.h - opening a path beneath a directory without following any
 * symlink on the way: the open cannot leave the directory, whatever is
 * renamed or swapped for a symlink before or during it.
 *
 * With openat2(2) (Linux 5.6+, through syscall(SYS_openat2)) this is one
 * call with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS.
 * Where it is missing (ENOSYS, or EPERM from a seccomp filter that does not
 * know it) the same is done by a walk: each directory component opened with
 * openat(O_PATH | O_DIRECTORY | O_NOFOLLOW) from the one before, the last
 * with O_NOFOLLOW. Both give the same answers:
 *   - rel is relative: "a/b/c"; empty and "." components are skipped.
 *   - an absolute rel or a ".." component: EXDEV (refused before any open).
 *   - a symlink anywhere, the last component included: ELOOP (also with
 *     O_PATH, which would otherwise open a final symlink itself).
 *   - otherwise what openat() says (ENOENT, ENOTDIR, EACCES, ...).
 * Pure (no state but whether openat2 works); any thread.
 */
#ifndef LOGSHIP_BENEATH_H
#define LOGSHIP_BENEATH_H

/* Opens rel beneath the directory dirfd with flags (O_RDONLY, O_PATH, ...;
 * O_CLOEXEC is added). Returns the descriptor, or -1 with errno as above. */
int beneath_open(int dirfd, const char *rel, int flags);

/* The fallback walk alone, for tests. */
int beneath_open_walk(int dirfd, const char *rel, int flags);

/* 1 when beneath_open uses openat2 (after a first call), else 0. */
int beneath_has_openat2(void);

#endif
