package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/adofleet/adofleet/internal/adosim"
	"github.com/adofleet/adofleet/internal/notify"
	"github.com/adofleet/adofleet/internal/notify/notifytest"
	"github.com/adofleet/adofleet/internal/store"
	"github.com/adofleet/adofleet/internal/testclock"
)

// The notification secrets of these tests, each recognisable.
const (
	lambdaSlackPath = "/services/T0LAMBDA/B0LAMBDA/lambda-SLACKPATH-5e8d1c"
	lambdaHookPath  = "/hooks/lambda-HOOKPATH-2b9f4a"
	lambdaSignKey   = "lambda-SIGNINGKEY-7a3c9e"
)

// lambdaNotifyConfig is a pool whose agents cannot start (the local provider's command does not
// exist), so each launch publishes agent.start_failed; {route} is the notify route.
const lambdaNotifyConfig = `organization:
  url: {sim}
  pat: env:ADOFLEET_TEST_PAT
controller: {id: lambda-notify}
{store}
web: {listen: "off"}
notify:
  routes:
{route}
providers:
  local:
    command: [{missing}]
    workDir: {agents}
pools:
  - name: build
    provider: local
    min: {min}
    max: 2
    registrationTimeout: 1m
`

const (
	slackRoute = `    - name: ops
      type: slack
      url: env:ADOFLEET_TEST_SLACK_URL`
	webhookRoute = `    - name: pager
      type: webhook
      url: env:ADOFLEET_TEST_HOOK_URL
      signingSecret: env:ADOFLEET_TEST_SIGNING_KEY`
	sqliteStore = "store:\n  sqlite:\n    path: {state}"
)

// receipt is one request a receiver got.
type receipt struct {
	path, event, delivery string
	body                  string
	status                int
	signed                bool // the X-Adofleet-Signature verified with lambdaSignKey
}

// receiver is the notification endpoint of these tests, a notifytest.Receiver; SetDefault takes
// it down (receiverDown: 503) and back up (receiverUp).
type receiver struct{ *notifytest.Receiver }

// The receiver's answers while it is down and once it is back up.
var (
	receiverDown = notifytest.Answer{Status: http.StatusServiceUnavailable}
	receiverUp   = notifytest.Answer{Status: http.StatusOK, Body: "ok"}
)

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	return &receiver{notifytest.NewReceiver(t)}
}

// receipts returns what the receiver got so far.
func (rv *receiver) receipts() []receipt {
	reqs := rv.Requests()
	out := make([]receipt, len(reqs))
	for i, r := range reqs {
		out[i] = receipt{
			path: r.Path, event: r.Header.Get(notify.HeaderEvent), delivery: r.Header.Get(notify.HeaderDelivery),
			body: string(r.Body), status: r.Status,
			signed: notify.Verify([]byte(lambdaSignKey), r.Header.Get(notify.HeaderTimestamp),
				r.Header.Get(notify.HeaderSignature), r.Body, time.Now(), time.Hour) == nil,
		}
	}
	return out
}

// notifyFixture is the simulator, a receiver and the environment the configs above read.
type notifyFixture struct {
	sim  *simHarness
	recv *receiver
	logs *syncBuffer
}

func newNotifyFixture(t *testing.T, faults adosim.FaultFunc) *notifyFixture {
	t.Helper()
	const pat = "lambda-notify-pat-0123456789abcdef"
	t.Setenv("ADOFLEET_TEST_PAT", pat)
	f := &notifyFixture{
		sim:  newSimHarness(t, "build", adosim.ServerOptions{PAT: pat, Faults: faults}),
		recv: newReceiver(t), logs: &syncBuffer{},
	}
	t.Setenv("ADOFLEET_TEST_SLACK_URL", f.recv.URL+lambdaSlackPath)
	t.Setenv("ADOFLEET_TEST_HOOK_URL", f.recv.URL+lambdaHookPath)
	t.Setenv("ADOFLEET_TEST_SIGNING_KEY", lambdaSignKey)
	return f
}

// config writes lambdaNotifyConfig with route, storeYAML and min agents.
func (f *notifyFixture) config(t *testing.T, route, storeYAML string, min int, extra ...string) string {
	t.Helper()
	yaml := strings.NewReplacer("{route}", route, "{store}", storeYAML, "{min}", fmt.Sprint(min)).Replace(lambdaNotifyConfig)
	return f.sim.writeConfig(t, yaml, append([]string{"{missing}", filepath.Join(f.sim.dir, "no-such-agent")}, extra...)...)
}

// handler is a Lambda function of kind over cfgPath; clock, if set, is its notifier's clock, which
// the test advances so that a minute passes between two scheduled invocations without waiting.
func (f *notifyFixture) handler(t *testing.T, kind, cfgPath string, clock *testclock.Manual) *lambdaHandler {
	t.Helper()
	h, err := newLambdaHandler(kind, lambdaConfigFromEnv(envMap{envLambdaConfig: cfgPath}.get), f.logs)
	if err != nil {
		t.Fatal(err)
	}
	if clock != nil {
		h.notifyTune = append(h.notifyTune, func(o *notify.Options) { o.Now = clock.Now })
	}
	return h
}

// checkNoSecret fails the test if a notification secret shows in the logs or in shown.
func (f *notifyFixture) checkNoSecret(t *testing.T, shown ...string) {
	t.Helper()
	for _, s := range []string{lambdaSlackPath, strings.TrimPrefix(lambdaSlackPath, "/services/"), lambdaHookPath, lambdaSignKey} {
		if strings.Contains(f.logs.String(), s) {
			t.Errorf("the logs show a notification secret (%d characters)", len(s))
		}
		for _, out := range shown {
			if strings.Contains(out, s) {
				t.Errorf("an invocation's output or error shows a notification secret (%d characters)", len(s))
			}
		}
	}
}

// outputOf is an invocation's output and error as the runtime would show them.
func outputOf(t *testing.T, out any, err error) string {
	t.Helper()
	b, merr := json.Marshal(out)
	if merr != nil {
		t.Fatal(merr)
	}
	return fmt.Sprintf("%s %v", b, err)
}

// eventsIn counts the receipts per event type, for a Slack body (which names the type in its
// context line) or a webhook request (its X-Adofleet-Event header).
func eventsIn(rs []receipt, types ...notify.EventType) map[notify.EventType]int {
	out := map[notify.EventType]int{}
	for _, r := range rs {
		for _, typ := range types {
			if r.event == string(typ) || strings.Contains(r.body, string(typ)) {
				out[typ]++
			}
		}
	}
	return out
}

// adofleetCall matches adofleet's calls to the simulator (not the agents').
func adofleetCall(r *http.Request) bool { return strings.HasPrefix(r.UserAgent(), "adofleet/") }

// TestLambdaReconcileDeliversItsEvents: a scheduled reconcile whose pool cannot start an agent,
// and whose first ADO call is throttled, has delivered both events to Slack when it returns.
func TestLambdaReconcileDeliversItsEvents(t *testing.T) {
	f := newNotifyFixture(t, adosim.FailFirst(1, *adosim.RateLimited(0), adofleetCall))
	h := f.handler(t, "", f.config(t, slackRoute, sqliteStore, 1), nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	out, err := h.Invoke(ctx, json.RawMessage(scheduledEvent))
	shown := outputOf(t, out, err)
	got := f.recv.receipts() // no waiting: the invocation delivered before it returned
	counts := eventsIn(got, notify.AgentStartFailed, notify.APIThrottled)
	if counts[notify.AgentStartFailed] == 0 || counts[notify.APIThrottled] != 1 {
		t.Fatalf("Slack got %d messages (%v), want agent.start_failed and one api.throttled; output %s\n%s", len(got), counts, shown, f.logs.String())
	}
	for _, r := range got {
		if r.path != lambdaSlackPath || !strings.Contains(r.body, `"blocks"`) {
			t.Errorf("Slack request on %q with %q, want the route's path and a Block Kit body", r.path, r.body)
		}
	}
	f.checkNoSecret(t, shown)
}

// TestLambdaNotificationRetriedByALaterInvocation: a receiver that fails leaves the message (an
// ADO call throttled, then retried: the pool's cycle succeeds) in the outbox and the invocation
// succeeds; the next scheduled invocation, a minute later, delivers it.
func TestLambdaNotificationRetriedByALaterInvocation(t *testing.T) {
	f := newNotifyFixture(t, adosim.FailFirst(1, *adosim.RateLimited(0), adofleetCall))
	clock := testclock.NewManual(time.Now())
	h := f.handler(t, handlerReconcile, f.config(t, webhookRoute, sqliteStore, 0), clock)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	f.recv.SetDefault(receiverDown)
	out, err := h.Invoke(ctx, json.RawMessage(scheduledEvent))
	if err != nil {
		t.Fatalf("invocation with the receiver down: %v, want success\n%s", err, f.logs.String())
	}
	shown := []string{outputOf(t, out, err)}
	failed := f.recv.receipts()
	if counts := eventsIn(failed, notify.APIThrottled); len(failed) != 1 || counts[notify.APIThrottled] != 1 {
		t.Fatalf("the receiver got %+v, want one attempt at api.throttled\n%s", failed, f.logs.String())
	}
	st := h.envs.env.base.store
	for _, r := range failed {
		m, err := st.GetMessage(ctx, r.delivery)
		if err != nil {
			t.Fatalf("outbox message %q: %v", r.delivery, err)
		}
		if m.State != store.OutboxPending || m.Attempts != 1 || m.LastError == "" {
			t.Errorf("message %s after a failed delivery: state %s, %d attempts, last error %q; want pending, 1, the error", m.ID, m.State, m.Attempts, m.LastError)
		}
		shown = append(shown, m.LastError)
	}

	f.recv.SetDefault(receiverUp)
	clock.Advance(time.Minute)
	out, err = h.Invoke(ctx, json.RawMessage(scheduledEvent))
	if err != nil {
		t.Fatalf("next invocation: %v\n%s", err, f.logs.String())
	}
	shown = append(shown, outputOf(t, out, err))
	delivered := map[string]bool{}
	for _, r := range f.recv.receipts()[len(failed):] {
		if r.status == http.StatusOK {
			delivered[r.delivery] = true
		}
		if !r.signed || r.path != lambdaHookPath {
			t.Errorf("webhook request on %q, signature valid %v; want the route's path, signed", r.path, r.signed)
		}
	}
	for _, r := range failed {
		m, err := st.GetMessage(ctx, r.delivery)
		if err != nil {
			t.Fatal(err)
		}
		if !delivered[r.delivery] || m.State != store.OutboxDelivered {
			t.Errorf("message %s (%s): delivered by the next invocation %v, state %s; want delivered", r.delivery, r.event, delivered[r.delivery], m.State)
		}
	}
	f.checkNoSecret(t, shown...)
}

// TestLambdaChecksEventsDeliveredByTheReconcile runs the checks and reconcile functions over one
// DynamoDB table (dynalite). A check the checks function recorded times out in the reconcile
// function, whose invocation delivers check.callback_failed; with the receiver down the message
// waits in the shared outbox, a checks invocation (which answers ADO without delivering) leaves
// it there, and the next reconcile delivers it.
func TestLambdaChecksEventsDeliveredByTheReconcile(t *testing.T) {
	emu := startDynalite(t)
	awsTestEnv(t)
	const password = "lambda-notify-checks-password-17"
	f := newNotifyFixture(t, nil)
	t.Setenv("ADOFLEET_TEST_CHECKS_PASSWORD", password)
	const shared = `aws: {region: eu-west-1}
store:
  dynamodb:
    table: adofleet-lambda-notify
    endpoint: {dynamo}
    createTable: true
checks:
  enabled: true
  username: adofleet
  password: env:ADOFLEET_TEST_CHECKS_PASSWORD
  timeout: 1ms`
	cfg := f.config(t, webhookRoute, shared, 0, "{dynamo}", emu.Endpoint)
	clock := testclock.NewManual(time.Now())
	checksFn := f.handler(t, handlerChecks, cfg, clock)
	reconcileFn := f.handler(t, handlerReconcile, cfg, clock)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var shown []string
	reconcile := func() {
		t.Helper()
		out, err := reconcileFn.Invoke(ctx, json.RawMessage(scheduledEvent))
		shown = append(shown, outputOf(t, out, err)) // the pool's launches fail: an error is expected
	}
	check := func() adosim.PlanSpec {
		t.Helper()
		p := f.sim.org.AddPlan(adosim.PlanSpec{HubName: "checks"})
		headers := map[string]string{
			"authorization": "Basic " + basicToken("adofleet", password), "content-type": "application/json",
			"planurl": f.sim.sim.URL + "/", "projectid": p.ProjectID, "hubname": p.HubName, "planid": p.PlanID,
			"jobid": p.JobID, "timelineid": p.TimelineID, "taskinstanceid": p.TaskInstanceID, "authtoken": p.Token,
		}
		resp := invokeV2(t, ctx, checksFn, apiEvent(t, httpAPIEvent, headers, "e30=")) // "{}"
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("checks call: %d %s, want 200\n%s", resp.StatusCode, resp.Body, f.logs.String())
		}
		shown = append(shown, resp.Body)
		return p
	}

	reconcile() // the placeholder agent
	plan := check()
	if got := f.recv.receipts(); len(got) != 0 {
		t.Fatalf("the receiver got %d requests before the check was acted on, want none", len(got))
	}
	f.recv.SetDefault(receiverDown)
	reconcile() // the check's agent cannot start, and its timeout has passed: it is failed
	failed := f.recv.receipts()
	if counts := eventsIn(failed, notify.CheckCallbackFailed); counts[notify.CheckCallbackFailed] != 1 {
		t.Fatalf("the reconcile function tried to deliver %v, want one check.callback_failed\n%s", counts, f.logs.String())
	}
	if info, _ := f.sim.org.Plan(plan.PlanID); !failedCheck(info.Events) {
		t.Errorf("plan %s got %+v, want the check failed (TaskCompleted failed)", plan.PlanID, info.Events)
	}
	for _, r := range failed {
		if r.event == string(notify.CheckCallbackFailed) && !strings.Contains(r.body, plan.PlanID) {
			t.Errorf("check.callback_failed body %s, want it to name plan %s", r.body, plan.PlanID)
		}
	}

	f.recv.SetDefault(receiverUp)
	clock.Advance(time.Minute)
	check() // another check: the checks function answers without delivering
	if got := f.recv.receipts(); len(got) != len(failed) {
		t.Errorf("the checks function sent %d notifications, want none (the reconcile function delivers)", len(got)-len(failed))
	}
	reconcile()
	delivered := map[string]bool{}
	for _, r := range f.recv.receipts()[len(failed):] {
		delivered[r.delivery] = r.status == http.StatusOK && r.signed
	}
	for _, r := range failed {
		if !delivered[r.delivery] {
			t.Errorf("message %s (%s) was not delivered by the next reconcile", r.delivery, r.event)
		}
	}
	f.checkNoSecret(t, shown...)
}

// failedCheck reports whether a plan's events include the check's failure.
func failedCheck(events []adosim.PlanEvent) bool {
	for _, e := range events {
		if e.Name == "TaskCompleted" && e.Result == "failed" {
			return true
		}
	}
	return false
}

// TestLambdaDeliveryContext: a round ends lambdaReturnReserve before the invocation's deadline,
// at most lambdaMaxDelivery after it starts, and does not start with less than lambdaMinDelivery.
func TestLambdaDeliveryContext(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		deadline time.Duration // from now; 0: none
		want     time.Duration // the round's end from now; 0: no round
	}{
		{"no deadline", 0, lambdaMaxDelivery},
		{"a long invocation", 10 * time.Minute, lambdaMaxDelivery},
		{"ten seconds left", 10 * time.Second, 10*time.Second - lambdaReturnReserve},
		{"just enough", lambdaReturnReserve + lambdaMinDelivery, lambdaMinDelivery},
		{"too little", lambdaReturnReserve + lambdaMinDelivery/2, 0},
		{"past the deadline", -time.Second, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			if tc.deadline != 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithDeadline(ctx, now.Add(tc.deadline))
				defer cancel()
			}
			dctx, cancel, ok := deliveryContext(ctx, now)
			if got, want := ok, tc.want != 0; got != want {
				t.Fatalf("ok = %v, want %v", got, want)
			}
			if !ok {
				return
			}
			defer cancel()
			if got, _ := dctx.Deadline(); !got.Equal(now.Add(tc.want)) {
				t.Errorf("round ends %v after now, want %v", got.Sub(now), tc.want)
			}
		})
	}
}
