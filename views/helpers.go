package views

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/a-h/templ"
)

// jsonBlock renders v as a JSON data block, <script type="application/json">,
// which browsers never run. encoding/json escapes "<", ">" and "&", so no
// value can end the element early, whatever text it carries.
func jsonBlock(id, testid string, v any) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("views: encode %s: %w", id, err)
		}
		if _, err := fmt.Fprintf(w, `<script type="application/json" id="%s" data-testid="%s">`,
			templ.EscapeString(id), templ.EscapeString(testid)); err != nil {
			return err
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
		_, err = io.WriteString(w, "</script>")
		return err
	})
}

// pageSet is the pager of the keys page: the current page, how many there
// are, and the page numbers to link, 0 standing for a gap ("…").
type pageSet struct {
	Current, Count int
	Numbers        []int
}

// pages computes the pager of m: the first and last page, and two on each
// side of the current one; a gap of one page shows that page instead.
func pages(m Keys) pageSet {
	count, total := 1, keysTotal(m)
	if m.PerPage > 0 && total > m.PerPage {
		count = (total + m.PerPage - 1) / m.PerPage
	}
	cur := max(1, m.Page)
	// A page past the end (a stale link after deletions) still gets a pager
	// that leads back.
	count = max(count, cur)
	p := pageSet{Current: cur, Count: count}
	last := 0
	for n := 1; n <= count; n++ {
		if n == 1 || n == count || (n >= cur-2 && n <= cur+2) {
			switch {
			case last != 0 && n == last+2:
				p.Numbers = append(p.Numbers, last+1) // a page is as short as "…"
			case last != 0 && n > last+2:
				p.Numbers = append(p.Numbers, 0)
			}
			p.Numbers = append(p.Numbers, n)
			last = n
		}
	}
	return p
}

// keysTotal is m.Total, or at least what the pages up to this one hold,
// so a handler that leaves Total unset does not print "0 keys" over a list.
func keysTotal(m Keys) int {
	shown := len(m.Items)
	if m.Page > 1 && m.PerPage > 0 {
		shown += (m.Page - 1) * m.PerPage
	}
	return max(m.Total, shown)
}

// rfc3339 is the machine-readable form of t for a <time> element.
func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339)
}

func (p Pool) minNodes() int {
	if p.MinNodes <= 0 {
		return 1
	}
	return p.MinNodes
}

func (p Pool) maxNodes() int {
	if p.MaxNodes <= 0 {
		return 8
	}
	return p.MaxNodes
}

// modeLabel names a sizing mode for people.
func modeLabel(mode string) string {
	switch mode {
	case ModeAuto:
		return "Automatic"
	case ModeManual:
		return "Manual"
	default:
		return mode
	}
}

// resizeValue is the resize field's value: what was typed, or the size.
func resizeValue(m Config) string {
	if m.Resize.NumNodes != "" {
		return m.Resize.NumNodes
	}
	return strconv.Itoa(m.Pool.Size)
}

// decisionChange writes a decision's effect, "2 → 4 nodes" or "held at 3
// nodes".
func decisionChange(d Decision) string {
	if d.From == d.To {
		return "held at " + plural(int64(d.To), "node")
	}
	return strconv.Itoa(d.From) + " → " + plural(int64(d.To), "node")
}

// flashKind is kind, or FlashInfo for an unknown one.
func flashKind(kind string) string {
	switch kind {
	case FlashSuccess, FlashError:
		return kind
	default:
		return FlashInfo
	}
}

func flashClass(kind string) string { return "flash-" + flashKind(kind) }

// flashRole makes errors interrupt a screen reader and the rest wait.
func flashRole(kind string) string {
	if flashKind(kind) == FlashError {
		return "alert"
	}
	return "status"
}
