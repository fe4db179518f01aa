package ecsfake

// The wire types of the ECS operations the fake answers, named after the shapes of the AWS model
// (botocore's ecs/2014-11-13/service-2.json) and with its member names as JSON keys. shape_test.go
// checks every one of them against that model, so a typo here fails a test instead of being
// silently ignored by the SDK's deserializer.

type runTaskRequest struct {
	CapacityProviderStrategy []capacityProviderStrategyItem `json:"capacityProviderStrategy,omitempty"`
	ClientToken              string                         `json:"clientToken,omitempty"`
	Cluster                  string                         `json:"cluster,omitempty"`
	Count                    *int                           `json:"count,omitempty"`
	EnableECSManagedTags     bool                           `json:"enableECSManagedTags,omitempty"`
	Group                    string                         `json:"group,omitempty"`
	LaunchType               string                         `json:"launchType,omitempty"`
	NetworkConfiguration     *networkConfiguration          `json:"networkConfiguration,omitempty"`
	Overrides                *taskOverride                  `json:"overrides,omitempty"`
	PlatformVersion          string                         `json:"platformVersion,omitempty"`
	PropagateTags            string                         `json:"propagateTags,omitempty"`
	StartedBy                string                         `json:"startedBy,omitempty"`
	Tags                     []tag                          `json:"tags,omitempty"`
	TaskDefinition           string                         `json:"taskDefinition"`
}

type runTaskResponse struct {
	Tasks    []task    `json:"tasks"`
	Failures []failure `json:"failures"`
}

type stopTaskRequest struct {
	Cluster string `json:"cluster,omitempty"`
	Task    string `json:"task"`
	Reason  string `json:"reason,omitempty"`
}

type stopTaskResponse struct {
	Task task `json:"task"`
}

type listTasksRequest struct {
	Cluster       string `json:"cluster,omitempty"`
	NextToken     string `json:"nextToken,omitempty"`
	MaxResults    int    `json:"maxResults,omitempty"`
	StartedBy     string `json:"startedBy,omitempty"`
	DesiredStatus string `json:"desiredStatus,omitempty"`
}

type listTasksResponse struct {
	TaskArns  []string `json:"taskArns"`
	NextToken string   `json:"nextToken,omitempty"`
}

type describeTasksRequest struct {
	Cluster string   `json:"cluster,omitempty"`
	Tasks   []string `json:"tasks"`
	Include []string `json:"include,omitempty"`
}

type describeTasksResponse struct {
	Tasks    []task    `json:"tasks"`
	Failures []failure `json:"failures"`
}

type describeTaskDefinitionRequest struct {
	TaskDefinition string `json:"taskDefinition"`
}

type describeTaskDefinitionResponse struct {
	TaskDefinition taskDefinition `json:"taskDefinition"`
}

type taskDefinition struct {
	TaskDefinitionArn    string                `json:"taskDefinitionArn"`
	Family               string                `json:"family"`
	Revision             int                   `json:"revision"`
	ContainerDefinitions []containerDefinition `json:"containerDefinitions"`
}

type containerDefinition struct {
	Name    string   `json:"name"`
	Image   string   `json:"image,omitempty"`
	Secrets []secret `json:"secrets,omitempty"`
}

type secret struct {
	Name      string `json:"name"`
	ValueFrom string `json:"valueFrom"`
}

type capacityProviderStrategyItem struct {
	CapacityProvider string `json:"capacityProvider"`
	Weight           int    `json:"weight,omitempty"`
	Base             int    `json:"base,omitempty"`
}

type networkConfiguration struct {
	AwsvpcConfiguration *awsVpcConfiguration `json:"awsvpcConfiguration,omitempty"`
}

type awsVpcConfiguration struct {
	Subnets        []string `json:"subnets"`
	SecurityGroups []string `json:"securityGroups,omitempty"`
	AssignPublicIP string   `json:"assignPublicIp,omitempty"`
}

type taskOverride struct {
	ContainerOverrides []containerOverride `json:"containerOverrides,omitempty"`
	CPU                string              `json:"cpu,omitempty"`
	Memory             string              `json:"memory,omitempty"`
}

type containerOverride struct {
	Name        string         `json:"name,omitempty"`
	Environment []keyValuePair `json:"environment,omitempty"`
}

type keyValuePair struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type failure struct {
	Arn    string `json:"arn,omitempty"`
	Reason string `json:"reason,omitempty"`
	Detail string `json:"detail,omitempty"`
}

type task struct {
	TaskArn              string        `json:"taskArn"`
	ClusterArn           string        `json:"clusterArn"`
	TaskDefinitionArn    string        `json:"taskDefinitionArn"`
	LastStatus           string        `json:"lastStatus"`
	DesiredStatus        string        `json:"desiredStatus"`
	StartedBy            string        `json:"startedBy,omitempty"`
	Group                string        `json:"group,omitempty"`
	LaunchType           string        `json:"launchType,omitempty"`
	CapacityProviderName string        `json:"capacityProviderName,omitempty"`
	CPU                  string        `json:"cpu,omitempty"`
	Memory               string        `json:"memory,omitempty"`
	CreatedAt            float64       `json:"createdAt"`
	StartedAt            float64       `json:"startedAt,omitempty"`
	StoppedAt            float64       `json:"stoppedAt,omitempty"`
	StopCode             string        `json:"stopCode,omitempty"`
	StoppedReason        string        `json:"stoppedReason,omitempty"`
	Containers           []container   `json:"containers,omitempty"`
	Overrides            *taskOverride `json:"overrides,omitempty"`
	Tags                 []tag         `json:"tags,omitempty"`
}

type container struct {
	Name       string `json:"name"`
	LastStatus string `json:"lastStatus,omitempty"`
	ExitCode   *int   `json:"exitCode,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

type errorResponse struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}
