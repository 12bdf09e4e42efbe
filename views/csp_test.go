package views

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
)

// TestPagesRunNoInlineCode: the server's content security policy allows
// scripts and styles only from /assets (no 'unsafe-inline', no nonces),
// so no page or fragment may carry inline code: a <script> other than a
// JSON data block, a <style>, an on* attribute, a style attribute or a
// javascript: URL would be refused by the browser.
func TestPagesRunNoInlineCode(t *testing.T) {
	img := Image{Key: "k<1>", ContentType: "image/png", Size: 1234, Version: 2, Updated: t0}
	upload := Upload{MaxBytes: 10 << 20, Key: "k", KeyError: "bad key", FileError: "bad file", Error: "down", Saved: true, Image: img}
	keys := Keys{Prefix: "k", Items: []Image{img, img}, Page: 2, PerPage: 1, Total: 5}
	pages := map[string]templ.Component{
		"home":          HomePage(Home{Images: 3, Nodes: 2, ManagerURL: "http://localhost:5001/"}),
		"upload":        UploadPage(upload),
		"upload result": UploadResult(upload),
		"show":          ShowPage(Show{Key: "k", Found: true, Image: img, CacheHit: true, Latency: time.Millisecond}),
		"show error":    ShowPage(Show{Key: "k", Error: "down"}),
		"keys":          KeysPage(keys),
		"key list":      KeyList(keys),
		"keys error":    KeysPage(Keys{Error: "down"}),
		"login":         LoginPage(Login{Error: "Wrong password."}),
		"login limited": LoginPage(Login{RetryAfter: 30 * time.Second}),
		"config":        ConfigPage(sampleConfig()),
		"config panel":  ConfigPanel(sampleConfig()),
		"stats":         StatsPage(sampleStats()),
		"stats live":    StatsLive(sampleStats()),
	}
	for name, c := range pages {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := c.Render(context.Background(), &buf); err != nil {
				t.Fatalf("render: %v", err)
			}
			doc, err := goquery.NewDocumentFromReader(&buf)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			for _, problem := range inlineCode(doc) {
				t.Error(problem)
			}
		})
	}
}

// inlineCode lists what in the document a strict policy would refuse.
func inlineCode(doc *goquery.Document) []string {
	var problems []string
	for _, n := range doc.Find("*").Nodes {
		attrs := map[string]string{}
		for _, a := range n.Attr {
			attrs[strings.ToLower(a.Key)] = a.Val
			switch key := strings.ToLower(a.Key); {
			case strings.HasPrefix(key, "on"):
				problems = append(problems, "<"+n.Data+"> has an event handler attribute "+a.Key)
			case key == "style":
				problems = append(problems, "<"+n.Data+"> has a style attribute")
			case key == "href" || key == "src" || key == "action" || key == "formaction":
				if strings.HasPrefix(strings.ToLower(strings.TrimSpace(a.Val)), "javascript:") {
					problems = append(problems, "<"+n.Data+"> has a javascript: URL")
				}
			case strings.HasPrefix(key, "hx-on"):
				problems = append(problems, "<"+n.Data+"> has "+a.Key+", which htmx evaluates")
			}
		}
		switch n.Data {
		case "style":
			problems = append(problems, "a <style> element")
		case "script":
			if _, ok := attrs["src"]; !ok && attrs["type"] != "application/json" {
				problems = append(problems, "an inline <script> (type "+attrs["type"]+")")
			}
		}
	}
	return problems
}

// TestInlineCodeFinds: the check above finds each kind of inline code.
func TestInlineCodeFinds(t *testing.T) {
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(`<script>alert(1)</script><script type="application/json">{}</script>` +
		`<script src="/assets/x.js"></script><style>p{}</style><p style="color:red" onclick="x()"></p>` +
		`<a href=" JavaScript:x()"></a><div hx-on:click="x()"></div>`))
	if err != nil {
		t.Fatal(err)
	}
	if got := inlineCode(doc); len(got) != 6 {
		t.Errorf("found %d problems, want 6: %q", len(got), got)
	}
}

// TestChartTooltipInCanvas: the charts' tooltips are drawn in the canvas;
// ECharts' HTML tooltip would write style attributes the policy refuses.
func TestChartTooltipInCanvas(t *testing.T) {
	b, err := json.Marshal(chartOption(sampleStats(), 0))
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		Tooltip struct {
			Show       bool   `json:"show"`
			Trigger    string `json:"trigger"`
			RenderMode string `json:"renderMode"`
		} `json:"tooltip"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatal(err)
	}
	if !o.Tooltip.Show || o.Tooltip.Trigger != "axis" || o.Tooltip.RenderMode != "richText" {
		t.Errorf("tooltip %+v: want shown, on the axis, in richText", o.Tooltip)
	}
}
