package config

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/adofleet/adofleet/internal/secret"
)

// validator checks a decoded, defaulted Config, placing each error on the line of its field.
type validator struct{ d *decoder }

func (v validator) errorf(path, format string, args ...any) {
	for p := path; p != ""; p = parentPath(p) {
		if v.d.bad[p] {
			return // the field or a section holding it was already reported as a decode error
		}
	}
	p := v.d.at(path)
	v.d.errs.add(Error{File: v.d.file, Line: p.line, Column: p.col, Field: path, Message: fmt.Sprintf(format, args...)})
}

func validate(c *Config, d *decoder) {
	v := validator{d}
	v.organization(c.Organization)
	v.controller(c.Controller)
	v.store(c.Store)
	v.web(c.Web)
	v.providers(c.Providers)
	if len(c.Pools) > 0 || c.VMResources == nil { // vmResources alone needs no pool
		v.pools(c.Pools, c.Providers)
	}
	v.aws(c.AWS)
	v.cloudWatch(c.CloudWatch)
	v.checks(c.Checks)
	v.vmResources(c.VMResources)
	v.notify(c.Notify, c.Pools)
	v.hooks(c.Hooks, c.Web)
	v.cost(c.Pools, c.Web) // cost.go
	v.security(c)          // security.go
}

func (v validator) organization(o Organization) {
	v.orgURL(o.URL)
	switch {
	case o.PAT == "" && o.BearerToken == "":
		v.errorf("organization.pat", "required: set exactly one of organization.pat or organization.bearerToken")
	case o.PAT != "" && o.BearerToken != "":
		v.errorf("organization.bearerToken", "pat and bearerToken are exclusive; set only one")
	}
	v.secretRef("organization.pat", o.PAT)
	v.secretRef("organization.bearerToken", o.BearerToken)
	v.secretRef("organization.agentToken", o.AgentToken)
	v.positive("organization.timeout", o.Timeout)
	v.positive("organization.secretTTL", o.SecretTTL)
}

// orgURL checks the organization URL. It never echoes the URL: it may carry credentials.
func (v validator) orgURL(raw string) {
	const path = "organization.url"
	if raw == "" {
		v.errorf(path, "required, e.g. https://dev.azure.com/ORG")
		return
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Scheme == "" || u.Host == "":
		v.errorf(path, "must be an absolute URL such as https://dev.azure.com/ORG")
	case u.User != nil:
		v.errorf(path, "must not contain credentials; use organization.pat or organization.bearerToken")
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		// The simulator and local test servers: no TLS on loopback.
	case u.Scheme != "https":
		v.errorf(path, "must use https (http is allowed only for loopback hosts such as 127.0.0.1, for the simulator)")
	case u.RawQuery != "" || u.Fragment != "":
		v.errorf(path, "must not have a query or a fragment")
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// secretRef checks that a secret field holds a reference, never a literal, and never echoes it.
func (v validator) secretRef(path, ref string) {
	if ref == "" {
		return
	}
	err := secret.Check(ref)
	switch {
	case err == nil:
	case errors.Is(err, secret.ErrNotReference):
		v.errorf(path, "looks like a literal secret (not shown); keep it in an environment variable, a file, SSM Parameter Store or Secrets Manager and write env:NAME, file:PATH, ssm:/NAME or secretsmanager:NAME, e.g. env:ADO_PAT")
	default:
		v.errorf(path, "%v", err)
	}
}

// positive rejects negative durations; zero means "default" and was filled in before.
func (v validator) positive(path string, d Duration) {
	if d < 0 {
		v.errorf(path, "must be a positive duration, got %q", d.String())
	}
}

var (
	logLevels    = []string{"debug", "info", "warn", "error"}
	controllerRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)
)

func (v validator) controller(c Controller) {
	if !controllerRE.MatchString(c.ID) {
		v.errorf("controller.id", "must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit (it is an instance tag)")
	}
	v.positive("controller.resync", c.Resync)
	v.positive("controller.wakeInterval", c.WakeInterval)
	if c.MaxConcurrentCycles < 1 {
		v.errorf("controller.maxConcurrentCycles", "must be at least 1, got %d", c.MaxConcurrentCycles)
	}
	if !slices.Contains(logLevels, c.LogLevel) {
		v.errorf("controller.logLevel", "must be one of %s; got %q", strings.Join(logLevels, ", "), c.LogLevel)
	}
	v.leaderElection(c.LeaderElection) // leader.go
}

func (v validator) web(w Web) {
	if w.Listen == ListenOff {
		return
	}
	_, port, err := net.SplitHostPort(w.Listen)
	if n, perr := strconv.ParseUint(port, 10, 16); err != nil || perr != nil || n > 65535 {
		v.errorf("web.listen", "must be host:port (e.g. 127.0.0.1:8080) or %q; got %q", ListenOff, w.Listen)
	}
}

func (v validator) providers(p Providers) {
	if l := p.Local; l != nil {
		if len(l.Command) == 0 || l.Command[0] == "" {
			v.errorf("providers.local.command", "required: the program (and arguments) run for each agent, e.g. [examples/run-agent.sh]")
		}
		v.envKeys("providers.local.env", l.Env)
	}
	if e := p.ECS; e != nil {
		const at = "providers.ecs"
		e.check(v.under(at))
		v.region(at+".region", e.Region)
		v.endpoint(at+".endpoint", e.Endpoint)
		v.positive(at+".callTimeout", e.CallTimeout)
		v.envKeys(at+".env", e.Env)
	}
	if e := p.EC2; e != nil {
		const at = "providers.ec2"
		e.check(v.under(at))
		v.region(at+".region", e.Region)
		v.endpoint(at+".endpoint", e.Endpoint)
		v.endpoint(at+".autoScalingEndpoint", e.AutoScalingEndpoint)
	}
	if a := p.ACI; a != nil {
		const at = "providers.aci"
		a.check(v.under(at)) // includes callTimeout and the registryPassword reference
		v.envKeys(at+".env", a.Env)
	}
	if k := p.Kubernetes; k != nil {
		const at = "providers.kubernetes"
		k.check(v.under(at)) // kubernetes.go
		v.envKeys(at+".env", k.Env)
	}
}

// under adapts the validator to a section's own checks, which name fields relative to path.
func (v validator) under(path string) func(field, msg string) {
	return func(field, msg string) { v.errorf(joinPath(path, field), "%s", msg) }
}

// providerNames returns every provider adofleet knows and those configured, by YAML key.
func providerNames(p Providers) (known, configured []string) {
	rv := reflect.ValueOf(p)
	for i := range rv.NumField() {
		name := yamlName(rv.Type().Field(i))
		if name == "" {
			continue
		}
		known = append(known, name)
		if !rv.Field(i).IsNil() {
			configured = append(configured, name)
		}
	}
	return known, configured
}

func (v validator) pools(pools []Pool, providers Providers) {
	if len(pools) == 0 {
		v.errorf("pools", "at least one pool is required")
		return
	}
	known, configured := providerNames(providers)
	firstByName := map[string]int{}
	for i, p := range pools {
		at := "pools[" + strconv.Itoa(i) + "]"
		switch j, dup := firstByName[p.Name]; {
		case p.Name == "":
			v.errorf(at+".name", "required: the agent pool's name in Azure DevOps")
		case dup:
			v.errorf(at+".name", "duplicate pool name %q; first used by pools[%d]", p.Name, j)
		default:
			firstByName[p.Name] = i
		}
		v.poolProvider(at+".provider", p.Provider, known, configured)
		v.poolSizes(at, p)
		v.positive(at+".idleTimeout", p.IdleTimeout)
		v.positive(at+".registrationTimeout", p.RegistrationTimeout)
		if _, empty := p.Capabilities[""]; empty {
			v.errorf(mapKeyPath(at+".capabilities", ""), "capability names must not be empty")
		}
		v.envKeys(at+".env", p.Env)
		v.poolResources(at+".resources", p.Provider, p.Resources, configured)
	}
}

// poolResources checks a pool's size in the notation of its provider. Only ecs and aci size
// instances: elsewhere the setting would be silently ignored, so it is refused.
func (v validator) poolResources(path, prov string, r PoolResources, configured []string) {
	if r.IsZero() || !slices.Contains(configured, prov) {
		return // nothing set, or the provider is already reported
	}
	switch prov {
	case "ecs":
		checkECSSize(r.CPU, r.Memory, v.under(path))
	case "aci":
		checkACISize(r.CPU, r.Memory, v.under(path))
	case "kubernetes":
		checkKubernetesSize(r.CPU, r.Memory, v.under(path))
	default:
		v.errorf(path, "only the ecs, aci and kubernetes providers size instances; provider %q would ignore it (ec2 instances take their size from providers.ec2.instanceTypes or the launch template)", prov)
	}
}

func (v validator) poolProvider(path, name string, known, configured []string) {
	switch {
	case name == "":
		v.errorf(path, "required: one of the providers configured under providers (%s)", listOrNone(configured))
	case !slices.Contains(known, name):
		v.errorf(path, "unknown provider %q; known providers: %s", name, strings.Join(known, ", "))
	case !slices.Contains(configured, name):
		v.errorf(path, "provider %q is not configured; add a providers.%s section (configured: %s)", name, name, listOrNone(configured))
	}
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func (v validator) poolSizes(at string, p Pool) {
	if p.Min < 0 {
		v.errorf(at+".min", "must be >= 0, got %d", p.Min)
	}
	if p.Max < 1 {
		v.errorf(at+".max", "must be >= 1 (the number of jobs the pool may run in parallel), got %d", p.Max)
	} else if p.Min > p.Max {
		v.errorf(at+".min", "must not exceed max (%d), got %d", p.Max, p.Min)
	}
	switch {
	case p.Standby < 0:
		v.errorf(at+".standby", "must be >= 0, got %d", p.Standby)
	case p.Max >= 1 && p.Standby > p.Max:
		v.errorf(at+".standby", "must not exceed max (%d), got %d", p.Max, p.Standby)
	}
	if p.MaxLaunchPerCycle < 0 {
		v.errorf(at+".maxLaunchPerCycle", "must be >= 0 (0: no bound but max), got %d", p.MaxLaunchPerCycle)
	}
}

// envKeys checks environment variable names; values are free (and may be secret: never echoed).
func (v validator) envKeys(path string, env map[string]string) {
	for _, k := range slices.Sorted(maps.Keys(env)) {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			v.errorf(mapKeyPath(path, k), "environment variable names must be non-empty and contain no '='")
		}
	}
}
