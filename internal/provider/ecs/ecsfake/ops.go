package ecsfake

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ECS limits the fake enforces, as the real service does.
const (
	maxRunTaskCount    = 10
	maxDescribeTasks   = 100
	maxStartedByLength = 36
	maxTags            = 50
)

func (f *Fake) runTask(in runTaskRequest) (runTaskResponse, *apiError) {
	count := 1
	if in.Count != nil {
		count = *in.Count
	}
	if count < 1 || count > maxRunTaskCount {
		return runTaskResponse{}, clientErr("InvalidParameterException", "count must be between 1 and %d", maxRunTaskCount)
	}
	if len(in.StartedBy) > maxStartedByLength {
		return runTaskResponse{}, clientErr("InvalidParameterException", "startedBy is longer than %d characters", maxStartedByLength)
	}
	if in.LaunchType != "" && len(in.CapacityProviderStrategy) > 0 {
		return runTaskResponse{}, clientErr("InvalidParameterException", "Specifying both a launch type and capacity provider strategy is not supported.")
	}
	if len(in.Tags) > maxTags {
		return runTaskResponse{}, clientErr("InvalidParameterException", "too many tags")
	}
	if in.PropagateTags != "" && in.PropagateTags != "NONE" && in.PropagateTags != "TASK_DEFINITION" && in.PropagateTags != "SERVICE" {
		return runTaskResponse{}, clientErr("InvalidParameterException", "invalid propagateTags %q", in.PropagateTags)
	}

	f.mu.Lock()
	cluster, aerr := f.clusterLocked(in.Cluster)
	if aerr != nil {
		f.mu.Unlock()
		return runTaskResponse{}, aerr
	}
	td, ok := f.taskDefLocked(in.TaskDefinition)
	if !ok {
		f.mu.Unlock()
		return runTaskResponse{}, clientErr("ClientException", "TaskDefinition not found.")
	}
	if in.ClientToken != "" {
		if arns, ok := f.tokens[in.ClientToken]; ok {
			// Idempotent replay: the tasks of the first call, as they are now.
			out := runTaskResponse{Tasks: []task{}, Failures: []failure{}}
			for _, arn := range arns {
				out.Tasks = append(out.Tasks, f.tasks[arn].wire(true))
			}
			f.mu.Unlock()
			return out, nil
		}
	}
	out := runTaskResponse{Tasks: []task{}, Failures: []failure{}}
	var created []Task
	for range count {
		t := f.newTaskLocked(in, cluster, td)
		if f.runFails != nil {
			if reason := f.runFails(t.clone()); reason != "" {
				out.Failures = append(out.Failures, failure{Arn: td.TaskDefinitionArn, Reason: reason})
				continue
			}
		}
		f.seq++
		f.tasks[t.ARN] = t
		f.order = append(f.order, t.ARN)
		if in.ClientToken != "" {
			f.tokens[in.ClientToken] = append(f.tokens[in.ClientToken], t.ARN)
		}
		out.Tasks = append(out.Tasks, t.wire(true))
		created = append(created, t.clone())
	}
	hook := f.OnRunTask
	f.mu.Unlock()
	if hook != nil {
		for _, t := range created {
			hook(t)
		}
	}
	return out, nil
}

func (f *Fake) newTaskLocked(in runTaskRequest, cluster string, td taskDefinition) *Task {
	now := f.opts.Clock()
	t := &Task{
		ARN:               fmt.Sprintf("arn:aws:ecs:%s:%s:task/%s/%032x", f.opts.Region, f.opts.Account, cluster, f.seq+1),
		Cluster:           cluster,
		TaskDefinitionARN: td.TaskDefinitionArn,
		LastStatus:        f.opts.InitialStatus,
		DesiredStatus:     StatusRunning,
		StartedBy:         in.StartedBy,
		Group:             in.Group,
		ClientToken:       in.ClientToken,
		LaunchType:        in.LaunchType,
		Tags:              map[string]string{},
		Env:               map[string]map[string]string{},
		CreatedAt:         now,
		taskDefName:       td.Family,
	}
	if t.Group == "" {
		t.Group = "family:" + td.Family
	}
	if len(in.CapacityProviderStrategy) > 0 {
		// Good enough for a fake: the first provider with a weight takes the task.
		for _, item := range in.CapacityProviderStrategy {
			if item.Weight > 0 || item.Base > 0 {
				t.CapacityProvider = item.CapacityProvider
				break
			}
		}
		t.LaunchType = "FARGATE"
	}
	for _, tg := range in.Tags {
		t.Tags[tg.Key] = tg.Value
	}
	if in.EnableECSManagedTags {
		t.Tags["aws:ecs:clusterName"] = cluster
	}
	if o := in.Overrides; o != nil {
		t.CPU, t.Memory = o.CPU, o.Memory
		for _, co := range o.ContainerOverrides {
			env := map[string]string{}
			for _, kv := range co.Environment {
				env[kv.Name] = kv.Value
			}
			t.Env[co.Name] = env
		}
	}
	if nc := in.NetworkConfiguration; nc != nil && nc.AwsvpcConfiguration != nil {
		t.Subnets = slices.Clone(nc.AwsvpcConfiguration.Subnets)
		t.PublicIP = nc.AwsvpcConfiguration.AssignPublicIP
	}
	return t
}

func (f *Fake) stopTask(in stopTaskRequest) (stopTaskResponse, *apiError) {
	f.mu.Lock()
	if _, aerr := f.clusterLocked(in.Cluster); aerr != nil {
		f.mu.Unlock()
		return stopTaskResponse{}, aerr
	}
	t, ok := f.lookupLocked(in.Task)
	if !ok {
		f.mu.Unlock()
		return stopTaskResponse{}, clientErr("InvalidParameterException", "The referenced task was not found.")
	}
	stopped := t.DesiredStatus != StatusStopped
	if stopped {
		f.stopLocked(t, "UserInitiated", in.Reason)
	}
	out := stopTaskResponse{Task: t.wire(true)}
	snap := t.clone()
	hook := f.OnStopTask
	f.mu.Unlock()
	if stopped && hook != nil {
		hook(snap)
	}
	return out, nil
}

func (f *Fake) stopLocked(t *Task, code, reason string) {
	t.DesiredStatus, t.LastStatus = StatusStopped, StatusStopped
	t.StopCode, t.StoppedReason = code, reason
	t.StoppedAt = f.opts.Clock()
}

func (f *Fake) listTasks(in listTasksRequest) (listTasksResponse, *apiError) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cluster, aerr := f.clusterLocked(in.Cluster)
	if aerr != nil {
		return listTasksResponse{}, aerr
	}
	desired := in.DesiredStatus
	if desired == "" {
		desired = StatusRunning
	}
	size := f.opts.PageSize
	if in.MaxResults > 0 && in.MaxResults < size {
		size = in.MaxResults
	}
	var arns []string
	for _, arn := range f.order {
		t := f.tasks[arn]
		if t.Cluster != cluster || (in.StartedBy != "" && t.StartedBy != in.StartedBy) {
			continue
		}
		// ECS lists a task under RUNNING until it is stopped (PENDING tasks included).
		if (desired == StatusStopped) != (t.DesiredStatus == StatusStopped) {
			continue
		}
		arns = append(arns, arn)
	}
	start := 0
	if in.NextToken != "" {
		n, err := strconv.Atoi(in.NextToken)
		if err != nil || n < 0 || n > len(arns) {
			return listTasksResponse{}, clientErr("InvalidParameterException", "invalid nextToken")
		}
		start = n
	}
	end := min(start+size, len(arns))
	out := listTasksResponse{TaskArns: append([]string{}, arns[start:end]...)}
	if end < len(arns) {
		out.NextToken = strconv.Itoa(end)
	}
	return out, nil
}

func (f *Fake) describeTasks(in describeTasksRequest) (describeTasksResponse, *apiError) {
	if len(in.Tasks) == 0 || len(in.Tasks) > maxDescribeTasks {
		return describeTasksResponse{}, clientErr("InvalidParameterException", "tasks must hold 1 to %d items", maxDescribeTasks)
	}
	withTags := slices.Contains(in.Include, "TAGS")
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, aerr := f.clusterLocked(in.Cluster); aerr != nil {
		return describeTasksResponse{}, aerr
	}
	out := describeTasksResponse{Tasks: []task{}, Failures: []failure{}}
	for _, id := range in.Tasks {
		t, ok := f.lookupLocked(id)
		if !ok {
			out.Failures = append(out.Failures, failure{Arn: id, Reason: "MISSING"})
			continue
		}
		out.Tasks = append(out.Tasks, t.wire(withTags))
	}
	return out, nil
}

func (f *Fake) describeTaskDefinition(in describeTaskDefinitionRequest) (describeTaskDefinitionResponse, *apiError) {
	f.mu.Lock()
	defer f.mu.Unlock()
	td, ok := f.taskDefLocked(in.TaskDefinition)
	if !ok {
		return describeTaskDefinitionResponse{}, clientErr("ClientException", "Unable to describe task definition.")
	}
	return describeTaskDefinitionResponse{TaskDefinition: td}, nil
}

func (f *Fake) clusterLocked(name string) (string, *apiError) {
	if name == "" {
		name = "default"
	}
	if i := strings.LastIndex(name, ":cluster/"); i >= 0 {
		name = name[i+len(":cluster/"):]
	}
	if !slices.Contains(f.opts.Clusters, name) {
		return "", clientErr("ClusterNotFoundException", "Cluster not found.")
	}
	return name, nil
}

// lookupLocked finds a task by ARN or by its ID (the ARN's last element).
func (f *Fake) lookupLocked(id string) (*Task, bool) {
	if t, ok := f.tasks[id]; ok {
		return t, true
	}
	for arn, t := range f.tasks {
		if strings.HasSuffix(arn, "/"+id) {
			return t, true
		}
	}
	return nil, false
}

// taskDefLocked resolves an ARN, family:revision, or family (the latest revision).
func (f *Fake) taskDefLocked(ref string) (taskDefinition, bool) {
	if td, ok := f.taskDefs[ref]; ok {
		return td, true
	}
	family, rev, hasRev := strings.Cut(ref, ":")
	var best taskDefinition
	found := false
	for _, td := range f.taskDefs {
		if td.Family != family {
			continue
		}
		if hasRev {
			if strconv.Itoa(td.Revision) == rev {
				return td, true
			}
			continue
		}
		if !found || td.Revision > best.Revision {
			best, found = td, true
		}
	}
	return best, found
}

func epoch(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}

// wire renders the task as DescribeTasks returns it; tags only when asked for (include TAGS).
func (t *Task) wire(withTags bool) task {
	out := task{
		TaskArn:              t.ARN,
		ClusterArn:           t.ARN[:strings.Index(t.ARN, ":task/")] + ":cluster/" + t.Cluster,
		TaskDefinitionArn:    t.TaskDefinitionARN,
		LastStatus:           t.LastStatus,
		DesiredStatus:        t.DesiredStatus,
		StartedBy:            t.StartedBy,
		Group:                t.Group,
		LaunchType:           t.LaunchType,
		CapacityProviderName: t.CapacityProvider,
		CPU:                  t.CPU,
		Memory:               t.Memory,
		CreatedAt:            epoch(t.CreatedAt),
		StoppedAt:            epoch(t.StoppedAt),
		StopCode:             t.StopCode,
		StoppedReason:        t.StoppedReason,
	}
	if t.LastStatus == StatusRunning || !t.StoppedAt.IsZero() {
		out.StartedAt = epoch(t.CreatedAt)
	}
	for _, name := range slices.Sorted(maps.Keys(t.Env)) {
		c := container{Name: name, LastStatus: t.LastStatus}
		if t.LastStatus == StatusStopped {
			c.ExitCode, c.Reason = t.ExitCode, t.ContainerReason
		}
		out.Containers = append(out.Containers, c)
	}
	if withTags {
		for _, k := range slices.Sorted(maps.Keys(t.Tags)) {
			out.Tags = append(out.Tags, tag{Key: k, Value: t.Tags[k]})
		}
	}
	return out
}
