/* hello.c - the smallest program on liblogship: a few records, with fields,
 * echoed to stderr and sent to logshipd's raw TCP input.
 *
 *   ./example_hello [tcp://127.0.0.1:5170]
 *
 * Build outside this tree: cc hello.c -llogship -lpthread */
#include <stdio.h>

#include "logship.h"

int main(int argc, char **argv)
{
    const char *url = argc > 1 ? argv[1] : "tcp://127.0.0.1:5170";
    logship_opts_t o;
    logship_opts_init(&o);
    o.app = "hello";
    o.echo_stderr = 1; /* "[2026-11-21 10:45:56] [INFO] hello from liblogship" */
    logship_field_t common[] = {{"example", "hello.c"}};
    o.fields = common; /* on every record */
    o.nfields = 1;

    logship_t *lg;
    int rc = logship_open(url, &o, &lg);
    if (rc) {
        fprintf(stderr, "hello: %s\n", logship_strerror(rc));
        return 1;
    }
    /* each call copies into the queue and returns at once */
    logship_log(lg, LOGSHIP_INFO, "hello from liblogship");
    logship_logf(lg, LOGSHIP_WARNING, "%d of %d workers busy", 4, 4);
    logship_field_t kv[] = {{"user", "42"}, {"path", "/checkout"}};
    logship_log_fields(lg, LOGSHIP_NOTICE, "request done", kv, 2);

    /* waits (up to close_timeout_ms) until the server acknowledged them */
    rc = logship_close(lg);
    if (rc) {
        fprintf(stderr, "hello: not everything was delivered: %s\n", logship_strerror(rc));
        return 1;
    }
    return 0;
}
