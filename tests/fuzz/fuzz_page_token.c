/*
 * fuzz_page_token.c: libFuzzer harness of the page-token decoder
 * (storage/search.c). A token is accepted only with an offset that encodes
 * back to a token decoding to the same offset; anything else is refused
 * with INVALID_PARAMETER_VALUE and a message.
 */
#include "fuzz_util.h"
#include "search.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mlf_arena a = {0};
	const char *token = fuzz_cstr(&a, data, size);
	struct mlf_error err = {0};
	int64_t offset = -7;
	enum mlf_status s = mlf_page_token_decode(&a, token, &offset, &err);
	FUZZ_REQUIRE(s == MLF_OK || s == MLF_INVALID_PARAMETER_VALUE, "%s", mlf_status_name(s));
	if (s == MLF_OK) {
		FUZZ_REQUIRE(offset >= 0, "offset %lld", (long long)offset);
		int64_t again = -1;
		FUZZ_REQUIRE(mlf_page_token_decode(&a, mlf_page_token_encode(&a, offset), &again, &err) == MLF_OK &&
		                 again == offset,
		             "offset %lld does not round-trip", (long long)offset);
	} else {
		FUZZ_REQUIRE(err.msg[0], "refused without a message");
	}
	mlf_arena_release(&a);
	return 0;
}
