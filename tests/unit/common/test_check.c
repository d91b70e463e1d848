/* test_check.c - CHECK (src/common/check.h): compiled into test builds, a
 * false condition aborts the process naming the invariant, the condition
 * and where; a true one costs nothing else. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/check.h"

static void test_checks_are_compiled_into_tests(void **state)
{
    (void)state;
    assert_int_equal(CHECKS_ON, 1);
}

static void test_true_check_passes(void **state)
{
    (void)state;
    int calls = 0;
    CHECK(++calls == 1, "test invariant 1");
    assert_int_equal(calls, 1); /* evaluated once */
}

static void test_false_check_aborts_naming_the_invariant(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], STDERR_FILENO);
        int seq = 7, last = 9;
        CHECK(seq > last, "test invariant 2: seqs increase");
        _exit(0); /* not reached */
    }
    close(fds[1]);
    char out[512] = {0};
    size_t n = 0;
    ssize_t r;
    while (n < sizeof out - 1 && (r = read(fds[0], out + n, sizeof out - 1 - n)) > 0)
        n += (size_t)r;
    close(fds[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
    assert_non_null(strstr(out, "test invariant 2: seqs increase"));
    assert_non_null(strstr(out, "seq > last"));
    assert_non_null(strstr(out, "test_check.c:"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checks_are_compiled_into_tests),
        cmocka_unit_test(test_true_check_passes),
        cmocka_unit_test(test_false_check_aborts_naming_the_invariant),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
