package adosim

import (
	"errors"
	"fmt"
	"net/http"
)

// Sentinel errors matched by errors.Is on the *Error the Org returns.
var (
	ErrNotFound = errors.New("adosim: not found")
	ErrConflict = errors.New("adosim: conflict")
	ErrInvalid  = errors.New("adosim: invalid request")
)

// Error is an ADO error: the HTTP status and the exception's type key and message that ADO puts
// in its JSON error body.
type Error struct {
	Status  int
	TypeKey string
	Message string
}

func (e *Error) Error() string { return e.TypeKey + ": " + e.Message }

// Is maps the status onto the sentinel errors.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrConflict:
		return e.Status == http.StatusConflict
	case ErrInvalid:
		return e.Status == http.StatusBadRequest
	}
	return false
}

func errf(status int, typeKey, format string, args ...any) *Error {
	return &Error{Status: status, TypeKey: typeKey, Message: fmt.Sprintf(format, args...)}
}

func errPoolNotFound(id any) *Error {
	return errf(http.StatusNotFound, "TaskAgentPoolNotFoundException", "Agent pool %v could not be found.", id)
}

func errAgentNotFound(poolID, agentID int) *Error {
	return errf(http.StatusNotFound, "TaskAgentNotFoundException", "No agent could be found with identifier %d in pool %d.", agentID, poolID)
}

func errAgentExists(name, pool string) *Error {
	return errf(http.StatusConflict, "TaskAgentExistsException", "An agent named %s already exists in the agent pool %s.", name, pool)
}

func errJobNotFound(id int64) *Error {
	return errf(http.StatusNotFound, "TaskAgentJobNotFoundException", "No job request found with identifier %d.", id)
}

func errSessionExpired(id string) *Error {
	return errf(http.StatusNotFound, "TaskAgentSessionExpiredException", "The session %s has expired or does not exist.", id)
}

func errBadRequest(format string, args ...any) *Error {
	return errf(http.StatusBadRequest, "ArgumentException", format, args...)
}

// typeNames gives the assembly-qualified type name ADO sends next to each type key.
func typeName(typeKey string) string {
	ns := "Microsoft.TeamFoundation.DistributedTask.WebApi"
	switch typeKey {
	case "ArgumentException", "ArgumentNullException":
		return "System." + typeKey + ", mscorlib"
	case "UnauthorizedRequestException":
		return "Microsoft.TeamFoundation.Framework.Server.UnauthorizedRequestException, Microsoft.TeamFoundation.Framework.Server"
	case "VssServiceException", "RequestBlockedException":
		return "Microsoft.VisualStudio.Services.WebApi." + typeKey + ", Microsoft.VisualStudio.Services.WebApi"
	}
	return ns + "." + typeKey + ", " + ns
}
