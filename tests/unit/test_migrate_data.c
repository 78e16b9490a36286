/*
 * test_migrate_data.c: unit tests of storage/migrate_data.c's SQL functions,
 * which reproduce the Python rules of MLflow's data migrations: the
 * expected values below are what Python 3.11 gives (Decimal, float(),
 * str.strip().lower() and hashlib.sha256) for the same inputs.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "migrate_data.h"
#include "unit.h"

static sqlite3 *db;

/* The single value of SELECT fn(?) with the text (or, when text is NULL,
 * the real r) bound, ready to step; NULL when it does not prepare. */
static sqlite3_stmt *eval(const char *fn, const char *text, int len, double r)
{
	char sql[128];
	snprintf(sql, sizeof sql, "SELECT %s(?)", fn);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	if (text)
		sqlite3_bind_text(st, 1, text, len, SQLITE_STATIC);
	else
		sqlite3_bind_double(st, 1, r);
	return st;
}

static const struct {
	const char *in;
	int some;
	long long out;
} token_texts[] = {
    {"12", 1, 12LL},
    {" 7 ", 1, 7LL},
    {"1_9", 1, 19LL},
    {"1__0", 1, 10LL},
    {"_1", 1, 1LL},
    {"1e2", 1, 100LL},
    {"2.50e1", 1, 25LL},
    {"-0", 1, 0LL},
    {"0x10", 0, 0LL},
    {"9.5", 0, 0LL},
    {"Infinity", 0, 0LL},
    {"nan", 0, 0LL},
    {"9223372036854775807", 1, 9223372036854775807LL},
    {"9223372036854775808", 0, 0LL},
    {"-9223372036854775808", 1, INT64_MIN},
    {"-9223372036854775809", 0, 0LL},
    {"1e19", 0, 0LL},
    {"0e-5", 1, 0LL},
    {"1.000", 1, 1LL},
    {"1000e-3", 1, 1LL},
    {"", 0, 0LL},
    {"+", 0, 0LL},
    {".5e1", 1, 5LL},
    {"5.", 1, 5LL},
    {"1e", 0, 0LL},
    {"\01142\012", 1, 42LL},
    {"1E+2", 1, 100LL},
    {"00012", 1, 12LL},
    {"-12e-1", 0, 0LL},
};

static const struct {
	double in;
	int some;
	long long out;
} token_reals[] = {
    {1.5, 0, 0LL}, {1e+19, 0, 0LL}, {4.0, 1, 4LL}, {-0.0, 1, 0LL}, {9.2e+18, 1, 9200000000000000000LL},
};

static const struct {
	const char *in;
	int some;
	double out;
} float_texts[] = {
    {"0.5", 1, 0.5},
    {"1e400", 0, 0},
    {" 2_5.0 ", 1, 25.0},
    {"1__0", 0, 0},
    {"_1", 0, 0},
    {"1_", 0, 0},
    {"0x10", 0, 0},
    {"inf", 0, 0},
    {"1.", 1, 1.0},
    {".5e-3", 1, 0.0005},
    {"1e1_0", 1, 10000000000.0},
    {"1_0.5_5", 1, 10.55},
    {"abc", 0, 0},
    {"-.5", 1, -0.5},
    {"1_e5", 0, 0},
    {"1e5e5", 0, 0},
    {"e5", 0, 0},
    {".e5", 0, 0},
    {"+1E-2", 1, 0.01},
    {"  -3  ", 1, -3.0},
};

static const struct {
	const char *in;
	const char *hex;
} hashes[] = {
    {"Hallo", "d3751d33f9cd5049c4af2b462735457e4d3baf130bcbb87f389e349fbaeb20b9"},
    {" hallo\302\240", "d3751d33f9cd5049c4af2b462735457e4d3baf130bcbb87f389e349fbaeb20b9"},
    {"\304\260x", "3a1388999f6f65d8fc590973ac603fa97499dd993c2954a4f118f0ee2cf69a74"},
    {"Kelvin \342\204\252", "b70782c03d5d619eb31e564eed2b0c855e643d49666a8d025a120f6c8a15642d"},
    {"\303\204rger STRASSE", "6794cfc0e3c279220c6063954937fa1b89e1ed235789e31f36ee93c6017a91ca"},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
    {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
};

TEST(token_count_reads_text_as_decimal)
{
	for (size_t i = 0; i < sizeof token_texts / sizeof *token_texts; i++) {
		sqlite3_stmt *st = eval("mlflowd_token_count", token_texts[i].in, -1, 0);
		CHECK(st && sqlite3_step(st) == SQLITE_ROW);
		int some = sqlite3_column_type(st, 0) == SQLITE_INTEGER;
		if (some != token_texts[i].some || (some && sqlite3_column_int64(st, 0) != token_texts[i].out))
			fprintf(stderr, "token_count(\"%s\")\n", token_texts[i].in);
		CHECK(some == token_texts[i].some);
		CHECK(!some || sqlite3_column_int64(st, 0) == token_texts[i].out);
		sqlite3_finalize(st);
	}
	for (size_t i = 0; i < sizeof token_reals / sizeof *token_reals; i++) {
		sqlite3_stmt *st = eval("mlflowd_token_count", NULL, 0, token_reals[i].in);
		CHECK(st && sqlite3_step(st) == SQLITE_ROW);
		int some = sqlite3_column_type(st, 0) == SQLITE_INTEGER;
		CHECK(some == token_reals[i].some);
		CHECK(!some || sqlite3_column_int64(st, 0) == token_reals[i].out);
		sqlite3_finalize(st);
	}
}

TEST(finite_float_reads_text_as_python_float)
{
	for (size_t i = 0; i < sizeof float_texts / sizeof *float_texts; i++) {
		sqlite3_stmt *st = eval("mlflowd_finite_float", float_texts[i].in, -1, 0);
		CHECK(st && sqlite3_step(st) == SQLITE_ROW);
		int some = sqlite3_column_type(st, 0) == SQLITE_FLOAT;
		if (some != float_texts[i].some)
			fprintf(stderr, "finite_float(\"%s\")\n", float_texts[i].in);
		CHECK(some == float_texts[i].some);
		CHECK(!some || sqlite3_column_double(st, 0) == float_texts[i].out);
		sqlite3_finalize(st);
	}
}

TEST(category_hash_is_sha256_of_stripped_lower_case)
{
	char big[1001];
	memset(big, 'B', 1000);
	big[1000] = 0;
	for (size_t i = 0; i <= sizeof hashes / sizeof *hashes; i++) {
		const char *in = i < sizeof hashes / sizeof *hashes ? hashes[i].in : big;
		const char *hex = i < sizeof hashes / sizeof *hashes
		                      ? hashes[i].hex
		                      : "f6f118e120e52be0bd0cfdf2794cd12c07686cc871235ac2f11459378e6d235b";
		sqlite3_stmt *st = eval("mlflowd_category_hash", in, -1, 0);
		CHECK(st && sqlite3_step(st) == SQLITE_ROW);
		CHECK_STR((const char *)sqlite3_column_text(st, 0), hex);
		sqlite3_finalize(st);
	}
	/* a capital sigma, bad UTF-8: an error, and category_ok says 0 */
	const char *refused[] = {"\316\243x", "a\377b", "\300\200"};
	for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
		sqlite3_stmt *st = eval("mlflowd_category_hash", refused[i], -1, 0);
		CHECK(st && sqlite3_step(st) == SQLITE_ERROR);
		sqlite3_finalize(st);
		st = eval("mlflowd_category_ok", refused[i], -1, 0);
		CHECK(st && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 0);
		sqlite3_finalize(st);
	}
}

TEST(yes_no)
{
	const char *in[] = {" YES ", "no", "\302\240No", "nope", "ye s"};
	const int want[] = {1, 0, 0, -1, -1};
	for (size_t i = 0; i < sizeof in / sizeof *in; i++) {
		sqlite3_stmt *st = eval("mlflowd_yes_no", in[i], -1, 0);
		CHECK(st && sqlite3_step(st) == SQLITE_ROW);
		if (want[i] < 0)
			CHECK(sqlite3_column_type(st, 0) == SQLITE_NULL);
		else
			CHECK(sqlite3_column_type(st, 0) == SQLITE_FLOAT && sqlite3_column_double(st, 0) == want[i]);
		sqlite3_finalize(st);
	}
}

int main(void)
{
	if (sqlite3_open(":memory:", &db) != SQLITE_OK || mlf_migrate_register(db) != 0)
		return 1;
	RUN(token_count_reads_text_as_decimal);
	RUN(finite_float_reads_text_as_python_float);
	RUN(category_hash_is_sha256_of_stripped_lower_case);
	RUN(yes_no);
	sqlite3_close(db);
	DONE();
}
