package views

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
)

// render renders c and parses the result for queries by data-testid.
func render(t *testing.T, c templ.Component) (*goquery.Document, string) {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		t.Fatalf("render: %v", err)
	}
	html := buf.String()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(html))
	if err != nil {
		t.Fatalf("parse rendered HTML: %v", err)
	}
	return doc, html
}

// byID finds the elements with data-testid id.
func byID(doc *goquery.Document, id string) *goquery.Selection {
	return doc.Find(`[data-testid="` + id + `"]`)
}

// one returns the single element with data-testid id, failing otherwise.
func one(t *testing.T, doc *goquery.Document, id string) *goquery.Selection {
	t.Helper()
	s := byID(doc, id)
	if s.Length() != 1 {
		t.Fatalf("want one element with data-testid=%q, found %d", id, s.Length())
	}
	return s
}

// none fails if an element with data-testid id exists.
func none(t *testing.T, doc *goquery.Document, id string) {
	t.Helper()
	if n := byID(doc, id).Length(); n != 0 {
		t.Errorf("want no element with data-testid=%q, found %d", id, n)
	}
}

// text is the trimmed text of s with runs of ASCII white space (template
// indentation) folded to one space; the narrow no-break space of numbers
// stays.
func text(s *goquery.Selection) string {
	return strings.TrimSpace(asciiSpace.ReplaceAllString(s.Text(), " "))
}

var asciiSpace = regexp.MustCompile(`[ \t\r\n]+`)

func attr(t *testing.T, s *goquery.Selection, name string) string {
	t.Helper()
	v, ok := s.Attr(name)
	if !ok {
		h, _ := goquery.OuterHtml(s)
		t.Fatalf("attribute %q missing on %s", name, h)
	}
	return v
}

// hasAttr reports whether s has the attribute at all (for booleans).
func hasAttr(s *goquery.Selection, name string) bool {
	_, ok := s.Attr(name)
	return ok
}

// isFragment fails if html is a whole document: htmx answers are not.
func isFragment(t *testing.T, html string) {
	t.Helper()
	if strings.Contains(strings.ToLower(html), "<html") || strings.Contains(strings.ToLower(html), "<body") {
		t.Errorf("fragment renders a whole document:\n%s", html)
	}
}

var t0 = time.Date(2025, 11, 22, 14, 3, 7, 0, time.UTC)
