/* test_ui_assets.c - the embedded web UI (src/ui/ui_assets.c): the files
 * are in the binary, and the header logic for serving them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ui/ui_assets.h"

static void test_assets_embedded(void **state)
{
    (void)state;
    static const struct {
        const char *name, *ctype_prefix, *needle;
    } want[] = {
        {"index.html", "text/html", "<script type=\"module\" src=\"ui/app.js\"></script>"},
        {"app.js", "text/javascript", "api/tail"},
        {"ansi.js", "text/javascript", "export function parseAnsi"},
        {"loglist.js", "text/javascript", "export class LogList"},
        {"chart.js", "text/javascript", "export class VolumeChart"},
        {"app.css", "text/css", ".row"},
        {"favicon.svg", "image/svg+xml", "<svg"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const ui_asset_t *a = ui_asset_find(want[i].name, strlen(want[i].name));
        assert_non_null(a);
        assert_string_equal(a->name, want[i].name);
        assert_true(strncmp(a->ctype, want[i].ctype_prefix, strlen(want[i].ctype_prefix)) == 0);
        assert_true(a->len > 0);
        assert_int_equal(a->data[a->len], 0);                 /* terminated after the bytes */
        assert_true(strlen((const char *)a->data) == a->len); /* no NUL inside text */
        assert_non_null(strstr((const char *)a->data, want[i].needle));
        /* "0123456789abcdef0123": quoted, 20 hex digits */
        assert_int_equal(strlen(a->etag), 22);
        assert_int_equal(a->etag[0], '"');
        assert_int_equal(a->etag[21], '"');
    }
    assert_true(ui_assets_count >= sizeof want / sizeof want[0]);
    /* the page uses no inline script or style: the CSP forbids them */
    const ui_asset_t *html = ui_asset_find("index.html", 10);
    assert_null(strstr((const char *)html->data, "<script>"));
    assert_null(strstr((const char *)html->data, "<style"));
    assert_null(strstr((const char *)html->data, " style="));
    assert_null(strstr((const char *)html->data, " onclick="));
    /* every URL is relative, so the UI works under a proxy's prefix */
    assert_null(strstr((const char *)html->data, "src=\"/"));
    assert_null(strstr((const char *)html->data, "href=\"/"));
    const ui_asset_t *js = ui_asset_find("app.js", 6);
    assert_null(strstr((const char *)js->data, "'/api/"));
    assert_null(strstr((const char *)js->data, "`/api/"));
    assert_null(strstr((const char *)js->data, "'/healthz'"));
    assert_null(strstr((const char *)js->data, "'/metrics'"));
}

static void test_find_is_exact(void **state)
{
    (void)state;
    assert_null(ui_asset_find("app.j", 5));
    assert_null(ui_asset_find("app.jss", 7));
    assert_null(ui_asset_find("", 0));
    assert_null(ui_asset_find("../app.js", 9));
    assert_null(ui_asset_find("/app.js", 7));
    assert_non_null(ui_asset_find("app.js/x", 6)); /* n bytes only */
}

static void test_wants_html(void **state)
{
    (void)state;
    /* browsers navigating */
    assert_true(ui_wants_html("text/html,application/xhtml+xml,application/xml;q=0.9,"
                              "image/avif,image/webp,*/*;q=0.8"));
    assert_true(ui_wants_html("text/html, application/json"));
    assert_true(ui_wants_html("TEXT/HTML"));
    assert_true(ui_wants_html("application/json;q=0.5, text/html"));
    assert_true(ui_wants_html("text/html;level=1;q=0.7, application/json;q=0.7"));
    /* API clients: curl's default, JSON preferred, nothing said */
    assert_false(ui_wants_html(NULL));
    assert_false(ui_wants_html(""));
    assert_false(ui_wants_html("*/*"));
    assert_false(ui_wants_html("text/*"));
    assert_false(ui_wants_html("application/json"));
    assert_false(ui_wants_html("text/html;q=0.5, application/json"));
    assert_false(ui_wants_html("text/html;q=0"));
    assert_false(ui_wants_html("text/html;q=0.000"));
    assert_false(ui_wants_html("text/htmlx"));
    assert_false(ui_wants_html("application/json, text/html;q=0.9"));
    assert_false(ui_wants_html("text/html;q=bad"));
}

static void test_etag_match(void **state)
{
    (void)state;
    const char *etag = "\"0123456789abcdef0123\"";
    assert_true(ui_etag_match("\"0123456789abcdef0123\"", etag));
    assert_true(ui_etag_match("W/\"0123456789abcdef0123\"", etag));
    assert_true(ui_etag_match("\"old\", \"0123456789abcdef0123\"", etag));
    assert_true(ui_etag_match(" \"0123456789abcdef0123\" ", etag));
    assert_true(ui_etag_match("*", etag));
    assert_false(ui_etag_match(NULL, etag));
    assert_false(ui_etag_match("", etag));
    assert_false(ui_etag_match("\"0123456789abcdef012\"", etag));
    assert_false(ui_etag_match("0123456789abcdef0123", etag));
    assert_false(ui_etag_match("\"old\",\"other\"", etag));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_assets_embedded),
        cmocka_unit_test(test_find_is_exact),
        cmocka_unit_test(test_wants_html),
        cmocka_unit_test(test_etag_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
