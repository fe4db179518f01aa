package servicehooks

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The ADO service-hook event types the endpoint understands. Any other type is acknowledged and
// ignored, so a subscription to more events than needed does not fail in ADO's history.
const (
	EventRunStateChanged   = "ms.vss-pipelines.run-state-changed-event"
	EventStageStateChanged = "ms.vss-pipelines.stage-state-changed-event"
	EventJobStateChanged   = "ms.vss-pipelines.job-state-changed-event"
	EventBuildComplete     = "build.complete"
)

// envelope is what every service-hook POST carries (the hooks REST spec's Event); resource is
// decoded per event type.
type envelope struct {
	ID                 string                       `json:"id"`
	EventType          string                       `json:"eventType"`
	PublisherID        string                       `json:"publisherId"`
	Resource           json.RawMessage              `json:"resource"`
	ResourceContainers map[string]resourceContainer `json:"resourceContainers"`
	CreatedDate        string                       `json:"createdDate"`
}

type resourceContainer struct {
	ID      string `json:"id"`
	BaseURL string `json:"baseUrl"`
}

type link struct {
	Href string `json:"href"`
}

// named is a reference whose name is what a notification shows (its id is a number for a
// definition and a GUID for a project, so it is not decoded).
type named struct {
	Name string `json:"name"`
}

type identity struct {
	DisplayName string `json:"displayName"`
	UniqueName  string `json:"uniqueName"`
}

// pipelineRef is resource.pipeline and resource.run.pipeline.
type pipelineRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	URL  string `json:"url"`
}

// repoResource is one entry of run.resources.repositories: the ref and commit the run used.
type repoResource struct {
	RefName string `json:"refName"`
	Version string `json:"version"`
}

// run is resource.run of the pipelines events (the Pipelines REST API's Run).
type run struct {
	ID           int64           `json:"id"`
	Name         string          `json:"name"`
	State        string          `json:"state"`
	Result       string          `json:"result"`
	CreatedDate  string          `json:"createdDate"`
	FinishedDate string          `json:"finishedDate"`
	URL          string          `json:"url"`
	Links        map[string]link `json:"_links"`
	Pipeline     *pipelineRef    `json:"pipeline"`
	Resources    *struct {
		Repositories map[string]repoResource `json:"repositories"`
	} `json:"resources"`
}

// node is resource.stage or resource.job.
type node struct {
	Name        string          `json:"name"`
	DisplayName string          `json:"displayName"`
	State       string          `json:"state"`
	Result      string          `json:"result"`
	StartTime   string          `json:"startTime"`
	FinishTime  string          `json:"finishTime"`
	Links       map[string]link `json:"_links"`
}

// repoChange is one entry of the job event's resource.repositories: the change that triggered it.
type repoChange struct {
	Type   string `json:"type"`
	Change struct {
		Author struct {
			Name string `json:"name"`
		} `json:"author"`
		Message string `json:"message"`
	} `json:"change"`
}

// pipelinesResource is resource of the three ms.vss-pipelines events.
type pipelinesResource struct {
	Run          *run         `json:"run"`
	Pipeline     *pipelineRef `json:"pipeline"`
	Stage        *node        `json:"stage"`
	Job          *node        `json:"job"`
	Repositories []repoChange `json:"repositories"`
	// Project is not in the documented samples but is sent by some organizations; used when present.
	Project *named `json:"project"`
}

// buildResource is resource of build.complete (the Build REST API's Build).
type buildResource struct {
	ID            int64           `json:"id"`
	BuildNumber   string          `json:"buildNumber"`
	Status        string          `json:"status"`
	Result        string          `json:"result"`
	StartTime     string          `json:"startTime"`
	FinishTime    string          `json:"finishTime"`
	URL           string          `json:"url"`
	Links         map[string]link `json:"_links"`
	SourceBranch  string          `json:"sourceBranch"`
	SourceVersion string          `json:"sourceVersion"`
	Definition    *named          `json:"definition"`
	Project       *named          `json:"project"`
	RequestedFor  *identity       `json:"requestedFor"`
	Requests      []struct {
		RequestedFor *identity `json:"requestedFor"`
	} `json:"requests"`
}

// fieldError is a malformed or missing field, named by its JSON path.
type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e *fieldError) Error() string { return e.Field + ": " + e.Message }

func missing(field string) error { return &fieldError{Field: field, Message: "required"} }

// decodeJSON decodes data into v, naming the field a type mismatch is at.
func decodeJSON(data []byte, v any, path string) error {
	err := json.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := path
		if te.Field != "" {
			field = path + "." + te.Field
		}
		return &fieldError{Field: strings.TrimPrefix(field, "."), Message: fmt.Sprintf("want a JSON %s, got %s", te.Type, te.Value)}
	}
	return &fieldError{Field: strings.TrimPrefix(path, ".") + "", Message: "not valid JSON: " + err.Error()}
}

// parseEnvelope decodes the body's envelope.
func parseEnvelope(body []byte) (envelope, error) {
	var env envelope
	if err := decodeJSON(body, &env, ""); err != nil {
		var fe *fieldError
		if errors.As(err, &fe) && fe.Field == "" {
			fe.Field = "body"
		}
		return env, err
	}
	if env.EventType == "" {
		return env, missing("eventType")
	}
	return env, nil
}

// parseTime reads an optional ISO 8601 date; "" is the zero time.
func parseTime(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		// ADO sometimes omits the zone on dates it stores as UTC.
		if t2, err2 := time.Parse("2006-01-02T15:04:05.9999999", v); err2 == nil {
			return t2.UTC(), nil
		}
		return time.Time{}, &fieldError{Field: field, Message: fmt.Sprintf("want an ISO 8601 date, got %q", v)}
	}
	return t, nil
}
