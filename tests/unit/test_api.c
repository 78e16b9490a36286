/*
 * test_api.c: unit tests of the api layer's building blocks: the JSON
 * writer (MLflow's number forms), request field decoding (int64 as number
 * or string, NaN/Infinity strings, type errors), key validation and UTF-8
 * length rules, base64.
 */
#include <math.h>
#include <stdlib.h>

#include "api.h"
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
	char b[32];
	mlf_format_double(b, 1.0);
	CHECK_STR(b, "1.0");
	mlf_format_double(b, 0.1);
	CHECK_STR(b, "0.1");
	mlf_format_double(b, NAN);
	CHECK_STR(b, "NaN");
	mlf_format_double(b, INFINITY);
	CHECK_STR(b, "Infinity");
	mlf_format_double(b, -INFINITY);
	CHECK_STR(b, "-Infinity");
	mlf_format_double(b, 1e300);
	CHECK_STR(b, "1e+300");
	mlf_format_double(b, 0.30000000000000004);
	CHECK(strtod(b, NULL) == 0.30000000000000004);
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

TEST(status_table_matches_mlflow)
{
	CHECK(mlf_status_http(MLF_RESOURCE_DOES_NOT_EXIST) == 404);
	CHECK(mlf_status_http(MLF_RESOURCE_ALREADY_EXISTS) == 400);
	CHECK(mlf_status_http(MLF_INVALID_STATE) == 500);
	CHECK(mlf_status_http(MLF_TEMPORARILY_UNAVAILABLE) == 503);
	CHECK_STR(mlf_status_name(MLF_INVALID_PARAMETER_VALUE), "INVALID_PARAMETER_VALUE");
}

int main(void)
{
	RUN(doubles_format_like_mlflow);
	RUN(writer_emits_wire_forms);
	RUN(int64_fields_accept_numbers_and_strings);
	RUN(doubles_accept_protobuf_special_strings);
	RUN(strings_and_arrays);
	RUN(keys_follow_mlflow_rules);
	RUN(lengths_count_code_points);
	RUN(base64_round_trip);
	RUN(status_table_matches_mlflow);
	DONE();
}
