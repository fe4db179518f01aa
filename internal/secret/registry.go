package secret

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
)

// Resolver turns the target of a reference (what follows "scheme:") into its secret.
type Resolver interface {
	Resolve(ctx context.Context, target string) (Value, error)
}

// Checker is implemented by resolvers that can check a target's syntax without resolving it, so
// that `adofleet validate` catches a malformed reference on a machine that has no secrets.
type Checker interface {
	Check(target string) error
}

// Registry maps schemes to resolvers. It is safe for concurrent use.
type Registry struct {
	log *slog.Logger

	mu        sync.RWMutex
	resolvers map[string]Resolver
}

// NewRegistry returns a registry with the built-in schemes, env and file. Warnings found while
// resolving (such as a secret file readable by others) are logged on log; nil discards them (they
// are still on the returned Value).
func NewRegistry(log *slog.Logger) *Registry {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Registry{log: log.With("component", "secret"), resolvers: map[string]Resolver{}}
	r.resolvers["env"] = Env{}
	r.resolvers["file"] = File{}
	return r
}

// Register adds a scheme (e.g. "ssm"). Registering a scheme twice is an error.
func (r *Registry) Register(scheme string, res Resolver) error {
	if !schemeRE.MatchString(scheme) {
		return fmt.Errorf("register secret scheme %q: want lower-case letters and digits", scheme)
	}
	if res == nil {
		return fmt.Errorf("register secret scheme %q: nil resolver", scheme)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.resolvers[scheme]; dup {
		return fmt.Errorf("register secret scheme %q: already registered", scheme)
	}
	r.resolvers[scheme] = res
	return nil
}

// Schemes returns the registered schemes, sorted.
func (r *Registry) Schemes() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Sorted(maps.Keys(r.resolvers))
}

// lookup parses ref and finds its resolver.
func (r *Registry) lookup(ref string) (Ref, Resolver, error) {
	p, err := ParseRef(ref)
	if err != nil {
		return Ref{}, nil, err // never wrapped with ref: it may be the secret itself
	}
	r.mu.RLock()
	res, ok := r.resolvers[p.Scheme]
	r.mu.RUnlock()
	if !ok {
		// Only the scheme is named: the rest might be a literal such as user:password.
		return Ref{}, nil, fmt.Errorf("unknown secret scheme %q; known schemes: %s",
			p.Scheme, strings.Join(r.Schemes(), ", "))
	}
	return p, res, nil
}

// Check reports whether ref is a well-formed reference to a registered scheme, without resolving it.
func (r *Registry) Check(ref string) error {
	p, res, err := r.lookup(ref)
	if err != nil {
		return err
	}
	if c, ok := res.(Checker); ok {
		if err := c.Check(p.Target); err != nil {
			return &Error{Ref: p.String(), Err: err}
		}
	}
	return nil
}

// Resolve returns the secret ref points to. A warning on the Value is also logged.
func (r *Registry) Resolve(ctx context.Context, ref string) (Value, error) {
	p, res, err := r.lookup(ref)
	if err != nil {
		return Value{}, err
	}
	if err := ctx.Err(); err != nil {
		return Value{}, &Error{Ref: p.String(), Err: err}
	}
	if c, ok := res.(Checker); ok {
		if err := c.Check(p.Target); err != nil {
			return Value{}, &Error{Ref: p.String(), Err: err}
		}
	}
	v, err := res.Resolve(ctx, p.Target)
	if err != nil {
		return Value{}, &Error{Ref: p.String(), Err: err}
	}
	if v.IsZero() {
		return Value{}, &Error{Ref: p.String(), Err: errEmpty}
	}
	if w := v.Warning(); w != "" {
		r.log.Warn("secret is stored insecurely", "ref", p.String(), "warning", w)
	}
	return v, nil
}

// defaultRegistry serves the package-level functions. Later schemes (ssm, secretsmanager, keyvault)
// register here from their packages, so config validation accepts them too.
var defaultRegistry = NewRegistry(nil)

// Resolve resolves ref with the default registry. Warnings are on the Value, not logged.
func Resolve(ctx context.Context, ref string) (Value, error) {
	return defaultRegistry.Resolve(ctx, ref)
}

// Check checks ref's shape and scheme with the default registry, without resolving it.
func Check(ref string) error { return defaultRegistry.Check(ref) }

// Register adds a scheme to the default registry.
func Register(scheme string, res Resolver) error { return defaultRegistry.Register(scheme, res) }

// Schemes returns the default registry's schemes, sorted.
func Schemes() []string { return defaultRegistry.Schemes() }
