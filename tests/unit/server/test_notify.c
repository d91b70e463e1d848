/* test_notify.c - systemd's readiness notifications (src/server/notify.c):
 * the datagram that reaches a socket at $NOTIFY_SOCKET, a path or an
 * abstract name, and what happens without one or with a bad one. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/notify.h"

/* A datagram socket bound at name (a leading '@' is abstract). */
static int listen_at(const char *name)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    size_t n = strlen(name);
    memcpy(sa.sun_path, name, n);
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    if (name[0] == '@')
        sa.sun_path[0] = '\0';
    else
        len++;
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, len), 0);
    return fd;
}

static void recv_is(int fd, const char *want)
{
    char buf[256];
    ssize_t n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_string_equal(buf, want);
}

static void test_path(void **state)
{
    char dir[] = "/tmp/test_notify.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/sock", dir);
    int fd = listen_at(path);
    setenv("NOTIFY_SOCKET", path, 1);
    assert_int_equal(notify_send("READY=1\nSTATUS=ready"), 1);
    recv_is(fd, "READY=1\nSTATUS=ready");
    assert_int_equal(notify_reloading(), 1);
    char buf[128];
    ssize_t n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
    assert_true(n > 0);
    buf[n] = '\0';
    unsigned long long usec = 0;
    assert_int_equal(sscanf(buf, "RELOADING=1\nMONOTONIC_USEC=%llu", &usec), 1);
    assert_true(usec > 0);
    close(fd);
    unlink(path);
    rmdir(dir);
    /* nobody there any more: an error, reported */
    errno = 0;
    assert_int_equal(notify_send("READY=1"), -1);
    assert_int_not_equal(errno, 0);
}

static void test_abstract(void **state)
{
    char name[64];
    snprintf(name, sizeof name, "@test_notify_%ld", (long)getpid());
    int fd = listen_at(name);
    setenv("NOTIFY_SOCKET", name, 1);
    assert_int_equal(notify_send("STOPPING=1"), 1);
    recv_is(fd, "STOPPING=1");
    close(fd);
}

static void test_unset_and_bad(void **state)
{
    unsetenv("NOTIFY_SOCKET");
    assert_int_equal(notify_send("READY=1"), 0); /* no manager: nothing to do */
    setenv("NOTIFY_SOCKET", "", 1);
    assert_int_equal(notify_send("READY=1"), 0);
    setenv("NOTIFY_SOCKET", "relative/path", 1);
    assert_int_equal(notify_send("READY=1"), -1);
    assert_int_equal(errno, EINVAL);
    char longpath[200];
    memset(longpath, 'a', sizeof longpath - 1);
    longpath[0] = '/';
    longpath[sizeof longpath - 1] = '\0';
    setenv("NOTIFY_SOCKET", longpath, 1);
    assert_int_equal(notify_send("READY=1"), -1);
    assert_int_equal(errno, EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path),
        cmocka_unit_test(test_abstract),
        cmocka_unit_test(test_unset_and_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
