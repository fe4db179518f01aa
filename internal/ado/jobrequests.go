package ado

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// The pool job-requests list, GET _apis/distributedtask/pools/{poolId}/jobrequests, is not in the
// published REST reference or specs. What is known comes from KEDA's azure-pipelines scaler
// (kedacore/keda pkg/scalers/azure_pipelines_scaler.go, GetAzurePipelinesQueueURL and
// stripDeadJobs) and its issues:
//   - $top changes the shape of the answer: with it, rows no longer carry matchedAgents
//     (KEDA issue #4387, the "HotFix" comment in the scaler), so the parent/placeholder-agent
//     matching needs the call without $top.
//   - completedRequestCount=0 asks for unfinished requests only and, unlike $top, keeps the shape
//     (KEDA's fetchUnfinishedJobsOnly).
//   - At most about 200 rows come back whatever $top says (kedacore/keda#6819).
//   - Finished requests carry a result; KEDA drops them client-side. A request with a
//     receiveTime (or an assignTime) has been picked up and is no longer waiting for an agent.
//   - adofleet sends completedRequestCount=0 and $top together (ListJobRequests). KEDA never
//     combines them (its jobsToFetch and fetchUnfinishedJobsOnly are exclusive), so that ADO
//     honours both at once is not verified. If it ignored completedRequestCount, finished rows
//     would only share the 200-row cap with the unfinished ones (newest first, so a long-queued
//     job is the one left out); if it ignored $top's shape change, matchedAgents are skipped.
//   - KEDA sends no api-version; neither do we, because the resource's released version is not
//     documented and ADO rejects a released version for a resource that is still in preview.
// Call it once per pool per cycle, never per agent: it is the most expensive call adofleet makes.

// MaxJobRequestRows is the row cap ADO applies to the job-requests list (see above): an answer
// this long may be cut short.
const MaxJobRequestRows = 200

func (c *Client) jobRequests(ctx context.Context, op, call string, poolID int, q url.Values) ([]JobRequest, error) {
	var out listOf[JobRequest]
	_, err := c.do(ctx, request{
		op: op, call: call, method: http.MethodGet, idempotent: true,
		url: c.orgURL(poolPath(poolID)+"/jobrequests", q),
	}, &out)
	if err != nil {
		return nil, err // never a half-decoded list
	}
	return out.Value, nil
}

// ListJobRequests returns the pool's unfinished job requests (queued, assigned and running), each
// with requestId, queueTime, assignTime, receiveTime, jobName, poolId, demands and reservedAgent
// (the rest of a row, planType, planId and jobId included, is not decoded, see leanJobRequest;
// ListFinishedJobRequests decodes whole rows). It asks
// with completedRequestCount=0 and $top=MaxJobRequestRows: $top drops matchedAgents from the rows,
// and the controller never reads them (it matches demands against the pool's own capabilities).
// Without $top every row lists every agent of the pool that satisfies its demands, which makes
// the answer grow as rows x agents: about 60 MB for 200 rows in a 1,000-agent pool, above the
// client's body cap, and the bulk of a reconcile's CPU well before that (docs/BENCHMARKS.md).
// Should ADO send matchedAgents anyway, they are skipped while decoding, never kept. Any row that
// has a result is dropped. When ADO's row cap is reached the controller sees only the first rows;
// it should treat a full answer as "at least this many".
func (c *Client) ListJobRequests(ctx context.Context, poolID int) ([]JobRequest, error) {
	return c.ListJobRequestsInto(ctx, nil, poolID)
}

// ListJobRequestsInto is ListJobRequests building the rows in b (nil: fresh memory). They are
// valid until the next call through b or its Reset.
func (c *Client) ListJobRequestsInto(ctx context.Context, b *ListBuffers, poolID int) ([]JobRequest, error) {
	out := listOf[leanJobRequest]{Value: jobBufs.get()}
	_, err := c.do(ctx, request{
		op: "ListJobRequests", call: fmt.Sprintf("list job requests in pool %d", poolID),
		method: http.MethodGet, idempotent: true,
		url: c.orgURL(poolPath(poolID)+"/jobrequests", url.Values{
			"completedRequestCount": {"0"},
			"$top":                  {strconv.Itoa(MaxJobRequestRows)},
		}),
	}, &out)
	defer jobBufs.put(out.Value)
	if err != nil {
		return nil, err // never a half-decoded list
	}
	return jobRequests(b, out.Value), nil
}

// ListFinishedJobRequests returns up to top finished job requests, newest first (for trace
// export). It asks with $top, so the rows have no matchedAgents; unfinished rows count against
// $top and are dropped here, and ADO returns at most about 200 rows whatever top is.
func (c *Client) ListFinishedJobRequests(ctx context.Context, poolID int, top int) ([]JobRequest, error) {
	call := fmt.Sprintf("list finished job requests in pool %d", poolID)
	if top <= 0 {
		return nil, fmt.Errorf("ado: %s: top must be positive, got %d", call, top)
	}
	rows, err := c.jobRequests(ctx, "ListFinishedJobRequests", call, poolID,
		url.Values{"$top": {strconv.Itoa(top)}})
	if err != nil {
		return nil, err
	}
	var out []JobRequest
	for _, r := range rows {
		if r.Finished() && len(out) < top {
			out = append(out, r)
		}
	}
	return out, nil
}
