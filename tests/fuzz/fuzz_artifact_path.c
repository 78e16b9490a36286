/*
 * fuzz_artifact_path.c: libFuzzer harness of the artifact path validator
 * (storage/artifacts.c): a client path is percent-decoded until stable and
 * checked. An accepted path must be a plain relative path below the root:
 * UTF-8, no NUL, no control character, no backslash, no empty, "." or ".."
 * segment, no leading '/', and checking it again must give it back
 * unchanged. The first input line goes through the client-path check, the
 * whole input through the artifact URI locator.
 */
#include "artifacts.h"
#include "fuzz_util.h"

static void check_accepted(const char *p)
{
	size_t n = strlen(p);
	FUZZ_REQUIRE(mlf_utf8_valid_prefix(p, n) == n, "not UTF-8: %s", p);
	FUZZ_REQUIRE(p[0] != '/', "absolute: %s", p);
	FUZZ_REQUIRE(!strchr(p, '\\'), "backslash: %s", p);
	for (size_t i = 0; i < n; i++)
		FUZZ_REQUIRE((unsigned char)p[i] >= 0x20 && p[i] != 0x7f, "control character: %s", p);
	const char *seg = p;
	while (n) {
		const char *slash = strchr(seg, '/');
		size_t len = slash ? (size_t)(slash - seg) : strlen(seg);
		FUZZ_REQUIRE(len > 0 && !(len == 1 && seg[0] == '.') && !(len == 2 && seg[0] == '.' && seg[1] == '.'),
		             "bad segment in %s", p);
		if (!slash)
			break;
		seg = slash + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mlf_arena a = {0};
	char *in = fuzz_cstr(&a, data, size), *lines[1];
	const char *whole = mlf_arena_strdup(&a, in);
	fuzz_lines(in, lines, 1);
	struct mlf_error err = {0};
	const char *out = NULL;
	for (int allow_empty = 0; allow_empty < 2; allow_empty++) {
		enum mlf_status s = mlf_artifact_client_path(&a, lines[0], allow_empty, &out, &err);
		FUZZ_REQUIRE(s == MLF_OK || s == MLF_INVALID_PARAMETER_VALUE, "%s", mlf_status_name(s));
		if (s != MLF_OK)
			continue;
		FUZZ_REQUIRE(allow_empty || out[0], "empty path accepted");
		check_accepted(out);
		const char *again = NULL;
		FUZZ_REQUIRE(mlf_artifact_path_check(&a, out, allow_empty, &again, &err) == MLF_OK &&
		                 !strcmp(again, out),
		             "checked form %s not stable", out);
	}
	enum mlf_artifact_loc_kind kind;
	const char *root = NULL, *rel = NULL;
	enum mlf_status s = mlf_artifact_locate(&a, whole, &kind, &root, &rel, &err);
	if (s == MLF_OK && kind == MLF_LOC_PROXIED && rel && rel[0])
		check_accepted(rel);
	mlf_arena_release(&a);
	return 0;
}
