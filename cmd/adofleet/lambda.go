package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/spf13/cobra"

	"github.com/adofleet/adofleet/internal/config"
	"github.com/adofleet/adofleet/internal/controller"
	"github.com/adofleet/adofleet/internal/housekeep"
	"github.com/adofleet/adofleet/internal/notify"
	"github.com/adofleet/adofleet/internal/provider"
)

// Environment variables `adofleet lambda` reads.
const (
	// envLambdaHandler picks the handler: reconcile, checks or sqs; unset: by the event's shape.
	envLambdaHandler = "ADOFLEET_LAMBDA_HANDLER"
	// envLambdaConfig is the config file's path (default /var/task/adofleet.yaml, next to the
	// binary in the deployment package or image).
	envLambdaConfig = "ADOFLEET_CONFIG"
	// envLambdaConfigYAML holds the whole config inline; it wins over envLambdaConfig. Secrets
	// stay references (ssm:/..., env:...), never values.
	envLambdaConfigYAML = "ADOFLEET_CONFIG_YAML"
	defaultLambdaConfig = "/var/task/adofleet.yaml"
)

// The handlers `adofleet lambda` serves.
const (
	handlerReconcile = "reconcile"
	handlerChecks    = "checks"
	handlerSQS       = "sqs"
)

func newLambdaCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "lambda",
		Short: "Run as an AWS Lambda function (scheduled reconcile, checks webhook, SQS events)",
		Long: `lambda is the entry point of adofleet's Lambda functions. The handler is chosen by
` + envLambdaHandler + `=reconcile|checks|sqs, or, when unset, by the event's shape: an EventBridge
scheduled event reconciles every pool (and answers the waiting checks), an API Gateway request
(REST or HTTP API) or a function URL request is the checks webhook, an SQS batch carries
lifecycle events. With notify routes in the config, every invocation but a checks one delivers
the notifications due before it returns; what it cannot send waits in the store for a later
invocation.

The config is read from $` + envLambdaConfigYAML + ` (inline YAML) or the file $` + envLambdaConfig + `
(default ` + defaultLambdaConfig + `); it is loaded and its secrets resolved once per execution
environment. Outside Lambda (no AWS_LAMBDA_RUNTIME_API) the command refuses to start.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if os.Getenv("AWS_LAMBDA_RUNTIME_API") == "" {
				return exitCodeError{code: 2, err: errors.New("lambda: AWS_LAMBDA_RUNTIME_API is not set: this command runs inside AWS Lambda (use serve elsewhere)")}
			}
			h, err := newLambdaHandler(os.Getenv(envLambdaHandler), lambdaConfigFromEnv(os.Getenv), cmd.ErrOrStderr())
			if err != nil {
				return exitCodeError{code: 2, err: err}
			}
			lambda.StartWithOptions(h.Invoke, lambda.WithContext(cmd.Context()))
			return nil // not reached: the runtime loop exits the process
		},
	}
}

// lambdaConfigFromEnv returns the config loader the environment asks for.
func lambdaConfigFromEnv(getenv func(string) string) func() (*config.Config, error) {
	if inline := getenv(envLambdaConfigYAML); inline != "" {
		return func() (*config.Config, error) {
			if err := registerSecretSchemes(); err != nil {
				return nil, err
			}
			return config.Parse(envLambdaConfigYAML, []byte(inline))
		}
	}
	path := getenv(envLambdaConfig)
	if path == "" {
		path = defaultLambdaConfig
	}
	return func() (*config.Config, error) { return loadConfig(path) }
}

// lambdaHandler serves one function's invocations. The controller is built on the first
// invocation that needs it and kept for the life of the execution environment; a failed build is
// retried by the next invocation.
type lambdaHandler struct {
	kind       string // "" = by event shape
	loadConfig func() (*config.Config, error)
	logOut     io.Writer

	mu   sync.Mutex
	ctrl *controller.Controller
	chkw *checksWiring // the callbacker the reconcile handler runs a round of; nil if checks are off
	log  *slog.Logger

	envs lambdaEnvCache // what every handler shares (lambda_env.go)
	vm   lambdaVM       // the sqs handler's part and the scheduled VM reconcile (vmresources_lambda.go)
	chk  lambdaChecks   // the checks handler's part (checks_lambda.go)
	// vmConfigured: vmResources is set, so the scheduled function reconciles VM resources too.
	vmConfigured bool
	// housekeeping prunes a sqlite or postgres store (nil with DynamoDB's TTL) once per
	// store.housekeeping.interval, checked on each scheduled reconcile of this environment.
	housekeeping     *housekeep.Housekeeper
	housekeepingLast time.Time
	housekeepingGap  time.Duration
	// notifyTune adjusts the Notifier's options (tests: its clock); nil in production.
	notifyTune []func(*notify.Options)
}

func newLambdaHandler(kind string, load func() (*config.Config, error), logOut io.Writer) (*lambdaHandler, error) {
	kind = strings.ToLower(strings.TrimSpace(kind))
	switch kind {
	case "", handlerReconcile, handlerChecks, handlerSQS:
	default:
		return nil, fmt.Errorf("%s=%q: want reconcile, checks or sqs (or unset to choose by event)", envLambdaHandler, kind)
	}
	return &lambdaHandler{kind: kind, loadConfig: load, logOut: logOut}, nil
}

// Invoke dispatches one raw event to its handler. Before it returns, whatever the outcome, the
// events the invocation published are delivered (lambda_notify.go): the execution environment is
// frozen once it returns, so nothing may be left running.
func (h *lambdaHandler) Invoke(ctx context.Context, payload json.RawMessage) (any, error) {
	kind := h.kind
	if kind == "" {
		var err error
		if kind, err = eventKind(payload); err != nil {
			return nil, err
		}
	}
	defer h.deliverNotifications(ctx, kind)
	switch kind {
	case handlerReconcile:
		var ev events.EventBridgeEvent
		// Scheduler may send any constant input (often {}); only its shape, not its content, matters.
		_ = json.Unmarshal(payload, &ev)
		return h.Reconcile(ctx, ev)
	case handlerChecks:
		return h.Checks(ctx, payload)
	default:
		var ev events.SQSEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("lambda sqs handler: the event is not an SQS batch: %w", err)
		}
		return h.SQS(ctx, ev)
	}
}

// eventKind tells the handler from the event's shape.
func eventKind(payload json.RawMessage) (string, error) {
	var probe struct {
		DetailType     string            `json:"detail-type"`
		Records        []json.RawMessage `json:"Records"`
		RequestContext json.RawMessage   `json:"requestContext"`
	}
	if err := json.Unmarshal(payload, &probe); err != nil {
		return "", fmt.Errorf("lambda: the event is not a JSON object: %w", err)
	}
	switch {
	case probe.DetailType != "":
		return handlerReconcile, nil
	case len(probe.RequestContext) > 0:
		return handlerChecks, nil
	case probe.Records != nil:
		return handlerSQS, nil
	}
	return "", fmt.Errorf("lambda: cannot tell the handler from the event (no detail-type, Records or requestContext); set %s", envLambdaHandler)
}

// ReconcileOutput is what the reconcile handler returns (visible in the Lambda console and logs).
type ReconcileOutput struct {
	Pools []PoolReconcile `json:"pools"`
	// Checks is the callbacker round's error, if it failed (it is retried next run).
	Checks string `json:"checks,omitempty"`
	// VMResources is the VM resource reconcile's report, when it ran (vmResources is set and its
	// reconcileInterval has passed).
	VMResources string `json:"vmResources,omitempty"`
}

// PoolReconcile summarises one pool's cycle.
type PoolReconcile struct {
	Pool       string `json:"pool"`
	Queued     int    `json:"queued"`
	Running    int    `json:"running"`
	Launched   int    `json:"launched"`
	Drained    int    `json:"drained"`
	Terminated int    `json:"terminated"`
	Error      string `json:"error,omitempty"`
}

// Reconcile runs one reconcile cycle for every pool, concurrently as serve does, then, with checks
// enabled, one callbacker round: the pending check requests (recorded by the checks function in the shared store) count
// as demand in the cycle, and the round calls back those whose agent is online, or fails those
// that waited too long. A pool's failure does not stop the others; the returned error joins them,
// so the invocation counts as failed in Lambda's metrics.
func (h *lambdaHandler) Reconcile(ctx context.Context, ev events.EventBridgeEvent) (ReconcileOutput, error) {
	ctrl, log, err := h.controller(ctx)
	if err != nil {
		return ReconcileOutput{}, err
	}
	h.mu.Lock()
	chk := h.chkw
	h.mu.Unlock()
	log.Debug("scheduled reconcile", "event", ev.ID, "time", ev.Time)
	if err := ctrl.EnsurePlaceholders(ctx); err != nil {
		log.Warn("register placeholder agents (will retry next invocation)", "err", err)
	}
	var out ReconcileOutput
	var errs []error
	names := ctrl.Pools()
	for i, o := range ctrl.ReconcileAll(ctx) { // in config order, up to maxConcurrentCycles at once
		name, res := names[i], o.Result
		pr := PoolReconcile{
			Pool: name, Queued: res.Counts.QueuedJobs, Running: res.Counts.RunningJobs,
			Launched: res.Launched, Drained: res.Drained, Terminated: res.Terminated,
		}
		if o.Err != nil {
			pr.Error = o.Err.Error()
			errs = append(errs, fmt.Errorf("pool %s: %w", name, o.Err))
		}
		out.Pools = append(out.Pools, pr)
	}
	if chk != nil {
		if err := chk.round(ctx); err != nil {
			out.Checks = err.Error()
			errs = append(errs, fmt.Errorf("check callbacks: %w", err))
		}
	}
	h.houseKeep(ctx, time.Now())
	if h.vmConfigured {
		rep, ran, err := h.reconcileVM(ctx, time.Now())
		if ran {
			out.VMResources = rep.String()
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("vm resources: %w", err))
		}
	}
	return out, errors.Join(errs...)
}

// controller builds the controller once, as runServe does, minus the dashboard and the loops.
func (h *lambdaHandler) controller(ctx context.Context) (*controller.Controller, *slog.Logger, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ctrl != nil {
		return h.ctrl, h.log, nil
	}
	e, err := h.env(ctx, true, nil)
	if err != nil {
		return nil, nil, err
	}
	cfg, log, reg, b := e.cfg, e.log, e.reg, e.base
	providers, err := buildProviders(cfg, b.ac, b.secrets, reg, log, provider.WithThrottleHook(e.events.providerThrottled))
	if err != nil {
		return nil, nil, fmt.Errorf("lambda: %w", err)
	}
	// The pending check requests are demand and the callbacker answers them here; the checks
	// function only records them. The controller, the callbacker and the providers' throttle
	// hook publish to e.events, as in serve.
	chk, err := openChecks(ctx, cfg, b.secrets, b.client, b.store, e.events, reg, log)
	if err != nil {
		return nil, nil, fmt.Errorf("lambda: %w", err)
	}
	copts := newControllerOptions(cfg, b, providers, e.events, reg, log)
	chk.controllerOptions(&copts)
	ctrl, err := controller.New(copts)
	if err != nil {
		return nil, nil, fmt.Errorf("lambda: controller: %w", err)
	}
	hk, err := newHousekeeper(cfg, b.store, reg, log) // store.go
	if err != nil {
		return nil, nil, fmt.Errorf("lambda: store.housekeeping: %w", err)
	}
	h.ctrl, h.chkw, h.log = ctrl, chk, log.With("component", "lambda")
	h.vmConfigured = cfg.VMResources != nil
	h.housekeeping, h.housekeepingGap = hk, cfg.Store.Housekeeping.Interval.D()
	return h.ctrl, h.log, nil
}

// houseKeep runs a housekeeping pass when store.housekeeping.interval has passed since this
// environment's last (its first reconcile runs one). Several environments may each run one: the
// deletions are idempotent. A failure is logged and retried next time; it does not fail the
// invocation, whose reconcile did its work.
func (h *lambdaHandler) houseKeep(ctx context.Context, now time.Time) {
	h.mu.Lock()
	hk, due := h.housekeeping, h.housekeepingLast.IsZero() || now.Sub(h.housekeepingLast) >= h.housekeepingGap
	if hk != nil && due {
		h.housekeepingLast = now
	}
	h.mu.Unlock()
	if hk == nil || !due {
		return
	}
	if err := hk.Pass(ctx); err != nil {
		h.log.Warn("store housekeeping failed; the next due reconcile tries again", "err", err)
	}
}
