package provider

// TagsFor returns the tags every provider sets on an instance it starts for pool on behalf of
// controller. agent and token are omitted when empty (a batch-level tag set has no agent yet).
// The token is the launch's idempotency token, not a credential.
func TagsFor(pool, controller, agent, token string) map[string]string {
	tags := map[string]string{
		TagPool:       pool,
		TagController: controller,
	}
	if agent != "" {
		tags[TagAgent] = agent
	}
	if token != "" {
		tags[TagToken] = token
	}
	return tags
}

// IsOurs reports whether inst was started for pool by controller, judged by its tags only (never by
// its name), so that two controllers sharing an account never touch each other's instances.
func IsOurs(inst Instance, pool, controller string) bool {
	return inst.Tags[TagPool] == pool && inst.Tags[TagController] == controller
}
