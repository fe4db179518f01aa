package ado

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Sentinel errors, matched with errors.Is against an *Error (or a wrapped one).
var (
	// ErrNotFound: ADO answered 404, or a lookup by name (FindPool) found nothing.
	ErrNotFound = errors.New("not found")
	// ErrUnauthorized: ADO answered 401, or 203 / a 2xx HTML sign-in page, which is how it
	// answers a bad or expired PAT.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrThrottled: ADO answered 429 and the retries ran out (or were not allowed).
	ErrThrottled = errors.New("throttled")
)

// Error is a failed ADO call: which call, the HTTP method, the status and ADO's own message.
type Error struct {
	Call    string // what was being done, e.g. "disable agent 12 in pool 3"
	Method  string // HTTP method
	Status  int    // HTTP status code
	Message string // ADO's JSON "message", or a short description when there is none
	TypeKey string // ADO's JSON "typeKey", e.g. "TaskAgentPoolNotFoundException"
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("ado: ")
	b.WriteString(e.Call)
	fmt.Fprintf(&b, ": %d %s", e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Is maps status codes onto the sentinel errors.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized || e.Status == http.StatusNonAuthoritativeInfo
	case ErrThrottled:
		return e.Status == http.StatusTooManyRequests
	}
	return false
}

// maxMessage bounds how much of a non-JSON error body ends up in an error string.
const maxMessage = 300

// newError builds the *Error for a response that was not a success. The body is ADO's
// WrappedException JSON ({"message": ..., "typeKey": ...}) when it has one; an HTML sign-in page
// or plain text is summarised instead of copied whole. secrets are scrubbed from the message.
func newError(call, method string, status int, contentType string, body []byte, secrets ...string) *Error {
	e := &Error{Call: call, Method: method, Status: status}
	var wire struct {
		Message string `json:"message"`
		TypeKey string `json:"typeKey"`
	}
	switch {
	case isHTML(contentType, body):
		e.Message = htmlMessage(status, body)
	case json.Unmarshal(body, &wire) == nil && (wire.Message != "" || wire.TypeKey != ""):
		e.Message, e.TypeKey = wire.Message, wire.TypeKey
	default:
		e.Message = strings.TrimSpace(string(body))
	}
	// Redact before cutting: a cut through a credential would leave its prefix unredacted. ADO's
	// own message is bounded too: a proxy's JSON can hold anything.
	e.Message = truncate(redact(e.Message, secrets...), maxMessage)
	e.TypeKey = truncate(redact(e.TypeKey, secrets...), maxMessage)
	return e
}

// truncate cuts s to at most n runes, marking the cut with "...", never inside a rune.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i, runes := 0, 0
	for i < len(s) && runes < n {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		runes++
	}
	if i == len(s) {
		return s
	}
	return s[:i] + "..."
}

// htmlMessage describes an HTML answer. ADO answers a credential it does not accept with its
// sign-in page (203, a 2xx after the redirect, or 401); any other HTML comes from something in
// between, such as a gateway's 502 page, and is named by its title rather than blamed on the PAT.
func htmlMessage(status int, body []byte) string {
	if status < 300 || status == http.StatusUnauthorized {
		return "ADO returned an HTML sign-in page: the PAT or token is invalid, expired or lacks the scope"
	}
	if title := htmlTitle(body); title != "" {
		return fmt.Sprintf("the answer is an HTML page titled %q, not ADO's JSON (a proxy or gateway in the way?)", title)
	}
	return "the answer is an HTML page, not ADO's JSON (a proxy or gateway in the way?)"
}

// htmlTitle returns the text of the page's <title>, whitespace collapsed and bounded, or "".
func htmlTitle(body []byte) string {
	lower := strings.ToLower(string(body[:min(len(body), 4096)]))
	start := strings.Index(lower, "<title")
	if start < 0 {
		return ""
	}
	open := strings.IndexByte(lower[start:], '>')
	if open < 0 {
		return ""
	}
	from := start + open + 1
	end := strings.Index(lower[from:], "</title")
	if end < 0 {
		return ""
	}
	title := strings.Join(strings.Fields(string(body[from:from+end])), " ")
	if r := []rune(title); len(r) > 100 {
		title = string(r[:100]) + "..."
	}
	return title
}

// isHTML reports whether a response is a web page rather than the JSON the API speaks.
func isHTML(contentType string, body []byte) bool {
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(contentType)), "text/html") {
		return true
	}
	head := strings.ToLower(strings.TrimSpace(string(body[:min(len(body), 64)])))
	return strings.HasPrefix(head, "<!doctype html") || strings.HasPrefix(head, "<html")
}

// redact removes every non-empty secret from s. ADO does not echo credentials, but a proxy or a
// misconfigured server might; the credential must never reach an error or a log.
func redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[REDACTED]")
		}
	}
	return s
}
