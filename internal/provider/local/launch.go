package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/adofleet/adofleet/internal/provider"
)

// LogFile is the name of the file, in each agent's working directory, that receives its output.
const LogFile = "agent.log"

// Launch starts one process per agent of req. It is idempotent per req.Token: a repeated token
// returns the first call's instances (and failures) and starts nothing, except the agents an
// earlier call with the token never tried because its context ended. One agent failing to start
// does not stop the others; the failures come back as a *provider.PartialError.
func (p *Provider) Launch(ctx context.Context, req provider.LaunchRequest) ([]provider.Instance, error) {
	tags, err := p.requestTags(req)
	if err != nil {
		return nil, err
	}
	p.launchMu.Lock()
	defer p.launchMu.Unlock()

	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, errors.New("local provider: launch: provider is closed")
	}
	prev := p.launches[req.Token]
	if req.Token == "" || prev == nil {
		prev = &launchResult{at: p.now()}
	}
	res := prev.clone()
	p.mu.Unlock()

	var out []provider.Instance
	failed := map[string]error{}
	for _, spec := range req.Agents {
		if id, ok := res.started[spec.Name]; ok {
			if inst, ok := p.lookup(id, req.Token); ok {
				out = append(out, inst)
			}
			continue
		}
		if err, ok := res.failed[spec.Name]; ok {
			failed[spec.Name] = err
			continue
		}
		if err := ctx.Err(); err != nil {
			// Not recorded: a retry with the same token will try this agent.
			failed[spec.Name] = fmt.Errorf("launch agent %q: %w", spec.Name, err)
			continue
		}
		inst, err := p.start(req, spec, tags)
		if err != nil {
			res.fail(spec.Name, err)
			failed[spec.Name] = err
			p.log.Warn("agent failed to start", "pool", req.Pool, "agent", spec.Name, "err", err)
			continue
		}
		res.start(spec.Name, inst.ID)
		out = append(out, inst)
	}
	if req.Token != "" {
		p.mu.Lock()
		p.launches[req.Token] = res
		p.mu.Unlock()
	}
	return out, partialError(failed)
}

// lookup returns the instance id if it still belongs to the launch with token.
func (p *Provider) lookup(id, token string) (provider.Instance, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	in, ok := p.instances[id]
	if !ok || in.token != token {
		return provider.Instance{}, false
	}
	return in.snapshot(), true
}

// requestTags returns the tags common to every instance of req, filling the pool and controller
// tags when the request lacks them.
func (p *Provider) requestTags(req provider.LaunchRequest) (map[string]string, error) {
	tags := make(map[string]string, len(req.Tags)+4)
	for k, v := range req.Tags {
		tags[k] = v
	}
	if tags[provider.TagPool] == "" {
		tags[provider.TagPool] = req.Pool
	}
	if tags[provider.TagPool] == "" {
		return nil, fmt.Errorf("local provider: launch: %w: no pool", provider.ErrInvalidRequest)
	}
	if tags[provider.TagController] == "" && p.controller != "" {
		tags[provider.TagController] = p.controller
	}
	if tags[provider.TagToken] == "" && req.Token != "" {
		tags[provider.TagToken] = req.Token
	}
	return tags, nil
}

// start launches one agent process and registers it with a reaper.
func (p *Provider) start(req provider.LaunchRequest, spec provider.AgentSpec, common map[string]string) (provider.Instance, error) {
	if spec.Name == "" {
		return provider.Instance{}, fmt.Errorf("launch agent: %w: empty agent name", provider.ErrInvalidRequest)
	}
	id := instanceID(spec.Name)
	p.mu.Lock()
	if prev, ok := p.instances[id]; ok && prev.State != provider.StateTerminated {
		p.mu.Unlock()
		return provider.Instance{}, fmt.Errorf("launch agent %q: %w: already running as %s", spec.Name, provider.ErrInvalidRequest, id)
	}
	p.mu.Unlock()

	tags := make(map[string]string, len(common)+1)
	for k, v := range common {
		tags[k] = v
	}
	tags[provider.TagAgent] = spec.Name

	dir := filepath.Join(p.workDir, id)
	// The name is free, so anything left here belongs to an ended agent of the same name.
	if err := os.RemoveAll(dir); err != nil {
		return provider.Instance{}, fmt.Errorf("launch agent %q: clear working dir: %w", spec.Name, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return provider.Instance{}, fmt.Errorf("launch agent %q: create working dir: %w", spec.Name, err)
	}
	logf, err := os.OpenFile(filepath.Join(dir, LogFile), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return provider.Instance{}, fmt.Errorf("launch agent %q: open log: %w", spec.Name, err)
	}
	defer logf.Close() // the child holds its own copy of the descriptor

	env := p.environment(req, spec.Name, tags)
	cmd := exec.Command(p.command[0], p.command[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout = logf
	cmd.Stderr = logf
	// Its own process group, so Terminate reaches the agent's children too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return provider.Instance{}, fmt.Errorf("launch agent %q: start %s: %w", spec.Name, p.command[0], err)
	}

	in := &instance{
		Instance: provider.Instance{
			ID:         id,
			Pool:       tags[provider.TagPool],
			AgentName:  spec.Name,
			State:      provider.StateRunning,
			Tags:       tags,
			LaunchedAt: p.now(),
		},
		token: req.Token,
		pid:   cmd.Process.Pid,
		done:  make(chan struct{}),
	}
	p.saveState(in) // before the reaper can remove it
	p.mu.Lock()
	p.instances[id] = in
	snap := in.snapshot()
	p.mu.Unlock()

	p.wg.Add(1)
	go p.reap(in, cmd)
	p.log.Info("agent started", "pool", snap.Pool, "agent", spec.Name, "id", id, "pid", in.pid,
		"env_keys", envKeys(env))
	return snap, nil
}

// environment is the agent's whole environment: only PATH and HOME of ours (no secrets of the
// controller leak into agents), then the provider's Env, the request's Env, and the agent's identity,
// which nothing can override.
func (p *Provider) environment(req provider.LaunchRequest, name string, tags map[string]string) []string {
	vars := map[string]string{}
	for _, k := range []string{"PATH", "HOME"} {
		if v, ok := os.LookupEnv(k); ok {
			vars[k] = v
		}
	}
	for k, v := range p.env {
		vars[k] = v
	}
	for k, v := range req.Env {
		vars[k] = v
	}
	vars["AZP_AGENT_NAME"] = name
	vars["ADOFLEET_POOL"] = tags[provider.TagPool]
	vars["ADOFLEET_CONTROLLER"] = tags[provider.TagController]
	vars["ADOFLEET_AGENT"] = name
	out := make([]string, 0, len(vars))
	for k, v := range vars {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}

// envKeys returns the variable names of env, for logs: values may be secrets.
func envKeys(env []string) []string {
	keys := make([]string, len(env))
	for i, kv := range env {
		keys[i], _, _ = strings.Cut(kv, "=")
	}
	return keys
}

// instanceID is stable per agent name and safe as a directory name.
func instanceID(name string) string {
	var b strings.Builder
	b.WriteString("local-")
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// partialError returns nil when nothing failed, so callers never get a typed nil in an error.
func partialError(failed map[string]error) error {
	if len(failed) == 0 {
		return nil
	}
	return &provider.PartialError{Failed: failed}
}
