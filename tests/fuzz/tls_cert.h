/* tls_cert.h - a key and certificate made in process for the fuzz drivers
 * that run TLS (fuzz_tls_session, fuzz_http_conn's TLS mode), and a server
 * context loaded from them through the files path, as logshipd loads its. */
#ifndef LOGSHIP_FUZZ_TLS_CERT_H
#define LOGSHIP_FUZZ_TLS_CERT_H

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tls/tls.h"

/* Writes a fresh P-256 key and a self-signed certificate for localhost. */
static inline void tls_cert_make(const char *cert, const char *key)
{
    EVP_PKEY *pk = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    if (!pk || !x)
        abort();
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24 * 365);
    X509_set_pubkey(x, pk);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1,
                               0);
    X509_set_issuer_name(x, n);
    if (!X509_sign(x, pk, EVP_sha256()))
        abort();
    FILE *f = fopen(cert, "w");
    if (!f || !PEM_write_X509(f, x))
        abort();
    fclose(f);
    f = fopen(key, "w");
    if (!f || !PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL))
        abort();
    fclose(f);
    X509_free(x);
    EVP_PKEY_free(pk);
}

/* A server context on a fresh certificate (the files are removed again). */
static inline tls_ctx_t *tls_cert_ctx(void)
{
    char dir[] = "/tmp/fuzz_tls.XXXXXX";
    if (!mkdtemp(dir))
        abort();
    char cert[64], key[64], err[256];
    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    tls_cert_make(cert, key);
    tls_files_t f = {cert, key, NULL};
    tls_ctx_t *t = tls_ctx_create(&f, err, sizeof err);
    if (!t) {
        fprintf(stderr, "fuzz: %s\n", err);
        abort();
    }
    unlink(cert);
    unlink(key);
    rmdir(dir);
    return t;
}

#endif
