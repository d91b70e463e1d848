/* fuzz_segment.c - the segment reader on corrupt bytes: a valid segment
 * header followed by the input, scanned the way recovery and readers do. A
 * scan must stop at a frame boundary inside the file, index only records
 * that verify with increasing seqs, and resync must land on a good frame. */
#define _GNU_SOURCE /* memfd_create */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "store/segment.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("segment", MFD_CLOEXEC);
    if (fd < 0)
        abort();
    char hdr[SEGMENT_HDR];
    segment_header_encode(hdr, 1, 0);
    if (write(fd, hdr, sizeof hdr) != (ssize_t)sizeof hdr ||
        (size && write(fd, data, size) != (ssize_t)size))
        abort();
    uint64_t file_size = SEGMENT_HDR + size, from = SEGMENT_HDR, prev = 0;
    seg_index_t ix;
    index_init(&ix, 1);
    for (int rounds = 0; rounds < 64 && from < file_size; rounds++) {
        seg_scan_t sc;
        if (segment_scan(fd, from, prev, &ix, NULL, NULL, &sc))
            abort();
        if (sc.end < from || sc.end > file_size || sc.last_seq < prev)
            abort();
        prev = sc.last_seq;
        if (sc.stop == SCAN_END)
            break;
        uint64_t next = segment_resync(fd, sc.end + 1, file_size, prev);
        if (next > file_size)
            abort();
        if (next < file_size) {
            /* what resync found must verify */
            char *b = malloc(file_size - next);
            if (pread(fd, b, file_size - next, (off_t)next) != (ssize_t)(file_size - next))
                abort();
            size_t fs;
            if (!record_verify(b, file_size - next, &fs))
                abort();
            free(b);
        }
        from = next;
    }
    /* the index only holds increasing seqs at increasing offsets */
    for (size_t i = 1; i < ix.n; i++)
        if (ix.e[i].seq <= ix.e[i - 1].seq || ix.e[i].offset <= ix.e[i - 1].offset)
            abort();
    index_free(&ix);
    close(fd);
    return 0;
}
