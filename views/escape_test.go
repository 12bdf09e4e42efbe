package views

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var cmpSorted = cmpopts.SortSlices(func(a, b string) bool { return a < b })

// hostileKeys are keys that break URLs or HTML when not escaped.
var hostileKeys = []string{"a b", "ü", "%", `"><script>alert(1)</script>`, "?x=1", "a#b", "a&b=c", "%2F..%2F", "a+b", "x:y"}

// keyFromImageURL does what the image handler does: take the raw path
// segment after /image/ and unescape it.
func keyFromImageURL(t *testing.T, u string) string {
	t.Helper()
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatalf("parse %q: %v", u, err)
	}
	seg, ok := strings.CutPrefix(parsed.EscapedPath(), "/image/")
	if !ok || strings.Contains(seg, "/") {
		t.Fatalf("%q is not /image/{one segment}", u)
	}
	key, err := url.PathUnescape(seg)
	if err != nil {
		t.Fatalf("unescape %q: %v", seg, err)
	}
	return key
}

func TestURLsEscapeKeys(t *testing.T) {
	for _, key := range hostileKeys {
		t.Run(key, func(t *testing.T) {
			if got := keyFromImageURL(t, ImageURL(key)); got != key {
				t.Errorf("ImageURL round trip: got %q", got)
			}
			show, err := url.Parse(ShowURL(key))
			if err != nil || show.Path != "/show" || show.Query().Get("key") != key || len(show.Query()) != 1 {
				t.Errorf("ShowURL(%q) = %q: path %q, query %v, err %v", key, ShowURL(key), show.Path, show.Query(), err)
			}
			keys, err := url.Parse(KeysURL(key, 2))
			if err != nil || keys.Path != "/keys" || keys.Query().Get("prefix") != key || keys.Query().Get("page") != "2" {
				t.Errorf("KeysURL(%q, 2) = %q: path %q, query %v, err %v", key, KeysURL(key, 2), keys.Path, keys.Query(), err)
			}
		})
	}
}

// FuzzURLs checks that any key survives ImageURL and ShowURL.
func FuzzURLs(f *testing.F) {
	for _, k := range hostileKeys {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		u, err := url.Parse(ImageURL(key))
		if err != nil {
			t.Fatalf("ImageURL(%q) = %q does not parse: %v", key, ImageURL(key), err)
		}
		seg, ok := strings.CutPrefix(u.EscapedPath(), "/image/")
		if !ok || strings.Contains(seg, "/") || u.RawQuery != "" || u.Fragment != "" {
			t.Fatalf("ImageURL(%q) = %q is not /image/{one segment}", key, ImageURL(key))
		}
		if got, err := url.PathUnescape(seg); err != nil || got != key {
			t.Fatalf("ImageURL(%q) round trip: got %q, %v", key, got, err)
		}
		s, err := url.Parse(ShowURL(key))
		if err != nil || s.Path != "/show" || s.Query().Get("key") != key {
			t.Fatalf("ShowURL(%q) = %q round trip failed (%v)", key, ShowURL(key), err)
		}
	})
}

// TestHostileKeysInPages renders every page that shows a key and checks
// that the key comes out as text and in URLs that lead back to it.
func TestHostileKeysInPages(t *testing.T) {
	for _, key := range hostileKeys {
		t.Run(key, func(t *testing.T) {
			im := Image{Key: key, ContentType: "image/png", Size: 10, Version: 1, Updated: t0}

			doc, _ := render(t, ShowPage(Show{Key: key, Found: true, Image: im, CacheHit: true}))
			if got := attr(t, one(t, doc, "show-key"), "value"); got != key {
				t.Errorf("show: key field %q", got)
			}
			if got := text(one(t, doc, "show-image-key")); got != key {
				t.Errorf("show: caption %q", got)
			}
			if got := keyFromImageURL(t, attr(t, one(t, doc, "show-image"), "src")); got != key {
				t.Errorf("show: image src leads to %q", got)
			}
			if got := doc.Find("script:not([src])").Length(); got != 0 {
				t.Errorf("show: %d inline scripts, want 0", got)
			}

			doc, _ = render(t, ShowPage(Show{Key: key}))
			if got := text(one(t, doc, "show-not-found").Find("code")); got != key {
				t.Errorf("not found: key shown as %q", got)
			}

			doc, _ = render(t, KeysPage(Keys{Prefix: key, Items: []Image{im}, Page: 2, PerPage: 1, Total: 3}))
			item := one(t, doc, "key-item")
			if got := attr(t, item, "data-key"); got != key {
				t.Errorf("keys: data-key %q", got)
			}
			if got := keyFromImageURL(t, attr(t, item.Find(`[data-testid="key-thumb"]`), "src")); got != key {
				t.Errorf("keys: thumbnail leads to %q", got)
			}
			link, _ := url.Parse(attr(t, item.Find(`[data-testid="key-link"]`), "href"))
			if got := link.Query().Get("key"); got != key {
				t.Errorf("keys: show link leads to %q", got)
			}
			next, _ := url.Parse(attr(t, one(t, doc, "keys-next"), "href"))
			if got := next.Query().Get("prefix"); got != key {
				t.Errorf("keys: next page keeps prefix %q", got)
			}
			if got := attr(t, one(t, doc, "keys-prefix"), "value"); got != key {
				t.Errorf("keys: prefix field %q", got)
			}

			doc, _ = render(t, UploadResult(Upload{Saved: true, Image: im}))
			if got := text(one(t, doc, "upload-saved-link")); got != key {
				t.Errorf("upload: saved key shown as %q", got)
			}
			doc, _ = render(t, UploadPage(Upload{Key: key, KeyError: "bad"}))
			if got := attr(t, one(t, doc, "upload-key"), "value"); got != key {
				t.Errorf("upload: key field %q", got)
			}
		})
	}
}

// payload is user text that would become markup if it were not escaped.
const payload = `<evil id="x">'"&amp;</evil>`

// fill sets every string in v (a pointer to a view model) to payload,
// every number to 7, every time to t0, every duration to a second, every
// bool to true, and every slice to two filled elements.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		fill(v.Elem())
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(t0))
			return
		}
		for i := range v.NumField() {
			fill(v.Field(i))
		}
	case reflect.String:
		v.SetString(payload)
	case reflect.Int, reflect.Int64:
		if v.Type() == reflect.TypeFor[time.Duration]() {
			v.SetInt(int64(time.Second))
			return
		}
		v.SetInt(7)
	case reflect.Float64:
		v.SetFloat(0.5)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fill(s.Index(i))
		}
		v.Set(s)
	}
}

func filled[T any]() T {
	var m T
	fill(reflect.ValueOf(&m))
	return m
}

// TestNoUnescapedUserText renders every page and fragment with every
// text field of its model set to markup, and checks that none of it
// became an element, in HTML or inside a JSON block.
func TestNoUnescapedUserText(t *testing.T) {
	withBools := func(m Show, found bool) Show { m.Found, m.KeyError, m.Error = found, "", ""; return m }
	// The live update carries no text of the model (ids are sanitized, not
	// escaped): it only must not break.
	noText := map[string]bool{"stats live": true}
	pages := map[string]templ.Component{
		"home":           HomePage(filled[Home]()),
		"upload":         UploadPage(filled[Upload]()),
		"upload result":  UploadResult(filled[Upload]()),
		"show found":     ShowPage(withBools(filled[Show](), true)),
		"show not found": ShowPage(withBools(filled[Show](), false)),
		"show errors":    ShowPage(filled[Show]()),
		"keys":           KeysPage(filled[Keys]()),
		"keys list":      KeyList(Keys{Prefix: payload, Items: filled[Keys]().Items, Total: 2}),
		"keys empty":     KeyList(Keys{Prefix: payload}),
		"login":          LoginPage(filled[Login]()),
		"config":         ConfigPage(filled[Config]()),
		"config auto":    ConfigPanel(func() Config { m := filled[Config](); m.Pool.Mode = ModeAuto; return m }()),
		"stats":          StatsPage(filled[Stats]()),
		"stats live":     StatsLive(filled[Stats]()),
	}
	for name, c := range pages {
		t.Run(name, func(t *testing.T) {
			doc, html := render(t, c)
			if n := doc.Find("evil").Length(); n > 0 {
				t.Errorf("%d <evil> elements: user text rendered as markup", n)
			}
			if strings.Contains(html, "<evil") || strings.Contains(html, "</evil") {
				t.Errorf("the raw output carries the payload's tags unescaped")
			}
			if !noText[name] && !strings.Contains(html, "&lt;evil") && !strings.Contains(html, `\u003cevil`) {
				t.Errorf("the payload does not appear at all: the test filled nothing this page shows")
			}
			// No attribute holding a URL runs script.
			doc.Find("[href], [src], [action], [hx-get], [hx-post]").Each(func(_ int, s *goquery.Selection) {
				for _, a := range []string{"href", "src", "action", "hx-get", "hx-post"} {
					v, _ := s.Attr(a)
					if l := strings.ToLower(strings.TrimSpace(v)); strings.HasPrefix(l, "javascript:") || strings.HasPrefix(l, "data:") {
						t.Errorf("%s=%q runs script", a, v)
					}
				}
			})
		})
	}
}

// TestManagerURLIsSanitized: a configured manager URL is an operator's
// setting, but a javascript: one must still not become a link.
func TestManagerURLIsSanitized(t *testing.T) {
	doc, _ := render(t, HomePage(Home{ManagerURL: " JavaScript:alert(1)"}))
	if got := attr(t, one(t, doc, "home-manager"), "href"); strings.Contains(strings.ToLower(got), "javascript:") {
		t.Errorf("href: got %q", got)
	}
}
