package controller

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"time"

	"github.com/adofleet/adofleet/internal/crashpoint"
	"github.com/adofleet/adofleet/internal/leader"
	"github.com/adofleet/adofleet/internal/provider"
	"github.com/adofleet/adofleet/internal/scaler"
	"github.com/adofleet/adofleet/internal/store"
)

// Decision actions the controller records besides the scaler's.
const (
	ActionLaunchFailed = "launch-failed"
	ActionResumeLaunch = "resume-launch"
	ActionDrainAborted = "drain-aborted"
	ActionForget       = "forget"
	// ActionStartFailed: an instance ended before its agent registered (with the provider's reason).
	ActionStartFailed         = "start-failed"
	ActionRegisterPlaceholder = "register-placeholder"
)

// launch starts n agents in one batch: the records are written (StateLaunching) before the
// provider is called, so a crash in between is resumed by the next cycle with the same token.
func (cy *cycle) launch(ctx context.Context, n int, reason string) {
	if n <= 0 {
		return
	}
	if cy.now.Before(cy.p.backoffUntil) {
		cy.log.Info("launch deferred: provider reported insufficient capacity",
			"wanted", n, "until", cy.p.backoffUntil)
		return
	}
	token := randomHex(8)
	recs := make([]*store.AgentRecord, 0, n)
	for range n {
		rec, err := cy.createIntent(ctx, token)
		if err != nil {
			cy.fail(err)
			continue
		}
		recs = append(recs, rec)
	}
	if len(recs) == 0 {
		return
	}
	crashpoint.Hit("launch.after-intent")
	cy.decide(ctx, scaler.ActionLaunch, plural(len(recs), "agent"), reason)
	cy.startBatch(ctx, token, recs)
}

// createIntent writes one StateLaunching record; a name collision gets one fresh name.
func (cy *cycle) createIntent(ctx context.Context, token string) (*store.AgentRecord, error) {
	var err error
	for range 2 {
		rec := store.AgentRecord{
			Name:        cy.c.opts.NameFunc(cy.p.cfg.Name),
			Pool:        cy.p.cfg.Name,
			LaunchToken: token,
			Template:    cy.p.cfg.Template,
			State:       store.StateLaunching,
			Reason:      "launch intent written",
			CreatedAt:   cy.now,
			UpdatedAt:   cy.now,
		}
		err = cy.c.opts.Store.CreateAgent(ctx, rec)
		if err == nil {
			rec.Version = 1
			return &rec, nil
		}
		if !errors.Is(err, store.ErrConflict) {
			break
		}
	}
	return nil, fmt.Errorf("store: create launch intent: %w", err)
}

// resumeLaunch re-issues a launch a crash interrupted. The provider is idempotent per token: it
// returns the instances it already started for it and starts only what it never saw.
func (cy *cycle) resumeLaunch(ctx context.Context, token string, recs []*store.AgentRecord) {
	cy.decide(ctx, ActionResumeLaunch, plural(len(recs), "agent"),
		"launch intent of batch "+token+" found without instances; re-issuing with the same token")
	cy.res.Resumed += cy.startBatch(ctx, token, recs)
}

// startBatch calls the provider for recs and records each agent's outcome. It returns how many
// instances came back.
func (cy *cycle) startBatch(ctx context.Context, token string, recs []*store.AgentRecord) int {
	cfg := cy.p.cfg
	specs := make([]provider.AgentSpec, len(recs))
	for i, r := range recs {
		specs[i] = provider.AgentSpec{Name: r.Name}
	}
	insts, err := cy.providerLaunch(ctx, provider.LaunchRequest{
		Token:     token,
		Pool:      cfg.Name,
		Template:  cfg.Template,
		Agents:    specs,
		Tags:      provider.TagsFor(cfg.Name, cy.c.opts.ControllerID, "", token),
		Env:       cy.agentEnv(),
		Resources: cfg.Resources,
	})
	crashpoint.Hit("launch.after-provider")
	// The provider has answered: what it did is recorded even if ctx ended meanwhile (a shutdown
	// signal, the cycle timeout), so the next cycle need not rediscover it.
	rctx, cancel := recordContext(ctx)
	defer cancel()
	byAgent := make(map[string]provider.Instance, len(insts))
	for _, in := range insts {
		byAgent[agentNameOf(in)] = in
		cy.obs.addInstance(in)
	}
	var partial *provider.PartialError
	errors.As(err, &partial)

	started, failed := 0, 0
	var firstCause error
	for _, rec := range recs {
		if in, ok := byAgent[rec.Name]; ok {
			started++
			id := in.ID
			if uerr := cy.update(rctx, rec, func(r *store.AgentRecord) {
				r.State, r.InstanceID, r.Reason = store.StateLaunched, id, "instance started"
			}); uerr != nil {
				cy.fail(uerr) // next cycle finds the instance by tag and records it then
			}
			crashpoint.Hit("launch.after-record")
			continue
		}
		cause := launchFailure(err, partial, rec.Name)
		if ctx.Err() != nil {
			continue // cancelled: the outcome is unknown; the next cycle finds out
		}
		if cause == nil {
			if cy.now.Sub(rec.CreatedAt) < cfg.Policy.RegistrationTimeout {
				// The provider said nothing about this agent: keep the intent; the next cycle
				// finds the instance by tag or re-issues the same token.
				continue
			}
			// A token the provider keeps answering with nothing (its instances gone before
			// anyone saw them) would otherwise hold the intent, and a slot under max, for ever.
			cause = errNoInstance
		}
		if !definiteFailure(cause, partial) && cy.now.Sub(rec.CreatedAt) < cfg.Policy.RegistrationTimeout {
			// An untyped error (a timeout, a 5xx, a lost response) does not say nothing started:
			// the intent stays and counts against max, and the next cycle finds the instance by
			// tag or re-issues the same token, which the provider answers idempotently. Only
			// after the registration timeout is it given up as failed.
			continue
		}
		failed++
		if firstCause == nil {
			firstCause = cause
		}
		if cy.markGone(rctx, rec, "launch failed: "+cause.Error()) {
			cy.decide(rctx, ActionLaunchFailed, rec.Name, cause.Error())
			cy.agentStartFailed(rctx, rec.Name, "launch failed: "+cause.Error())
		}
	}
	cy.res.Launched += started
	cy.res.LaunchFailed += failed
	if failed > 0 && cy.c.opts.OnLaunchFailed != nil {
		cy.c.opts.OnLaunchFailed(cfg.Name, firstCause)
	}
	if errors.Is(err, provider.ErrInsufficientCapacity) {
		cy.p.backoffUntil = cy.now.Add(cy.c.opts.CapacityBackoff)
		cy.log.Warn("provider has insufficient capacity; pausing launches", "until", cy.p.backoffUntil)
	}
	if err != nil {
		cy.fail(fmt.Errorf("provider %q: launch %s (token %s): %w", cfg.Provider, plural(len(recs), "agent"), token, err))
	}
	return started
}

// errNoInstance is why an intent is given up when its re-issued token keeps bringing nothing back.
var errNoInstance = errors.New("the provider returned no instance for the agent's launch token within the registration timeout")

// recordTimeout bounds the store writes that record what an external call already did.
const recordTimeout = 10 * time.Second

// recordContext is ctx without its cancellation, bounded by recordTimeout: for recording the
// outcome of a call that has returned, which a cancellation arriving now must not lose.
func recordContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
}

// definiteFailure reports whether cause says the agent was not started: an entry of a partial
// failure, or a whole batch refused for capacity or as invalid. Any other error leaves the
// outcome unknown.
func definiteFailure(cause error, partial *provider.PartialError) bool {
	return partial != nil || errors.Is(cause, provider.ErrInsufficientCapacity) ||
		errors.Is(cause, provider.ErrInvalidRequest)
}

// launchFailure is why agent did not start: its own entry of a partial failure, or the error of a
// whole failed batch. Nil when the provider reported nothing against it.
func launchFailure(err error, partial *provider.PartialError, agent string) error {
	if partial != nil {
		return partial.Failed[agent]
	}
	return err
}

// agentEnv is the environment every agent of the pool registers with. AZP_AGENT_NAME is per agent
// and set by the provider from AgentSpec.Name. The values include the registration token: they
// are handed to the provider and never logged.
func (cy *cycle) agentEnv() map[string]string {
	cfg := cy.p.cfg
	env := maps.Clone(cfg.Env)
	if env == nil {
		env = map[string]string{}
	}
	env["AZP_URL"] = cy.c.opts.OrgURL
	env["AZP_TOKEN"] = cy.c.opts.AgentToken()
	env["AZP_POOL"] = cfg.Name
	if cfg.Policy.OneJobPerAgent {
		env["AZP_ONCE"] = "true"
	}
	caps := cfg.Policy.Capabilities
	if caps == nil {
		caps = map[string]string{}
	}
	b, _ := json.Marshal(caps) // a map[string]string always marshals
	env["ADOFLEET_CAPABILITIES"] = string(b)
	return env
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// providerLaunch and terminateIDs call the provider once the leader's term is checked (leader.CheckTerm):
// the cloud takes no fencing token either. A refused launch is an untyped error, so its intent
// stays for the next leader to find or re-issue under the same token.
func (cy *cycle) providerLaunch(ctx context.Context, req provider.LaunchRequest) ([]provider.Instance, error) {
	if err := leader.CheckTerm(ctx); err != nil {
		return nil, err
	}
	return cy.p.prov.Launch(ctx, req)
}

func (cy *cycle) terminateIDs(ctx context.Context, ids []string) error {
	if err := leader.CheckTerm(ctx); err != nil {
		return err
	}
	return cy.p.prov.Terminate(ctx, ids)
}
