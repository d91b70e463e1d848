/* auth_int.h - the token table's struct, shared by the files of src/auth/.
 * Nothing outside src/auth/ includes it. */
#ifndef LOGSHIP_AUTH_INT_H
#define LOGSHIP_AUTH_INT_H

#include "../common/buf.h"
#include "auth.h"

struct auth_table {
    auth_entry_t *entries;
    size_t n, cap;
    buf_t strings; /* the entries' pattern texts; sized once, never moves */
    long refs;
};

#endif
