/* access.c - tokens on HTTP routes, tickets, and the secure defaults: see
 * access.h. */
#include "access.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "../common/addr.h"
#include "../common/form_parse.h"
#include "../common/json_write.h"
#include "../common/log.h"
#include "../common/secret_file.h"
#include "../common/timeutil.h"
#include "server.h"

/* Reads and parses path. The table, or NULL with err set. */
static auth_table_t *load(const char *path, char *err, size_t cap)
{
    char why[AUTH_ERR_MAX];
    size_t n;
    char *text = secret_file_read(path, "--auth-file", "auth", &n, err, cap);
    if (!text)
        return NULL;
    auth_table_t *t = auth_table_parse(text, n, why, sizeof why);
    secret_file_free(text, n); /* the tokens: nothing of them left in freed memory */
    if (!t)
        snprintf(err, cap, "--auth-file %s: %s", path, why);
    return t;
}

static void log_table(const char *path, const auth_table_t *t)
{
    log_info("auth: %zu tokens from %s", auth_table_count(t), path);
    for (size_t i = 0; i < auth_table_count(t); i++) {
        const auth_entry_t *e = auth_table_entry(t, i);
        char scopes[AUTH_SCOPES_TEXT_MAX];
        auth_scopes_text(e->scopes, scopes, sizeof scopes);
        log_debug("auth: token '%s' (line %zu): %s, %zu topic patterns%s", e->name, e->line, scopes,
                  e->topics.n, e->all_topics ? " (every topic)" : "");
    }
}

int access_init(access_t *a, const config_t *c, char *err, size_t cap)
{
    a->tickets = ticket_store_create(ACCESS_TICKETS_MAX);
    a->ticket_life_ms = (c->ticket_lifetime_s > 0 ? c->ticket_lifetime_s : 1) * 1000;
    if (!c->auth_file[0])
        return 0;
    a->table = load(c->auth_file, err, cap);
    if (!a->table)
        return -1;
    log_table(c->auth_file, a->table);
    return 0;
}

void access_free(access_t *a)
{
    ticket_store_destroy(a->tickets);
    a->tickets = NULL;
    auth_table_unref(a->table);
    a->table = NULL;
}

int access_reload(access_t *a, const config_t *cfg, const config_t *nc)
{
    char err[AUTH_ERR_MAX + CONFIG_PATH_MAX];
    a->ticket_life_ms = (nc->ticket_lifetime_s > 0 ? nc->ticket_lifetime_s : 1) * 1000;
    if (!nc->auth_file[0]) {
        if (!a->table)
            return 1;
        if (!cfg->insecure && access_check_listeners(cfg, 0, err, sizeof err)) {
            log_error("SIGHUP: the tokens stay: %s", err);
            return 0;
        }
        log_warn("SIGHUP: no --auth-file any more: every HTTP request is allowed");
        auth_table_unref(a->table);
        a->table = NULL;
        ticket_store_clear(a->tickets);
        return 1;
    }
    auth_table_t *t = load(nc->auth_file, err, sizeof err);
    if (!t) {
        log_error("SIGHUP: tokens not reloaded, the %zu loaded before stay: %s",
                  auth_table_count(a->table), err);
        return 0;
    }
    auth_table_unref(a->table); /* what is in use keeps its own reference */
    a->table = t;
    ticket_store_clear(a->tickets);
    log_table(nc->auth_file, t);
    return 1;
}

/* ---- the authorize callback ------------------------------------------------ */

static int64_t now_ms(void)
{
    return time_mono_ns() / 1000000;
}

static const char *scope_name(unsigned scope)
{
    switch (scope) {
    case AUTH_WRITE:
        return "write";
    case AUTH_READ:
        return "read";
    case AUTH_TAIL:
        return "tail";
    case AUTH_FILES:
        return "files";
    case AUTH_ADMIN:
        return "admin";
    default:
        return "?";
    }
}

int access_authorize(void *arg, const http_req_t *r, const http_route_t *rt,
                     const http_cred_t *cred, const void **principal, const char **why)
{
    access_t *a = arg;
    const auth_entry_t *e = NULL;
    unsigned scopes = 0;
    *principal = NULL;
    if (rt->scope == AUTH_PUBLIC || !a->table)
        return 0;
    if (rt->scope == 0) {
        /* routes.c declares every route's: refuse rather than guess */
        log_error("auth: route %s declares no scope: refused", rt->path);
        *why = "this route declares no scope";
        return 403;
    }
    switch (cred->kind) {
    case HTTP_CRED_NONE:
    case HTTP_CRED_BAD:
        return 401; /* the layer says what to send */
    case HTTP_CRED_TICKET:
        e = ticket_find(a->tickets, cred->secret.p, cred->secret.n, now_ms(), &scopes);
        if (!e) {
            *why = "ticket not accepted (unknown or expired): get one from POST /api/session";
            return 401;
        }
        break;
    case HTTP_CRED_BEARER:
    case HTTP_CRED_BASIC:
        e = auth_lookup(a->table, cred->secret.p, cred->secret.n);
        if (!e) {
            log_debug("auth: a token not accepted from %s", r->peer);
            *why = "token not accepted";
            return 401;
        }
        scopes = e->scopes;
        break;
    }
    if (rt->scope != AUTH_ANY && !(scopes & rt->scope)) {
        snprintf(a->why, sizeof a->why, "%s '%s' has no %s scope",
                 cred->kind == HTTP_CRED_TICKET ? "the ticket of token" : "token", e->name,
                 scope_name(rt->scope));
        log_info("auth: refused %s to token '%s' from %s: no %s scope", rt->path, e->name, r->peer,
                 scope_name(rt->scope));
        *why = a->why;
        return 403;
    }
    *principal = auth_ref(e);
    return 0;
}

const char *access_limit_key(const void *principal)
{
    return ((const auth_entry_t *)principal)->name;
}

void access_release(void *arg, const void *principal)
{
    (void)arg;
    auth_unref(principal);
}

/* 1 when a and b limit to the same patterns, in the same order. */
static int same_topics(const auth_entry_t *a, const auth_entry_t *b)
{
    if (a->all_topics != b->all_topics || a->topics.n != b->topics.n)
        return 0;
    for (size_t i = 0; i < a->topics.n; i++) {
        slice_t x = a->topics.texts[i], y = b->topics.texts[i];
        if (x.n != y.n || memcmp(x.p, y.p, x.n) != 0)
            return 0;
    }
    return 1;
}

int access_tail_check(void *arg, const void *principal, int need_files, const char **why)
{
    const access_t *a = arg;
    const auth_entry_t *old = principal, *now = NULL;
    if (!a->table || !old || old->table == a->table)
        return 0;
    /* the same token: the same digest (a digest is no secret) */
    for (size_t i = 0; i < auth_table_count(a->table) && !now; i++) {
        const auth_entry_t *e = auth_table_entry(a->table, i);
        if (memcmp(e->digest, old->digest, AUTH_DIGEST_LEN) == 0)
            now = e;
    }
    if (!now) {
        *why = "the token of this tail was removed from --auth-file (reloaded): tail closed";
        return 401;
    }
    if (!(now->scopes & (need_files ? AUTH_FILES : AUTH_TAIL))) {
        *why = need_files ? "the token of this tail has no files scope any more (--auth-file "
                            "reloaded): tail closed"
                          : "the token of this tail has no tail scope any more (--auth-file "
                            "reloaded): tail closed";
        return 403;
    }
    if (!need_files && !same_topics(old, now)) {
        *why = "the topics of this tail's token changed (--auth-file reloaded): tail closed; "
               "open it again to tail with the new ones";
        return 403;
    }
    return 0;
}

/* ---- POST /api/session -------------------------------------------------------- */

static void json_list_scopes(buf_t *b, unsigned scopes)
{
    static const unsigned bits[] = {AUTH_WRITE, AUTH_READ, AUTH_TAIL, AUTH_FILES, AUTH_ADMIN};
    int first = 1;
    buf_putc(b, '[');
    for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++) {
        if (!(scopes & bits[i]))
            continue;
        buf_printf(b, "%s\"%s\"", first ? "" : ",", scope_name(bits[i]));
        first = 0;
    }
    buf_putc(b, ']');
}

/* The scopes ?scope=a,b asks for, all of e's when absent: 0 with *status
 * and *why when a name is unknown (400) or not e's (403). */
static unsigned wanted_scopes(const form_t *q, const auth_entry_t *e, int *status, const char **why)
{
    unsigned want = 0;
    int asked = 0;
    for (size_t i = 0; i < q->n; i++) {
        if (!slice_eq(form_key(q, i), "scope"))
            continue;
        slice_t v = form_val(q, i);
        asked = 1;
        size_t at = 0;
        while (at <= v.n) {
            const char *c = memchr(v.p + at, ',', v.n - at);
            size_t end = c ? (size_t)(c - v.p) : v.n;
            unsigned s = auth_scope_parse(v.p + at, end - at);
            if (!s) {
                *status = 400;
                *why = "bad scope: use write, read, tail, files or admin";
                return 0;
            }
            want |= s;
            at = end + 1;
        }
    }
    if (!asked)
        return e->scopes;
    if (want & ~e->scopes) {
        *status = 403;
        *why = "a ticket cannot have a scope its token has not";
        return 0;
    }
    return want;
}

static int session(http_conn_t *c, const http_req_t *r)
{
    server_t *srv = http_data(c);
    access_t *a = &srv->access;
    const auth_entry_t *e = http_principal(c);
    if (!a->table || !e) {
        static const char off[] = "{\"ticket\":null,\"expires_in\":0,\"auth\":false}\n";
        http_reply(c, 200, "application/json", NULL, 0, off, sizeof off - 1);
        return 0;
    }
    form_t q = {0};
    const char *err = NULL;
    if (http_query(r, &q, &err)) {
        form_free(&q);
        srv->stats.rejected[HREJ_BAD_QUERY]++;
        http_reply_error(c, 400, "bad query string: use percent-escapes");
        return 0;
    }
    int status = 400;
    unsigned scopes = wanted_scopes(&q, e, &status, &err);
    form_free(&q);
    if (!scopes) {
        srv->stats.rejected[status == 400 ? HREJ_BAD_QUERY : HREJ_FORBIDDEN]++;
        http_reply_error(c, status, err);
        return 0;
    }
    char ticket[TICKET_TEXT_LEN + 1];
    if (ticket_issue(a->tickets, e, scopes, now_ms(), a->ticket_life_ms, ticket)) {
        srv->stats.rejected[HREJ_BUSY]++;
        http_reply_error(c, 503, "too many live tickets: retry shortly");
        return 0;
    }
    buf_t b = BUF_INIT;
    buf_printf(&b, "{\"ticket\":\"%s\",\"expires_in\":%lld,\"name\":", ticket,
               (long long)(a->ticket_life_ms / 1000));
    json_str(&b, e->name, strlen(e->name));
    buf_puts(&b, ",\"scopes\":");
    json_list_scopes(&b, scopes);
    buf_puts(&b, ",\"topics\":[");
    for (size_t i = 0; i < e->topics.n; i++) {
        if (i)
            buf_putc(&b, ',');
        json_str(&b, e->topics.texts[i].p, e->topics.texts[i].n);
    }
    buf_puts(&b, "]}\n");
    http_reply(c, 200, "application/json", NULL, 0, b.data, b.len);
    OPENSSL_cleanse(b.data, b.len); /* the ticket */
    buf_free(&b);
    OPENSSL_cleanse(ticket, sizeof ticket);
    return 0;
}

const http_handler_t access_session_handler = {.name = "session", .on_request = session};

/* ---- secure defaults --------------------------------------------------------- */

/* 1 when addr ("HOST:PORT", numeric) is on loopback, 0 when not, -1 when
 * it is off. */
static int loopback(const char *addr)
{
    char host[ADDR_MAX];
    int port;
    uint8_t a[16];
    if (strcmp(addr, "off") == 0)
        return -1;
    if (addr_split(addr, host, sizeof host, &port) || cidr_of_host(host, a))
        return 0; /* not numeric: treat as exposed */
    return cidr_is_loopback(a);
}

int access_check_listeners(const config_t *c, int tokens, char *err, size_t cap)
{
    if (loopback(c->http) == 0 && !tokens) {
        snprintf(err, cap,
                 "--http %s is not a loopback address and there is no --auth-file: add "
                 "--auth-file FILE (tokens), or --insecure to serve it to anyone",
                 c->http);
        return -1;
    }
    if (loopback(c->http) == 0 && !c->tls_cert[0]) {
        snprintf(err, cap,
                 "--http %s is not a loopback address and does not speak TLS: tokens and "
                 "logs would cross the network in clear: add --tls-cert FILE and --tls-key "
                 "FILE, or --insecure to serve plain HTTP",
                 c->http);
        return -1;
    }
    /* the TLS listeners are guarded by client certificates too */
    int certs = c->tls_client_ca[0] != 0;
    struct {
        const char *flag, *addr, *own;
        const config_names_t *list;
        int guarded;
    } l[] = {{"syslog-udp", c->syslog_udp, "--syslog-allow", &c->syslog_allow, 0},
             {"syslog-tcp", c->syslog_tcp, "--syslog-allow", &c->syslog_allow, 0},
             {"tcp", c->tcp, "--tcp-allow", &c->tcp_allow, 0},
             {"syslog-tls", c->syslog_tls, "--syslog-allow", &c->syslog_allow, certs},
             {"tcp-tls", c->tcp_tls, "--tcp-allow", &c->tcp_allow, certs},
             {"gelf-udp", c->gelf_udp, "--gelf-allow", &c->gelf_allow, 0},
             {"gelf-tcp", c->gelf_tcp, "--gelf-allow", &c->gelf_allow, 0},
             {"forward", c->forward, "--forward-allow", &c->forward_allow, 0},
             {"gelf-tls", c->gelf_tls, "--gelf-allow", &c->gelf_allow, certs},
             {"forward-tls", c->forward_tls, "--forward-allow", &c->forward_allow, certs}};
    for (size_t i = 0; i < sizeof l / sizeof l[0]; i++) {
        if (loopback(l[i].addr) != 0 || c->allow.n || l[i].list->n || l[i].guarded)
            continue;
        snprintf(err, cap,
                 "--%s %s is not a loopback address and no --allow covers it: add --allow "
                 "CIDR (or %s CIDR) for the clients that may send%s, or --insecure to take "
                 "anyone",
                 l[i].flag, l[i].addr, l[i].own,
                 strstr(l[i].flag, "tls") ? ", or --tls-client-ca FILE (client certificates)" : "");
        return -1;
    }
    return 0;
}

void access_allow_list(const config_t *c, const config_names_t *own, cidr_list_t *out)
{
    const config_names_t *lists[2] = {&c->allow, own};
    out->n = 0;
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < lists[k]->n; i++) {
            cidr_t net;
            const char *why;
            /* checked when the option was set */
            if (cidr_parse(lists[k]->v[i], strlen(lists[k]->v[i]), &net, &why) == 0)
                cidr_list_add(out, &net);
        }
    }
}
