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
	"Config":                  "adofleet configuration (adofleet.yaml).",
	"Organization":            "The Azure DevOps organization and how to authenticate to it.",
	"Controller":              "Controller-wide settings.",
	"Store":                   "The state store.",
	"SQLiteStore":             "The default store: one SQLite file.",
	"Web":                     "The dashboard, /metrics and the health endpoints.",
	"Providers":               "The providers pools can use; a pool names one of those configured here.",
	"LocalProvider":           "Runs each agent as a process on this machine.",
	"Pool":                    "One Azure DevOps agent pool adofleet scales.",
	"PoolResources":           "The size of each of a pool's instances, in the provider's notation; only the ecs, aci and kubernetes providers use it.",
	"ECSProvider":             "Runs each agent as an Amazon ECS task, on Fargate or on EC2 capacity providers.",
	"ECSCapacityProviderItem": "One item of a capacity-provider strategy.",
	"ECSSecret":               "A secret the task definition's agent container declares; ECS fills the variable from SSM or Secrets Manager.",
	"EC2Provider":             "Runs each agent on its own EC2 instance from a launch template, or grows an Auto Scaling group.",
	"EC2LaunchTemplate":       "A launch template, by id or name, and its version.",
	"ACIProvider":             "Runs each agent in its own Azure Container Instances container group. Azure credentials come from azidentity's default chain (managed identity, workload identity, environment, Azure CLI).",
	"AWS":                     "Settings shared by every AWS part. Credentials come from the AWS SDK's chain (environment, shared files, task or instance role).",
	"Checks":                  "The Approvals-and-Checks \"Invoke REST API\" endpoint POST /v1/checks/{pool}, served on web.listen.",
	"CloudWatch":              "Optional publishing of per-pool gauges (queue depth, busy, idle and starting agents) to Amazon CloudWatch.",
}

// fieldDocs describe each field; keys are "GoType.yamlKey".
var fieldDocs = map[string]fieldMeta{
	"Config.organization": {doc: "The Azure DevOps organization.", required: true},
	"Config.controller":   {doc: "Controller-wide settings."},
	"Config.store":        {doc: "The state store (default: SQLite at ./adofleet.db)."},
	"Config.web":          {doc: "The dashboard, /metrics and health endpoints."},
	"Config.providers":    {doc: "The providers pools can use."},
	"Config.pools":        {doc: "The agent pools to scale; at least one unless vmResources is set (a deployment that only keeps Environments in step with Auto Scaling groups)."},
	"Config.aws":          {doc: "Settings shared by the AWS parts (ecs and ec2 providers, CloudWatch, ssm: and secretsmanager: secrets)."},
	"Config.cloudwatch":   {doc: "Publishing of per-pool gauges to Amazon CloudWatch (off by default)."},
	"Config.checks":       {doc: "The Invoke REST API check endpoint (off by default)."},

	"Organization.url": {doc: "URL of the organization, e.g. https://dev.azure.com/contoso. https, or http for loopback hosts only (the simulator).",
		required: true, pattern: `^https?://`},
	"Organization.pat":         {doc: "Secret reference to a personal access token (basic auth). Exactly one of pat or bearerToken.", secret: true},
	"Organization.bearerToken": {doc: "Secret reference to an OAuth/Entra bearer token. Exactly one of pat or bearerToken.", secret: true},
	"Organization.agentToken":  {doc: "Secret reference to the token agents register with (AZP_TOKEN). Default: pat, else bearerToken.", secret: true},
	"Organization.timeout":     {doc: "Bound on each Azure DevOps call.", def: "30s"},
	"Organization.secretTTL":   {doc: "How long a resolved secret is used before it is resolved again, so a rotated token (an SSM parameter overwritten, a Secrets Manager rotation) is picked up.", def: "5m"},

	"Controller.id":           {doc: "Names this controller in instance tags (adofleet:controller).", def: DefaultControllerID, pattern: controllerRE.String()},
	"Controller.resync":       {doc: "Reconcile timer of each pool; events wake a pool sooner.", def: "30s"},
	"Controller.wakeInterval": {doc: "Least time between the starts of a pool's cycles that events (checks webhook, service hooks) trigger. An event after a quiet spell runs a cycle at once; the events of a burst within the interval coalesce into one cycle at its end, so a 200-job matrix costs a few cycles, not 200.", def: "2s"},
	"Controller.logLevel":     {doc: "Log level.", def: DefaultLogLevel, enum: logLevels},
	"Controller.maxConcurrentCycles": {doc: "Most pools reconciled at once. Each pool's cycles stay one at a time; this bounds how many pools' cycles (and their ADO and provider calls) run together, for example when every pool starts its first cycle at start-up.",
		def: DefaultMaxConcurrentCycles, minimum: intp(1)},

	"Store.sqlite":     {doc: "SQLite store settings."},
	"SQLiteStore.path": {doc: "Path of the SQLite file, relative to the working directory.", def: DefaultSQLitePath},
	"Web.listen":       {doc: `Listen address host:port, or "off" to disable.`, def: DefaultListen, pattern: `^(off|.*:[0-9]{1,5})$`},
	"Providers.local":  {doc: "The local process provider."},
	"Providers.ecs":    {doc: "The Amazon ECS provider (Fargate or EC2 capacity providers)."},
	"Providers.ec2":    {doc: "The Amazon EC2 provider (an instance per agent, or an Auto Scaling group)."},
	"Providers.aci":    {doc: "The Azure Container Instances provider (a container group per agent)."},
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
	"Pool.resources":           {doc: "Size of each of the pool's instances, over the provider's defaults. ecs pools (the task's cpu and memory), aci pools (the container's cores and GB) and kubernetes pools (the container's requests) only; other providers take their size from their own settings."},

	"PoolResources.cpu":    {doc: `ecs: task CPU units ("512") or vCPUs ("1 vCPU"); default providers.ecs.cpu, else the task definition's. aci: CPU cores ("1.5"); default providers.aci.cpu. kubernetes: a quantity ("500m", "2"); default providers.kubernetes.resources.requests.cpu.`},
	"PoolResources.memory": {doc: `ecs: task memory in MiB ("2048") or GB ("2 GB"); default providers.ecs.memory, else the task definition's. aci: GB ("3.5"); default providers.aci.memoryGB. kubernetes: a quantity ("4Gi"); default providers.kubernetes.resources.requests.memory.`},

	"AWS.region": {doc: "Region of every AWS part that sets none. Default: the AWS SDK's lookup (AWS_REGION, the shared config file).", pattern: regionRE.String()},

	"Checks.enabled":      {doc: "Serve POST /v1/checks/{pool}: on web.listen in adofleet serve (which then must not be off), or as the Lambda checks function.", def: false},
	"Checks.username":     {doc: "User name of the Generic service connection's basic credentials; goes with password."},
	"Checks.password":     {doc: "Secret reference to the service connection's password; goes with username.", secret: true},
	"Checks.sharedSecret": {doc: "Secret reference to a shared secret the check sends in secretHeader. Set it, or username and password, or both.", secret: true},
	"Checks.secretHeader": {doc: "Header carrying the shared secret.", def: DefaultChecksSecretHeader, pattern: headerRE.String()},
	"Checks.timeout":      {doc: "A check with no agent online by then is failed; keep it below the check's own timeout in Azure DevOps.", def: "10m"},
	"Checks.maxBodyBytes": {doc: "Bound on a call's body; a larger body answers 413.", def: DefaultChecksMaxBodyBytes, minimum: intp(0)},

	"CloudWatch.enabled":   {doc: "Publish the gauges with PutMetricData.", def: false},
	"CloudWatch.namespace": {doc: "Namespace of the metrics (QueueDepth, BusyAgents, IdleAgents, StartingAgents, each with the dimension Pool). AWS/ is reserved.", def: DefaultCloudWatchNamespace},
	"CloudWatch.interval":  {doc: "Time between two publications; at least 1s.", def: "1m"},
	"CloudWatch.region":    {doc: "Region of the metrics. Default: aws.region.", pattern: regionRE.String()},
	"CloudWatch.endpoint":  {doc: "CloudWatch endpoint URL, for testing and VPC endpoints. Default: the region's."},

	"ECSProvider.region":                   {doc: "Region of the cluster. Default: aws.region.", pattern: regionRE.String()},
	"ECSProvider.cluster":                  {doc: "Name or ARN of the ECS cluster that runs the agents.", required: true, nonEmpty: true},
	"ECSProvider.taskDefinition":           {doc: "The agent's task definition: family, family:revision or ARN. A pool's template replaces it.", required: true, nonEmpty: true},
	"ECSProvider.containerName":            {doc: "The agent container, whose environment is overridden per agent.", def: DefaultECSContainerName},
	"ECSProvider.launchType":               {doc: "FARGATE, EC2 or EXTERNAL; exclusive with capacityProviderStrategy. Neither: the cluster's default strategy.", enum: []string{"FARGATE", "EC2", "EXTERNAL"}},
	"ECSProvider.capacityProviderStrategy": {doc: "Capacity providers and their weights, e.g. FARGATE_SPOT then FARGATE; exclusive with launchType."},
	"ECSProvider.subnets":                  {doc: "Subnets of the tasks' network interfaces (awsvpc).", required: true, minItems: 1},
	"ECSProvider.securityGroups":           {doc: "Security groups of the tasks' network interfaces. Default: the VPC's default group."},
	"ECSProvider.assignPublicIp":           {doc: "Give tasks a public IP. Off by default: reach Azure DevOps and the registry through a NAT gateway or VPC endpoints.", def: false},
	"ECSProvider.platformVersion":          {doc: "Fargate platform version. Default: LATEST."},
	"ECSProvider.cpu":                      {doc: `Task CPU override ("256", "1 vCPU"). Default: the task definition's.`},
	"ECSProvider.memory":                   {doc: `Task memory override ("512", "2 GB"). Default: the task definition's.`},
	"ECSProvider.env":                      {doc: "Plain environment variables added to every agent; never the token (see secrets)."},
	"ECSProvider.secrets":                  {doc: "Secrets the task definition's agent container declares, checked at the first launch; must include AZP_TOKEN (RunTask cannot pass secrets).", required: true, minItems: 1},
	"ECSProvider.group":                    {doc: "Task group. Default: ECS's family:FAMILY."},
	"ECSProvider.callTimeout":              {doc: "Bound on each ECS call, retries included.", def: "30s"},
	"ECSProvider.maxAttempts":              {doc: "Attempts per ECS call by the SDK's retryer (throttling and transient errors), the first included.", def: DefaultECSMaxAttempts, minimum: intp(0)},
	"ECSProvider.endpoint":                 {doc: "ECS endpoint URL, for testing and VPC endpoints. Default: the region's."},

	"ECSCapacityProviderItem.provider": {doc: "Capacity provider: FARGATE, FARGATE_SPOT or an EC2 capacity provider's name.", required: true, nonEmpty: true},
	"ECSCapacityProviderItem.weight":   {doc: "Relative share of the tasks (0-1000).", def: 0, minimum: intp(0)},
	"ECSCapacityProviderItem.base":     {doc: "Tasks placed on this provider before weights apply (0-100000).", def: 0, minimum: intp(0)},

	"ECSSecret.name":      {doc: "Environment variable name, e.g. AZP_TOKEN.", required: true, nonEmpty: true},
	"ECSSecret.valueFrom": {doc: "SSM parameter (name or ARN) or Secrets Manager secret ARN, exactly as in the task definition.", required: true, nonEmpty: true},

	"EC2Provider.region":              {doc: "Region of the instances. Default: aws.region.", pattern: regionRE.String()},
	"EC2Provider.launchTemplate":      {doc: "The launch template instances start from (instances mode; required there)."},
	"EC2Provider.instanceTypes":       {doc: "Instance types overriding the template's, tried in order on capacity errors."},
	"EC2Provider.subnets":             {doc: "Subnet IDs overriding the template's, tried in order for each type."},
	"EC2Provider.spot":                {doc: "Ask for spot instances first, falling back to on-demand on capacity and spot-price errors.", def: false},
	"EC2Provider.mode":                {doc: "instances: RunInstances per agent; asg: grow an Auto Scaling group and terminate the exact instances chosen.", def: DefaultEC2Mode, enum: []string{"instances", "asg"}},
	"EC2Provider.autoScalingGroup":    {doc: "The Auto Scaling group asg mode scales (required there)."},
	"EC2Provider.userData":            {doc: "Go text/template of the instance's user data. Default: a script that registers the agent, runs one job and powers off."},
	"EC2Provider.tokenParameter":      {doc: "SSM SecureString parameter with the agent registration token, read on the instance so the token is not in user data."},
	"EC2Provider.agentPackageUrl":     {doc: "Azure Pipelines agent package downloaded when the image has none in /opt/azp-agent."},
	"EC2Provider.concurrency":         {doc: "Parallel RunInstances calls per launch.", def: DefaultEC2Concurrency, minimum: intp(0)},
	"EC2Provider.endpoint":            {doc: "EC2 endpoint URL, for testing and VPC endpoints. Default: the region's."},
	"EC2Provider.autoScalingEndpoint": {doc: "Auto Scaling endpoint URL, for testing and VPC endpoints. Default: the region's."},

	"EC2LaunchTemplate.id":      {doc: "Launch template ID (lt-...); exclusive with name.", pattern: ec2TemplateID.String()},
	"EC2LaunchTemplate.name":    {doc: "Launch template name; exclusive with id."},
	"EC2LaunchTemplate.version": {doc: "$Latest, $Default or a version number. Default: $Default.", pattern: ec2TemplateVersion.String()},

	"ACIProvider.subscriptionId":         {doc: "Azure subscription (a GUID) that holds the container groups.", required: true, pattern: azureGUIDRE.String()},
	"ACIProvider.resourceGroup":          {doc: "Resource group the container groups are created in; it must exist.", required: true, pattern: azureRGRE.String()},
	"ACIProvider.location":               {doc: "Azure location of the container groups, e.g. westeurope.", required: true, pattern: azureLocRE.String()},
	"ACIProvider.image":                  {doc: "The agent's container image. A pool's template replaces it.", required: true, nonEmpty: true},
	"ACIProvider.registryServer":         {doc: "Registry of the image, e.g. myreg.azurecr.io; required with userAssignedIdentityId or registryUsername. Without either the image is pulled anonymously."},
	"ACIProvider.userAssignedIdentityId": {doc: "Resource ID of a user-assigned managed identity, attached to every group, that pulls the image (AcrPull); exclusive with registryUsername.", pattern: azureUAIRE.String()},
	"ACIProvider.registryUsername":       {doc: "User name for the image pull (e.g. an ACR token's name); goes with registryPassword."},
	"ACIProvider.registryPassword":       {doc: "Secret reference to the registry password, resolved at every launch so a rotation is picked up; goes with registryUsername.", secret: true},
	"ACIProvider.cpu":                    {doc: "CPU cores of the agent container; a pool's resources.cpu replaces it.", def: DefaultACICPU},
	"ACIProvider.memoryGB":               {doc: "Memory (GB) of the agent container; a pool's resources.memory replaces it.", def: DefaultACIMemoryGB},
	"ACIProvider.subnetIds":              {doc: "Resource IDs of subnets delegated to Microsoft.ContainerInstance/containerGroups: the groups run in the virtual network. Groups never get a public IP."},
	"ACIProvider.env":                    {doc: "Plain environment variables added to every agent; never the token, which is always a secure value."},
	"ACIProvider.secureEnv":              {doc: "Names of further variables (besides AZP_TOKEN) sent as secure values, which ACI never returns."},
	"ACIProvider.callTimeout":            {doc: "Bound on each Azure Resource Manager call, retries included.", def: "30s"},
}
