/* tcp_blast.c - a low-CPU load sender for the benchmarks: N preformatted
 * messages of exactly SIZE bytes (LF included), written to a TCP port in
 * 64 KiB writes, so the sender costs next to nothing next to the receiver.
 * Usage: tcp_blast HOST PORT COUNT SIZE [rfc3164|ndjson] */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (64 * 1024)

static void make_msg(char *out, size_t size, long i, const char *kind)
{
    char head[128];
    int n;
    if (strcmp(kind, "ndjson") == 0)
        n = snprintf(head, sizeof head, "{\"app\":\"bench\",\"level\":\"info\",\"msg\":\"%08ld ",
                     i);
    else
        n = snprintf(head, sizeof head, "<13>Nov 21 10:45:56 benchhost app[4242]: %08ld ", i);
    size_t tail = strcmp(kind, "ndjson") == 0 ? 3 : 1; /* "}\n or \n */
    memset(out, 'x', size);
    memcpy(out, head, (size_t)n);
    if (tail == 3)
        memcpy(out + size - 3, "\"}", 2);
    out[size - 1] = '\n';
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: %s HOST PORT COUNT SIZE [rfc3164|ndjson]\n", argv[0]);
        return 2;
    }
    long count = atol(argv[3]);
    size_t size = (size_t)atol(argv[4]);
    const char *kind = argc > 5 ? argv[5] : "rfc3164";
    if (size < 80 || size > CHUNK) {
        fprintf(stderr, "size must be 80..65536\n");
        return 2;
    }
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)atoi(argv[2]));
    inet_pton(AF_INET, argv[1], &sa.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
        perror("connect");
        return 1;
    }
    /* one chunk of whole messages, renumbered per chunk */
    size_t per = CHUNK / size;
    char *buf = malloc(per * size);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < count;) {
        size_t k = 0;
        for (; k < per && i < count; k++, i++)
            make_msg(buf + k * size, size, i, kind);
        size_t len = k * size, off = 0;
        while (off < len) {
            ssize_t w = write(fd, buf + off, len - off);
            if (w <= 0) {
                perror("write");
                return 1;
            }
            off += (size_t)w;
        }
    }
    close(fd);
    clock_gettime(CLOCK_MONOTONIC, &b);
    fprintf(stderr, "sent %ld messages of %zu bytes in %.3f s\n", count, size,
            (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9);
    free(buf);
    return 0;
}
