package handlers

import (
	"bytes"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/picpool/picpool/internal/testimg"

	"github.com/PuerkitoBio/goquery"

	"github.com/picpool/picpool/views"
)

// linkKeys are keys whose links a browser could rewrite: dots, the
// characters that end a path or start an escape, backslashes, and
// percent-encoded dots (which the WHATWG URL standard reads as dots).
// refused is the upload's message for the two keys no link can carry.
var linkKeys = []struct{ name, key, refused string }{
	{"one dot", ".", dotsRefused},
	{"two dots", "..", dotsRefused},
	{"three dots", "...", ""},
	{"four dots", "....", ""},
	{"leading dot", ".a", ""},
	{"trailing dot", "a.", ""},
	{"dot then dots", "..a..", ""},
	{"escaped dot", "%2e", ""},
	{"escaped dots", "%2E%2e", ""},
	{"dot and escaped dot", ".%2e", ""},
	{"escaped dot and dot", "%2e.", ""},
	{"question mark", "?", ""},
	{"hash", "#", ""},
	{"percent", "%", ""},
	{"escaped percent", "%25", ""},
	{"broken escape", "%zz", ""},
	{"query and fragment", "a?b#c", ""},
	{"backslash", `\`, ""},
	{"dots and backslash", `..\`, ""},
	{"backslash and dots", `\..`, ""},
	{"dot backslash dot", `.\.`, ""},
	{"inner space", "a b", ""},
	{"plus", "+", ""},
	{"ampersand and equals", "a&b=c", ""},
	{"semicolon", ";", ""},
	{"colon", ":", ""},
	{"scheme-like", "http:x", ""},
	{"javascript-like", "javascript:alert(1)", ""},
	{"at", "@", ""},
	{"tilde", "~", ""},
	{"brackets", "[]", ""},
	{"angle brackets and quotes", `<"'>`, ""},
	{"backtick, braces, pipe, caret", "`{|}^", ""},
	{"sub-delims", "!$&'()*+,;=", ""},
	{"non-ASCII", "é", ""},
	{"flag", "🇨🇦", ""},
}

const dotsRefused = `The key cannot be "." or "..": a browser reads them as folders in the image's address. Please choose another key.`

// TestLinksRoundTrip: every link the gallery writes for a key (the show
// page's and the Keys page's), resolved as a browser resolves it, reaches
// that very key through the real router; the keys no link can carry are
// refused at upload.
func TestLinksRoundTrip(t *testing.T) {
	f := newFixture(t, setup{})
	srv := f.galleryServer(t, openAPI)
	images := map[string][]byte{}
	for i, tt := range linkKeys {
		data := testimg.PNG(t, 1+i, 1) // a different image per key, so a mix-up shows
		r := upload(t, srv.URL, "/api/upload", tt.key, data)
		if tt.refused != "" {
			checkAPIError(t, r, http.StatusBadRequest, tt.refused)
			continue
		}
		checkJSON(t, r, http.StatusOK, okKey(tt.key))
		images[tt.key] = data
	}
	base := mustParseURL(t, srv.URL+"/keys")
	for _, tt := range linkKeys {
		if tt.refused != "" {
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			// The show page, from its link, and its image.
			show := followLink(t, base, views.ShowURL(tt.key))
			doc := checkHTML(t, show.result, true)
			if got := byTestID(doc, "show-image-key").Text(); got != tt.key {
				t.Errorf("the show page shows key %q, want %q", got, tt.key)
			}
			src, _ := byTestID(doc, "show-image").Attr("src")
			checkRenditionLink(t, show.url, src, images[tt.key])
			orig, _ := byTestID(doc, "show-original").Attr("href")
			checkImageLink(t, show.url, orig, images[tt.key])

			// The Keys page filtered by the key, its card's links.
			keys := followLink(t, base, views.KeysURL(tt.key, 1))
			card := cardOf(checkHTML(t, keys.result, true), tt.key)
			if card == nil {
				t.Fatalf("the Keys page for prefix %q has no card for the key", tt.key)
			}
			href, _ := card.Find(`[data-testid="key-link"]`).Attr("href")
			linked := followLink(t, keys.url, href)
			if got := byTestID(checkHTML(t, linked.result, true), "show-image-key").Text(); got != tt.key {
				t.Errorf("the card's link shows key %q, want %q", got, tt.key)
			}
			thumb, _ := card.Find(`[data-testid="key-thumb"]`).Attr("src")
			checkRenditionLink(t, keys.url, thumb, images[tt.key])
		})
	}
}

// cardOf returns the Keys page's card of key, or nil.
func cardOf(doc *goquery.Document, key string) *goquery.Selection {
	var card *goquery.Selection
	byTestID(doc, "key-item").Each(func(_ int, s *goquery.Selection) {
		if k, _ := s.Attr("data-key"); k == key {
			card = s
		}
	})
	return card
}

// checkImageLink follows an image's src from the page at from and wants
// the image's bytes.
func checkImageLink(t *testing.T, from *url.URL, src string, want []byte) {
	t.Helper()
	got := followLink(t, from, src)
	if got.status != http.StatusOK || !bytes.Equal(got.body, want) {
		t.Errorf("image %q (from %s): status %d, %d bytes; want 200 and the key's %d bytes", src, got.url, got.status, len(got.body), len(want))
	}
}

// checkRenditionLink checks that src is a rendition of the key's image:
// these small images are never enlarged, so it has the original's size.
func checkRenditionLink(t *testing.T, from *url.URL, src string, original []byte) {
	t.Helper()
	got := followLink(t, from, src)
	want, _, err := image.DecodeConfig(bytes.NewReader(original))
	if err != nil {
		t.Fatal(err)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(got.body))
	if got.status != http.StatusOK || err != nil || cfg.Width != want.Width || cfg.Height != want.Height {
		t.Errorf("image %q (from %s): status %d, %v, %dx%d; want 200 and a %dx%d rendition", src, got.url, got.status, err, cfg.Width, cfg.Height, want.Width, want.Height)
	}
}

// followed is a followed link: where the browser went, and the answer.
type followed struct {
	url *url.URL
	result
}

// followLink resolves href against the page at base as a browser does,
// checks that the browser keeps the path the link wrote (no dot segment
// removed, no backslash turned into a slash), and GETs it.
func followLink(t *testing.T, base *url.URL, href string) followed {
	t.Helper()
	u := browserResolve(t, base, href)
	if want := strings.SplitN(strings.SplitN(href, "#", 2)[0], "?", 2)[0]; u.EscapedPath() != want {
		t.Errorf("a browser turns the link %q into the path %q", href, u.EscapedPath())
	}
	return followed{u, get(t, u.String())}
}

// browserResolve resolves href against base the way a browser's URL
// parser (the WHATWG URL standard) does for an http URL: net/url's
// ResolveReference removes the dot segments of RFC 3986, and before it
// this strips what browsers strip (surrounding spaces and controls, tabs
// and newlines anywhere), reads "\" as "/", and reads the percent-encoded
// dot segments %2e, .%2e, %2e. and %2e%2e (any case) as "." and "..".
func browserResolve(t *testing.T, base *url.URL, href string) *url.URL {
	t.Helper()
	href = strings.TrimFunc(href, func(r rune) bool { return r <= ' ' })
	href = strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(href)
	end := strings.IndexAny(href, "?#")
	if end < 0 {
		end = len(href)
	}
	segments := strings.Split(strings.ReplaceAll(href[:end], `\`, "/"), "/")
	for i, s := range segments {
		switch strings.ToLower(s) {
		case "%2e":
			segments[i] = "."
		case ".%2e", "%2e.", "%2e%2e":
			segments[i] = ".."
		}
	}
	ref, err := url.Parse(strings.Join(segments, "/") + href[end:])
	if err != nil {
		t.Fatalf("a browser would not follow the link %q: %v", href, err)
	}
	return base.ResolveReference(ref)
}

func mustParseURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestBrowserResolve: the browser model resolves as the WHATWG URL
// standard's examples do, so that TestLinksRoundTrip tests what browsers do.
func TestBrowserResolve(t *testing.T) {
	base := mustParseURL(t, "http://h.test/keys?prefix=x")
	for href, want := range map[string]string{
		"/image/.?v=1":         "http://h.test/image/?v=1",
		"/image/..?v=1":        "http://h.test/?v=1",
		"/image/%2e%2E":        "http://h.test/",
		"/image/.%2e/x":        "http://h.test/x",
		`/image/a\..\b`:        "http://h.test/image/b",
		" /image/a\tb\n ":      "http://h.test/image/ab",
		"/image/...":           "http://h.test/image/...",
		"/image/%252e":         "http://h.test/image/%252e",
		"/image/%3F?v=1#frag":  "http://h.test/image/%3F?v=1#frag",
		"/show?key=..%2F#x":    "http://h.test/show?key=..%2F#x",
		"/image/%5C..?v=2":     "http://h.test/image/%5C..?v=2",
		"/image/caf%C3%A9?v=1": "http://h.test/image/caf%C3%A9?v=1",
	} {
		if got := browserResolve(t, base, href).String(); got != want {
			t.Errorf("browserResolve(%q) = %q, want %q", href, got, want)
		}
	}
}
