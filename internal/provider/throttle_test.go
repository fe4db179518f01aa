package provider_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/provider/fake"
)

func TestThrottleCode(t *testing.T) {
	t.Parallel()
	throttled := &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}
	tests := []struct {
		name     string
		err      error
		wantCode string
		wantOK   bool
	}{
		{"nil", nil, "", false},
		{"plain error", errors.New("boom"), "", false},
		{"other API error", &smithy.GenericAPIError{Code: "InvalidParameterException"}, "", false},
		{"json protocol", throttled, "ThrottlingException", true},
		{"query protocol, wrapped", fmt.Errorf("describe: %w", &smithy.GenericAPIError{Code: "Throttling"}), "Throttling", true},
		{"ec2", fmt.Errorf("run instances: %w", &smithy.GenericAPIError{Code: "RequestLimitExceeded"}), "RequestLimitExceeded", true},
		{"one agent of a partial launch", &provider.PartialError{Failed: map[string]error{
			"a": provider.ErrInsufficientCapacity, "b": fmt.Errorf("run task: %w", throttled)}}, "ThrottlingException", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, ok := provider.ThrottleCode(tt.err)
			if code != tt.wantCode || ok != tt.wantOK {
				t.Errorf("ThrottleCode = %q, %v; want %q, %v", code, ok, tt.wantCode, tt.wantOK)
			}
		})
	}
}

// TestInstrumentReportsThrottling: a call that failed on throttling reaches the hook with the
// provider, operation and code; other failures and successes do not.
func TestInstrumentReportsThrottling(t *testing.T) {
	t.Parallel()
	type report struct{ Provider, Op, Code string }
	var got []report
	f := fake.New()
	p := provider.Instrument("ecs", f, nil, provider.WithThrottleHook(func(prov, op, code string) {
		got = append(got, report{prov, op, code})
	}))
	ctx := context.Background()
	f.FailList(1, fmt.Errorf("list tasks: %w", &smithy.GenericAPIError{Code: "ThrottlingException"}))
	_, _ = p.List(ctx, "pool")
	f.FailTerminate(1, errors.New("boom"))
	_ = p.Terminate(ctx, []string{"x"})
	_, _ = p.List(ctx, "pool")
	f.FailLaunch(1, &smithy.GenericAPIError{Code: "RequestLimitExceeded"})
	_, _ = p.Launch(ctx, launchReq("t", "pool", "a"))

	want := []report{{"ecs", provider.OpList, "ThrottlingException"}, {"ecs", provider.OpLaunch, "RequestLimitExceeded"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("throttle reports (-want +got):\n%s", diff)
	}
}
