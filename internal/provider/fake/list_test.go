package fake_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/provider"
)

// TestListByPool: List answers from the per-pool index, in launch order, with the pool's
// instances only, each a copy whose tags the caller may change.
func TestListByPool(t *testing.T) {
	t.Parallel()
	f := newFake()
	ctx := context.Background()
	want := map[string][]provider.Instance{}
	for i, pool := range []string{"a", "b", "a", "c", "a", "b"} {
		insts, err := f.Launch(ctx, request("tok"+string(rune('0'+i)), pool, "agent"+string(rune('0'+i))))
		if err != nil {
			t.Fatalf("Launch in %s: %v", pool, err)
		}
		want[pool] = append(want[pool], insts...)
	}
	if err := f.MarkLost(want["a"][1].ID); err != nil {
		t.Fatalf("MarkLost: %v", err)
	}
	want["a"] = append(want["a"][:1], want["a"][2:]...)
	for _, pool := range []string{"a", "b", "c", "none"} {
		got, err := f.List(ctx, pool)
		if err != nil {
			t.Fatalf("List(%s): %v", pool, err)
		}
		if diff := cmp.Diff(want[pool], got); diff != "" {
			t.Errorf("List(%s) (-want +got):\n%s", pool, diff)
		}
	}
	listed, _ := f.List(ctx, "b")
	listed[0].Tags[provider.TagPool] = "changed"
	again, _ := f.List(ctx, "b")
	if got, want := again[0].Tags[provider.TagPool], "b"; got != want {
		t.Errorf("after a caller changed a listed tag: got pool tag %q, want %q", got, want)
	}
	// The duplicate check is per pool too: the same agent name may run in another pool.
	if _, err := f.Launch(ctx, request("tok-dup", "c", "agent0")); err != nil {
		t.Errorf("Launch of a name running in another pool: %v", err)
	}
	if _, err := f.Launch(ctx, request("tok-dup2", "a", "agent0")); err == nil {
		t.Error("Launch of a name already running in the pool: got no error")
	}
}
