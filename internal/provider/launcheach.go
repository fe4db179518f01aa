package provider

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// LaunchEach runs launch for every agent, at most limit at a time, for providers whose API starts
// one instance per call (ECS RunTask per agent, one ACI container group per agent). It returns the
// started instances, ordered by launch time then id, and a *PartialError naming every agent that
// did not start (an empty name is refused without a call). onFail, if set, is told of each failure
// (for the provider's log).
func LaunchEach(ctx context.Context, agents []AgentSpec, limit int, launch func(ctx context.Context, agent string) (Instance, error), onFail func(agent string, err error)) ([]Instance, error) {
	if limit < 1 {
		limit = 1
	}
	var (
		mu     sync.Mutex
		out    []Instance
		failed = map[string]error{}
		wg     sync.WaitGroup
		sem    = make(chan struct{}, limit)
	)
	for _, spec := range agents {
		if spec.Name == "" {
			mu.Lock()
			failed[""] = fmt.Errorf("%w: empty agent name", ErrInvalidRequest)
			mu.Unlock()
			continue
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			inst, err := launch(ctx, spec.Name)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed[spec.Name] = err
				if onFail != nil {
					onFail(spec.Name, err)
				}
				return
			}
			out = append(out, inst)
		})
	}
	wg.Wait()
	SortInstances(out)
	if len(failed) == 0 {
		return out, nil
	}
	return out, &PartialError{Failed: failed}
}

// SortInstances orders instances by launch time, then id, so results are stable.
func SortInstances(insts []Instance) {
	slices.SortFunc(insts, func(a, b Instance) int {
		if c := a.LaunchedAt.Compare(b.LaunchedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// TerminateEach runs terminate for every id, at most limit at a time, for providers whose API
// deletes one instance per call (ECS StopTask, one ACI container group or Kubernetes Pod per
// call), and returns the errors joined. terminate wraps its own errors with the provider's name.
func TerminateEach(ctx context.Context, ids []string, limit int, terminate func(ctx context.Context, id string) error) error {
	if limit < 1 {
		limit = 1
	}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, limit)
	)
	for _, id := range ids {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := terminate(ctx, id); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
