package webhookauth

import (
	"errors"
	"fmt"
	"io"
	"net/http"
)

// Outcomes of a refused body, as the endpoints label them in their request metrics.
const (
	OutcomeTooLarge   = "too_large"
	OutcomeBadRequest = "bad_request"
)

// BodyError is why ReadBody refused a body. Its message is safe to send back to the caller: it
// says what went wrong, not what the body held.
type BodyError struct {
	Status  int    // http.StatusRequestEntityTooLarge or http.StatusBadRequest
	Outcome string // OutcomeTooLarge or OutcomeBadRequest
	msg     string
	err     error
}

func (e *BodyError) Error() string { return e.msg }
func (e *BodyError) Unwrap() error { return e.err }

// ReadBody reads r's body, at most limit bytes; past that the connection is closed after the
// answer (http.MaxBytesReader), so a caller cannot make the server read without end. It returns
// a *BodyError, not error, so that the caller can answer with its Status and Outcome directly;
// compare it with nil before handing it on as an error.
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, *BodyError) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err == nil {
		return body, nil
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, &BodyError{Status: http.StatusRequestEntityTooLarge, Outcome: OutcomeTooLarge,
			msg: fmt.Sprintf("body is larger than %d bytes", limit), err: err}
	}
	return nil, &BodyError{Status: http.StatusBadRequest, Outcome: OutcomeBadRequest, msg: "could not read the body", err: err}
}
