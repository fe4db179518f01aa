package notify_test

import (
	"fmt"
	"net/url"
	"slices"
	"unicode/utf8"
)

// The checks below encode the documented shapes of the two chat payloads: Slack's Block Kit
// (docs.slack.dev reference/block-kit: blocks, composition objects, their limits) and the
// Adaptive Card message that Teams workflow webhooks take (learn.microsoft.com, "Create
// incoming webhooks with Workflows": a message whose attachments carry contentType
// application/vnd.microsoft.card.adaptive; adaptivecards.io schema 1.4 for the card). They are
// structural: required keys, types, enumerations and limits; they return every problem.

type problems []string

func (p *problems) add(path, format string, args ...any) {
	*p = append(*p, path+": "+fmt.Sprintf(format, args...))
}

func obj(p *problems, path string, v any) map[string]any {
	m, ok := v.(map[string]any)
	if !ok {
		p.add(path, "want an object, got %T", v)
	}
	return m
}

func str(p *problems, path string, m map[string]any, key string, required bool, max int) (string, bool) {
	v, ok := m[key]
	if !ok {
		if required {
			p.add(path+"."+key, "required")
		}
		return "", false
	}
	s, ok := v.(string)
	if !ok {
		p.add(path+"."+key, "want a string, got %T", v)
		return "", false
	}
	if max > 0 && utf8.RuneCountInString(s) > max {
		p.add(path+"."+key, "%d characters, limit %d", utf8.RuneCountInString(s), max)
	}
	return s, true
}

func arr(p *problems, path string, m map[string]any, key string, required bool, min, max int) []any {
	v, ok := m[key]
	if !ok {
		if required {
			p.add(path+"."+key, "required")
		}
		return nil
	}
	a, ok := v.([]any)
	if !ok {
		p.add(path+"."+key, "want an array, got %T", v)
		return nil
	}
	if len(a) < min || (max > 0 && len(a) > max) {
		p.add(path+"."+key, "%d items, want %d to %d", len(a), min, max)
	}
	return a
}

func onlyKeys(p *problems, path string, m map[string]any, keys ...string) {
	for k := range m {
		if !slices.Contains(keys, k) {
			p.add(path+"."+k, "not a documented property")
		}
	}
}

// slackTextObj checks a composition text object.
func slackTextObj(p *problems, path string, v any, types []string, max int) {
	m := obj(p, path, v)
	if m == nil {
		return
	}
	onlyKeys(p, path, m, "type", "text", "emoji", "verbatim")
	if t, _ := str(p, path, m, "type", true, 0); !slices.Contains(types, t) {
		p.add(path+".type", "%q, want one of %v", t, types)
	}
	if s, ok := str(p, path, m, "text", true, max); ok && s == "" {
		p.add(path+".text", "must not be empty")
	}
	if e, ok := m["emoji"]; ok {
		if _, isBool := e.(bool); !isBool || m["type"] != "plain_text" {
			p.add(path+".emoji", "a boolean, on plain_text only")
		}
	}
}

// checkSlack validates an incoming-webhook message with blocks.
func checkSlack(doc any) problems {
	var p problems
	m := obj(&p, "$", doc)
	if m == nil {
		return p
	}
	onlyKeys(&p, "$", m, "text", "blocks")
	str(&p, "$", m, "text", true, 40000)
	blocks := arr(&p, "$", m, "blocks", true, 1, 50)
	for i, b := range blocks {
		path := fmt.Sprintf("$.blocks[%d]", i)
		bm := obj(&p, path, b)
		if bm == nil {
			continue
		}
		typ, _ := str(&p, path, bm, "type", true, 0)
		str(&p, path, bm, "block_id", false, 255)
		switch typ {
		case "header":
			onlyKeys(&p, path, bm, "type", "text", "block_id")
			slackTextObj(&p, path+".text", bm["text"], []string{"plain_text"}, 150)
		case "section":
			onlyKeys(&p, path, bm, "type", "text", "fields", "accessory", "block_id")
			_, hasText := bm["text"]
			fields := arr(&p, path, bm, "fields", false, 1, 10)
			if !hasText && fields == nil {
				p.add(path, "a section needs text or fields")
			}
			if hasText {
				slackTextObj(&p, path+".text", bm["text"], []string{"plain_text", "mrkdwn"}, 3000)
			}
			for j, f := range fields {
				slackTextObj(&p, fmt.Sprintf("%s.fields[%d]", path, j), f, []string{"plain_text", "mrkdwn"}, 2000)
			}
		case "context":
			onlyKeys(&p, path, bm, "type", "elements", "block_id")
			for j, e := range arr(&p, path, bm, "elements", true, 1, 10) {
				slackTextObj(&p, fmt.Sprintf("%s.elements[%d]", path, j), e, []string{"plain_text", "mrkdwn"}, 3000)
			}
		case "actions":
			onlyKeys(&p, path, bm, "type", "elements", "block_id")
			for j, e := range arr(&p, path, bm, "elements", true, 1, 25) {
				checkSlackButton(&p, fmt.Sprintf("%s.elements[%d]", path, j), e)
			}
		default:
			p.add(path+".type", "%q is not a block this payload should use", typ)
		}
	}
	return p
}

func checkSlackButton(p *problems, path string, v any) {
	m := obj(p, path, v)
	if m == nil {
		return
	}
	onlyKeys(p, path, m, "type", "text", "action_id", "url", "value", "style")
	if t, _ := str(p, path, m, "type", true, 0); t != "button" {
		p.add(path+".type", "%q, want button", t)
	}
	slackTextObj(p, path+".text", m["text"], []string{"plain_text"}, 75)
	str(p, path, m, "action_id", false, 255)
	if u, ok := str(p, path, m, "url", false, 3000); ok {
		if pu, err := url.Parse(u); err != nil || pu.Scheme == "" {
			p.add(path+".url", "not an absolute URL")
		}
	}
}

var cardColors = []string{"Default", "Dark", "Light", "Accent", "Good", "Warning", "Attention"}

// checkTeams validates a workflow-webhook message with Adaptive Card attachments.
func checkTeams(doc any, raw int) problems {
	var p problems
	if raw > 28<<10 {
		p.add("$", "%d bytes, over the 28 KB message limit", raw)
	}
	m := obj(&p, "$", doc)
	if m == nil {
		return p
	}
	onlyKeys(&p, "$", m, "type", "attachments")
	if t, _ := str(&p, "$", m, "type", true, 0); t != "message" {
		p.add("$.type", "%q, want message", t)
	}
	for i, a := range arr(&p, "$", m, "attachments", true, 1, 0) {
		path := fmt.Sprintf("$.attachments[%d]", i)
		am := obj(&p, path, a)
		if am == nil {
			continue
		}
		onlyKeys(&p, path, am, "contentType", "contentUrl", "content")
		if ct, _ := str(&p, path, am, "contentType", true, 0); ct != "application/vnd.microsoft.card.adaptive" {
			p.add(path+".contentType", "%q", ct)
		}
		if cu, ok := am["contentUrl"]; ok && cu != nil {
			p.add(path+".contentUrl", "want null")
		}
		checkCard(&p, path+".content", am["content"])
	}
	return p
}

func checkCard(p *problems, path string, v any) {
	m := obj(p, path, v)
	if m == nil {
		return
	}
	onlyKeys(p, path, m, "$schema", "type", "version", "body", "actions", "msteams")
	if t, _ := str(p, path, m, "type", true, 0); t != "AdaptiveCard" {
		p.add(path+".type", "%q, want AdaptiveCard", t)
	}
	if ver, _ := str(p, path, m, "version", true, 0); !slices.Contains([]string{"1.0", "1.1", "1.2", "1.3", "1.4"}, ver) {
		p.add(path+".version", "%q: Teams renders up to 1.4 on every client", ver)
	}
	for i, b := range arr(p, path, m, "body", true, 1, 0) {
		bp := fmt.Sprintf("%s.body[%d]", path, i)
		bm := obj(p, bp, b)
		if bm == nil {
			continue
		}
		switch t, _ := str(p, bp, bm, "type", true, 0); t {
		case "TextBlock":
			onlyKeys(p, bp, bm, "type", "text", "wrap", "size", "weight", "color", "isSubtle")
			if s, _ := str(p, bp, bm, "text", true, 0); s == "" {
				p.add(bp+".text", "must not be empty")
			}
			if s, ok := str(p, bp, bm, "size", false, 0); ok && !slices.Contains([]string{"Default", "Small", "Medium", "Large", "ExtraLarge"}, s) {
				p.add(bp+".size", "%q", s)
			}
			if s, ok := str(p, bp, bm, "weight", false, 0); ok && !slices.Contains([]string{"Default", "Lighter", "Bolder"}, s) {
				p.add(bp+".weight", "%q", s)
			}
			if s, ok := str(p, bp, bm, "color", false, 0); ok && !slices.Contains(cardColors, s) {
				p.add(bp+".color", "%q", s)
			}
		case "FactSet":
			onlyKeys(p, bp, bm, "type", "facts")
			for j, f := range arr(p, bp, bm, "facts", true, 1, 0) {
				fp := fmt.Sprintf("%s.facts[%d]", bp, j)
				if fm := obj(p, fp, f); fm != nil {
					onlyKeys(p, fp, fm, "title", "value")
					str(p, fp, fm, "title", true, 0)
					str(p, fp, fm, "value", true, 0)
				}
			}
		default:
			p.add(bp+".type", "%q is not an element this payload should use", t)
		}
	}
	for i, a := range arr(p, path, m, "actions", false, 1, 0) {
		ap := fmt.Sprintf("%s.actions[%d]", path, i)
		if am := obj(p, ap, a); am != nil {
			onlyKeys(p, ap, am, "type", "title", "url")
			if t, _ := str(p, ap, am, "type", true, 0); t != "Action.OpenUrl" {
				p.add(ap+".type", "%q, want Action.OpenUrl", t)
			}
			str(p, ap, am, "title", true, 0)
			if u, _ := str(p, ap, am, "url", true, 0); u == "" {
				p.add(ap+".url", "must not be empty")
			}
		}
	}
	if t, ok := m["msteams"]; ok {
		if tm := obj(p, path+".msteams", t); tm != nil {
			if w, _ := str(p, path+".msteams", tm, "width", false, 0); w != "Full" {
				p.add(path+".msteams.width", "%q, want Full", w)
			}
		}
	}
}
