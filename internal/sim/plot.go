package sim

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
)

// Plot geometry, in SVG user units.
const (
	plotW, plotH             = 720, 480
	marginL, marginR         = 80, 30
	marginT, marginB         = 40, 60
	plotTicks                = 5
	pointRadius              = 5
	oracleLabel              = "oracle (lower bound)"
	plotTitle                = "Wait beyond the ideal launcher's (p95) against cost, per policy"
	axisX, axisY             = "cost (USD)", "p95 wait beyond ideal (s)"
	fontSize                 = 12
	textColor, axisColor     = "#222", "#888"
	pointColor, oracleColor  = "#1f77b4", "#2ca02c"
	ourColor                 = "#d62728"
	labelDX, labelDY         = 8, -6
	tickLen                  = 5
	minSpanCost, minSpanWait = 0.01, 1
)

// svg elements, written with encoding/xml so every label is escaped.
type svgDoc struct {
	XMLName xml.Name `xml:"svg"`
	NS      string   `xml:"xmlns,attr"`
	Width   int      `xml:"width,attr"`
	Height  int      `xml:"height,attr"`
	ViewBox string   `xml:"viewBox,attr"`
	Title   string   `xml:"title"`
	Items   []any
}

type svgLine struct {
	XMLName xml.Name   `xml:"line"`
	Attrs   []xml.Attr `xml:",any,attr"`
}

type svgText struct {
	XMLName xml.Name   `xml:"text"`
	Attrs   []xml.Attr `xml:",any,attr"`
	Text    string     `xml:",chardata"`
}

type svgCircle struct {
	XMLName xml.Name   `xml:"circle"`
	Attrs   []xml.Attr `xml:",any,attr"`
	Title   string     `xml:"title"`
}

func attrs(kv ...string) []xml.Attr {
	out := make([]xml.Attr, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, xml.Attr{Name: xml.Name{Local: kv[i]}, Value: kv[i+1]})
	}
	return out
}

func num(f float64) string { return fmt.Sprintf("%.1f", f) }

// PlotSVG draws one point per result (x: cost, y: p95 wait beyond the ideal launcher's) and the oracle, as a
// standalone SVG document. adofleet's own policies are drawn in red.
func PlotSVG(w io.Writer, results []Result) error {
	if len(results) == 0 {
		return fmt.Errorf("plot: no results")
	}
	oracle := results[0].Oracle
	maxCost, maxWait := oracle.Cost, 0.0
	for _, r := range results {
		maxCost = math.Max(maxCost, r.Cost)
		maxWait = math.Max(maxWait, r.WaitBeyondIdeal.P95)
	}
	maxCost = niceCeil(math.Max(maxCost, minSpanCost))
	maxWait = niceCeil(math.Max(maxWait, minSpanWait))
	x := func(c float64) float64 { return marginL + c/maxCost*(plotW-marginL-marginR) }
	y := func(s float64) float64 { return plotH - marginB - s/maxWait*(plotH-marginT-marginB) }

	doc := svgDoc{NS: "http://www.w3.org/2000/svg", Width: plotW, Height: plotH,
		ViewBox: fmt.Sprintf("0 0 %d %d", plotW, plotH), Title: plotTitle}
	line := func(x1, y1, x2, y2 float64, class string) {
		doc.Items = append(doc.Items, svgLine{Attrs: attrs("class", class, "x1", num(x1), "y1", num(y1),
			"x2", num(x2), "y2", num(y2), "stroke", axisColor)})
	}
	text := func(xx, yy float64, anchor, class, s string) {
		doc.Items = append(doc.Items, svgText{Attrs: attrs("class", class, "x", num(xx), "y", num(yy),
			"text-anchor", anchor, "font-size", fmt.Sprint(fontSize), "fill", textColor, "font-family", "sans-serif"), Text: s})
	}
	text(plotW/2, marginT/2, "middle", "title", plotTitle)
	line(marginL, plotH-marginB, plotW-marginR, plotH-marginB, "axis x")
	line(marginL, marginT, marginL, plotH-marginB, "axis y")
	for i := 0; i <= plotTicks; i++ {
		c := maxCost * float64(i) / plotTicks
		line(x(c), plotH-marginB, x(c), plotH-marginB+tickLen, "tick x")
		text(x(c), plotH-marginB+18, "middle", "tick-label x", fmt.Sprintf("%.2f", c))
		s := maxWait * float64(i) / plotTicks
		line(marginL-tickLen, y(s), marginL, y(s), "tick y")
		text(marginL-8, y(s)+4, "end", "tick-label y", fmt.Sprintf("%.0f", s))
	}
	text((plotW+marginL-marginR)/2, plotH-15, "middle", "axis-label x", axisX)
	doc.Items = append(doc.Items, svgText{Attrs: attrs("class", "axis-label y", "x", "0", "y", "0",
		"transform", fmt.Sprintf("translate(20 %s) rotate(-90)", num((plotH+marginT-marginB)/2)),
		"text-anchor", "middle", "font-size", fmt.Sprint(fontSize), "fill", textColor, "font-family", "sans-serif"), Text: axisY})

	point := func(cost, wait float64, color, name, tip string) {
		doc.Items = append(doc.Items, svgCircle{Attrs: attrs("class", "point", "data-policy", name,
			"cx", num(x(cost)), "cy", num(y(wait)), "r", fmt.Sprint(pointRadius), "fill", color), Title: tip})
		text(x(cost)+labelDX, y(wait)+labelDY, "start", "point-label", name)
	}
	point(oracle.Cost, 0, oracleColor, oracleLabel, fmt.Sprintf("oracle: $%.2f, no wait", oracle.Cost))
	for _, r := range results {
		color := pointColor
		if len(r.Policy) >= len(PolicyAdofleet) && r.Policy[:len(PolicyAdofleet)] == PolicyAdofleet {
			color = ourColor
		}
		point(r.Cost, r.WaitBeyondIdeal.P95, color, r.Policy,
			fmt.Sprintf("%s: $%.2f, p95 wait beyond ideal %.1fs", r.Policy, r.Cost, r.WaitBeyondIdeal.P95))
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", " ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("plot: encode SVG: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	return nil
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}
