package vmresource

import (
	"context"
	"fmt"
	"sync"
)

// envInfo is what is resolved once per Environment: its id and its hidden deployment pool.
type envInfo struct {
	ID     int
	PoolID int
}

// envCache resolves Environments by name once; an entry is dropped when ADO says the Environment
// is gone (it may have been recreated under a new id).
type envCache struct {
	ado ADO
	mu  sync.Mutex
	m   map[[2]string]envInfo
}

func newEnvCache(a ADO) *envCache { return &envCache{ado: a, m: map[[2]string]envInfo{}} }

func (c *envCache) get(ctx context.Context, project, name string) (envInfo, error) {
	key := [2]string{project, name}
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return e, nil
	}
	env, err := c.ado.FindEnvironment(ctx, project, name)
	if err != nil {
		return envInfo{}, fmt.Errorf("resolve environment %q of project %q: %w", name, project, err)
	}
	pool, err := c.ado.GetEnvironmentDeploymentPool(ctx, project, env.ID)
	if err != nil {
		return envInfo{}, fmt.Errorf("resolve the deployment pool of environment %q: %w", name, err)
	}
	e = envInfo{ID: env.ID, PoolID: pool.ID}
	c.mu.Lock()
	c.m[key] = e
	c.mu.Unlock()
	return e, nil
}

func (c *envCache) forget(project, name string) {
	c.mu.Lock()
	delete(c.m, [2]string{project, name})
	c.mu.Unlock()
}
