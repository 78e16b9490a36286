/*
 * test_api.c: unit tests of the api layer's building blocks: the JSON
 * writer (MLflow's number forms), request field decoding (int64 as number
 * or string, NaN/Infinity strings, type errors), key validation and UTF-8
 * length rules, base64.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "../storage/pool.h"
#include "api.h"
#include "artifacts.h"
#include "unit.h"

static struct mlf_req make_req(const char *json)
{
	struct mlf_req r;
	memset(&r, 0, sizeof r);
	r.in = cJSON_Parse(json);
	return r;
}

static void free_req(struct mlf_req *r)
{
	cJSON_Delete(r->in);
	mlf_json_release(&r->out);
	mlf_arena_release(&r->arena);
}

TEST(doubles_format_like_mlflow)
{
	/* Expected strings are Python's repr of the same doubles. */
	static const struct {
		double v;
		const char *want;
	} cases[] = {
	    {1.0, "1.0"},
	    {0.1, "0.1"},
	    {100.0, "100.0"},
	    {1e16, "1e+16"},
	    {1e15, "1000000000000000.0"},
	    {123456789012345678.0, "1.2345678901234568e+17"},
	    {0.0001, "0.0001"},
	    {0.00001, "1e-05"},
	    {1.5e-7, "1.5e-07"},
	    {5e-324, "5e-324"},
	    {1.7976931348623157e308, "1.7976931348623157e+308"},
	    {-0.0, "-0.0"},
	    {0.0, "0.0"},
	    {0.30000000000000004, "0.30000000000000004"},
	    {2.2250738585072014e-308, "2.2250738585072014e-308"},
	    {12345678901234567.0, "1.2345678901234568e+16"},
	    {9007199254740993.0, "9007199254740992.0"},
	    {1.0 / 3, "0.3333333333333333"},
	    {2.0 / 3, "0.6666666666666666"},
	    {-2.5, "-2.5"},
	    {1e23, "1e+23"},
	    {0.000123456789, "0.000123456789"},
	    {4.35, "4.35"},
	    {1152921504606846976.0, "1.152921504606847e+18"},
	    {0.1 + 0.7, "0.7999999999999999"},
	    {1e300, "1e+300"},
	    {NAN, "NaN"},
	    {INFINITY, "Infinity"},
	    {-INFINITY, "-Infinity"},
	};
	char b[32];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		mlf_format_double(b, cases[i].v);
		CHECK_STR(b, cases[i].want);
	}
}

/* The digits of v in scientific form with n significant digits, as
 * printf rounds them (exactly), without the exponent and the point. */
static void ref_digits(double v, int n, char *out, int *exp10)
{
	char t[48];
	snprintf(t, sizeof t, "%.*e", n - 1, v);
	int k = 0;
	const char *c = t;
	for (; *c != 'e'; c++)
		if (*c >= '0' && *c <= '9')
			out[k++] = *c;
	out[k] = '\0';
	*exp10 = atoi(c + 1);
}

/* Every double is written as the shortest decimal that reads back as it,
 * and among those the closest (printf's correctly rounded digits). */
static void check_shortest(double v)
{
	char b[32], got[32], want[48];
	mlf_format_double(b, v);
	if (strtod(b, NULL) != v) {
		CHECK(strtod(b, NULL) == v);
		return;
	}
	if (v == 0)
		return;
	int n = 0, we = 0;
	const char *c = b;
	for (; *c && *c != 'e'; c++)
		if (*c >= '0' && *c <= '9' && (n || *c != '0'))
			got[n++] = *c;
	while (n > 1 && got[n - 1] == '0')
		n--;
	got[n] = '\0';
	ref_digits(v, n, want, &we);
	for (int k = (int)strlen(want); k > 1 && want[k - 1] == '0'; k--)
		want[k - 1] = '\0';
	if (strcmp(got, want) != 0) {
		fprintf(stderr, "  %.17g: wrote %s, closest %d digits are %s\n", v, b, n, want);
		CHECK(0);
		return;
	}
	if (n > 1) {
		char shorter[48];
		snprintf(shorter, sizeof shorter, "%.*e", n - 2, v);
		if (strtod(shorter, NULL) == v) {
			fprintf(stderr, "  %.17g: wrote %s, but %s is shorter\n", v, b, shorter);
			CHECK(0);
		}
	}
}

TEST(doubles_are_shortest_round_trip)
{
	uint64_t x = 0x9E3779B97F4A7C15ULL;
	for (int i = 0; i < 40000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		double u = (double)(x >> 11) / 9007199254740992.0, r;
		uint64_t bits = x;
		memcpy(&r, &bits, sizeof r);
		if (isfinite(r))
			check_shortest(r);                         /* any bit pattern */
		check_shortest(u);                                 /* [0, 1): typical metric values */
		check_shortest(u * 1e6);                           /* losses, counts */
		check_shortest(ldexp(u + 1, (int)(x % 140) - 70)); /* the fast range and its edges */
		check_shortest((double)(x % 100000) / 1000);       /* short decimals */
		check_shortest(ldexp(1, (int)(x % 2000) - 1000));  /* powers of two */
	}
	for (int p = -320; p <= 308; p++)
		check_shortest(pow(10, p));
}

TEST(integers_print_like_printf)
{
	static const int64_t edges[] = {0,         1,         9,
	                                10,        99,        100,
	                                101,       999,       1000,
	                                -1,        -9,        -10,
	                                -99,       -100,      1714000000000LL,
	                                INT64_MAX, INT64_MIN, INT64_MIN + 1};
	struct mlf_buf b = {0};
	char want[32];
	uint64_t x = 0x2545F4914F6CDD1DULL;
	for (int i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		int nedges = (int)(sizeof edges / sizeof *edges);
		int64_t v = i < nedges ? edges[i] : (int64_t)(x >> (x % 63 + 1)); /* non-negative, any length */
		if (i >= nedges && i < nedges + 3 * 18) { /* 10^k - 1, 10^k, 10^k + 1: every chunk boundary */
			int64_t p10 = 1;
			for (int k = 0; k <= (i - nedges) / 3; k++)
				p10 *= 10;
			v = p10 - 1 + (i - nedges) % 3;
		}
		if (i >= nedges && i % 2)
			v = -v;
		mlf_buf_reset(&b);
		mlf_buf_put_i64(&b, v);
		snprintf(want, sizeof want, "%lld", (long long)v);
		if (strcmp(b.data, want)) {
			fprintf(stderr, "  %s printed as %s\n", want, b.data);
			CHECK(0);
			break;
		}
	}
	mlf_buf_release(&b);
}

TEST(writer_emits_wire_forms)
{
	struct mlf_json j = {0};
	mlf_json_obj_begin(&j);
	mlf_json_kv_str(&j, "s", "a\"b\n\x01");
	mlf_json_kv_str(&j, "omitted", NULL);
	mlf_json_kv_int(&j, "big", 9007199254740993LL);
	mlf_json_kv_double(&j, "nan", NAN);
	mlf_json_key(&j, "arr");
	mlf_json_arr_begin(&j);
	mlf_json_int(&j, 1);
	mlf_json_int(&j, 2);
	mlf_json_arr_end(&j);
	mlf_json_obj_end(&j);
	CHECK_STR(j.buf.data, "{\"s\":\"a\\\"b\\n\\u0001\",\"big\":9007199254740993,\"nan\":\"NaN\",\"arr\":[1,2]}");
	mlf_json_release(&j);
}

TEST(int64_fields_accept_numbers_and_strings)
{
	struct mlf_req r = make_req("{\"a\": 1714000000000, \"b\": \"-42\", \"c\": 1.5, \"d\": \"x\", \"e\": \"\"}");
	int64_t v = 0;
	int present = 0;
	CHECK(mlf_get_int64(&r, "a", 1, &v, &present) == MLF_OK && v == 1714000000000LL && present);
	CHECK(mlf_get_int64(&r, "b", 1, &v, &present) == MLF_OK && v == -42);
	CHECK(mlf_get_int64(&r, "c", 1, &v, &present) == MLF_INVALID_PARAMETER_VALUE);
	CHECK(strstr(r.err.msg, "Invalid value 1.5 for parameter 'c' supplied") != NULL);
	CHECK(mlf_get_int64(&r, "d", 1, &v, &present) == MLF_INVALID_PARAMETER_VALUE);
	CHECK(strstr(r.err.msg, "Hint: Value was of type 'str'") != NULL);
	CHECK(mlf_get_int64(&r, "e", 1, &v, &present) == MLF_INVALID_PARAMETER_VALUE);
	CHECK(strstr(r.err.msg, "Missing value for required parameter 'e'") != NULL);
	CHECK(mlf_get_int64(&r, "absent", 0, &v, &present) == MLF_OK && !present);
	free_req(&r);
}

TEST(doubles_accept_protobuf_special_strings)
{
	struct mlf_req r =
	    make_req("{\"n\": \"NaN\", \"i\": \"Infinity\", \"m\": \"-Infinity\", \"x\": 2.5, \"s\": \"abc\", "
	             "\"b\": true}");
	double d;
	CHECK(mlf_get_double(&r, "n", 1, &d, NULL) == MLF_OK && isnan(d));
	CHECK(mlf_get_double(&r, "i", 1, &d, NULL) == MLF_OK && isinf(d) && d > 0);
	CHECK(mlf_get_double(&r, "m", 1, &d, NULL) == MLF_OK && isinf(d) && d < 0);
	CHECK(mlf_get_double(&r, "x", 1, &d, NULL) == MLF_OK && d == 2.5);
	CHECK(mlf_get_double(&r, "s", 1, &d, NULL) == MLF_INVALID_PARAMETER_VALUE);
	CHECK(mlf_get_double(&r, "b", 1, &d, NULL) == MLF_INVALID_PARAMETER_VALUE);
	CHECK(mlf_get_double(&r, "absent", 1, &d, NULL) == MLF_INVALID_PARAMETER_VALUE);
	free_req(&r);
}

TEST(strings_and_arrays)
{
	struct mlf_req r = make_req("{\"s\": \"v\", \"n\": 3, \"one\": \"x\", \"arr\": [\"a\", \"b\"], \"bad\": [1]}");
	const char *s;
	CHECK(mlf_get_str(&r, "s", 1, &s) == MLF_OK && !strcmp(s, "v"));
	CHECK(mlf_get_str(&r, "n", 1, &s) == MLF_INVALID_PARAMETER_VALUE);
	CHECK(strstr(r.err.msg, "type 'int'") != NULL);
	const char **arr;
	int n;
	CHECK(mlf_get_str_array(&r, "one", &arr, &n) == MLF_OK && n == 1 && !strcmp(arr[0], "x"));
	CHECK(mlf_get_str_array(&r, "arr", &arr, &n) == MLF_OK && n == 2 && !strcmp(arr[1], "b"));
	CHECK(mlf_get_str_array(&r, "bad", &arr, &n) == MLF_INVALID_PARAMETER_VALUE);
	free_req(&r);
	r = make_req("{\"run_uuid\": \"abc\"}");
	CHECK(mlf_get_run_id(&r, &s) == MLF_OK && !strcmp(s, "abc"));
	free_req(&r);
	r = make_req("{}");
	CHECK(mlf_get_run_id(&r, &s) == MLF_INVALID_PARAMETER_VALUE);
	CHECK(strstr(r.err.msg, "'run_id'") != NULL);
	free_req(&r);
}

TEST(keys_follow_mlflow_rules)
{
	struct mlf_req r = make_req("{}");
	CHECK(mlf_validate_key(&r, "acc", "key") == MLF_OK);
	CHECK(mlf_validate_key(&r, "train/loss:1 a.b-c_d", "key") == MLF_OK);
	CHECK(mlf_validate_key(&r, "précision", "key") == MLF_OK);
	CHECK(mlf_validate_key(&r, "a!b", "key") == MLF_INVALID_PARAMETER_VALUE);
	CHECK(strstr(r.err.msg, "Names may only contain") != NULL);
	CHECK(mlf_validate_key(&r, "a//b", "key") == MLF_INVALID_PARAMETER_VALUE);
	CHECK(strstr(r.err.msg, "would resolve to 'a/b'") != NULL);
	CHECK(mlf_validate_key(&r, "a/", "key") == MLF_INVALID_PARAMETER_VALUE);
	CHECK(mlf_validate_key(&r, "./a", "key") == MLF_INVALID_PARAMETER_VALUE);
	CHECK(mlf_validate_key(&r, "../a", "key") == MLF_INVALID_PARAMETER_VALUE);
	CHECK(mlf_validate_key(&r, "/a", "key") == MLF_INVALID_PARAMETER_VALUE);
	CHECK(mlf_validate_key(&r, ".", "key") == MLF_INVALID_PARAMETER_VALUE);
	free_req(&r);
}

TEST(lengths_count_code_points)
{
	struct mlf_arena a = {0};
	CHECK(mlf_utf8_len("abc") == 3);
	CHECK(mlf_utf8_len("\xc3\xa9t\xc3\xa9") == 3);
	CHECK_STR(mlf_utf8_truncate(&a, "\xc3\xa9t\xc3\xa9", 2), "\xc3\xa9t");
	CHECK_STR(mlf_utf8_truncate(&a, "abc", 3), "abc");
	struct mlf_req r = make_req("{}");
	char k[252];
	memset(k, 'k', 251);
	k[251] = 0;
	CHECK(mlf_validate_length(&r, "key", k, 250) == MLF_INVALID_PARAMETER_VALUE);
	CHECK_STR(r.err.msg, "'key' exceeds the maximum length of 250 characters");
	k[250] = 0;
	CHECK(mlf_validate_length(&r, "key", k, 250) == MLF_OK);
	free_req(&r);
	mlf_arena_release(&a);
}

TEST(base64_round_trip)
{
	struct mlf_arena a = {0};
	const char *s = "{\"offset\": 1000}";
	char *e = mlf_base64_encode(&a, s, strlen(s));
	CHECK_STR(e, "eyJvZmZzZXQiOiAxMDAwfQ==");
	size_t n;
	char *d = mlf_base64_decode(&a, e, &n);
	CHECK(d && n == strlen(s) && !memcmp(d, s, n));
	CHECK(mlf_base64_decode(&a, "!!!", &n) == NULL);
	mlf_arena_release(&a);
}

TEST(run_ids_are_time_ordered_uuid7)
{
	char a[33], b[33], c[33];
	int64_t before = mlf_now_ms();
	mlf_uuid7_hex(a);
	mlf_uuid7_hex(c);
	int64_t after = mlf_now_ms();
	struct timespec pause = {0, 3 * 1000 * 1000};
	nanosleep(&pause, NULL);
	mlf_uuid7_hex(b);
	CHECK(strlen(a) == 32 && strspn(a, "0123456789abcdef") == 32);
	CHECK(a[12] == '7' && strchr("89ab", a[16]));
	int64_t ms = (int64_t)strtoll(
	    (char[]){a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], 0}, NULL, 16);
	CHECK(ms >= before && ms <= after);
	CHECK(strcmp(a, b) < 0 && strcmp(c, b) < 0); /* a later millisecond sorts after */
	CHECK(strcmp(a + 13, c + 13) != 0);          /* the rest is random */
}

struct pool_probe {
	_Atomic int runs[257];
	_Atomic int concurrent, most;
};

static void pool_probe_task(void *p, int i)
{
	struct pool_probe *pp = p;
	int now = atomic_fetch_add(&pp->concurrent, 1) + 1;
	int most = atomic_load(&pp->most);
	while (now > most && !atomic_compare_exchange_weak(&pp->most, &most, now))
		;
	atomic_fetch_add(&pp->runs[i], 1);
	struct timespec pause = {0, 200 * 1000};
	nanosleep(&pause, NULL);
	atomic_fetch_sub(&pp->concurrent, 1);
}

static void *pool_caller(void *p)
{
	mlf_pool_run(257, pool_probe_task, p);
	return NULL;
}

TEST(pool_runs_every_task_once)
{
	/* without helpers: every task in the caller, one at a time */
	static struct pool_probe solo, many[4];
	mlf_pool_run(257, pool_probe_task, &solo);
	for (int i = 0; i < 257; i++)
		CHECK(solo.runs[i] == 1);
	CHECK(solo.most == 1);
	int helpers = mlf_pool_start(NULL, NULL);
	CHECK(helpers >= 0 && helpers <= MLF_POOL_MAX_HELPERS);
	CHECK(mlf_pool_helpers() == helpers);
	/* four callers at once share the helpers; each job's tasks run once */
	pthread_t t[4];
	for (int k = 0; k < 4; k++)
		CHECK(pthread_create(&t[k], NULL, pool_caller, &many[k]) == 0);
	for (int k = 0; k < 4; k++)
		pthread_join(t[k], NULL);
	for (int k = 0; k < 4; k++) {
		for (int i = 0; i < 257; i++)
			CHECK(many[k].runs[i] == 1);
		CHECK(many[k].most >= 1 && many[k].most <= 1 + helpers);
	}
	mlf_pool_stop();
	CHECK(mlf_pool_helpers() == 0);
	mlf_pool_run(1, pool_probe_task, &solo);
	CHECK(solo.runs[0] == 2);
}

TEST(status_table_matches_mlflow)
{
	CHECK(mlf_status_http(MLF_RESOURCE_DOES_NOT_EXIST) == 404);
	CHECK(mlf_status_http(MLF_RESOURCE_ALREADY_EXISTS) == 400);
	CHECK(mlf_status_http(MLF_INVALID_STATE) == 500);
	CHECK(mlf_status_http(MLF_TEMPORARILY_UNAVAILABLE) == 503);
	CHECK_STR(mlf_status_name(MLF_INVALID_PARAMETER_VALUE), "INVALID_PARAMETER_VALUE");
}

TEST(request_text_refused_before_decoding)
{
	static const char *bad[] = {
	    "{\"name\": \"a\xff\"}",                  /* never UTF-8 */
	    "{\"name\": \"a\xe2\x82\"}",              /* cut short */
	    "{\"name\": \"\xed\xa0\x80\"}",           /* surrogate */
	    "{\"name\": \"\xc0\xaf\"}",               /* overlong */
	    "{\"name\": \"a\\u0000b\"}",              /* NUL escape */
	    "\"{\\\"name\\\": \\\"a\\\\u0000\\\"}\"", /* NUL escape, double-encoded */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct mlf_error err = {0};
		cJSON *v = mlf_decode_body(bad[i], strlen(bad[i]), &err);
		CHECK(v == NULL);
		CHECK(err.status == MLF_INVALID_PARAMETER_VALUE);
		cJSON_Delete(v);
	}
	struct mlf_error err = {0};
	cJSON *v = mlf_decode_body("{\"n\": \"a\0"
	                           "b\"}",
	                           12, &err); /* raw NUL */
	CHECK(v == NULL && err.status == MLF_INVALID_PARAMETER_VALUE);
	/* an escaped backslash before u0000 is text, not a NUL */
	const char *escaped = "{\"n\": \"\\\\u0000\"}";
	v = mlf_decode_body(escaped, strlen(escaped), &err);
	CHECK(v && cJSON_IsString(cJSON_GetObjectItem(v, "n")));
	CHECK_STR(cJSON_GetObjectItem(v, "n")->valuestring, "\\u0000");
	cJSON_Delete(v);
	CHECK(mlf_text_check("a\xc3\xa9", 3, "x", &err) == MLF_OK);
	CHECK(mlf_text_check("a\x00", 2, "x", &err) == MLF_INVALID_PARAMETER_VALUE);
}

TEST(float_text_keeps_python_type)
{
	const char *body = "{\"a\": 9.0, \"b\": 9, \"c\": [1e3, -2, \"3.0\", {\"d\": 0.5}], \"e\": -1E+2}";
	struct mlf_error err = {0};
	cJSON *v = mlf_decode_body(body, strlen(body), &err);
	CHECK(v != NULL);
	cJSON *c = cJSON_GetObjectItem(v, "c");
	CHECK(cJSON_GetObjectItem(v, "a")->type & MLF_JSON_FLOAT_TEXT);
	CHECK(!(cJSON_GetObjectItem(v, "b")->type & MLF_JSON_FLOAT_TEXT));
	CHECK(cJSON_IsNumber(cJSON_GetObjectItem(v, "a")));
	CHECK(cJSON_GetArrayItem(c, 0)->type & MLF_JSON_FLOAT_TEXT);
	CHECK(!(cJSON_GetArrayItem(c, 1)->type & MLF_JSON_FLOAT_TEXT));
	CHECK(cJSON_GetObjectItem(cJSON_GetArrayItem(c, 3), "d")->type & MLF_JSON_FLOAT_TEXT);
	CHECK(cJSON_GetObjectItem(v, "e")->type & MLF_JSON_FLOAT_TEXT);
	struct mlf_req req = {.in = v, .method = "POST"};
	const char *s;
	CHECK(mlf_get_str(&req, "a", 0, &s) == MLF_INVALID_PARAMETER_VALUE);
	CHECK(strstr(req.err.msg, "Invalid value 9.0 for parameter 'a'") && strstr(req.err.msg, "type 'float'"));
	CHECK(mlf_get_str(&req, "b", 0, &s) == MLF_INVALID_PARAMETER_VALUE);
	CHECK(strstr(req.err.msg, "Invalid value 9 for parameter 'b'") && strstr(req.err.msg, "type 'int'"));
	CHECK(mlf_get_str(&req, "e", 0, &s) == MLF_INVALID_PARAMETER_VALUE);
	CHECK(strstr(req.err.msg, "Invalid value -100.0 "));
	cJSON_Delete(v);
	mlf_arena_release(&req.arena);
}

TEST(error_body_is_mlflows_and_always_utf8)
{
	struct mlf_buf b = {0};
	mlf_json_error_body(&b, MLF_RESOURCE_DOES_NOT_EXIST, "No run \xe2\x82");
	mlf_buf_putc(&b, '\0');
	CHECK_STR(b.data,
	          "{\"error_code\": \"RESOURCE_DOES_NOT_EXIST\", \"message\": \"No run \xef\xbf\xbd\xef\xbf\xbd\", "
	          "\"sqlstate\": \"KAM00\", \"error_class\": \"RESOURCE_NOT_FOUND\"}");
	mlf_buf_reset(&b);
	mlf_json_error_body(&b, MLF_REQUEST_LIMIT_EXCEEDED, "big");
	mlf_buf_putc(&b, '\0');
	CHECK_STR(b.data, "{\"error_code\": \"REQUEST_LIMIT_EXCEEDED\", \"message\": \"big\"}");
	mlf_buf_release(&b);
}

TEST(error_messages_drop_characters_a_precision_cuts)
{
	struct mlf_error err = {0};
	/* "%.3s" keeps "ab" and the first byte of the two-byte e-acute: dropped */
	mlf_fail(&err, MLF_INVALID_PARAMETER_VALUE, "key '%.3s' x", "ab\xc3\xa9z");
	CHECK_STR(err.msg, "key 'ab' x");
	mlf_fail(&err, MLF_INVALID_PARAMETER_VALUE, "key '%.4s' x", "ab\xc3\xa9z");
	CHECK_STR(err.msg, "key 'ab\xc3\xa9' x");
	char big[MLF_ERROR_MSG_MAX + 8];
	memset(big, 'a', sizeof big);
	memcpy(big + MLF_ERROR_MSG_MAX - 3, "\xe2\x82\xac", 3); /* the euro sign straddles the end */
	big[sizeof big - 1] = '\0';
	mlf_fail(&err, MLF_INVALID_PARAMETER_VALUE, "%s", big);
	CHECK(strlen(err.msg) == MLF_ERROR_MSG_MAX - 3);
	CHECK(mlf_utf8_valid_prefix(err.msg, strlen(err.msg)) == strlen(err.msg));
}

TEST(local_artifact_roots_are_normalized)
{
	static const char *const cases[][2] = {
	    {"/srv/x/../y/r/artifacts", "/srv/y/r/artifacts"},
	    {"/srv/./a//b/", "/srv/a/b"},
	    {"/srv/..", "/"},
	    {"/../../a", "/a"},
	    {"file:///tmp/f/../q", "/tmp/q"},
	    {"/a/b/../../..", "/"},
	    {"/a/.../b", "/a/.../b"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct mlf_arena a = {0};
		struct mlf_error err = {0};
		enum mlf_artifact_loc_kind kind;
		const char *root = NULL, *rel = NULL;
		CHECK(mlf_artifact_locate(&a, cases[i][0], &kind, &root, &rel, &err) == MLF_OK);
		CHECK(kind == MLF_LOC_LOCAL);
		CHECK_STR(root, cases[i][1]);
		mlf_arena_release(&a);
	}
}

int main(void)
{
	RUN(doubles_format_like_mlflow);
	RUN(doubles_are_shortest_round_trip);
	RUN(integers_print_like_printf);
	RUN(writer_emits_wire_forms);
	RUN(int64_fields_accept_numbers_and_strings);
	RUN(doubles_accept_protobuf_special_strings);
	RUN(strings_and_arrays);
	RUN(keys_follow_mlflow_rules);
	RUN(lengths_count_code_points);
	RUN(base64_round_trip);
	RUN(run_ids_are_time_ordered_uuid7);
	RUN(pool_runs_every_task_once);
	RUN(status_table_matches_mlflow);
	RUN(request_text_refused_before_decoding);
	RUN(float_text_keeps_python_type);
	RUN(error_body_is_mlflows_and_always_utf8);
	RUN(error_messages_drop_characters_a_precision_cuts);
	RUN(local_artifact_roots_are_normalized);
	DONE();
}
