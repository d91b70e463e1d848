/* signals.h - SIGHUP (reload) and SIGUSR1 (status); see signals.c. */
#ifndef LOGSHIP_SIGNALS_H
#define LOGSHIP_SIGNALS_H

#include "server.h"

/* Reads the configuration again and applies what can change live. */
void reload(server_t *srv);
/* One status line in the log. */
void status_log(server_t *srv);

#endif
