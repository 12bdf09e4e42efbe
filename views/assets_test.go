package views

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"

	"github.com/picpool/picpool/assets"
)

// TestPagesLoadServedAssets checks that every script and stylesheet a page
// links is one that assets.Handler serves, and that no page loads anything
// from another host.
func TestPagesLoadServedAssets(t *testing.T) {
	h := assets.Handler()
	pages := map[string]templ.Component{
		"home": HomePage(Home{}), "upload": UploadPage(Upload{}), "show": ShowPage(Show{}), "keys": KeysPage(Keys{}),
		"login": LoginPage(Login{}), "config": ConfigPage(Config{}), "stats": StatsPage(sampleStats()),
	}
	for name, c := range pages {
		t.Run(name, func(t *testing.T) {
			doc, _ := render(t, c)
			var urls []string
			doc.Find("script[src], link[href]").Each(func(_ int, s *goquery.Selection) {
				if v, ok := s.Attr("src"); ok {
					urls = append(urls, v)
				}
				if v, ok := s.Attr("href"); ok {
					urls = append(urls, v)
				}
			})
			if len(urls) < 3 {
				t.Fatalf("found only %q: the page should load the CSS, htmx and site.js", urls)
			}
			for _, u := range urls {
				if !strings.HasPrefix(u, assets.Prefix) {
					t.Errorf("%q is not under %s", u, assets.Prefix)
					continue
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, u, nil))
				if rec.Code != http.StatusOK {
					t.Errorf("GET %s: status %d", u, rec.Code)
				}
				if got := rec.Header().Get("Cache-Control"); !strings.Contains(got, "immutable") {
					t.Errorf("GET %s: Cache-Control %q, want the versioned URL to be immutable", u, got)
				}
			}
		})
	}
}
