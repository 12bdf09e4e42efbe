package loadgen

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"html"
	"os"
	"strconv"
	"strings"

	"github.com/picpool/picpool/assets"
)

// WriteReport writes res as one self-contained HTML file at
// res.Config.Report (ECharts inlined: it opens offline, from anywhere)
// and every sample as CSV beside it; it returns the CSV's path.
func WriteReport(res *Result) (string, error) {
	page, err := reportHTML(res)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(res.Config.Report, page, 0o644); err != nil {
		return "", fmt.Errorf("loadgen: write the report: %w", err)
	}
	csvPath := strings.TrimSuffix(res.Config.Report, ".html") + ".csv"
	if strings.HasSuffix(res.Config.Report, ".HTML") {
		csvPath = strings.TrimSuffix(res.Config.Report, ".HTML") + ".csv"
	}
	if err := os.WriteFile(csvPath, reportCSV(res), 0o644); err != nil {
		return "", fmt.Errorf("loadgen: write the CSV: %w", err)
	}
	return csvPath, nil
}

func reportHTML(res *Result) ([]byte, error) {
	js, ok := assets.Content(assets.ECharts)
	if !ok {
		return nil, fmt.Errorf("loadgen: the embedded %s is missing", assets.ECharts)
	}
	cfg := res.Config
	var b bytes.Buffer
	b.WriteString("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n")
	fmt.Fprintf(&b, "<title>PicPool loadgen: %s</title>\n", html.EscapeString(cfg.Scenario))
	b.WriteString("<style>body{font:15px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1200px;padding:0 16px;color:#222}" +
		"pre{background:#f6f6f6;padding:12px;overflow-x:auto;font-size:13px}.container{margin:18px 0}" +
		"dl{display:grid;grid-template-columns:max-content auto;gap:2px 16px}dt{font-weight:600}</style>\n")
	// ECharts inlined, not linked: the file must open offline and anywhere.
	// A "</script" inside would end the element; the build has none, and
	// this keeps it so.
	b.WriteString("<script>")
	b.Write(bytes.ReplaceAll(js, []byte("</script"), []byte(`<\/script`)))
	b.WriteString("</script>\n</head><body>\n")
	fmt.Fprintf(&b, "<h1>PicPool load generator: %s</h1>\n<dl>\n", html.EscapeString(cfg.Scenario))
	for _, kv := range [][2]string{
		{"target", cfg.Target},
		{"started", res.Started.Format("2006-01-02 15:04:05 MST")},
		{"scenario", cfg.Scenario + ": " + scenarios[cfg.Scenario].summary},
		{"duration", cfg.Duration.String() + " in all"},
		{"concurrency", strconv.Itoa(cfg.Concurrency)},
		{"read:write", cfg.Ratio.String() + " (where the scenario does not set its own)"},
		{"keys", strconv.Itoa(cfg.Keys)},
		{"images", imagesText(res)},
	} {
		fmt.Fprintf(&b, "<dt>%s</dt><dd>%s</dd>\n", kv[0], html.EscapeString(kv[1]))
	}
	b.WriteString("</dl>\n")
	for _, c := range buildCharts(res) {
		b.WriteString(c.Snippet.Element)
		b.WriteString("\n")
		b.WriteString(c.Snippet.Script)
		b.WriteString("\n")
	}
	var tables bytes.Buffer
	WriteTables(&tables, res)
	b.WriteString("<h2>Tables</h2>\n<pre>")
	b.WriteString(html.EscapeString(tables.String()))
	b.WriteString("</pre>\n</body></html>\n")
	return b.Bytes(), nil
}

func imagesText(res *Result) string {
	if len(res.Images) == 0 {
		return ""
	}
	lo, hi := res.Images[0], res.Images[0]
	for _, n := range res.Images {
		lo, hi = min(lo, n), max(hi, n)
	}
	src := "generated noise PNG and JPEG"
	if res.Config.ImagesDir != "" {
		src = "from " + res.Config.ImagesDir
	}
	return fmt.Sprintf("%d distinct, %s, %d to %d bytes, shared among the keys", len(res.Images), src, lo, hi)
}

// reportCSV is every request of the run, one a row.
func reportCSV(res *Result) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"phase", "group", "series", "type", "start_s", "latency_ms", "status", "ok", "cache", "value", "error"})
	for _, p := range append([]PhaseResult{res.Seed}, res.Phases...) {
		for _, s := range p.Samples {
			value := ""
			if s.HasVal {
				value = strconv.FormatFloat(s.Value, 'g', -1, 64)
			}
			w.Write([]string{p.Name, p.Group, p.Series, s.Type,
				strconv.FormatFloat(s.At.Seconds(), 'f', 4, 64),
				strconv.FormatFloat(float64(s.Latency)/1e6, 'f', 3, 64),
				strconv.Itoa(s.Status), strconv.FormatBool(s.OK()), s.Cache, value, s.Err})
		}
	}
	w.Flush()
	return b.Bytes()
}
