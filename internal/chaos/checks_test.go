package chaos

import (
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/checks"
	"github.com/adofleet/adofleet/internal/store"
)

// The checks path in the chaos world: the jobs of a checked pool wait for the pool's "Invoke REST
// API" check. The simulator calls the real checks handler (on the faulty store: a request may be
// recorded although the call failed, and ADO calls again), the leader's callbacker answers each
// check when an agent is free (claim in the faulty store, then post the TaskCompleted event through
// the faulty network: the post may fail, hang, or take effect with its answer lost).
//
// Invariants, after every cycle: no check gets two callbacks; every callback the simulator got is
// covered by a claim in the store with the same result (the claim comes first). At the end, with
// the faults off: no request is pending; every check got exactly one callback, or none with the
// loss on record (claimed, finished with Sent false); a check with neither is a broken invariant.

// Check timing: the callbacker gives up on a check before ADO's own timeout, so a job fails with
// adofleet's reason; a job whose check failed is queued again, as a pipeline retry.
const (
	callbackerTimeout = 35 * time.Minute
	checkTimeout      = 40 * time.Minute
	checkUser         = "chaos"
	checkPassword     = "chaos-check-secret"
)

// checkWatch is one check the test follows.
type checkWatch struct {
	wk      *work
	req     int64
	key     store.CallbackKey
	settled time.Time // when the simulator stopped waiting and the store stopped pending; zero before
}

// checkTally counts what the checks path did.
type checkTally struct {
	plans      map[string]*checkWatch // by check plan id
	order      []string
	open       []string // plans still followed every cycle
	delivered  int      // checks with exactly one callback
	answerLost int      // of those, the post's answer was lost (recorded as not sent)
	lostClaim  int      // no callback: the claim's acknowledgement was lost, so it was never posted
	lostPost   int      // no callback: the post failed
	callFailed int      // ADO gave up calling the check (nothing recorded)
	retried    int      // jobs queued again after their check failed
}

func (w *world) setUpChecks(d sharedDeps, logger *slog.Logger) {
	var names []string
	for _, p := range w.pools {
		if p.checked {
			names = append(names, p.name)
		}
	}
	h, err := checks.NewHandler(checks.Options{
		Auth: checks.Auth{Username: checkUser, Password: checkPassword}, Pool: checks.PoolSet(names...),
		Requests: checks.NewStoreRequests(d.st), Logger: logger,
	})
	if err != nil {
		w.t.Fatalf("checks handler: %v", err)
	}
	for _, name := range names {
		if err := w.org.SetPoolCheck(name, adosim.CheckSpec{
			URL: "http://adofleet.invalid/v1/checks/" + name, Username: checkUser, Password: checkPassword,
			Timeout: checkTimeout, PlanURL: orgURL + "/", Attempts: 10, RetryDelay: 10 * time.Second,
			HTTPClient: &http.Client{Transport: adosim.InProcess{Handler: h}},
		}); err != nil {
			w.t.Fatalf("check of pool %s: %v", name, err)
		}
	}
}

func (w *world) isChecked(pool string) bool {
	for _, p := range w.pools {
		if p.name == pool {
			return p.checked
		}
	}
	return false
}

// watchCheck follows the check of a job just queued in a checked pool.
func (w *world) watchCheck(wk *work) {
	if !w.isChecked(wk.pool) {
		return
	}
	info, _ := w.org.Job(wk.req)
	p, ok := w.org.Plan(info.CheckPlanID)
	if !ok {
		w.violate("job %d (request %d) in checked pool %s has no check plan", wk.n, wk.req, wk.pool)
		return
	}
	w.checks.plans[p.PlanID] = &checkWatch{wk: wk, req: wk.req,
		key: store.CallbackKey{PlanID: p.PlanID, JobID: p.JobID, TaskInstanceID: p.TaskInstanceID}}
	w.checks.order = append(w.checks.order, p.PlanID)
	w.checks.open = append(w.checks.open, p.PlanID)
}

// failedByCheck: ADO failed a checked job because its check failed or timed out.
func failedByCheck(info adosim.JobInfo) bool {
	return info.State == adosim.JobFinished && info.Result == "failed" && info.Starts == 0 &&
		strings.HasPrefix(info.StatusMessage, "check ")
}

// claim returns the result the store's claim of key holds; ok false if key is not claimed.
func (w *world) claim(key store.CallbackKey) (result string, ok bool) {
	err := w.db.QueryRowContext(w.ctx, `SELECT result FROM callbacks WHERE plan_id = ? AND job_id = ? AND task_instance_id = ?`,
		key.PlanID, key.JobID, key.TaskInstanceID).Scan(&result)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", false
	case err != nil:
		w.violate("read the claim of plan %s: %v", key.PlanID, err)
		return "", false
	}
	return result, true
}

// checkCallbacks checks the followed checks (every check when final): at most one callback
// each, and each callback covered by a claim of the same result.
func (w *world) checkCallbacks(final bool) {
	plans := w.checks.open
	if final {
		plans = w.checks.order
	}
	if len(plans) == 0 {
		return
	}
	pending := w.pendingChecks()
	kept := w.checks.open[:0]
	for _, id := range plans {
		c := w.checks.plans[id]
		p, _ := w.org.Plan(id)
		if p.TaskCompleted > 1 {
			w.violate("check of job %d (plan %s): %d callbacks delivered, want at most one", c.wk.n, id, p.TaskCompleted)
		}
		if p.TaskCompleted > 0 {
			got := firstCompletion(p)
			if claimed, ok := w.claim(c.key); !ok || !strings.EqualFold(claimed, got) {
				w.violate("check of job %d (plan %s): callback %q delivered, but the store's claim is %q (claimed %v)", c.wk.n, id, got, claimed, ok)
			}
		}
		if final {
			continue
		}
		info, _ := w.org.Job(c.req)
		if info.State != adosim.JobWaitingForChecks && !pending[c.key] && c.settled.IsZero() {
			c.settled = time.Now()
		}
		// A late double callback would come within a few rounds of the first: follow it a while.
		if c.settled.IsZero() || time.Since(c.settled) < 10*time.Minute {
			kept = append(kept, id)
		}
	}
	if !final {
		w.checks.open = kept
	}
}

func firstCompletion(p adosim.PlanInfo) string {
	for _, ev := range p.Events {
		if strings.EqualFold(ev.Name, "TaskCompleted") {
			return ev.Result
		}
	}
	return ""
}

// pendingChecks returns the keys of the check requests still pending in the store.
func (w *world) pendingChecks() map[store.CallbackKey]bool {
	rs, err := w.st.PendingCheckRequests(w.ctx, "")
	if err != nil {
		w.violate("list pending check requests: %v", err)
	}
	out := make(map[store.CallbackKey]bool, len(rs))
	for _, r := range rs {
		out[r.Key] = true
	}
	return out
}

// settleChecks runs once the pools agree, faults off: nothing pending, and every check answered
// exactly once or its loss on record. It returns what is wrong.
func (w *world) settleChecks() []string {
	w.checkCallbacks(true)
	var out []string
	for key := range w.pendingChecks() {
		out = append(out, fmt.Sprintf("check request of plan %s still pending after recovery", key.PlanID))
	}
	fs, err := w.st.FinishedCheckRequests(w.ctx, "")
	if err != nil {
		return append(out, fmt.Sprintf("list finished check requests: %v", err))
	}
	done := map[store.CallbackKey]store.CheckOutcome{}
	for _, f := range fs {
		done[f.Request.Key] = f.Outcome
	}
	t := &w.checks
	t.delivered, t.answerLost, t.lostClaim, t.lostPost, t.callFailed = 0, 0, 0, 0, 0
	for _, id := range t.order {
		c := t.plans[id]
		p, _ := w.org.Plan(id)
		o, finished := done[c.key]
		_, claimed := w.claim(c.key)
		info, _ := w.org.Job(c.req)
		switch {
		case p.TaskCompleted == 1:
			t.delivered++
			if finished && !o.Sent {
				t.answerLost++
			}
		case claimed && finished && !o.Sent && strings.Contains(o.Reason, "claimed before"):
			t.lostClaim++
		case claimed && finished && !o.Sent:
			t.lostPost++
		case !claimed && !finished && strings.Contains(info.StatusMessage, "call to the check URL failed"):
			t.callFailed++
		default:
			out = append(out, fmt.Sprintf("check of job %d (plan %s) has no callback and no loss on record: claimed %v, finished %v %+v, job %s %q",
				c.wk.n, id, claimed, finished, o, info.State, info.StatusMessage))
		}
	}
	return out
}

func (t *checkTally) String() string {
	return fmt.Sprintf("%d checks: %d answered once (%d of them with the answer to the post lost), %d lost after a lost claim acknowledgement, %d lost to a failed post, %d never recorded (ADO gave up calling), %d jobs retried after a failed check",
		len(t.order), t.delivered, t.answerLost, t.lostClaim, t.lostPost, t.callFailed, t.retried)
}
