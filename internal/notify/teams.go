package notify

import (
	"fmt"
)

// Teams workflow webhooks ("When a Teams webhook request is received" in Power Automate / the
// Workflows app) take a message whose attachments are Adaptive Cards; a message over about 28 KB
// fails with "request entity too large".
const (
	teamsMaxBytes         = 28 << 10
	adaptiveCardType      = "application/vnd.microsoft.card.adaptive"
	adaptiveCardVersion   = "1.4" // what Teams renders everywhere (desktop, web, mobile)
	adaptiveCardSchemaURL = "http://adaptivecards.io/schemas/adaptive-card.json"
)

type teamsPayload struct {
	Type        string            `json:"type"` // "message"
	Attachments []teamsAttachment `json:"attachments"`
}

type teamsAttachment struct {
	ContentType string       `json:"contentType"`
	ContentURL  *string      `json:"contentUrl"` // null, as the documented sample has it
	Content     adaptiveCard `json:"content"`
}

type adaptiveCard struct {
	Schema  string      `json:"$schema"`
	Type    string      `json:"type"` // "AdaptiveCard"
	Version string      `json:"version"`
	Body    []cardBlock `json:"body"`
	Actions []cardLink  `json:"actions,omitempty"`
	MSTeams *cardTeams  `json:"msteams,omitempty"`
}

// cardTeams widens the card to the channel's width: facts and long reasons stay readable.
type cardTeams struct {
	Width string `json:"width"`
}

// cardBlock is a TextBlock or a FactSet.
type cardBlock struct {
	Type     string     `json:"type"`
	Text     string     `json:"text,omitempty"`
	Wrap     bool       `json:"wrap,omitempty"`
	Size     string     `json:"size,omitempty"`
	Weight   string     `json:"weight,omitempty"`
	Color    string     `json:"color,omitempty"`
	IsSubtle bool       `json:"isSubtle,omitempty"`
	Facts    []cardFact `json:"facts,omitempty"`
}

type cardFact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

type cardLink struct {
	Type  string `json:"type"` // "Action.OpenUrl"
	Title string `json:"title"`
	URL   string `json:"url"`
}

// severityColor maps a severity (and a run's result) to a TextBlock color.
func severityColor(m Message) string {
	switch {
	case m.Severity == SeverityError:
		return "Attention"
	case m.Severity == SeverityWarning:
		return "Warning"
	case m.Type == RunCompleted && m.Event.Fields["result"] == "succeeded":
		return "Good"
	}
	return "Default"
}

// teamsBody renders m as a workflow-webhook payload with one Adaptive Card. If it is too large,
// the text is cut until it fits.
func teamsBody(m Message) ([]byte, error) {
	size := func(text string) int {
		b, _ := marshal(teamsMessage(m, text))
		return len(b)
	}
	b, err := marshal(teamsMessage(m, fit(m.Text, teamsMaxBytes, size)))
	if err != nil {
		return nil, fmt.Errorf("encode teams payload: %w", err)
	}
	return b, nil
}

func teamsMessage(m Message, text string) teamsPayload {
	card := adaptiveCard{
		Schema: adaptiveCardSchemaURL, Type: "AdaptiveCard", Version: adaptiveCardVersion,
		Body: []cardBlock{{
			Type: "TextBlock", Text: m.Title, Wrap: true, Size: "Large", Weight: "Bolder",
			Color: severityColor(m),
		}},
		MSTeams: &cardTeams{Width: "Full"},
	}
	if text != "" {
		card.Body = append(card.Body, cardBlock{Type: "TextBlock", Text: text, Wrap: true})
	}
	if len(m.Fields) > 0 {
		fs := cardBlock{Type: "FactSet"}
		for _, f := range m.Fields {
			fs.Facts = append(fs.Facts, cardFact{Title: f.Name, Value: f.Value})
		}
		card.Body = append(card.Body, fs)
	}
	card.Body = append(card.Body, cardBlock{Type: "TextBlock", Text: contextLine(m), Wrap: true, Size: "Small", IsSubtle: true})
	if m.URL != "" {
		card.Actions = []cardLink{{Type: "Action.OpenUrl", Title: linkLabel(m), URL: m.URL}}
	}
	return teamsPayload{Type: "message", Attachments: []teamsAttachment{{ContentType: adaptiveCardType, Content: card}}}
}
