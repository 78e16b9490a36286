/*
 * calib.c: a fixed single-core CPU workload, timed, so that a benchmark
 * report shows how fast the machine ran at each phase (shared machines
 * change speed over minutes). The work: sorting a fixed pseudo-random
 * array of 200,000 doubles and formatting 200,000 numbers, the kind of
 * work a tracking server's reads do. Prints the median of REPS timings.
 *
 * Usage: calib [REPS]
 * Output: "calib_ms=<median ms>" on stdout, parsed by scripts/bench/bench.py.
 * This is a benchmark helper, not part of the server.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CALIB_ITEMS 200000
#define CALIB_DEFAULT_REPS 7
#define CALIB_MAX_REPS 101

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int cmp_ms(const void *a, const void *b)
{
	return cmp_double(a, b);
}

static double once(double *v)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	uint64_t x = 88172645463325252ull;
	for (int i = 0; i < CALIB_ITEMS; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		v[i] = (double)(x >> 11) / 9007199254740992.0;
	}
	qsort(v, CALIB_ITEMS, sizeof *v, cmp_double);
	char buf[64];
	size_t total = 0;
	for (int i = 0; i < CALIB_ITEMS; i++)
		total += (size_t)snprintf(buf, sizeof buf, "%.17g", v[i]);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (total == 0)
		puts("impossible");
	return (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
}

int main(int argc, char **argv)
{
	int reps = argc > 1 ? atoi(argv[1]) : CALIB_DEFAULT_REPS;
	if (reps < 1 || reps > CALIB_MAX_REPS)
		reps = CALIB_DEFAULT_REPS;
	double *v = malloc(CALIB_ITEMS * sizeof *v);
	double ms[CALIB_MAX_REPS];
	if (!v)
		return 1;
	for (int r = 0; r < reps; r++)
		ms[r] = once(v);
	qsort(ms, (size_t)reps, sizeof *ms, cmp_ms);
	printf("calib_ms=%.3f\n", ms[reps / 2]);
	free(v);
	return 0;
}
