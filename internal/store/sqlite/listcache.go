package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/adofleet/adofleet/internal/store"
)

// agentCache keeps the last ListAgents answer of each pool until that pool's records change.
// Every pool's reconcile lists its records every cycle, and through modernc SQLite that costs about
// 3 µs a row: 30 ms of a 10,000-agent fleet's cycle, most of it for records no one changed.
//
// The database stays the only source of truth. Two of SQLite's own signals say what changed,
// both read on a connection of the cache's own that never writes:
//   - PRAGMA data_version changes whenever any other connection commits, this process's writer
//     or another process sharing the file (a second controller after a takeover, `adofleet gc`).
//     While it stands still every entry is current, at the cost of one pragma.
//   - Once it moved, each pool's entry is checked against the pool's change counter, which
//     triggers on the agents table keep (migration 0007): a commit that touched other pools or
//     other tables (a lease renewal every 2 s under leader election, a decision) leaves the
//     entry in use.
//
// Each is read before what it vouches for, so a commit in between only costs a needless reload.
type agentCache struct {
	db *sql.DB // the readers; conn is taken from it

	// The list queries, prepared once: parsing the SELECT was a fifth of a list's cost.
	stmtMu             sync.Mutex
	stmtPool, stmtEach *sql.Stmt // one pool's records; every pool's

	mu   sync.Mutex
	conn *sql.Conn // nil until first use, and after an error
	gen  int       // counts connections: an entry read on an older one is not stored
	// The pragma and the counter queries, prepared on conn: preparing the pragma anew for each
	// pool's list was a third of the cache's cost in a 100-pool cycle.
	version, countPool, countEach *sql.Stmt
	pools                         map[string]*cacheEntry
	hits                          int // for tests
}

// cacheEntry is one pool's records ("" = every pool's) and the change counter they were read at.
type cacheEntry struct {
	changes int64 // the pool's counter (every pool's: their sum) read before recs
	checked int64 // the data_version at which changes was last found current
	recs    []store.AgentRecord
}

func newAgentCache(db *sql.DB) *agentCache {
	return &agentCache{db: db, pools: map[string]*cacheEntry{}}
}

// dataVersion reads PRAGMA data_version on the cache's connection. A new connection (the first,
// or after an error) has values of its own, so the cache is emptied with the old one.
func (c *agentCache) dataVersion(ctx context.Context) (int64, error) {
	if c.conn == nil {
		conn, err := c.db.Conn(ctx)
		if err != nil {
			return 0, fmt.Errorf("open the list cache's connection: %w", err)
		}
		c.conn = conn
		c.gen++
		clear(c.pools)
	}
	if c.version == nil {
		st, err := c.conn.PrepareContext(ctx, `PRAGMA data_version`)
		if err != nil {
			c.dropConn()
			return 0, fmt.Errorf("prepare the data_version query: %w", err)
		}
		c.version = st
	}
	var v int64
	if err := c.version.QueryRowContext(ctx).Scan(&v); err != nil {
		c.dropConn()
		return 0, fmt.Errorf("read data_version: %w", err)
	}
	return v, nil
}

// dropConn closes the cache's connection and its statements and empties the cache.
func (c *agentCache) dropConn() {
	for _, st := range []*sql.Stmt{c.version, c.countPool, c.countEach} {
		if st != nil {
			_ = st.Close()
		}
	}
	c.version, c.countPool, c.countEach = nil, nil, nil
	if c.conn != nil {
		_ = c.conn.Close()
		c.conn = nil
	}
	clear(c.pools)
}

// changes reads pool's change counter ("" = the sum over every pool; 0 for a pool never written).
func (c *agentCache) changes(ctx context.Context, pool string) (int64, error) {
	st, q := &c.countPool, `SELECT n FROM agent_pool_changes WHERE pool = ?`
	if pool == "" {
		st, q = &c.countEach, `SELECT coalesce(sum(n), 0) FROM agent_pool_changes`
	}
	if *st == nil {
		p, err := c.conn.PrepareContext(ctx, q)
		if err != nil {
			return 0, fmt.Errorf("prepare the change counter query: %w", err)
		}
		*st = p
	}
	var row *sql.Row
	if pool == "" {
		row = (*st).QueryRowContext(ctx)
	} else {
		row = (*st).QueryRowContext(ctx, pool)
	}
	var n int64
	if err := row.Scan(&n); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("read the change counter of pool %q: %w", pool, err)
	}
	return n, nil
}

// stamp is what a read of pool's records is filed under: the connection, the data_version read
// first and then the pool's change counter.
type stamp struct {
	gen              int
	version, changes int64
}

// current returns pool's entry if it is still current, else the stamp to file a new read under.
// A failed read of either signal returns the error, and the caller reads uncached.
func (c *agentCache) current(ctx context.Context, pool string) (*cacheEntry, stamp, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, err := c.dataVersion(ctx)
	if err != nil {
		return nil, stamp{}, err
	}
	e := c.pools[pool]
	if e != nil && e.checked == v {
		c.hits++
		return e, stamp{}, nil
	}
	n, err := c.changes(ctx, pool)
	if err != nil {
		c.dropConn()
		return nil, stamp{}, err
	}
	if e != nil && e.changes == n {
		e.checked = v
		c.hits++
		return e, stamp{}, nil
	}
	return nil, stamp{gen: c.gen, version: v, changes: n}, nil
}

// list appends to dst a copy of pool's records ("" = every pool) in every state, by name: the
// cached ones if the pool's records have not changed since they were read, else read now and
// cached. On error it returns dst.
func (c *agentCache) list(ctx context.Context, dst []store.AgentRecord, pool string) ([]store.AgentRecord, error) {
	e, at, cerr := c.current(ctx, pool)
	if cerr != nil && ctx.Err() != nil {
		return dst, cerr
	}
	if e != nil {
		return append(dst, e.recs...), nil // e.recs is never modified, only replaced
	}
	recs, err := c.query(ctx, pool)
	if err != nil {
		return dst, err
	}
	if cerr != nil {
		return append(dst, recs...), nil // uncached: the signals could not be read
	}
	c.mu.Lock()
	if c.conn != nil && c.gen == at.gen {
		// checked is the data_version read before the counter, so any commit since then makes
		// the next list check the counter.
		c.pools[pool] = &cacheEntry{changes: at.changes, checked: at.version, recs: slices.Clip(recs)}
	}
	c.mu.Unlock()
	return append(dst, recs...), nil
}

// query reads pool's records ("" = every pool) in every state, by name.
func (c *agentCache) query(ctx context.Context, pool string) (out []store.AgentRecord, err error) {
	stmt, err := c.stmt(ctx, pool == "")
	if err != nil {
		return nil, err
	}
	var rows *sql.Rows
	if pool == "" {
		rows, err = stmt.QueryContext(ctx)
	} else {
		rows, err = stmt.QueryContext(ctx, pool)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanAgent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// stmt returns the prepared list query for every pool or for one, preparing it on first use.
func (c *agentCache) stmt(ctx context.Context, every bool) (*sql.Stmt, error) {
	c.stmtMu.Lock()
	defer c.stmtMu.Unlock()
	p, q := &c.stmtPool, `SELECT `+agentColumns+` FROM agents WHERE pool = ? ORDER BY name`
	if every {
		p, q = &c.stmtEach, `SELECT `+agentColumns+` FROM agents ORDER BY name`
	}
	if *p == nil {
		st, err := c.db.PrepareContext(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("prepare: %w", err)
		}
		*p = st
	}
	return *p, nil
}

// close releases the cache's connection and statements.
func (c *agentCache) close() error {
	c.stmtMu.Lock()
	var errs []error
	for _, st := range []*sql.Stmt{c.stmtPool, c.stmtEach} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	c.stmtPool, c.stmtEach = nil, nil
	c.stmtMu.Unlock()

	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range []*sql.Stmt{c.countPool, c.countEach} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	c.countPool, c.countEach = nil, nil
	clear(c.pools)
	if c.conn != nil {
		errs = append(errs, c.conn.Close())
		c.conn = nil
	}
	return errors.Join(errs...)
}

// filterStates returns the records in any of states (all when none), in order; nil when none.
func filterStates(recs []store.AgentRecord, states []store.AgentState) []store.AgentRecord {
	if len(states) == 0 {
		return recs
	}
	var out []store.AgentRecord
	for _, r := range recs {
		if slices.Contains(states, r.State) {
			out = append(out, r)
		}
	}
	return out
}
