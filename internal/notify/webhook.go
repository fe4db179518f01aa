package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Headers of a generic webhook delivery. The signature covers the timestamp and the body, so a
// captured delivery cannot be replayed later with a fresh timestamp; receivers reject timestamps
// outside a tolerance (5 minutes is usual) and may drop repeated delivery IDs.
const (
	HeaderSignature = "X-Adofleet-Signature" // "v1=" + hex(HMAC-SHA256(key, timestamp + "." + body))
	HeaderTimestamp = "X-Adofleet-Timestamp" // Unix seconds when the request was signed
	HeaderEvent     = "X-Adofleet-Event"     // the event type, e.g. run.completed
	HeaderDelivery  = "X-Adofleet-Delivery"  // the message ID, the same on every retry
	signatureScheme = "v1="
)

// WebhookPayload is the generic webhook's JSON body (version 1).
type WebhookPayload struct {
	Version  int               `json:"version"`
	Type     EventType         `json:"type"`
	Severity Severity          `json:"severity"`
	Time     time.Time         `json:"time"`
	Pool     string            `json:"pool,omitempty"`
	Summary  string            `json:"summary"`
	Fields   map[string]string `json:"fields,omitempty"`
	Title    string            `json:"title"`
	Text     string            `json:"text"`
	URL      string            `json:"url,omitempty"`
}

func webhookBody(m Message) ([]byte, error) {
	b, err := marshal(WebhookPayload{
		Version: 1, Type: m.Type, Severity: m.Severity, Time: m.Time.UTC(), Pool: m.Pool,
		Summary: m.Event.Summary, Fields: m.Event.Fields, Title: m.Title, Text: m.Text, URL: m.URL,
	})
	if err != nil {
		return nil, fmt.Errorf("encode webhook payload: %w", err)
	}
	return b, nil
}

// Sign returns the X-Adofleet-Signature value of body sent at ts.
func Sign(key []byte, ts time.Time, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(strconv.FormatInt(ts.Unix(), 10)))
	mac.Write([]byte("."))
	mac.Write(body)
	return signatureScheme + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a delivery as a receiver would: the timestamp header within tolerance of now,
// and the signature header equal (in constant time) to the HMAC of timestamp "." body.
func Verify(key []byte, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return errors.New("timestamp header is not Unix seconds")
	}
	ts := time.Unix(sec, 0)
	if d := now.Sub(ts); d > tolerance || d < -tolerance {
		return fmt.Errorf("timestamp %s is more than %s from now: a replay or a skewed clock", ts.UTC().Format(time.RFC3339), tolerance)
	}
	if !strings.HasPrefix(signature, signatureScheme) {
		return errors.New("signature header does not start with v1=")
	}
	if !hmac.Equal([]byte(Sign(key, ts, body)), []byte(signature)) {
		return errors.New("signature does not match")
	}
	return nil
}

// eventTypeOf reads the type member of a generic webhook payload, for the event header.
func eventTypeOf(payload []byte) string {
	var p struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(payload, &p)
	return p.Type
}
