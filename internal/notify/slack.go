package notify

import (
	"fmt"
	"strings"
	"time"
)

// Slack Block Kit limits (docs.slack.dev, reference/block-kit): past them Slack rejects the whole
// message with invalid_blocks, so every text is cut to fit.
const (
	slackHeaderMax     = 150  // header block: plain_text
	slackSectionMax    = 3000 // section text
	slackFieldsMax     = 10   // section fields
	slackFieldMax      = 2000 // each field's text
	slackContextMax    = 10   // context elements
	slackButtonTextMax = 75
	slackButtonURLMax  = 3000
	slackFallbackMax   = 3000 // the top-level text shown in notifications; we keep it short
)

// slackEscape escapes the three characters Slack's mrkdwn reserves for links and mentions.
var slackEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// slackText is a Block Kit text object.
type slackText struct {
	Type  string `json:"type"` // plain_text or mrkdwn
	Text  string `json:"text"`
	Emoji *bool  `json:"emoji,omitempty"`
}

type slackBlock struct {
	Type     string         `json:"type"`
	Text     *slackText     `json:"text,omitempty"`
	Fields   []slackText    `json:"fields,omitempty"`
	Elements []slackElement `json:"elements,omitempty"`
}

// slackElement is a context element (a text object) or an actions element (a button).
type slackElement struct {
	Type     string `json:"type"`
	Text     any    `json:"text,omitempty"` // a string for context mrkdwn, a slackText for a button
	URL      string `json:"url,omitempty"`
	ActionID string `json:"action_id,omitempty"`
}

type slackPayload struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

// mrkdwn is an escaped mrkdwn text object within limit. The text is cut before escaping, so
// that no entity is split.
func mrkdwn(s string, limit int) slackText {
	s = fit(s, limit, func(s string) int { return len([]rune(slackEscape.Replace(s))) })
	return slackText{Type: "mrkdwn", Text: slackEscape.Replace(s)}
}

func plain(s string, limit int) *slackText {
	t := true
	return &slackText{Type: "plain_text", Text: truncate(s, limit), Emoji: &t}
}

// slackBody renders m as an incoming-webhook payload: a header, a section with the text and the
// fields, a context line, and a button to m.URL.
func slackBody(m Message) ([]byte, error) {
	p := slackPayload{
		// Shown in notifications and by clients that do not render blocks.
		Text:   mrkdwn(m.Title+": "+m.Text, slackFallbackMax).Text,
		Blocks: []slackBlock{{Type: "header", Text: plain(m.Title, slackHeaderMax)}},
	}
	sec := slackBlock{Type: "section"}
	if m.Text != "" {
		t := mrkdwn(m.Text, slackSectionMax)
		sec.Text = &t
	}
	for _, f := range m.Fields {
		if len(sec.Fields) == slackFieldsMax {
			break
		}
		name := "*" + slackEscape.Replace(f.Name) + "*\n"
		sec.Fields = append(sec.Fields, mrkdwn(f.Value, slackFieldMax-len([]rune(name))))
		sec.Fields[len(sec.Fields)-1].Text = name + sec.Fields[len(sec.Fields)-1].Text
	}
	if sec.Text != nil || len(sec.Fields) > 0 { // a section needs one of the two
		p.Blocks = append(p.Blocks, sec)
	}
	p.Blocks = append(p.Blocks, slackBlock{Type: "context", Elements: []slackElement{
		{Type: "mrkdwn", Text: mrkdwn(contextLine(m), slackSectionMax).Text},
	}})
	if m.URL != "" && len(m.URL) <= slackButtonURLMax {
		p.Blocks = append(p.Blocks, slackBlock{Type: "actions", Elements: []slackElement{{
			Type: "button", Text: plain(linkLabel(m), slackButtonTextMax), URL: m.URL, ActionID: "adofleet-open",
		}}})
	}
	b, err := marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode slack payload: %w", err)
	}
	return b, nil
}

// contextLine is the small print under a message: severity, type, pool and time.
func contextLine(m Message) string {
	parts := []string{strings.ToUpper(string(m.Severity)), string(m.Type)}
	if m.Pool != "" {
		parts = append(parts, "pool "+m.Pool)
	}
	parts = append(parts, m.Time.UTC().Format(time.RFC3339), "adofleet")
	return strings.Join(parts, " · ")
}

func linkLabel(m Message) string {
	if m.Type == RunCompleted || m.Type == RunStageFailed || m.Type == RunJobFailed {
		return "Open run"
	}
	return "Open"
}
