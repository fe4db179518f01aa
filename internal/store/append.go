package store

import "context"

// AgentAppender is a Store that can list a pool's records into memory the caller reuses. The
// controller lists every pool's records every cycle and drops them at the cycle's end; a fresh
// slice each time was an eighth of what a fleet cycle allocated (docs/BENCHMARKS.md).
type AgentAppender interface {
	// AppendAgents appends pool's records in every state to dst, as ListAgents(ctx, pool) would
	// list them, and returns the extended slice. On error it returns dst unchanged.
	AppendAgents(ctx context.Context, dst []AgentRecord, pool string) ([]AgentRecord, error)
}

// AppendAgents appends pool's records in every state to dst: through st's own AppendAgents when it
// has one, else from ListAgents.
func AppendAgents(ctx context.Context, st Store, dst []AgentRecord, pool string) ([]AgentRecord, error) {
	if a, ok := st.(AgentAppender); ok {
		return a.AppendAgents(ctx, dst, pool)
	}
	recs, err := st.ListAgents(ctx, pool)
	if err != nil {
		return dst, err
	}
	return append(dst, recs...), nil
}
