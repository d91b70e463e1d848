/* amqp_conn.c - opening and logging in an AMQP connection: see amqp_conn.h. */
#include "amqp_conn.h"

#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

int amqp_conn_name_ok(const char *x)
{
    size_t n = strlen(x);
    if (n == 0 || n > 255 || strncmp(x, "amq.", 4) == 0)
        return 0;
    for (const char *p = x; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.' || *p == ':'))
            return 0;
    return 1;
}

int amqp_conn_check_ca(const amqp_url_t *u, const char *ca, const char *flag, char *err,
                       size_t errcap)
{
    ca = ca && *ca ? ca : NULL;
    if (ca && !u->tls) {
        snprintf(err, errcap, "--amqp-ca is for amqps:// URLs; %s is amqp://", flag);
        return -1;
    }
    if (ca && access(ca, R_OK)) {
        snprintf(err, errcap, "--amqp-ca %s: %s", ca, strerror(errno));
        return -1;
    }
    if (u->tls && !ca && access(AMQP_SYSTEM_CA_BUNDLE, R_OK)) {
        snprintf(err, errcap, "amqps:// needs --amqp-ca FILE (there is no %s)",
                 AMQP_SYSTEM_CA_BUNDLE);
        return -1;
    }
    return 0;
}

int amqp_conn_open(amqp_connection_state_t conn, const amqp_url_t *u, const char *ca, int timeout_s,
                   char *why, size_t cap)
{
    amqp_socket_t *sock = u->tls ? amqp_ssl_socket_new(conn) : amqp_tcp_socket_new(conn);
    if (!sock) {
        snprintf(why, cap, "cannot make a %s socket", u->tls ? "TLS" : "TCP");
        return -1;
    }
    if (u->tls) {
        const char *file = ca && *ca ? ca : AMQP_SYSTEM_CA_BUNDLE;
        int rc = amqp_ssl_socket_set_cacert(sock, file);
        if (rc) {
            snprintf(why, cap, "--amqp-ca %s: %s", file, amqp_error_string2(rc));
            return -1;
        }
        amqp_ssl_socket_set_verify_peer(sock, 1);
        amqp_ssl_socket_set_verify_hostname(sock, 1);
    }
    struct timeval tv = {timeout_s, 0};
    int rc = amqp_socket_open_noblock(sock, u->host, u->port, &tv);
    if (rc) {
        snprintf(why, cap, "%s", amqp_error_string2(rc));
        return -1;
    }
    return 0;
}

int amqp_conn_login(amqp_connection_state_t conn, const amqp_url_t *u, const char *name,
                    int heartbeat_s, int rpc_timeout_s, char *why, size_t cap)
{
    char buf[512];
    struct timeval rpc = {rpc_timeout_s, 0};
    amqp_set_handshake_timeout(conn, &rpc);
    amqp_set_rpc_timeout(conn, &rpc);
    amqp_table_entry_t props[] = {
        {.key = amqp_cstring_bytes("connection_name"),
         .value = {.kind = AMQP_FIELD_KIND_UTF8, .value.bytes = amqp_cstring_bytes(name)}},
    };
    amqp_table_t ptable = {.num_entries = 1, .entries = props};
    amqp_rpc_reply_t r =
        amqp_login_with_properties(conn, u->vhost, 0, AMQP_FRAME_MAX, heartbeat_s, &ptable,
                                   AMQP_SASL_METHOD_PLAIN, u->user, u->pass);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) {
        snprintf(why, cap, "login: %s", amqp_conn_why(r, buf, sizeof buf));
        return -1;
    }
    return 0;
}

const char *amqp_conn_why(amqp_rpc_reply_t r, char *buf, size_t cap)
{
    switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL:
        return "no error";
    case AMQP_RESPONSE_NONE:
        return "no reply";
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
        return amqp_error_string2(r.library_error);
    case AMQP_RESPONSE_SERVER_EXCEPTION:
        if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
            const amqp_connection_close_t *m = r.reply.decoded;
            snprintf(buf, cap, "the broker closed the connection: %u %.*s", m->reply_code,
                     (int)m->reply_text.len, (const char *)m->reply_text.bytes);
        } else if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
            const amqp_channel_close_t *m = r.reply.decoded;
            snprintf(buf, cap, "the broker closed the channel: %u %.*s", m->reply_code,
                     (int)m->reply_text.len, (const char *)m->reply_text.bytes);
        } else {
            snprintf(buf, cap, "the broker answered method 0x%08x", (unsigned)r.reply.id);
        }
        return buf;
    }
    return "unknown reply";
}
