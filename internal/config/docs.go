package config

// fieldMeta is what the JSON Schema says about one field beyond its Go type. The table below is
// the single source for the schema's descriptions and constraints; a test fails when a field has
// no entry or an entry names no field, so the two cannot drift.
type fieldMeta struct {
	doc      string
	required bool
	def      any      // default, as written in YAML
	enum     []string // allowed values
	pattern  string   // for strings
	minimum  *int     // for integers
	minItems int      // for lists
	nonEmpty bool     // for strings: minLength 1
	secret   bool     // a secret reference (env:NAME, file:PATH, ...)
}

func intp(i int) *int { return &i }

// typeDocs describe each struct; keys are Go type names.
var typeDocs = map[string]string{
	"Config":        "adofleet configuration (adofleet.yaml).",
	"Organization":  "The Azure DevOps organization and how to authenticate to it.",
	"Controller":    "Controller-wide settings.",
	"Store":         "The state store.",
	"SQLiteStore":   "The default store: one SQLite file.",
	"Web":           "The dashboard, /metrics and the health endpoints.",
	"Providers":     "The providers pools can use; a pool names one of those configured here.",
	"LocalProvider": "Runs each agent as a process on this machine.",
	"Pool":          "One Azure DevOps agent pool adofleet scales.",
}

// fieldDocs describe each field; keys are "GoType.yamlKey".
var fieldDocs = map[string]fieldMeta{
	"Config.organization": {doc: "The Azure DevOps organization.", required: true},
	"Config.controller":   {doc: "Controller-wide settings."},
	"Config.store":        {doc: "The state store (default: SQLite at ./adofleet.db)."},
	"Config.web":          {doc: "The dashboard, /metrics and health endpoints."},
	"Config.providers":    {doc: "The providers pools can use."},
	"Config.pools":        {doc: "The agent pools to scale.", required: true, minItems: 1},

	"Organization.url": {doc: "URL of the organization, e.g. https://dev.azure.com/contoso. https, or http for loopback hosts only (the simulator).",
		required: true, pattern: `^https?://`},
	"Organization.pat":         {doc: "Secret reference to a personal access token (basic auth). Exactly one of pat or bearerToken.", secret: true},
	"Organization.bearerToken": {doc: "Secret reference to an OAuth/Entra bearer token. Exactly one of pat or bearerToken.", secret: true},
	"Organization.agentToken":  {doc: "Secret reference to the token agents register with (AZP_TOKEN). Default: pat, else bearerToken.", secret: true},
	"Organization.timeout":     {doc: "Bound on each Azure DevOps call.", def: "30s"},

	"Controller.id":       {doc: "Names this controller in instance tags (adofleet:controller).", def: DefaultControllerID, pattern: controllerRE.String()},
	"Controller.resync":   {doc: "Reconcile timer of each pool; events wake a pool sooner.", def: "30s"},
	"Controller.logLevel": {doc: "Log level.", def: DefaultLogLevel, enum: logLevels},

	"Store.sqlite":     {doc: "SQLite store settings."},
	"SQLiteStore.path": {doc: "Path of the SQLite file, relative to the working directory.", def: DefaultSQLitePath},
	"Web.listen":       {doc: `Listen address host:port, or "off" to disable.`, def: DefaultListen, pattern: `^(off|.*:[0-9]{1,5})$`},
	"Providers.local":  {doc: "The local process provider."},
	"LocalProvider.command": {doc: "Program and arguments run for each agent (no shell). The agent's settings arrive as environment variables (AZP_URL, AZP_POOL, AZP_AGENT_NAME, AZP_TOKEN, AZP_ONCE, ADOFLEET_*).",
		required: true, minItems: 1},
	"LocalProvider.workDir": {doc: "Parent of each agent's working directory. Default: a new temporary directory."},
	"LocalProvider.env":     {doc: "Environment variables added to every agent of this provider."},

	"Pool.name":                {doc: "Name of the agent pool in Azure DevOps.", required: true, nonEmpty: true},
	"Pool.provider":            {doc: "The provider that runs the pool's agents; one configured under providers.", required: true, nonEmpty: true},
	"Pool.template":            {doc: "Provider-specific template (e.g. a task definition); optional."},
	"Pool.min":                 {doc: "Instances kept running even with no work.", def: 0, minimum: intp(0)},
	"Pool.max":                 {doc: "Licence cap on parallel jobs: live plus starting instances never exceed it.", required: true, minimum: intp(1)},
	"Pool.standby":             {doc: "Idle, ready agents kept on top of the demand; at most max.", def: 0, minimum: intp(0)},
	"Pool.maxLaunchPerCycle":   {doc: "Bound on the launches of one reconcile cycle; 0 means no bound but max.", def: 0, minimum: intp(0)},
	"Pool.idleTimeout":         {doc: "Idle agents above min/standby are drained after this long.", def: "5m"},
	"Pool.registrationTimeout": {doc: "An instance whose agent is not online by then is terminated.", def: "10m"},
	"Pool.oneJobPerAgent":      {doc: "Agents run one job each and exit (run.sh --once).", def: DefaultOneJobPerAgent},
	"Pool.capabilities":        {doc: "User capabilities the pool's agents offer. Jobs whose demands they do not satisfy are not launched for; the placeholder agent is registered with them."},
	"Pool.env":                 {doc: "Environment variables added to this pool's agents."},
}
