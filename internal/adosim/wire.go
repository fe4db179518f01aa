package adosim

import "time"

// Wire structs: the JSON ADO sends and accepts for the calls simulated here (api-version 7.1,
// shared/specs/ado/distributedTask/7.1/taskAgent.json). They are this package's own, never
// internal/ado's, so a mismatch between the client and ADO's contract shows up in the client's
// tests. Where the service differs from the generated spec, the service wins:
// demands are strings ("docker", "Agent.OS -equals Linux"), and byte arrays (public keys) are
// base64 strings.

type wireCollection[T any] struct {
	Count int `json:"count"`
	Value []T `json:"value"`
}

type wireLink struct {
	Href string `json:"href"`
}

type wireLinks map[string]wireLink

type wireIdentity struct {
	DisplayName string `json:"displayName"`
	ID          string `json:"id"`
	UniqueName  string `json:"uniqueName"`
	Descriptor  string `json:"descriptor,omitempty"`
}

type wirePool struct {
	CreatedOn     time.Time     `json:"createdOn"`
	AutoProvision bool          `json:"autoProvision"`
	AutoUpdate    bool          `json:"autoUpdate"`
	AutoSize      bool          `json:"autoSize"`
	TargetSize    *int          `json:"targetSize,omitempty"`
	AgentCloudID  *int          `json:"agentCloudId,omitempty"`
	CreatedBy     *wireIdentity `json:"createdBy,omitempty"`
	Owner         *wireIdentity `json:"owner,omitempty"`
	ID            int           `json:"id"`
	Scope         string        `json:"scope"`
	Name          string        `json:"name"`
	IsHosted      bool          `json:"isHosted"`
	PoolType      string        `json:"poolType"`
	Size          int           `json:"size"`
	IsLegacy      bool          `json:"isLegacy"`
	Options       string        `json:"options"`
}

type wirePublicKey struct {
	Exponent string `json:"exponent"`
	Modulus  string `json:"modulus"`
}

type wireAuthorization struct {
	AuthorizationURL string         `json:"authorizationUrl,omitempty"`
	ClientID         string         `json:"clientId,omitempty"`
	PublicKey        *wirePublicKey `json:"publicKey,omitempty"`
}

// wireAgentRef is TaskAgentReference (as in matchedAgents and reservedAgent).
type wireAgentRef struct {
	Links             wireLinks `json:"_links,omitempty"`
	ID                int       `json:"id"`
	Name              string    `json:"name"`
	Version           string    `json:"version"`
	OSDescription     string    `json:"osDescription,omitempty"`
	Enabled           bool      `json:"enabled"`
	Status            string    `json:"status"`
	ProvisioningState string    `json:"provisioningState"`
	AccessPoint       string    `json:"accessPoint,omitempty"`
}

// wireAgent is TaskAgent. Capabilities and requests appear only when asked for, as in ADO.
type wireAgent struct {
	wireAgentRef
	SystemCapabilities   map[string]string  `json:"systemCapabilities,omitempty"`
	UserCapabilities     map[string]string  `json:"userCapabilities,omitempty"`
	MaxParallelism       int                `json:"maxParallelism"`
	CreatedOn            time.Time          `json:"createdOn"`
	StatusChangedOn      time.Time          `json:"statusChangedOn"`
	AssignedRequest      *wireJobRequest    `json:"assignedRequest,omitempty"`
	LastCompletedRequest *wireJobRequest    `json:"lastCompletedRequest,omitempty"`
	Authorization        *wireAuthorization `json:"authorization,omitempty"`
}

// wireAgentIn is the body of POST/PUT/PATCH agent: pointers tell "absent" from "false".
type wireAgentIn struct {
	ID                 int                `json:"id"`
	Name               string             `json:"name"`
	Version            string             `json:"version"`
	OSDescription      string             `json:"osDescription"`
	Enabled            *bool              `json:"enabled"`
	MaxParallelism     int                `json:"maxParallelism"`
	ProvisioningState  string             `json:"provisioningState"`
	SystemCapabilities map[string]string  `json:"systemCapabilities"`
	UserCapabilities   map[string]string  `json:"userCapabilities"`
	Authorization      *wireAuthorization `json:"authorization"`
}

type wireOwner struct {
	Links wireLinks `json:"_links,omitempty"`
	ID    int       `json:"id"`
	Name  string    `json:"name"`
}

// wireJobRequest is TaskAgentJobRequest as the pool job-requests list and the agent calls return it.
type wireJobRequest struct {
	RequestID              int64             `json:"requestId"`
	QueueTime              time.Time         `json:"queueTime"`
	AssignTime             *time.Time        `json:"assignTime,omitempty"`
	ReceiveTime            *time.Time        `json:"receiveTime,omitempty"`
	FinishTime             *time.Time        `json:"finishTime,omitempty"`
	LockedUntil            *time.Time        `json:"lockedUntil,omitempty"`
	Result                 *string           `json:"result,omitempty"`
	StatusMessage          string            `json:"statusMessage,omitempty"`
	ServiceOwner           string            `json:"serviceOwner"`
	HostID                 string            `json:"hostId"`
	ScopeID                string            `json:"scopeId"`
	PlanType               string            `json:"planType"`
	PlanID                 string            `json:"planId"`
	JobID                  string            `json:"jobId"`
	JobName                string            `json:"jobName,omitempty"`
	Demands                []string          `json:"demands,omitempty"`
	MatchedAgents          *[]wireAgentRef   `json:"matchedAgents,omitempty"`
	ReservedAgent          *wireAgentRef     `json:"reservedAgent,omitempty"`
	Definition             *wireOwner        `json:"definition,omitempty"`
	Owner                  *wireOwner        `json:"owner,omitempty"`
	Data                   map[string]string `json:"data,omitempty"`
	PoolID                 int               `json:"poolId"`
	OrchestrationID        string            `json:"orchestrationId"`
	MatchesAllAgentsInPool bool              `json:"matchesAllAgentsInPool"`
	Priority               int               `json:"priority"`
}

// wireJobRequestIn is the body of PATCH jobrequests/{id} (renew: no result; finish: result).
type wireJobRequestIn struct {
	RequestID  int64      `json:"requestId"`
	FinishTime *time.Time `json:"finishTime"`
	Result     *string    `json:"result"`
}

type wireSession struct {
	SessionID          string            `json:"sessionId,omitempty"`
	OwnerName          string            `json:"ownerName"`
	Agent              *wireAgentRef     `json:"agent"`
	SystemCapabilities map[string]string `json:"systemCapabilities,omitempty"`
	UseFipsEncryption  bool              `json:"useFipsEncryption,omitempty"`
}

type wireMessage struct {
	MessageID   int64  `json:"messageId"`
	MessageType string `json:"messageType"`
	Body        string `json:"body"`
}

// JobMessageType is the messageType of a job handed to an agent.
const JobMessageType = "PipelineAgentJobRequest"

// JobMessage is the JSON carried, as a string, in the body of a PipelineAgentJobRequest message:
// a small subset of the real AgentJobRequestMessage plus the job's simulated duration.
type JobMessage struct {
	RequestID      int64      `json:"requestId"`
	LockToken      string     `json:"lockToken"`
	JobID          string     `json:"jobId"`
	JobName        string     `json:"jobName"`
	JobDisplayName string     `json:"jobDisplayName"`
	Plan           JobMsgPlan `json:"plan"`
	// SimulatedDurationMs is how long the simulated agent works on the job.
	SimulatedDurationMs int64 `json:"simulatedDurationMs"`
}

// JobMsgPlan is the plan reference inside a JobMessage.
type JobMsgPlan struct {
	PlanID          string `json:"planId"`
	PlanType        string `json:"planType"`
	ScopeIdentifier string `json:"scopeIdentifier"`
}

type wireProjectRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type wireEnvironment struct {
	ID             int             `json:"id"`
	Name           string          `json:"name"`
	Description    string          `json:"description"`
	CreatedBy      *wireIdentity   `json:"createdBy,omitempty"`
	CreatedOn      time.Time       `json:"createdOn"`
	LastModifiedBy *wireIdentity   `json:"lastModifiedBy,omitempty"`
	LastModifiedOn time.Time       `json:"lastModifiedOn"`
	Project        *wireProjectRef `json:"project,omitempty"`
	Resources      []wireEnvResRef `json:"resources,omitempty"`
}

// wireEnvResRef is EnvironmentResourceReference (GET environment ?expands=resourceReferences).
type wireEnvResRef struct {
	ID   int      `json:"id"`
	Name string   `json:"name"`
	Type string   `json:"type"`
	Tags []string `json:"tags"`
}

type wireEnvRef struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

// wireEnvResource is EnvironmentResource: the members VM resources and VM groups share.
type wireEnvResource struct {
	ID                   int           `json:"id"`
	Name                 string        `json:"name"`
	Type                 string        `json:"type"`
	Tags                 []string      `json:"tags"`
	CreatedBy            *wireIdentity `json:"createdBy,omitempty"`
	CreatedOn            time.Time     `json:"createdOn"`
	LastModifiedBy       *wireIdentity `json:"lastModifiedBy,omitempty"`
	LastModifiedOn       time.Time     `json:"lastModifiedOn"`
	EnvironmentReference wireEnvRef    `json:"environmentReference"`
}

// wireVMResource is VirtualMachineResource (EnvironmentResource plus its agent).
type wireVMResource struct {
	wireEnvResource
	Agent *wireAgent `json:"agent,omitempty"`
}

// wireVMGroup is VirtualMachineGroup (the 6.0 virtualmachinegroups form).
type wireVMGroup struct {
	wireEnvResource
	PoolID int `json:"poolId"`
}

// wireVirtualMachine is VirtualMachine (the 6.0 virtualmachinegroups/{id}/virtualmachines rows).
type wireVirtualMachine struct {
	ID    int        `json:"id"`
	Tags  []string   `json:"tags"`
	Agent *wireAgent `json:"agent,omitempty"`
}

type wirePoolRef struct {
	ID       int    `json:"id"`
	Name     string `json:"name"`
	IsHosted bool   `json:"isHosted"`
	PoolType string `json:"poolType"`
	Size     int    `json:"size"`
	Scope    string `json:"scope"`
	IsLegacy bool   `json:"isLegacy"`
	Options  string `json:"options"`
}

type wireTaskLog struct {
	ID            int       `json:"id"`
	Path          string    `json:"path"`
	LineCount     int64     `json:"lineCount"`
	CreatedOn     time.Time `json:"createdOn"`
	LastChangedOn time.Time `json:"lastChangedOn"`
	Location      *string   `json:"location"`
}

type wireFeed struct {
	Value []string `json:"value"`
	Count int      `json:"count"`
}

// wireError is ADO's error body.
type wireError struct {
	ID             string  `json:"$id"`
	InnerException *string `json:"innerException"`
	Message        string  `json:"message"`
	TypeName       string  `json:"typeName"`
	TypeKey        string  `json:"typeKey"`
	ErrorCode      int     `json:"errorCode"`
	EventID        int     `json:"eventId"`
}
