/* libFuzzer: the policy parser and evaluator on arbitrary text. */
#include "policy.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy policy;
	struct error err;
	if (policy_parse_text(&policy, "fuzz.conf", (const char *)data, size, &err) < 0) {
		/* A failed parse must leave nothing that could grant. */
		if (policy.nrules || policy.nbridges)
			__builtin_trap();
		return 0;
	}
	const char *groups[] = {"kvm", "lab"};
	struct policy_subject who = {"daniel", groups, 2};
	for (size_t i = 0; i < policy.nrules; i++) {
		unsigned quota = policy_quota(&policy, &who, policy.rules[i].bridge, NULL);
		/* Every rule names a declared bridge, and quotas stay in range. */
		if (!policy_find_bridge(&policy, policy.rules[i].bridge) ||
		    quota > POLICY_QUOTA_MAX)
			__builtin_trap();
	}
	policy_free(&policy);
	return 0;
}
