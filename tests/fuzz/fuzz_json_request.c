/*
 * fuzz_json_request.c: libFuzzer harness of the request decoders: a body
 * through mlf_decode_body (api/decode.c: text checks, parsing, the float
 * marks), then every typed getter on every field of the result as the
 * handlers use them, the key validator, and the answer writer on what was
 * read. Every string a getter hands out must be UTF-8 without a NUL, and
 * everything written must be UTF-8 too.
 */
#include "api.h"
#include "fuzz_util.h"
#include "json.h"

static void check_text(const char *s)
{
	size_t n = strlen(s);
	FUZZ_REQUIRE(mlf_utf8_valid_prefix(s, n) == n, "a getter handed out text that is not UTF-8");
}

static void use_field(struct mlf_req *req, cJSON *obj, const char *name)
{
	const char *s = NULL;
	int64_t i;
	double d;
	int present;
	if (mlf_obj_str(req, obj, name, 0, &s) == MLF_OK && s) {
		check_text(s);
		mlf_json_kv_str(&req->out, "s", s);
		mlf_validate_key(req, s, name);
	}
	if (mlf_obj_int64(req, obj, name, 0, &i, &present) == MLF_OK && present)
		mlf_json_kv_int(&req->out, "i", i);
	if (mlf_obj_double(req, obj, name, 1, &d, &present) == MLF_OK && present)
		mlf_json_kv_double(&req->out, "d", d);
	check_text(req->err.msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mlf_error err = {0};
	cJSON *in = mlf_decode_body((const char *)data, size, &err);
	if (!in) {
		FUZZ_REQUIRE(err.status == MLF_INVALID_PARAMETER_VALUE && err.msg[0], "refused without a 400");
		FUZZ_REQUIRE(mlf_utf8_valid_prefix((const char *)data, size) < size || memchr(data, 0, size) ||
		                 memmem(data, size, "u0000", 5),
		             "valid text refused: %s", err.msg);
		return 0;
	}
	FUZZ_REQUIRE(cJSON_IsObject(in), "not an object");
	struct mlf_req req = {.in = in, .method = size & 1 ? "GET" : "POST"};
	mlf_json_obj_begin(&req.out);
	cJSON *f;
	cJSON_ArrayForEach(f, in)
	{
		check_text(f->string);
		use_field(&req, in, f->string);
		const char **arr;
		int n;
		if (mlf_get_str_array(&req, f->string, &arr, &n) == MLF_OK)
			for (int k = 0; k < n; k++)
				check_text(arr[k]);
		if (cJSON_IsArray(f)) {
			cJSON *e;
			cJSON_ArrayForEach(e, f)
			{
				if (cJSON_IsObject(e)) {
					use_field(&req, e, "key");
					use_field(&req, e, "value");
					use_field(&req, e, "timestamp");
				}
			}
		}
	}
	mlf_json_obj_end(&req.out);
	FUZZ_REQUIRE(mlf_utf8_valid_prefix(req.out.buf.data, req.out.buf.len) == req.out.buf.len, "answer not UTF-8");
	struct mlf_buf eb = {0};
	mlf_json_error_body(&eb, MLF_INVALID_PARAMETER_VALUE, req.err.msg);
	FUZZ_REQUIRE(mlf_utf8_valid_prefix(eb.data, eb.len) == eb.len, "error body not UTF-8");
	mlf_buf_release(&eb);
	mlf_json_release(&req.out);
	mlf_arena_release(&req.arena);
	cJSON_Delete(in);
	return 0;
}
