/* check.h - assertions that cite the invariant they check.
 *
 *   CHECK(g->sealed == 0, "store.h invariant 4: sealed segments are never written");
 *
 * states that a numbered invariant of a design block holds at this point.
 * When the condition is false the process prints the invariant, the
 * condition and where, and aborts: an invariant that does not hold is a
 * bug, and carrying on would turn it into lost, duplicated or misnumbered
 * records.
 *
 * Checks are compiled in for tests and debug builds (LOGSHIP_CHECKS, set by
 * CMake for CMAKE_BUILD_TYPE=Debug, for LOGSHIP_TESTS and for
 * -DLOGSHIP_CHECKS=ON) and out of release builds, where the condition is not
 * evaluated: it must have no side effects. Input from the network or the
 * disk is never CHECKed: parsers and recovery return errors instead.
 */
#ifndef LOGSHIP_CHECK_H
#define LOGSHIP_CHECK_H

#ifdef LOGSHIP_CHECKS

#include <stdio.h>
#include <stdlib.h>

#define CHECKS_ON 1

_Noreturn static inline void check_failed(const char *file, int line, const char *cond,
                                          const char *invariant)
{
    fprintf(stderr, "%s:%d: %s does not hold (%s is false)\n", file, line, invariant, cond);
    fflush(stderr);
    abort();
}

#define CHECK(cond, invariant)                                                                     \
    ((cond) ? (void)0 : check_failed(__FILE__, __LINE__, #cond, invariant))

#else

#define CHECKS_ON              0
/* not evaluated, but still compiled: a check can not rot in release builds */
#define CHECK(cond, invariant) ((void)sizeof(!(cond)), (void)(invariant))

#endif

#endif
