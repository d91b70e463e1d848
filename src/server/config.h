/* config.h - logshipd's options: one table drives flags, the config file
 * and --help, so every flag is a config key and every key is documented.
 *
 * Precedence: built-in defaults, then the --config file, then flags.
 */
#ifndef LOGSHIP_CONFIG_H
#define LOGSHIP_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../common/addr.h"

#define CONFIG_ADDR_MAX  ADDR_MAX
#define CONFIG_PATH_MAX  4096
#define CONFIG_ROOTS_MAX 16

#define CONFIG_NAMES_MAX 16

/* A repeatable option's values; ptr[i] points at v[i]. */
typedef struct config_names {
    char v[CONFIG_NAMES_MAX][CONFIG_ADDR_MAX];
    const char *ptr[CONFIG_NAMES_MAX];
    int n;
} config_names_t;

typedef struct config {
    char http[CONFIG_ADDR_MAX]; /* "127.0.0.1:8080", or "off" */
    char syslog_udp[CONFIG_ADDR_MAX];
    char syslog_tcp[CONFIG_ADDR_MAX];
    char tcp[CONFIG_ADDR_MAX];
    char gelf_udp[CONFIG_ADDR_MAX]; /* other shippers' listeners: "off" by default */
    char gelf_tcp[CONFIG_ADDR_MAX];
    char forward[CONFIG_ADDR_MAX]; /* Fluentd forward */
    size_t max_line;
    size_t max_batch_bytes; /* acknowledged raw TCP: record lines per batch */
    long idle_timeout_s;    /* 0: never */
    char data[CONFIG_PATH_MAX];
    char config_file[CONFIG_PATH_MAX];
    size_t max_body;
    size_t max_body_memory;
    long max_connections;
    long memory_records;
    size_t memory_bytes;
    size_t segment_size;
    int fsync;    /* enum fsync_policy */
    int compress; /* --compress: 0 none, 1 zstd */
    long compress_level;
    long fsync_interval_ms;
    size_t retain_bytes; /* 0: keep everything */
    long retain_age_s;   /* 0: keep everything */
    long ws_ping_s;
    long ws_timeout_s;
    long max_subscribers;
    long max_client_tails;                              /* per token or address; 0: no limit */
    char tail_roots[CONFIG_ROOTS_MAX][CONFIG_PATH_MAX]; /* --tail-root, repeatable */
    int ntail_roots;
    long request_timeout_s;
    double rate_limit; /* requests per second per client; 0: none */
    long rate_burst, max_client_connections;
    long header_timeout_s, body_timeout_s, send_timeout_s; /* 0: request_timeout_s */
    long keepalive_timeout_s;
    config_names_t allowed_origins, allowed_hosts;
    config_names_t cors_origins; /* --cors-origin: '*', "null" or scheme://host[:port] */
    char log_file[CONFIG_PATH_MAX];
    int log_level;
    /* security: tokens, and who may reach the listeners (server/access.h) */
    char auth_file[CONFIG_PATH_MAX]; /* --auth-file; empty: no tokens */
    int insecure;                    /* --insecure: non-loopback without them */
    config_names_t allow;            /* --allow CIDR: the stream and datagram listeners' clients */
    config_names_t syslog_allow;     /* --syslog-allow: syslog's only */
    config_names_t tcp_allow;        /* --tcp-allow: raw TCP's only */
    config_names_t gelf_allow;       /* --gelf-allow: GELF UDP and TCP's only */
    config_names_t forward_allow;    /* --forward-allow: Fluentd forward's only */
    char forward_auth[CONFIG_PATH_MAX]; /* --forward-auth: shared key and users; "" none */
    long ticket_lifetime_s;             /* hidden: a WebSocket ticket's life */
    /* the RabbitMQ output: --amqp-out "" is off */
    char amqp_out[CONFIG_PATH_MAX];
    char amqp_exchange[CONFIG_PATH_MAX];
    char amqp_ca[CONFIG_PATH_MAX];
    config_names_t amqp_out_topics;
    long amqp_batch, amqp_inflight;
    /* TLS (--tls-*): with a cert and key the HTTP listener speaks TLS, and
     * --syslog-tls / --tcp-tls listen ("off" by default) */
    char tls_cert[CONFIG_PATH_MAX];
    char tls_key[CONFIG_PATH_MAX];
    char tls_client_ca[CONFIG_PATH_MAX]; /* "": no client certificates asked */
    char syslog_tls[CONFIG_ADDR_MAX];    /* RFC 5425; port 6514 when none is given */
    char tcp_tls[CONFIG_ADDR_MAX];
    char gelf_tls[CONFIG_ADDR_MAX];    /* GELF TCP over TLS */
    char forward_tls[CONFIG_ADDR_MAX]; /* Fluentd forward over TLS */
    /* the RabbitMQ input: --amqp-in "" is off */
    char amqp_in[CONFIG_PATH_MAX];
    char amqp_queue[CONFIG_PATH_MAX];
    config_names_t amqp_binds; /* EXCHANGE:PATTERN */
    long amqp_prefetch;
    long amqp_dedup; /* keys remembered; 0: off */
} config_t;

/* Fills c with the defaults. */
void config_defaults(config_t *c);

/* Applies argv (after defaults, loading --config first). Returns 0 to run,
 * 1 when --help or --version was printed, -1 after printing an error. */
int config_from_args(config_t *c, int argc, char **argv, FILE *err);

/* Applies a key = value file. Returns 0, or -1 after printing an error that
 * names the file and line. */
int config_load_file(config_t *c, const char *path, FILE *err);

/* Sets one option by name. Returns 0, or -1 with *why set. */
int config_set(config_t *c, const char *key, const char *value, const char **why);

/* Resolves listen addresses given with a host name ("localhost:8080") to
 * the first address the name has (IPv4 first), so that a bad one stops
 * logshipd before anything is created. 0, or -1 after printing why. */
int config_resolve_addrs(config_t *c, FILE *err);

/* Parses "8M", "64KiB", "1g", "100": bytes. Returns 0 or -1 (anything
 * that does not start with a digit, an unknown unit, an overflow). */
int config_parse_size(const char *s, size_t *out);
/* Parses "30s", "15m", "12h", "7d", "500ms", "90" (seconds) into ms.
 * Returns 0 or -1, as config_parse_size. The DURATION options (OPT_AGE)
 * keep seconds and refuse what is not a whole number of them. */
int config_parse_duration_ms(const char *s, long *ms);

/* Calls fn with the name of every option whose value differs in a and b. */
void config_diff(const config_t *a, const config_t *b, void (*fn)(void *arg, const char *name),
                 void *arg);

/* --help: the options by group with their placeholders, signals, exit
 * codes and examples, every line within 80 columns. */
void config_usage(FILE *out);
/* The option table, for tests: name and --help placeholder of option i
 * (the options --help lists; hidden ones are left out); 0, or -1 past the
 * end. */
size_t config_option_count(void);
int config_option_info(size_t i, const char **name, const char **value);

#endif
