package checks

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/adofleet/adofleet/internal/ado"
)

// The check's values, under the names ADO's default headers use (PlanUrl: $(system.CollectionUri),
// ProjectId: $(system.TeamProjectId), HubName: $(system.HostType), PlanId: $(system.PlanId),
// JobId: $(system.JobId), TimelineId: $(system.TimelineId), TaskInstanceId:
// $(system.TaskInstanceId), AuthToken: $(system.AccessToken)). They are read from the headers and
// from a JSON body with the same keys (case-insensitive); the body wins where both are set.
var fieldNames = []string{"PlanUrl", "ProjectId", "HubName", "PlanId", "JobId", "TimelineId", "TaskInstanceId", "AuthToken"}

// optional fields: TimelineId is not needed to post the event or the log, and Microsoft's list of
// what a check must send at minimum leaves it out.
var optionalFields = map[string]bool{"TimelineId": true}

// maxFieldLen bounds every value (a job token is about 1-2 KB).
const maxFieldLen = 8 << 10

// fieldErrors lists what is wrong with a check call; Missing and Malformed name fields, never values.
type fieldErrors struct {
	Missing   []string          `json:"missing,omitempty"`
	Malformed map[string]string `json:"malformed,omitempty"`
}

func (e *fieldErrors) any() bool { return len(e.Missing) > 0 || len(e.Malformed) > 0 }

func (e *fieldErrors) malformed(field, why string) {
	if e.Malformed == nil {
		e.Malformed = map[string]string{}
	}
	e.Malformed[field] = why
}

// parsePlan reads the plan reference from the call's headers and body. body may be empty.
func parsePlan(h http.Header, body []byte) (ado.PlanRef, *fieldErrors) {
	errs := &fieldErrors{}
	vals := map[string]string{}
	for _, f := range fieldNames {
		if v := h.Get(f); v != "" {
			vals[f] = v
		}
	}
	if trimmed := bytes.TrimSpace(body); len(trimmed) > 0 {
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(trimmed, &raw); err != nil {
			errs.malformed("body", "not a JSON object")
			return ado.PlanRef{}, errs
		}
		for k, v := range raw {
			f, ok := fieldName(k)
			if !ok {
				continue // other values a user templates in (BuildId, ...) are not ours
			}
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				errs.malformed(f, "not a JSON string")
				continue
			}
			if s != "" {
				vals[f] = s
			}
		}
	}
	for _, f := range fieldNames {
		v := strings.TrimSpace(vals[f])
		switch {
		case v == "" && optionalFields[f]:
		case v == "":
			errs.Missing = append(errs.Missing, f)
		case strings.HasPrefix(v, "$("):
			// ADO leaves a variable it does not know unexpanded.
			errs.malformed(f, "unexpanded pipeline variable: check the variable name in the check's headers or body")
		case len(v) > maxFieldLen:
			errs.malformed(f, "too long")
		case f == "PlanUrl":
			if u, err := url.Parse(v); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
				errs.malformed(f, "not an http(s) URL")
			}
		case f == "AuthToken":
			if strings.ContainsAny(v, "\r\n \t") {
				errs.malformed(f, "contains white space")
			}
		default:
			if strings.ContainsAny(v, "/?#\\%\r\n\t ") {
				errs.malformed(f, "not a single path segment")
			}
		}
		vals[f] = v
	}
	if errs.any() {
		return ado.PlanRef{}, errs
	}
	planURL := vals["PlanUrl"]
	if !strings.HasSuffix(planURL, "/") {
		planURL += "/" // system.CollectionUri ends with a slash; tolerate a template without it
	}
	return ado.PlanRef{
		PlanURL: planURL, ProjectID: vals["ProjectId"], HubName: vals["HubName"], PlanID: vals["PlanId"],
		JobID: vals["JobId"], TimelineID: vals["TimelineId"], TaskInstanceID: vals["TaskInstanceId"],
		AuthToken: vals["AuthToken"],
	}, nil
}

func fieldName(k string) (string, bool) {
	for _, f := range fieldNames {
		if strings.EqualFold(f, k) {
			return f, true
		}
	}
	return "", false
}
