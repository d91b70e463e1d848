/* notify.h - readiness for a service manager: systemd's notification
 * protocol (sd_notify(3)), spoken directly so logshipd needs no libsystemd.
 *
 * With $NOTIFY_SOCKET set (Type=notify units), each call sends one
 * datagram of "KEY=VALUE" lines to that AF_UNIX socket (a path, or an
 * abstract name when it starts with '@'); without it, nothing happens.
 * main.c says READY=1 once every listener is up, RELOADING=1 (with
 * MONOTONIC_USEC) and READY=1 around a SIGHUP reload, and STOPPING=1 when
 * it begins to shut down. Event loop thread only (not thread-safe).
 */
#ifndef LOGSHIP_NOTIFY_H
#define LOGSHIP_NOTIFY_H

/* Sends state (e.g. "READY=1\nSTATUS=ready"). Returns 1 when sent, 0 when
 * no manager is listening ($NOTIFY_SOCKET unset), -1 when sending failed
 * (errno set; logshipd logs it and goes on). */
int notify_send(const char *state);

/* "RELOADING=1\nMONOTONIC_USEC=<now>" as systemd wants it; see notify_send. */
int notify_reloading(void);

#endif
