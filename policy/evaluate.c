/* What the policy grants: default deny, the largest matching quota wins. */
#include "policy.h"

#include <string.h>

const struct policy_bridge *policy_find_bridge(const struct policy *policy, const char *name)
{
	for (size_t i = 0; i < policy->nbridges; i++)
		if (!strcmp(policy->bridges[i].name, name))
			return &policy->bridges[i];
	return NULL;
}

static bool rule_matches(const struct policy_rule *rule, const struct policy_subject *subject)
{
	if (!rule->group)
		return subject->user && !strcmp(rule->subject, subject->user);
	for (size_t i = 0; i < subject->ngroups; i++)
		if (subject->groups[i] && !strcmp(rule->subject, subject->groups[i]))
			return true;
	return false;
}

unsigned policy_quota(const struct policy *policy, const struct policy_subject *subject,
		      const char *bridge, const struct policy_rule **rule)
{
	unsigned best = 0;
	if (rule)
		*rule = NULL;
	for (size_t i = 0; i < policy->nrules; i++) {
		const struct policy_rule *r = &policy->rules[i];
		if (strcmp(r->bridge, bridge) || !rule_matches(r, subject) || r->quota <= best)
			continue;
		best = r->quota;
		if (rule)
			*rule = r;
	}
	return best;
}
