/* test_auth.c - the --auth-file parser, token lookup and tickets
 * (src/auth/). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "auth/auth.h"
#include "auth/ticket.h"

static auth_table_t *parse(const char *text, char *err)
{
    err[0] = '\0';
    return auth_table_parse(text, strlen(text), err, AUTH_ERR_MAX);
}

static const char good[] = "# who may do what\n"
                           "alice  alice-token-0123456789 write,read\n"
                           "\n"
                           "   # indented comment\n"
                           "bob\tbob-token-abcdefghijkl\tread,tail\tweb.#,auth.*\n"
                           "carol carol-token-zzzzzzzzzz admin,files,read #\r\n"
                           "dave dave-token-yyyyyyyyyyy write web.*";

static void test_parse_and_lookup(void **state)
{
    (void)state;
    char err[AUTH_ERR_MAX];
    auth_table_t *t = parse(good, err);
    assert_non_null(t);
    assert_int_equal(auth_table_count(t), 4);
    const auth_entry_t *a = auth_table_entry(t, 0), *b = auth_table_entry(t, 1),
                       *c = auth_table_entry(t, 2), *d = auth_table_entry(t, 3);
    assert_string_equal(a->name, "alice");
    assert_int_equal(a->scopes, AUTH_WRITE | AUTH_READ);
    assert_int_equal(a->line, 2);
    assert_null(auth_topics(a)); /* default '#': no limit */
    assert_string_equal(b->name, "bob");
    assert_int_equal(b->scopes, AUTH_READ | AUTH_TAIL);
    assert_int_equal(b->line, 5);
    const topic_set_t *bt = auth_topics(b);
    assert_non_null(bt);
    assert_int_equal(bt->n, 2);
    assert_true(topic_set_match(bt, "web.api", 7));
    assert_true(topic_set_match(bt, "auth.login", 10));
    assert_false(topic_set_match(bt, "db.x", 4));
    assert_int_equal(c->scopes, AUTH_ADMIN | AUTH_FILES | AUTH_READ);
    assert_null(auth_topics(c));
    assert_non_null(auth_topics(d));
    assert_null(auth_table_entry(t, 4));

    assert_ptr_equal(auth_lookup(t, "alice-token-0123456789", 22), a);
    assert_ptr_equal(auth_lookup(t, "bob-token-abcdefghijkl", 22), b);
    assert_ptr_equal(auth_lookup(t, "carol-token-zzzzzzzzzz", 22), c);
    assert_ptr_equal(auth_lookup(t, "dave-token-yyyyyyyyyyy", 22), d);
    /* near misses: a byte off, a prefix, a longer one, empty */
    assert_null(auth_lookup(t, "alice-token-0123456788", 22));
    assert_null(auth_lookup(t, "alice-token-012345678", 21));
    assert_null(auth_lookup(t, "alice-token-01234567890", 23));
    assert_null(auth_lookup(t, "", 0));
    assert_null(auth_lookup(NULL, "alice-token-0123456789", 22));
    auth_table_unref(t);
}

static void test_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text, *err;
    } cases[] = {
        {"a a-token-cccccccccccccccc wrte\n",
         "line 1: unknown scope 'wrte' (use write, read, tail, files, admin)"},
        {"# c\na a-token-cccccccccccccccc read,,tail\n",
         "line 2: an empty scope in the list (use write, read, tail, files, admin)"},
        /* a token put where the scopes go is not quoted */
        {"a read a-token-cccccccccccccccc\n", "line 1: token too short: at least 16 characters"},
        {"a read-token-ccccccccccc a-token-cccccccccccccccc\n",
         "line 1: unknown scope (use write, read, tail, files, admin)"},
        {"a tooshort read\n", "line 1: token too short: at least 16 characters"},
        {"a a-token-cccccccccccccccc read\nb a-token-cccccccccccccccc read\n",
         "line 2: duplicate token (the same as line 1's)"},
        {"a a-token-cccccccccccccccc read\n\na b-token-cccccccccccccccc read\n",
         "line 3: duplicate name (the same as line 1's)"},
        {"a a-token-cccccccccccccccc read web*\n",
         "line 1: topic pattern 1: '*' and '#' must be whole words in a topic pattern"},
        {"a a-token-cccccccccccccccc read web.#,,db.#\n", "line 1: topic pattern 2: empty"},
        {"a a-token-cccccccccccccccc read # trailing\n",
         "line 1: expected NAME TOKEN SCOPES [TOPIC-PATTERNS], got more than 4 fields"},
        {"a a-token-cccccccccccccccc\n",
         "line 1: expected NAME TOKEN SCOPES [TOPIC-PATTERNS], got 2 fields"},
        {"a a-token-cccccccccccccccc read a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q\n",
         "line 1: too many topic patterns (at most 16)"},
        {"n\xc3\xa9 a-token-cccccccccccccccc read\n",
         "line 1: bad name: 1 to 64 of A-Z a-z 0-9 . _ - @"},
        {"a a-token-cccccccc\x01"
         "ccccccc read\n",
         "line 1: token: only printable ASCII characters"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[AUTH_ERR_MAX];
        auth_table_t *t = parse(cases[i].text, err);
        if (t)
            fail_msg("case %zu accepted", i);
        assert_string_equal(err, cases[i].err);
    }
    /* a file with one bad line among good ones is refused whole */
    char err[AUTH_ERR_MAX], text[512];
    snprintf(text, sizeof text, "%s\nzed z-token-cccccccccccccccc reed\n", good);
    assert_null(parse(text, err));
    assert_string_equal(err, "line 8: unknown scope 'reed' (use write, read, tail, files, admin)");
    /* a token longer than 256 */
    char longtok[400];
    memset(longtok, 'x', sizeof longtok);
    snprintf(text, sizeof text, "a %.*s read\n", 257, longtok);
    assert_null(parse(text, err));
    assert_string_equal(err, "line 1: token too long: at most 256 characters");
    /* empty and comment-only files hold no token (that is allowed) */
    auth_table_t *t = parse("# nobody yet\n\n", err);
    assert_non_null(t);
    assert_int_equal(auth_table_count(t), 0);
    assert_null(auth_lookup(t, "anything-at-all-here", 20));
    auth_table_unref(t);
}

static void test_refs(void **state)
{
    (void)state;
    char err[AUTH_ERR_MAX];
    auth_table_t *t = parse(good, err);
    const auth_entry_t *b = auth_ref(auth_table_entry(t, 1));
    auth_table_unref(t); /* the entry keeps the table */
    assert_string_equal(b->name, "bob");
    assert_true(topic_set_match(auth_topics(b), "web.x", 5));
    auth_unref(b); /* freed now (ASan would see a leak or a second free) */
    assert_null(auth_ref(NULL));
    auth_unref(NULL);
    auth_table_unref(NULL);
}

static void test_scope_names(void **state)
{
    (void)state;
    char out[AUTH_SCOPES_TEXT_MAX];
    assert_int_equal(auth_scope_parse("tail", 4), AUTH_TAIL);
    assert_int_equal(auth_scope_parse("tails", 5), 0);
    assert_int_equal(auth_scope_parse("", 0), 0);
    auth_scopes_text(AUTH_SCOPES, out, sizeof out);
    assert_string_equal(out, "write,read,tail,files,admin");
    auth_scopes_text(AUTH_READ | AUTH_ADMIN, out, sizeof out);
    assert_string_equal(out, "read,admin");
    auth_scopes_text(0, out, sizeof out);
    assert_string_equal(out, "");
    auth_scopes_text(AUTH_SCOPES, out, 11);
    assert_string_equal(out, "write,read"); /* cut at a whole name */
}

static void test_tickets(void **state)
{
    (void)state;
    char err[AUTH_ERR_MAX], a[TICKET_TEXT_LEN + 1], b[TICKET_TEXT_LEN + 1];
    auth_table_t *t = parse(good, err);
    const auth_entry_t *bob = auth_table_entry(t, 1), *carol = auth_table_entry(t, 2);
    ticket_store_t *ts = ticket_store_create(2);
    unsigned scopes = 0;
    assert_int_equal(ticket_issue(ts, bob, AUTH_SCOPES, 1000, 60000, a), 0);
    assert_int_equal(strlen(a), TICKET_TEXT_LEN);
    assert_int_equal(strspn(a, "0123456789abcdef"), TICKET_TEXT_LEN);
    /* fewer scopes than the token's; never more */
    assert_int_equal(ticket_issue(ts, carol, AUTH_FILES | AUTH_WRITE, 1000, 60000, b), 0);
    assert_string_not_equal(a, b);
    assert_ptr_equal(ticket_find(ts, a, TICKET_TEXT_LEN, 2000, &scopes), bob);
    assert_int_equal(scopes, AUTH_READ | AUTH_TAIL);
    assert_ptr_equal(ticket_find(ts, a, TICKET_TEXT_LEN, 3000, &scopes), bob); /* again */
    assert_ptr_equal(ticket_find(ts, b, TICKET_TEXT_LEN, 2000, &scopes), carol);
    assert_int_equal(scopes, AUTH_FILES);
    /* full of live tickets */
    char c[TICKET_TEXT_LEN + 1];
    assert_int_equal(ticket_issue(ts, bob, AUTH_TAIL, 2000, 60000, c), -1);
    /* wrong, cut, and expired */
    a[0] = a[0] == '0' ? '1' : '0';
    assert_null(ticket_find(ts, a, TICKET_TEXT_LEN, 2000, &scopes));
    assert_null(ticket_find(ts, b, TICKET_TEXT_LEN - 1, 2000, &scopes));
    assert_null(ticket_find(ts, b, TICKET_TEXT_LEN, 61000, &scopes));
    assert_int_equal(ticket_store_count(ts), 0); /* both expired at 61000 */
    /* tickets keep their table: the file's table may go first */
    assert_int_equal(ticket_issue(ts, bob, AUTH_TAIL, 70000, 60000, c), 0);
    auth_table_unref(t);
    assert_non_null(ticket_find(ts, c, TICKET_TEXT_LEN, 70001, &scopes));
    assert_string_equal(ticket_find(ts, c, TICKET_TEXT_LEN, 70001, &scopes)->name, "bob");
    ticket_store_clear(ts); /* the last reference: the table is freed */
    assert_null(ticket_find(ts, c, TICKET_TEXT_LEN, 70001, &scopes));
    ticket_store_destroy(ts);
    ticket_store_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_and_lookup),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_refs),
        cmocka_unit_test(test_scope_names),
        cmocka_unit_test(test_tickets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
