package ado_test

import (
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/ado"
)

func TestCountUnfinished(t *testing.T) {
	done, at := "succeeded", time.Now()
	jobs := []ado.JobRequest{
		{RequestID: 1},                                      // queued
		{RequestID: 2, Result: &done},                       // finished: neither
		{RequestID: 3, AssignTime: &at},                     // assigned
		{RequestID: 4, ReservedAgent: &ado.AgentRef{ID: 9}}, // reserved
		{RequestID: 5},                                      // queued
	}
	if q, r := ado.CountUnfinished(jobs); q != 2 || r != 2 {
		t.Errorf("CountUnfinished = %d queued, %d running; want 2 and 2", q, r)
	}
	if q, r := ado.CountUnfinished(nil); q != 0 || r != 0 {
		t.Errorf("CountUnfinished(nil) = %d, %d; want 0, 0", q, r)
	}
}
