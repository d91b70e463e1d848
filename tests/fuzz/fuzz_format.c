/* fuzz_format.c - the CLI's human output (src/cli/format.c): --format
 * templates, records and --json lines for a terminal, on arbitrary bytes.
 *
 * Input: "TEMPLATE\nJSON". Checks, or the driver aborts:
 *   - a template that does not compile says why; one that does formats the
 *     record, or refuses it (-1) leaving the output unchanged; a line ends
 *     with its newline;
 *   - nothing taken from the record reaches the terminal raw: when the
 *     template's own text is safe (printable ASCII), the line is valid
 *     UTF-8 with no control byte but its newline, no C1 or bidirectional
 *     control, and with color on, ESC only as the start of an SGR colour
 *     sequence (ESC [ digits and ; then m);
 *   - format_json_safe() of the JSON is valid UTF-8 without control bytes
 *     (tab aside) or unsafe characters, and is JSON whenever its input is
 *     (yajl decides both). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "cli/format.h"
#include "common/utf8.h"

static int printable(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return 0;
    return 1;
}

/* 1 when p[0..n) is safe for a terminal: see above. */
static int safe(const char *p, size_t n, int color, int tab_ok)
{
    if (utf8_valid_prefix(p, n) != n)
        return 0;
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)p[i];
        if (c == 0x1b) {
            if (!color || i + 1 >= n || p[i + 1] != '[')
                return 0;
            i += 2;
            while (i < n && ((p[i] >= '0' && p[i] <= '9') || p[i] == ';'))
                i++;
            if (i >= n || p[i] != 'm')
                return 0;
            i++;
            continue;
        }
        if (c < 0x20 || c == 0x7f) {
            if (!(tab_ok && c == '\t'))
                return 0;
        }
        size_t len;
        utf8_next(p + i, n - i, &len);
        if (len > 1) {
            unsigned cp = len == 2 ? ((c & 0x1fu) << 6) | (p[i + 1] & 0x3fu)
                          : len == 3
                              ? ((c & 0x0fu) << 12) | ((p[i + 1] & 0x3fu) << 6) | (p[i + 2] & 0x3fu)
                              : 0x10000;
            if (format_is_unsafe_cp(cp))
                return 0;
        }
        i += len;
    }
    return 1;
}

static int is_json(const char *p, size_t n)
{
    char *text = malloc(n + 1), why[128];
    if (!text)
        abort();
    memcpy(text, p, n);
    text[n] = 0;
    yajl_val v = strlen(text) == n ? yajl_tree_parse(text, why, sizeof why) : NULL;
    free(text);
    yajl_tree_free(v);
    return v != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    const char *nl = memchr(s, '\n', size);
    size_t tn = nl ? (size_t)(nl - s) : 0;
    const char *json = nl ? nl + 1 : s;
    size_t jn = size - (size_t)(json - s);

    format_tpl_t *t = NULL;
    if (nl) {
        char tpl_text[512], err[1024];
        if (tn >= sizeof tpl_text)
            return 0;
        memcpy(tpl_text, s, tn);
        tpl_text[tn] = 0;
        err[0] = 0;
        if (!(t = format_tpl_compile(tpl_text, err, sizeof err))) {
            if (!err[0])
                abort();
            return 0;
        }
    }
    int tpl_safe = !nl || printable(s, tn);
    buf_t out = BUF_INIT;
    for (int color = 0; color <= 1; color++) {
        buf_reset(&out);
        buf_puts(&out, "x");
        if (format_record(&out, t, json, jn, color) < 0) {
            if (out.len != 1)
                abort(); /* a refused record leaves the output as it was */
            continue;
        }
        if (out.len < 2 || out.data[out.len - 1] != '\n')
            abort();
        if (tpl_safe && !safe(out.data + 1, out.len - 2, color, 0))
            abort();
    }
    buf_reset(&out);
    format_json_safe(&out, json, jn);
    if (!safe(out.data ? out.data : "", out.len, 0, 1))
        abort();
    if (is_json(json, jn) && !is_json(out.data ? out.data : "", out.len))
        abort();
    format_tpl_free(t);
    buf_free(&out);
    return 0;
}
