package controller

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"sync"

	"github.com/adofleet/adofleet/internal/ado"
)

// placeholderVersion is the agent version the placeholder claims; ADO checks demands such as
// Agent.Version against it.
const placeholderVersion = "4.258.1"

// placeholderKey is the RSA key whose public half the placeholders register with. ADO requires a
// key on every agent; the private half is never used, so one key per process is enough.
var placeholderKey = sync.OnceValues(func() (*rsa.PrivateKey, error) {
	return rsa.GenerateKey(rand.Reader, 2048)
})

// EnsurePlaceholders registers each pool's offline placeholder agent if it is missing, so ADO
// does not fail jobs while the pool has no agents. The demo calls it before jobs start; the
// reconcile loop also checks it every cycle.
func (c *Controller) EnsurePlaceholders(ctx context.Context) error {
	var errs []error
	for _, p := range c.pools {
		if err := c.ensurePlaceholder(ctx, p); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (c *Controller) ensurePlaceholder(ctx context.Context, p *pool) error {
	p.cycle.Lock()
	defer p.cycle.Unlock()
	cy := c.newCycle(p)
	cy.obs.reset()
	defer cy.release()
	id, err := cy.resolvePool(ctx)
	if err != nil {
		return err
	}
	cy.poolID = id
	agents, err := cy.ado.ListAgents(ctx, id)
	if err != nil {
		cy.forgetPoolOn(err)
		return fmt.Errorf("placeholder: list agents of pool %q: %w", p.cfg.Name, err)
	}
	cy.obs.placeholder = PlaceholderName(p.cfg.Name)
	cy.obs.setAgents(agents)
	cy.ensurePlaceholder(ctx)
	return errors.Join(cy.errs...)
}

// ensurePlaceholder adds the placeholder when the observed agents lack it, and adds it to the
// observation so this cycle's plan sees it.
func (cy *cycle) ensurePlaceholder(ctx context.Context) {
	name := cy.obs.placeholder
	if _, ok := cy.obs.agents[name]; ok {
		return
	}
	a, err := cy.addPlaceholder(ctx, name)
	if err != nil {
		cy.fail(fmt.Errorf("placeholder: register %q: %w", name, err))
		return
	}
	cy.obs.agentList = append(cy.obs.agentList, a)
	cy.obs.agents[a.Name] = len(cy.obs.agentList) - 1
	cy.decide(ctx, ActionRegisterPlaceholder, name,
		"keeps ADO from failing jobs while the pool has no agents (offline, never removed)")
}

func (cy *cycle) addPlaceholder(ctx context.Context, name string) (ado.Agent, error) {
	key, err := placeholderKey()
	if err != nil {
		return ado.Agent{}, fmt.Errorf("generate RSA key: %w", err)
	}
	caps := maps.Clone(cy.p.cfg.Policy.Capabilities)
	if caps == nil {
		caps = map[string]string{}
	}
	return cy.ado.AddAgent(ctx, cy.poolID, ado.Agent{
		Name:             name,
		Version:          placeholderVersion,
		Enabled:          true,
		Status:           ado.AgentOffline,
		MaxParallelism:   1,
		UserCapabilities: caps,
		Authorization: &ado.AgentAuth{PublicKey: &ado.PublicKey{
			Exponent: base64.StdEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
			Modulus:  base64.StdEncoding.EncodeToString(key.N.Bytes()),
		}},
	})
}
