package adosim

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"strings"
	"time"
)

// AgentOptions configure a simulated agent.
type AgentOptions struct {
	URL   string // organization URL, e.g. http://127.0.0.1:8081/sim
	Token string // PAT
	Pool  string
	Name  string
	// Once: run one job and exit (the agent's --once).
	Once bool
	// Capabilities are reported as system capabilities, as a real agent reports its environment.
	Capabilities map[string]string
	// PollTimeout bounds one long poll for messages (the server holds it for its own timeout); a
	// poll cut short is just polled again. Default 60s.
	PollTimeout time.Duration
	// RenewInterval is how often the lock of a running job is renewed. Default 30s.
	RenewInterval time.Duration
	Logger        *slog.Logger
	HTTPClient    *http.Client
}

// Defaults for AgentOptions.
const (
	DefaultAgentPollTimeout   = 60 * time.Second
	DefaultAgentRenewInterval = 30 * time.Second
	agentCallTimeout          = 30 * time.Second
	agentMaxFailures          = 10
)

// AgentOptionsFromEnv reads the variables the agent container images read: AZP_URL, AZP_TOKEN,
// AZP_POOL (default "Default"), AZP_AGENT_NAME (default the host name), AZP_ONCE ("true" or
// "false", default false) and ADOFLEET_CAPABILITIES (a JSON object of strings).
func AgentOptionsFromEnv(getenv func(string) string) (AgentOptions, error) {
	o := AgentOptions{URL: getenv("AZP_URL"), Token: getenv("AZP_TOKEN"), Pool: getenv("AZP_POOL"), Name: getenv("AZP_AGENT_NAME")}
	if o.URL == "" {
		return o, errors.New("agent-sim: AZP_URL is not set")
	}
	if o.Token == "" {
		return o, errors.New("agent-sim: AZP_TOKEN is not set")
	}
	if o.Pool == "" {
		o.Pool = "Default"
	}
	if o.Name == "" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			return o, errors.New("agent-sim: AZP_AGENT_NAME is not set and the host name is unknown")
		}
		o.Name = host
	}
	switch v := strings.ToLower(strings.TrimSpace(getenv("AZP_ONCE"))); v {
	case "", "false":
	case "true":
		o.Once = true
	default:
		return o, fmt.Errorf("agent-sim: AZP_ONCE=%q: want \"true\" or \"false\"", v)
	}
	if v := strings.TrimSpace(getenv("ADOFLEET_CAPABILITIES")); v != "" {
		if err := json.Unmarshal([]byte(v), &o.Capabilities); err != nil {
			return o, fmt.Errorf("agent-sim: ADOFLEET_CAPABILITIES is not a JSON object of strings: %w", err)
		}
	}
	return o, nil
}

// RunAgent runs a simulated agent: it registers (replacing an agent of the same name), opens a
// session (online), long-polls for a job, works on it for its simulated duration while renewing
// the lock, and finishes it "succeeded". With Once it closes its session before finishing the job
// and returns nil; otherwise it polls again until ctx ends. When ctx ends mid-job the job is
// finished "canceled" and the session closed, as the real agent does when stopped; RunAgent then
// returns ctx.Err().
func RunAgent(ctx context.Context, o AgentOptions) error {
	if o.URL == "" || o.Token == "" || o.Pool == "" || o.Name == "" {
		return errors.New("agent-sim: URL, Token, Pool and Name are required")
	}
	if o.PollTimeout <= 0 {
		o.PollTimeout = DefaultAgentPollTimeout
	}
	if o.RenewInterval <= 0 {
		o.RenewInterval = DefaultAgentRenewInterval
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	a := &simAgent{opts: o, log: o.Logger, c: NewAgentClient(o.URL, o.Token, o.HTTPClient, RealClock{})}
	return a.run(ctx)
}

type simAgent struct {
	opts      AgentOptions
	log       *slog.Logger
	c         *AgentClient
	poolID    int
	agentID   int
	sessionID string
}

func (a *simAgent) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, agentCallTimeout)
}

func (a *simAgent) run(ctx context.Context) error {
	if err := a.register(ctx); err != nil {
		return err
	}
	if err := a.openSession(ctx); err != nil {
		return err
	}
	defer a.closeSession()
	var last int64
	failures := 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		pctx, cancel := context.WithTimeout(ctx, a.opts.PollTimeout)
		msg, err := a.c.GetMessage(pctx, a.poolID, a.sessionID, last)
		cancel()
		switch {
		case err != nil && ctx.Err() != nil:
			return ctx.Err()
		case err != nil && errors.Is(pctx.Err(), context.DeadlineExceeded):
			continue // our poll ran out before the server's: poll again
		case err != nil && isTypeKey(err, "TaskAgentSessionExpiredException"):
			a.log.Warn("session expired; opening a new one")
			a.sessionID = ""
			if err := a.openSession(ctx); err != nil {
				return err
			}
			continue
		case err != nil:
			failures++
			a.log.Warn("poll failed", "err", err, "failures", failures)
			if failures >= agentMaxFailures {
				return fmt.Errorf("agent-sim: giving up after %d failed polls: %w", failures, err)
			}
			if err := sleepCtx(ctx, time.Duration(failures)*time.Second); err != nil {
				return err
			}
			continue
		}
		failures = 0
		if msg == nil {
			continue
		}
		last = msg.ID
		dctx, cancel := a.call(ctx)
		if err := a.c.DeleteMessage(dctx, a.poolID, a.sessionID, msg.ID); err != nil {
			a.log.Warn("acknowledge message failed", "message", msg.ID, "err", err)
		}
		cancel()
		if msg.Type != JobMessageType {
			continue
		}
		jm, err := msg.Job()
		if err != nil {
			return fmt.Errorf("agent-sim: decode job message %d: %w", msg.ID, err)
		}
		if err := a.runJob(ctx, jm); err != nil {
			return err
		}
		if a.opts.Once {
			return nil
		}
	}
}

func (a *simAgent) register(ctx context.Context) error {
	cctx, cancel := a.call(ctx)
	defer cancel()
	poolID, err := a.c.FindPool(cctx, a.opts.Pool)
	if err != nil {
		return fmt.Errorf("agent-sim: %w", err)
	}
	a.poolID = poolID
	agentID, err := a.c.Register(cctx, poolID, AgentRegistration{
		Name: a.opts.Name, OSDescription: runtime.GOOS + " (simulated)", ProvisioningState: "Provisioned",
		Capabilities: a.capabilities(), publicKey: newPublicKey(),
	})
	if err != nil {
		return fmt.Errorf("agent-sim: register %q in pool %q: %w", a.opts.Name, a.opts.Pool, err)
	}
	a.agentID = agentID
	a.log.Info("agent registered", "pool", a.opts.Pool, "agentId", agentID)
	return nil
}

func (a *simAgent) capabilities() map[string]string {
	osName := map[string]string{"linux": "Linux", "darwin": "Darwin", "windows": "Windows_NT"}[runtime.GOOS]
	if osName == "" {
		osName = runtime.GOOS
	}
	arch := map[string]string{"amd64": "X64", "arm64": "ARM64", "386": "X86"}[runtime.GOARCH]
	caps := map[string]string{
		"Agent.Name": a.opts.Name, "Agent.Version": SimAgentVersion, "Agent.OS": osName, "Agent.OSArchitecture": arch,
	}
	for k, v := range a.opts.Capabilities {
		caps[k] = v
	}
	return caps
}

// openSession creates the session; a conflict (the agent's previous session is still alive on the
// server) is retried, as the real agent does.
func (a *simAgent) openSession(ctx context.Context) error {
	for attempt := 1; ; attempt++ {
		cctx, cancel := a.call(ctx)
		id, err := a.c.CreateSession(cctx, a.poolID, a.agentID, a.opts.Name)
		cancel()
		if err == nil {
			a.sessionID = id
			a.log.Info("agent online", "session", id)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !isTypeKey(err, "TaskAgentSessionConflictException") && attempt >= agentMaxFailures {
			return fmt.Errorf("agent-sim: create session: %w", err)
		}
		a.log.Warn("create session failed; retrying", "err", err, "attempt", attempt)
		if err := sleepCtx(ctx, time.Second); err != nil {
			return err
		}
	}
}

// closeSession deletes the session (the agent goes offline), even after ctx ended.
func (a *simAgent) closeSession() {
	if a.sessionID == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.c.DeleteSession(ctx, a.poolID, a.sessionID); err != nil {
		a.log.Warn("delete session failed", "err", err)
	} else {
		a.log.Info("agent offline")
	}
	a.sessionID = ""
}

// runJob works on the job for its duration, renewing the lock, then finishes it.
func (a *simAgent) runJob(ctx context.Context, jm JobMessage) error {
	log := a.log.With("request", jm.RequestID)
	d := time.Duration(jm.SimulatedDurationMs) * time.Millisecond
	log.Info("job started", "duration", d)
	done := time.NewTimer(d)
	defer done.Stop()
	renew := time.NewTicker(a.opts.RenewInterval)
	defer renew.Stop()
	result := "succeeded"
work:
	for {
		select {
		case <-done.C:
			break work
		case <-ctx.Done():
			result = "canceled"
			break work
		case <-renew.C:
			cctx, cancel := a.call(ctx)
			if err := a.c.UpdateRequest(cctx, a.poolID, jm, ""); err != nil {
				log.Warn("renew lock failed", "err", err)
			}
			cancel()
		}
	}
	if a.opts.Once {
		a.closeSession() // offline before finishing: a --once agent is never handed a second job
	}
	fctx, cancel := context.WithTimeout(context.Background(), agentCallTimeout)
	defer cancel()
	if err := a.c.UpdateRequest(fctx, a.poolID, jm, result); err != nil {
		return fmt.Errorf("agent-sim: finish job request %d: %w", jm.RequestID, err)
	}
	log.Info("job finished", "result", result)
	if result == "canceled" {
		return ctx.Err()
	}
	return nil
}

func isTypeKey(err error, key string) bool {
	var e *Error
	return errors.As(err, &e) && e.TypeKey == key
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// newPublicKey makes up an RSA-shaped public key (the simulator never encrypts with it).
func newPublicKey() *wirePublicKey {
	mod := make([]byte, 256)
	_, _ = rand.Read(mod)
	mod[0] |= 0x80
	return &wirePublicKey{Exponent: base64.StdEncoding.EncodeToString([]byte{1, 0, 1}), Modulus: base64.StdEncoding.EncodeToString(mod)}
}
