/*
 * unit.h: the tiny harness of mlflowd's C unit tests. Each tests/unit/test_X.c
 * is one executable registered in ctest; it defines test functions with
 * TEST(name), lists them in main with RUN(name), and ends with DONE().
 * CHECK failures print file:line and mark the test failed; the process
 * exits non-zero when any check failed.
 */
#ifndef MLF_UNIT_H
#define MLF_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_failed, unit_checks, unit_tests;
static int unit_cur_failed;

#define TEST(name) static void name(void)
#define CHECK(cond)                                                                              \
	do {                                                                                     \
		unit_checks++;                                                                   \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			unit_cur_failed = 1;                                                     \
		}                                                                                \
	} while (0)
#define CHECK_STR(a, b)                                                                                              \
	do {                                                                                                         \
		const char *unit_a = (a), *unit_b = (b);                                                             \
		unit_checks++;                                                                                       \
		if (!unit_a || !unit_b || strcmp(unit_a, unit_b) != 0) {                                             \
			fprintf(stderr, "%s:%d: \"%s\" != \"%s\"\n", __FILE__, __LINE__, unit_a ? unit_a : "(null)", \
			        unit_b ? unit_b : "(null)");                                                         \
			unit_cur_failed = 1;                                                                         \
		}                                                                                                    \
	} while (0)
#define RUN(name)                                            \
	do {                                                 \
		unit_cur_failed = 0;                         \
		unit_tests++;                                \
		name();                                      \
		if (unit_cur_failed) {                       \
			unit_failed++;                       \
			fprintf(stderr, "FAIL %s\n", #name); \
		}                                            \
	} while (0)
#define DONE()                                                                           \
	do {                                                                             \
		printf("%d passed, %d failed\n", unit_tests - unit_failed, unit_failed); \
		return unit_failed ? 1 : 0;                                              \
	} while (0)

#endif
