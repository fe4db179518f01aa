package config

import "regexp"

// Hooks is the ADO service-hook endpoint POST /v1/hooks/ado, served on web.listen: completed runs
// (and failed stages and jobs) become notifications. When enabled, at least one auth method is
// required. Config.Hooks is nil when the section is absent.
type Hooks struct {
	Enabled bool `yaml:"enabled,omitempty" json:"enabled,omitempty"`
	// Username and Password are the subscription's basic credentials; Password is a secret reference.
	Username string `yaml:"username,omitempty" json:"username,omitempty"`
	Password string `yaml:"password,omitempty" json:"password,omitempty"`
	// SharedSecret is a secret reference to a value the subscription sends in SecretHeader.
	SharedSecret string `yaml:"sharedSecret,omitempty" json:"sharedSecret,omitempty"`
	// SecretHeader carries the shared secret (default X-Adofleet-Secret).
	SecretHeader string `yaml:"secretHeader,omitempty" json:"secretHeader,omitempty"`
	// MaxBodyBytes bounds a delivery's body (default 524288).
	MaxBodyBytes int `yaml:"maxBodyBytes,omitempty" json:"maxBodyBytes,omitempty"`
	// Account and Region name where the agents run, in every run notification. Default: the
	// account of adofleet's AWS credentials (STS GetCallerIdentity, once at start) and aws.region.
	Account string `yaml:"account,omitempty" json:"account,omitempty"`
	Region  string `yaml:"region,omitempty" json:"region,omitempty"`
	// AllowFrom replaces web.allowFrom for this endpoint (security.go).
	AllowFrom []string `yaml:"allowFrom,omitempty" json:"allowFrom,omitempty"`
}

// Defaults of the hooks section.
const (
	DefaultHooksSecretHeader = "X-Adofleet-Secret"
	DefaultHooksMaxBodyBytes = 512 << 10
)

// accountRE is an AWS account id.
var accountRE = regexp.MustCompile(`^[0-9]{12}$`)

// setDefaults fills the section's defaults; nil (not configured) stays nil.
func (h *Hooks) setDefaults() {
	if h == nil {
		return
	}
	setDefault(&h.SecretHeader, DefaultHooksSecretHeader)
	setDefault(&h.MaxBodyBytes, DefaultHooksMaxBodyBytes)
}

func (v validator) hooks(h *Hooks, w Web) {
	const at = "hooks"
	if h == nil {
		return
	}
	v.secretRef(at+".password", h.Password)
	v.secretRef(at+".sharedSecret", h.SharedSecret)
	if h.MaxBodyBytes < 0 {
		v.errorf(at+".maxBodyBytes", "must be positive, got %d", h.MaxBodyBytes)
	}
	if !headerRE.MatchString(h.SecretHeader) {
		v.errorf(at+".secretHeader", "must be an HTTP header name such as X-Adofleet-Secret; got %q", h.SecretHeader)
	}
	if (h.Username == "") != (h.Password == "") {
		v.errorf(at+".username", "username and password go together; set both or neither")
	}
	if h.Account != "" && !accountRE.MatchString(h.Account) {
		v.errorf(at+".account", "must be a 12-digit AWS account id, got %q", h.Account)
	}
	if h.Region != "" && !regionRE.MatchString(h.Region) {
		v.errorf(at+".region", "must be an AWS region such as eu-west-1, got %q", h.Region)
	}
	if !h.Enabled {
		return
	}
	if h.Password == "" && h.SharedSecret == "" {
		v.errorf(at+".enabled", "set hooks.username and hooks.password, or hooks.sharedSecret (or both): an unauthenticated endpoint would let anyone send notifications")
	}
	if !w.Enabled() {
		v.errorf(at+".enabled", "the service-hook endpoint is served on web.listen, which is %q", ListenOff)
	}
}

func init() {
	typeDocs["Hooks"] = "The Azure DevOps service-hook endpoint POST /v1/hooks/ado, served on web.listen: run, stage and job events become notifications."
	for k, m := range map[string]fieldMeta{
		"Config.hooks":       {doc: "The ADO service-hook endpoint (off by default)."},
		"Hooks.enabled":      {doc: "Serve POST /v1/hooks/ado on web.listen (which must not be off).", def: false},
		"Hooks.username":     {doc: "User name of the subscription's basic credentials; goes with password."},
		"Hooks.password":     {doc: "Secret reference to the subscription's basic-auth password; goes with username.", secret: true},
		"Hooks.sharedSecret": {doc: "Secret reference to a shared secret the subscription sends in secretHeader (its HTTP headers input). Set it, or username and password, or both.", secret: true},
		"Hooks.secretHeader": {doc: "Header carrying the shared secret.", def: DefaultHooksSecretHeader, pattern: headerRE.String()},
		"Hooks.maxBodyBytes": {doc: "Bound on a delivery's body; a larger body answers 413.", def: DefaultHooksMaxBodyBytes, minimum: intp(0)},
		"Hooks.account":      {doc: "AWS account the agents run in, shown in run notifications. Default: the account of adofleet's AWS credentials (STS GetCallerIdentity at start), when AWS is configured.", pattern: accountRE.String()},
		"Hooks.region":       {doc: "AWS region the agents run in, shown in run notifications. Default: aws.region.", pattern: regionRE.String()},
	} {
		fieldDocs[k] = m
	}
}
