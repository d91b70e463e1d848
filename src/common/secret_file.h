/* secret_file.h - reading a file that holds secrets (--auth-file's tokens,
 * --forward-auth's shared key and passwords): a regular file of at most
 * SECRET_FILE_MAX bytes read whole, a warning when others than its owner
 * may read it, and the text wiped when it is freed, so no secret is left
 * in freed memory. Any thread; it logs through log.h.
 */
#ifndef LOGSHIP_SECRET_FILE_H
#define LOGSHIP_SECRET_FILE_H

#include <stddef.h>

#define SECRET_FILE_MAX (1u << 20)

/* Reads path, the file of option flag ("--auth-file"; who names the
 * reader in the warning, "auth"). Returns its text, NUL-terminated, with
 * its length in *n (free it with secret_file_free), or NULL with err set:
 * "cannot read --auth-file PATH: No such file or directory", or "--auth-file
 * PATH: not a regular file of at most 1 MiB". */
char *secret_file_read(const char *path, const char *flag, const char *who, size_t *n, char *err,
                       size_t cap);
/* Overwrites text[0..n) and frees it; NULL is fine. */
void secret_file_free(char *text, size_t n);

#endif
