/* spool.c - the disk spool: see spool.h for the format and invariants.
 * Runs on the background thread only (and in logship_open()). */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define FILE_HDR   128
#define ENT_HDR    40
#define ACKED_AT   80          /* offset of `acked` in the file header */
#define NO_AT      16          /* offset of the batch number in an entry */
#define ENT_MAGIC  0x4542534cu /* "LSBE" */
#define FILE_MAGIC "LSSPOOL1"
#define KEY_START  (UINT64_C(1) << 40)
#define MAX_PRODS  64

typedef struct spool_file {
    struct spool_file *next;
    uint64_t key;
    int fd;
    cproducer_t *prod;
    uint64_t acked, read_off, end;
} spool_file_t;

struct spool {
    int dirfd, lockfd;
    size_t limit, used;
    spool_file_t *files; /* in key order */
    spool_file_t *wr;    /* the own file being appended to */
    uint64_t min_key, max_key;
    cproducer_t *own;
    cproducer_t *prods[MAX_PRODS]; /* producers of earlier processes' files */
    size_t nprods;
    uint64_t *starts; /* queue positions of own entries not loaded, FIFO */
    size_t s_head, s_len, s_cap;
    int broken;
};

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t crc32(const void *p, size_t n)
{
    const unsigned char *u = p;
    uint32_t c = 0xFFFFFFFFu;
    pthread_once(&crc_once, crc_init);
    for (size_t i = 0; i < n; i++)
        c = crc_table[(c ^ u[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

static int pread_all(int fd, void *p, size_t n, uint64_t off)
{
    char *c = p;
    while (n) {
        ssize_t r = pread(fd, c, n, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        c += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

static int pwrite_all(int fd, const void *p, size_t n, uint64_t off)
{
    const char *c = p;
    while (n) {
        ssize_t r = pwrite(fd, c, n, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        c += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

typedef struct ent {
    uint32_t magic, len, count, crc;
    uint64_t no, ring_start, ring_end;
} ent_t;

static void name_of(uint64_t key, char *out, size_t cap)
{
    snprintf(out, cap, "spool-%016" PRIx64 ".lsp", key);
}

static cproducer_t *producer_for(spool_t *s, const char *id)
{
    if (strcmp(id, s->own->id) == 0)
        return s->own;
    for (size_t i = 0; i < s->nprods; i++)
        if (strcmp(s->prods[i]->id, id) == 0)
            return s->prods[i];
    if (s->nprods == MAX_PRODS)
        return NULL;
    cproducer_t *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    snprintf(p->id, sizeof p->id, "%s", id);
    p->next_no = 1;
    s->prods[s->nprods++] = p;
    return p;
}

static void insert_sorted(spool_t *s, spool_file_t *f)
{
    spool_file_t **pp = &s->files;
    while (*pp && (*pp)->key < f->key)
        pp = &(*pp)->next;
    f->next = *pp;
    *pp = f;
    if (f->key < s->min_key || !s->min_key)
        s->min_key = f->key;
    if (f->key > s->max_key)
        s->max_key = f->key;
}

static void drop_file(spool_t *s, spool_file_t *f)
{
    char name[64];
    for (spool_file_t **pp = &s->files; *pp; pp = &(*pp)->next)
        if (*pp == f) {
            *pp = f->next;
            break;
        }
    name_of(f->key, name, sizeof name);
    unlinkat(s->dirfd, name, 0);
    close(f->fd);
    s->used -= f->end < s->used ? f->end : s->used;
    if (s->wr == f)
        s->wr = NULL;
    free(f);
}

/* Reads a file an earlier process left: header, then entries from acked on
 * up to the first damaged one (invariant 3). Returns the file or NULL (the
 * file is then ignored, or deleted when there is nothing left to send). */
static spool_file_t *scan_file(spool_t *s, uint64_t key)
{
    char name[64], hdr[FILE_HDR];
    name_of(key, name, sizeof name);
    int fd = openat(s->dirfd, name, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    uint32_t idlen;
    uint64_t acked;
    if (fstat(fd, &st) || pread_all(fd, hdr, FILE_HDR, 0) || memcmp(hdr, FILE_MAGIC, 8) != 0)
        goto bad;
    memcpy(&idlen, hdr + 12, 4);
    memcpy(&acked, hdr + ACKED_AT, 8);
    if (idlen == 0 || idlen > PRODUCER_ID_LEN || acked < FILE_HDR)
        goto bad;
    char id[PRODUCER_ID_LEN + 1];
    memcpy(id, hdr + 16, idlen);
    id[idlen] = '\0';
    if (proto_id_check(id))
        goto bad;
    uint64_t off = acked, size = (uint64_t)st.st_size, maxno = 0;
    char *data = NULL;
    while (off + ENT_HDR <= size) {
        ent_t e;
        if (pread_all(fd, &e, sizeof e, off) || e.magic != ENT_MAGIC ||
            off + ENT_HDR + e.len > size)
            break;
        char *d = realloc(data, e.len ? e.len : 1);
        if (!d)
            break;
        data = d;
        if (pread_all(fd, data, e.len, off + ENT_HDR) || crc32(data, e.len) != e.crc)
            break;
        if (e.no > maxno)
            maxno = e.no;
        off += ENT_HDR + e.len;
    }
    free(data);
    if (off == acked) { /* nothing left to send */
        close(fd);
        unlinkat(s->dirfd, name, 0);
        return NULL;
    }
    cproducer_t *p = producer_for(s, id);
    spool_file_t *f = p ? calloc(1, sizeof *f) : NULL;
    if (!f)
        goto bad;
    if (maxno + 1 > p->next_no)
        p->next_no = maxno + 1;
    f->key = key;
    f->fd = fd;
    f->prod = p;
    f->acked = f->read_off = acked;
    f->end = off;
    s->used += (size_t)size;
    return f;
bad:
    close(fd);
    return NULL;
}

static int key_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int scan_dir(spool_t *s)
{
    int fd = dup(s->dirfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    uint64_t *keys = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        uint64_t key;
        char tail[8];
        if (strlen(de->d_name) != 26 ||
            sscanf(de->d_name, "spool-%16" SCNx64 ".%3s", &key, tail) != 2 ||
            strcmp(tail, "lsp") != 0)
            continue;
        if (n == cap) {
            uint64_t *k = realloc(keys, (cap = cap ? cap * 2 : 16) * sizeof *k);
            if (!k)
                break;
            keys = k;
        }
        keys[n++] = key;
    }
    closedir(d);
    if (n)
        qsort(keys, n, sizeof *keys, key_cmp);
    for (size_t i = 0; i < n; i++) {
        spool_file_t *f = scan_file(s, keys[i]);
        if (f)
            insert_sorted(s, f);
        if (keys[i] > s->max_key)
            s->max_key = keys[i];
    }
    free(keys);
    return 0;
}

int spool_open(spool_t **out, const char *dir, size_t limit, cproducer_t *own)
{
    spool_t *s = calloc(1, sizeof *s);
    if (!s)
        return LOGSHIP_ENOMEM;
    s->lockfd = -1;
    s->limit = limit;
    s->own = own;
    if (mkdir(dir, 0700) && errno != EEXIST)
        goto fail;
    s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->dirfd < 0)
        goto fail;
    s->lockfd = openat(s->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->lockfd < 0)
        goto fail;
    if (flock(s->lockfd, LOCK_EX | LOCK_NB)) {
        int busy = errno == EWOULDBLOCK;
        spool_close(s);
        return busy ? LOGSHIP_EBUSY : LOGSHIP_ESPOOL;
    }
    if (scan_dir(s))
        goto fail;
    if (s->max_key < KEY_START)
        s->max_key = KEY_START;
    *out = s;
    return 0;
fail:
    spool_close(s);
    return LOGSHIP_ESPOOL;
}

static void free_all(spool_t *s, int close_fds)
{
    while (s->files) {
        spool_file_t *f = s->files;
        s->files = f->next;
        if (close_fds)
            close(f->fd);
        free(f);
    }
    for (size_t i = 0; i < s->nprods; i++)
        free(s->prods[i]);
    free(s->starts);
}

void spool_close(spool_t *s)
{
    if (!s)
        return;
    for (spool_file_t *f = s->files; f; f = f->next)
        fdatasync(f->fd);
    free_all(s, 1);
    if (s->lockfd >= 0)
        close(s->lockfd); /* releases the flock */
    if (s->dirfd > 0)
        close(s->dirfd);
    free(s);
}

void spool_abandon(spool_t *s)
{
    if (!s)
        return;
    /* the lock belongs to the parent's open file description: closing this
     * process's descriptors leaves it in place */
    free_all(s, 1);
    if (s->lockfd >= 0)
        close(s->lockfd);
    if (s->dirfd > 0)
        close(s->dirfd);
    free(s);
}

int spool_pending(const spool_t *s)
{
    for (const spool_file_t *f = s->files; f; f = f->next)
        if (f->read_off < f->end)
            return 1;
    return 0;
}

size_t spool_used(const spool_t *s)
{
    return s->used;
}

int spool_room(const spool_t *s, size_t n)
{
    return !s->broken && s->used + n + ENT_HDR + FILE_HDR <= s->limit;
}

uint64_t spool_own_start(const spool_t *s)
{
    return s->s_len ? s->starts[s->s_head] : UINT64_MAX;
}

static int push_start(spool_t *s, uint64_t v)
{
    if (s->s_head + s->s_len == s->s_cap) {
        if (s->s_head) {
            memmove(s->starts, s->starts + s->s_head, s->s_len * sizeof *s->starts);
            s->s_head = 0;
        } else {
            size_t cap = s->s_cap ? s->s_cap * 2 : 64;
            uint64_t *n = realloc(s->starts, cap * sizeof *n);
            if (!n)
                return -1;
            s->starts = n;
            s->s_cap = cap;
        }
    }
    s->starts[s->s_head + s->s_len++] = v;
    return 0;
}

/* Creates a new file with key for producer p; NULL on failure. */
static spool_file_t *new_file(spool_t *s, uint64_t key, cproducer_t *p)
{
    char name[64], hdr[FILE_HDR];
    name_of(key, name, sizeof name);
    int fd = openat(s->dirfd, name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return NULL;
    uint32_t ver = 1, idlen = (uint32_t)strlen(p->id);
    uint64_t acked = FILE_HDR;
    memset(hdr, 0, sizeof hdr);
    memcpy(hdr, FILE_MAGIC, 8);
    memcpy(hdr + 8, &ver, 4);
    memcpy(hdr + 12, &idlen, 4);
    memcpy(hdr + 16, p->id, idlen);
    memcpy(hdr + ACKED_AT, &acked, 8);
    spool_file_t *f = calloc(1, sizeof *f);
    if (!f || pwrite_all(fd, hdr, FILE_HDR, 0)) {
        free(f);
        close(fd);
        unlinkat(s->dirfd, name, 0);
        return NULL;
    }
    f->key = key;
    f->fd = fd;
    f->prod = p;
    f->acked = f->read_off = f->end = FILE_HDR;
    s->used += FILE_HDR;
    insert_sorted(s, f);
    return f;
}

/* Appends one entry for b at the end of f. */
static int write_entry(spool_t *s, spool_file_t *f, const cbatch_t *b)
{
    ent_t e = {ENT_MAGIC, (uint32_t)b->data.len, b->count,   crc32(b->data.data, b->data.len),
               b->no,     b->ring_start,         b->ring_end};
    struct iovec iov[2] = {{&e, sizeof e}, {b->data.data, b->data.len}};
    size_t want = sizeof e + b->data.len;
    ssize_t w;
    do
        w = pwritev(f->fd, iov, 2, (off_t)f->end);
    while (w < 0 && errno == EINTR);
    if (w != (ssize_t)want) {
        /* cut a partial entry off again (or leave it to invariant 3); the
         * spool takes no more */
        if (w > 0) {
            int rc = ftruncate(f->fd, (off_t)f->end);
            (void)rc; /* a tail left behind ends the file when read (invariant 3) */
        }
        s->broken = 1;
        return -1;
    }
    f->end += want;
    s->used += want;
    return 0;
}

int spool_append(spool_t *s, const cbatch_t *b)
{
    size_t want = ENT_HDR + b->data.len;
    if (s->broken || s->used + want + FILE_HDR > s->limit)
        return -1;
    /* several files, so that acknowledged ones can be deleted (invariant 4) */
    size_t rotate = s->limit / 8 > (1u << 20) ? s->limit / 8 : (1u << 20);
    if (s->wr && s->wr->end + want > rotate && s->wr->end > FILE_HDR)
        s->wr = NULL;
    if (!s->wr) {
        s->wr = new_file(s, ++s->max_key, s->own);
        if (!s->wr) {
            s->broken = 1;
            return -1;
        }
    }
    if (write_entry(s, s->wr, b))
        return -1;
    if (push_start(s, b->ring_start)) {
        s->broken = 1; /* written, but flush() could no longer track it */
        return 0;
    }
    return 0;
}

int spool_prepend(spool_t *s, cbatch_t *const *bs, size_t n)
{
    if (n == 0)
        return 0;
    if (s->broken)
        return -1;
    uint64_t key = s->files ? s->files->key - 1 : ++s->max_key;
    spool_file_t *f = new_file(s, key, s->own);
    if (!f)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (write_entry(s, f, bs[i]))
            return -1;
    return 0;
}

cbatch_t *spool_load(spool_t *s)
{
    spool_file_t *f = s->files;
    while (f && f->read_off >= f->end)
        f = f->next;
    if (!f)
        return NULL;
    ent_t e;
    cbatch_t *b = cbatch_new();
    if (!b || pread_all(f->fd, &e, sizeof e, f->read_off) || e.magic != ENT_MAGIC ||
        cbuf_reserve(&b->data, e.len ? e.len : 1) ||
        pread_all(f->fd, b->data.data, e.len, f->read_off + ENT_HDR) ||
        crc32(b->data.data, e.len) != e.crc) {
        /* damaged since it was written: the rest of this file is lost */
        cbatch_free(b);
        if (b)
            f->end = f->read_off;
        return NULL;
    }
    b->data.len = e.len;
    b->count = e.count;
    b->no = e.no;
    b->prod = f->prod;
    b->own = f->prod == s->own;
    b->ring_start = e.ring_start;
    b->ring_end = e.ring_end;
    b->sf = f;
    b->sp_off = f->read_off;
    b->sp_end = f->read_off + ENT_HDR + e.len;
    f->read_off = b->sp_end;
    if (b->own && s->s_len) {
        s->s_head++;
        s->s_len--;
    }
    return b;
}

void spool_set_no(spool_t *s, const cbatch_t *b)
{
    if (b->sf && pwrite_all(b->sf->fd, &b->no, 8, b->sp_off + NO_AT))
        s->broken = 1;
}

void spool_acked(spool_t *s, const cbatch_t *b)
{
    spool_file_t *f = b->sf;
    if (!f)
        return;
    f->acked = b->sp_end;
    if (f->acked >= f->end && f->read_off >= f->end) {
        drop_file(s, f);
        return;
    }
    if (pwrite_all(f->fd, &f->acked, 8, ACKED_AT))
        s->broken = 1;
}
