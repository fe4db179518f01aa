package provider

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// ErrUnknownProvider is returned by Registry.Get for a name that was never registered.
var ErrUnknownProvider = errors.New("unknown provider")

// Registry holds the providers a controller can use, by the name pools refer to in the config.
// It is safe for concurrent use.
type Registry struct {
	mu        sync.RWMutex
	providers map[string]Provider
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{providers: map[string]Provider{}}
}

// Register adds p under name. A name can be registered only once.
func (r *Registry) Register(name string, p Provider) error {
	if name == "" {
		return errors.New("register provider: empty name")
	}
	if p == nil {
		return fmt.Errorf("register provider %q: nil provider", name)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.providers == nil {
		r.providers = map[string]Provider{}
	}
	if _, dup := r.providers[name]; dup {
		return fmt.Errorf("register provider %q: already registered", name)
	}
	r.providers[name] = p
	return nil
}

// Get returns the provider registered under name. The error names the known providers, so a typo in
// a pool's config is easy to spot.
func (r *Registry) Get(name string) (Provider, error) {
	r.mu.RLock()
	p, ok := r.providers[name]
	r.mu.RUnlock()
	if !ok {
		known := r.Names()
		list := "none"
		if len(known) > 0 {
			list = strings.Join(known, ", ")
		}
		return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownProvider, name, list)
	}
	return p, nil
}

// Names returns the registered names, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.providers))
	for name := range r.providers {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
