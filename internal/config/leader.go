package config

import (
	"regexp"
	"slices"
	"strings"
	"time"
)

// LeaderElection runs several serve replicas with one active controller: the replica holding a
// lease runs the reconcile loops, the check callbacker and the VM reconcile loop; every replica
// serves webhooks, consumes the lifecycle queue and delivers notifications.
// Controller.LeaderElection is nil when the section is absent.
type LeaderElection struct {
	Enabled bool `yaml:"enabled,omitempty" json:"enabled,omitempty"`
	// Backend keeps the lease: "store" (the state store, with fencing tokens on every write) or
	// "kubernetes" (a coordination.k8s.io Lease).
	Backend string `yaml:"backend,omitempty" json:"backend,omitempty"`
	// LeaseName names the lease (default adofleet-controller).
	LeaseName string `yaml:"leaseName,omitempty" json:"leaseName,omitempty"`
	// LeaseDuration, RenewDeadline and RetryPeriod: see the docs table below.
	LeaseDuration Duration `yaml:"leaseDuration,omitempty" json:"leaseDuration,omitempty"`
	RenewDeadline Duration `yaml:"renewDeadline,omitempty" json:"renewDeadline,omitempty"`
	RetryPeriod   Duration `yaml:"retryPeriod,omitempty" json:"retryPeriod,omitempty"`
}

// Leader election backends and defaults (the same as internal/leader's).
const (
	LeaderBackendStore      = "store"
	LeaderBackendKubernetes = "kubernetes"

	DefaultLeaderBackend       = LeaderBackendStore
	DefaultLeaderLeaseName     = "adofleet-controller"
	DefaultLeaderLeaseDuration = 15 * time.Second
	DefaultLeaderRenewDeadline = 10 * time.Second
	DefaultLeaderRetryPeriod   = 2 * time.Second
)

var (
	leaderBackends = []string{LeaderBackendStore, LeaderBackendKubernetes}
	// leaseNameRE: a DNS subdomain label, valid as a Kubernetes Lease name and a store key.
	leaseNameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$`)
)

// Elects reports whether leader election is on.
func (l *LeaderElection) Elects() bool { return l != nil && l.Enabled }

func (l *LeaderElection) setDefaults() {
	if l == nil {
		return
	}
	setDefault(&l.Backend, DefaultLeaderBackend)
	setDefault(&l.LeaseName, DefaultLeaderLeaseName)
	setDefault(&l.LeaseDuration, Duration(DefaultLeaderLeaseDuration))
	setDefault(&l.RenewDeadline, Duration(DefaultLeaderRenewDeadline))
	setDefault(&l.RetryPeriod, Duration(DefaultLeaderRetryPeriod))
}

func (v validator) leaderElection(l *LeaderElection) {
	const at = "controller.leaderElection"
	if l == nil {
		return
	}
	if !slices.Contains(leaderBackends, l.Backend) {
		v.errorf(at+".backend", "must be one of %s; got %q", strings.Join(leaderBackends, ", "), l.Backend)
	}
	if !leaseNameRE.MatchString(l.LeaseName) {
		v.errorf(at+".leaseName", "must be 1-63 lower-case letters, digits, '-' or '.', starting and ending with a letter or digit; got %q", l.LeaseName)
	}
	v.positive(at+".leaseDuration", l.LeaseDuration)
	v.positive(at+".renewDeadline", l.RenewDeadline)
	v.positive(at+".retryPeriod", l.RetryPeriod)
	if l.RenewDeadline.D() > 0 && l.RenewDeadline >= l.LeaseDuration {
		v.errorf(at+".renewDeadline", "must be shorter than leaseDuration (%v), got %v: the difference is the margin by which a leader stops before its lease can pass to another replica", l.LeaseDuration.D(), l.RenewDeadline.D())
	}
	if l.RetryPeriod.D() > 0 && l.RetryPeriod >= l.RenewDeadline {
		v.errorf(at+".retryPeriod", "must be shorter than renewDeadline (%v), got %v, so a leader tries to renew several times before it gives up", l.RenewDeadline.D(), l.RetryPeriod.D())
	}
}

func init() {
	typeDocs["LeaderElection"] = "Several serve replicas with one active controller: the lease holder runs the reconcile loops, the check callbacker and the VM reconcile loop; every replica serves webhooks, consumes the lifecycle queue and delivers notifications. See docs/ha.md."
	for k, m := range map[string]fieldMeta{
		"Controller.leaderElection":    {doc: "Leader election among serve replicas (off by default: one replica, which always leads)."},
		"LeaderElection.enabled":       {doc: "Campaign for the lease and run the controller loops only while holding it. /readyz answers 503 on a replica that does not lead.", def: false},
		"LeaderElection.backend":       {doc: "Where the lease is kept: store (the state store; every write the leader makes carries a fencing token) or kubernetes (a coordination.k8s.io Lease in the pod's namespace).", def: DefaultLeaderBackend, enum: leaderBackends},
		"LeaderElection.leaseName":     {doc: "Name of the lease; replicas of one deployment share it.", def: DefaultLeaderLeaseName, pattern: leaseNameRE.String()},
		"LeaderElection.leaseDuration": {doc: "How long a lease lasts without renewal: a crashed leader's successor takes over within about this long.", def: "15s"},
		"LeaderElection.renewDeadline": {doc: "A leader that has not renewed for this long stops acting; shorter than leaseDuration (the difference is the safety margin).", def: "10s"},
		"LeaderElection.retryPeriod":   {doc: "Between two attempts to take or renew the lease; shorter than renewDeadline.", def: "2s"},
	} {
		fieldDocs[k] = m
	}
}
