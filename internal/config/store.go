package config

import (
	"maps"
	"regexp"
	"strings"
	"time"
)

// Store selects the state store: exactly one of sqlite, dynamodb or postgres; sqlite (at
// DefaultSQLitePath) when none is set.
type Store struct {
	SQLite   *SQLiteStore   `yaml:"sqlite,omitempty" json:"sqlite,omitempty"`
	DynamoDB *DynamoDBStore `yaml:"dynamodb,omitempty" json:"dynamodb,omitempty"`
	Postgres *PostgresStore `yaml:"postgres,omitempty" json:"postgres,omitempty"`
	// Housekeeping deletes what the sqlite and postgres stores would otherwise keep forever;
	// DynamoDB's TTL does it for that store.
	Housekeeping Housekeeping `yaml:"housekeeping,omitempty" json:"housekeeping,omitempty"`
}

// Housekeeping is the leader's periodic clean-up of the sqlite and postgres stores: old
// decisions, done check requests and their callback claims, expired VM records and delivered
// notifications. Gone agents are deleted by the controller itself (their records stay an hour).
type Housekeeping struct {
	// Interval between passes (default 1h); the first runs a minute after the leader starts.
	Interval Duration `yaml:"interval,omitempty" json:"interval,omitempty"`
	// DecisionsPerPool: the newest decisions kept for each pool (default 10000).
	DecisionsPerPool int `yaml:"decisionsPerPool,omitempty" json:"decisionsPerPool,omitempty"`
	// CheckRetention keeps done check requests and callback claims this long (default 840h).
	CheckRetention Duration `yaml:"checkRetention,omitempty" json:"checkRetention,omitempty"`
}

// SQLiteStore is the default store: one file.
type SQLiteStore struct {
	Path string `yaml:"path" json:"path"`
}

// DynamoDBStore keeps the state in one DynamoDB table (see internal/store/dynamodb), for
// several replicas or Lambda. Credentials come from the AWS SDK's chain.
type DynamoDBStore struct {
	// Table is the table's name; deploy/terraform/aws creates it.
	Table string `yaml:"table" json:"table"`
	// Region of the table (default aws.region).
	Region string `yaml:"region,omitempty" json:"region,omitempty"`
	// Endpoint overrides the regional endpoint (VPC endpoints, a local emulator).
	Endpoint string `yaml:"endpoint,omitempty" json:"endpoint,omitempty"`
	// CreateTable creates the table at start if it is missing (development; default false).
	CreateTable bool `yaml:"createTable,omitempty" json:"createTable,omitempty"`
	// CallTimeout bounds each DynamoDB call, retries included (default 10s).
	CallTimeout Duration `yaml:"callTimeout,omitempty" json:"callTimeout,omitempty"`
	// MaxAttempts per call by the SDK's retryer (default 8).
	MaxAttempts int `yaml:"maxAttempts,omitempty" json:"maxAttempts,omitempty"`
	// AgentRetention keeps gone agent records this long (default 168h).
	AgentRetention Duration `yaml:"agentRetention,omitempty" json:"agentRetention,omitempty"`
	// DecisionRetention keeps decisions this long (default 720h).
	DecisionRetention Duration `yaml:"decisionRetention,omitempty" json:"decisionRetention,omitempty"`
}

// PostgresStore keeps the state in a PostgreSQL database (see internal/store/postgres).
type PostgresStore struct {
	// URL is a secret reference to the connection URL (postgres://user:password@host/db?...):
	// it holds the password.
	URL string `yaml:"url" json:"url"`
	// Schema holds adofleet's tables (default "adofleet"); created if missing.
	Schema string `yaml:"schema,omitempty" json:"schema,omitempty"`
	// MaxConns caps the connection pool (default 4).
	MaxConns int `yaml:"maxConns,omitempty" json:"maxConns,omitempty"`
	// Timeout bounds every statement (default 30s).
	Timeout Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
}

// Defaults of the store section. The dynamodb ones match internal/store/dynamodb's, the
// postgres ones internal/store/postgres's (config does not import the stores).
const (
	DefaultDynamoDBCallTimeout        = 10 * time.Second
	DefaultDynamoDBMaxAttempts        = 8
	DefaultDynamoDBAgentRetention     = 7 * 24 * time.Hour
	DefaultDynamoDBDecisionRetention  = 30 * 24 * time.Hour
	DefaultHousekeepingInterval       = time.Hour
	DefaultHousekeepingDecisions      = 10_000
	DefaultHousekeepingCheckRetention = 35 * 24 * time.Hour
	DefaultPostgresSchema             = "adofleet"
	DefaultPostgresMaxConns           = 4
	DefaultPostgresTimeout            = 30 * time.Second
)

// Kind names the configured store: "sqlite", "dynamodb" or "postgres" ("" if none, before
// SetDefaults).
func (s Store) Kind() string {
	switch {
	case s.DynamoDB != nil:
		return "dynamodb"
	case s.Postgres != nil:
		return "postgres"
	case s.SQLite != nil:
		return "sqlite"
	}
	return ""
}

// setDefaults fills the chosen store's defaults; with no store set, it chooses sqlite.
func (s *Store) setDefaults() {
	if s.DynamoDB == nil && s.Postgres == nil && s.SQLite == nil {
		s.SQLite = &SQLiteStore{}
	}
	if l := s.SQLite; l != nil {
		setDefault(&l.Path, DefaultSQLitePath)
	}
	if d := s.DynamoDB; d != nil {
		setDefault(&d.CallTimeout, Duration(DefaultDynamoDBCallTimeout))
		setDefault(&d.MaxAttempts, DefaultDynamoDBMaxAttempts)
		setDefault(&d.AgentRetention, Duration(DefaultDynamoDBAgentRetention))
		setDefault(&d.DecisionRetention, Duration(DefaultDynamoDBDecisionRetention))
	}
	h := &s.Housekeeping
	setDefault(&h.Interval, Duration(DefaultHousekeepingInterval))
	setDefault(&h.DecisionsPerPool, DefaultHousekeepingDecisions)
	setDefault(&h.CheckRetention, Duration(DefaultHousekeepingCheckRetention))
	if p := s.Postgres; p != nil {
		setDefault(&p.Schema, DefaultPostgresSchema)
		setDefault(&p.MaxConns, DefaultPostgresMaxConns)
		setDefault(&p.Timeout, Duration(DefaultPostgresTimeout))
	}
}

// dynamoTableRE is DynamoDB's rule for a table name.
var dynamoTableRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]{3,255}$`)

func (v validator) store(s Store) {
	var set []string
	for _, k := range []struct {
		name string
		on   bool
	}{{"sqlite", s.SQLite != nil}, {"dynamodb", s.DynamoDB != nil}, {"postgres", s.Postgres != nil}} {
		if k.on {
			set = append(set, k.name)
		}
	}
	if len(set) > 1 {
		v.errorf("store."+set[1], "only one store may be set; store.%s is set too (choose one of %s)", set[0], strings.Join(set, ", "))
	}
	h := s.Housekeeping
	v.positive("store.housekeeping.interval", h.Interval)
	v.positive("store.housekeeping.checkRetention", h.CheckRetention)
	if h.DecisionsPerPool < 0 {
		v.errorf("store.housekeeping.decisionsPerPool", "must be >= 1, got %d", h.DecisionsPerPool)
	}
	if l := s.SQLite; l != nil && strings.TrimSpace(l.Path) == "" {
		v.errorf("store.sqlite.path", "must not be blank")
	}
	if d := s.DynamoDB; d != nil {
		const at = "store.dynamodb"
		switch {
		case d.Table == "":
			v.errorf(at+".table", "required: the name of the table (deploy/terraform/aws creates it)")
		case !dynamoTableRE.MatchString(d.Table):
			v.errorf(at+".table", "%q is not a DynamoDB table name (3-255 letters, digits, '_', '-' or '.')", d.Table)
		}
		v.region(at+".region", d.Region)
		v.endpoint(at+".endpoint", d.Endpoint)
		v.positive(at+".callTimeout", d.CallTimeout)
		v.positive(at+".agentRetention", d.AgentRetention)
		v.positive(at+".decisionRetention", d.DecisionRetention)
		if d.MaxAttempts < 0 {
			v.errorf(at+".maxAttempts", "must be >= 1, got %d", d.MaxAttempts)
		}
	}
	if p := s.Postgres; p != nil {
		const at = "store.postgres"
		switch {
		case p.URL == "":
			v.errorf(at+".url", "required: a secret reference to the connection URL, e.g. env:ADOFLEET_POSTGRES_URL (the URL holds the password)")
		case strings.Contains(p.URL, "://"):
			// Never echoed: it holds the password.
			v.errorf(at+".url", "looks like a literal connection URL (not shown); it holds the password, so keep it in an environment variable, a file, SSM Parameter Store or Secrets Manager and write a reference such as env:ADOFLEET_POSTGRES_URL")
		default:
			v.secretRef(at+".url", p.URL)
		}
		if len(p.Schema) > 63 || strings.ContainsRune(p.Schema, 0) {
			v.errorf(at+".schema", "must be a PostgreSQL identifier of at most 63 bytes")
		}
		if p.MaxConns < 0 {
			v.errorf(at+".maxConns", "must be >= 1, got %d", p.MaxConns)
		}
		v.positive(at+".timeout", p.Timeout)
	}
}

var storeDocs = map[string]fieldMeta{
	"Store.dynamodb":     {doc: "The DynamoDB store: one table, for several replicas or Lambda. Exclusive with sqlite and postgres."},
	"Store.postgres":     {doc: "The PostgreSQL store. Exclusive with sqlite and dynamodb."},
	"Store.housekeeping": {doc: "The leader's periodic clean-up of the sqlite and postgres stores (DynamoDB's TTL does it for that store)."},

	"Housekeeping.interval":         {doc: "Time between clean-up passes; the first runs a minute after this replica starts leading.", def: "1h"},
	"Housekeeping.decisionsPerPool": {doc: "The newest decisions kept for each pool (the dashboard's and `adofleet status`'s history); older ones are deleted.", def: DefaultHousekeepingDecisions, minimum: intp(0)},
	"Housekeeping.checkRetention":   {doc: "How long done check requests and their callback claims are kept. A claim deleted could be claimed again, so keep this beyond the longest timeout of your checks (ADO allows 30 days).", def: "840h"},

	"DynamoDBStore.table":             {doc: "Name of the table. deploy/terraform/aws creates it (pk and sk strings, the local index by-group on lsk, TTL on ttl).", required: true, pattern: dynamoTableRE.String()},
	"DynamoDBStore.region":            {doc: "Region of the table. Default: aws.region.", pattern: regionRE.String()},
	"DynamoDBStore.endpoint":          {doc: "DynamoDB endpoint URL, for VPC endpoints and local emulators. Default: the region's."},
	"DynamoDBStore.createTable":       {doc: "Create the table at start when it is missing (development; needs dynamodb:CreateTable). Production tables come from Terraform.", def: false},
	"DynamoDBStore.callTimeout":       {doc: "Bound on each DynamoDB call, the SDK's retries of throttling and transient errors included.", def: "10s"},
	"DynamoDBStore.maxAttempts":       {doc: "Attempts per DynamoDB call by the SDK's retryer, the first included.", def: DefaultDynamoDBMaxAttempts, minimum: intp(0)},
	"DynamoDBStore.agentRetention":    {doc: "How long a gone agent's record is kept before DynamoDB's TTL removes it.", def: "168h"},
	"DynamoDBStore.decisionRetention": {doc: "How long a decision is kept (the dashboard's history) before DynamoDB's TTL removes it.", def: "720h"},

	"PostgresStore.url":      {doc: "Secret reference to the connection URL, postgres://USER:PASSWORD@HOST:5432/DB?sslmode=verify-full (it holds the password), e.g. env:ADOFLEET_POSTGRES_URL or ssm:/adofleet/postgres-url.", required: true, secret: true},
	"PostgresStore.schema":   {doc: "Schema holding adofleet's tables; created if missing. Controllers that must not share state can use one database with different schemas.", def: DefaultPostgresSchema},
	"PostgresStore.maxConns": {doc: "Most connections in the pool.", def: DefaultPostgresMaxConns, minimum: intp(0)},
	"PostgresStore.timeout":  {doc: "Bound on each statement (also the server-side statement_timeout).", def: "30s"},
}

var storeTypeDocs = map[string]string{
	"DynamoDBStore": "The DynamoDB store: one table (see internal/store/dynamodb). Credentials come from the AWS SDK's chain.",
	"PostgresStore": "The PostgreSQL store (pgx).",
	"Housekeeping":  "The leader's periodic clean-up of the sqlite and postgres stores.",
}

func init() {
	maps.Copy(fieldDocs, storeDocs)
	maps.Copy(typeDocs, storeTypeDocs)
	typeDocs["Store"] = "The state store: exactly one of sqlite (the default), dynamodb or postgres."
}
