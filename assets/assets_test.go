package assets

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
)

func get(t *testing.T, target string, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, req)
	return rec
}

func TestFilesServed(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		contains    string // proof it is the file we mean
	}{
		{HTMX, "text/javascript; charset=utf-8", `version:"2.`},
		{ECharts, "text/javascript; charset=utf-8", `"5.6.0"`},
		{CSS, "text/css; charset=utf-8", "--accent"},
		{SiteJS, "text/javascript; charset=utf-8", "htmx:responseError"},
		{UploadJS, "text/javascript; charset=utf-8", "htmx:xhr:progress"},
		{StatsJS, "text/javascript; charset=utf-8", "getInstanceByDom"},
		{"htmx.LICENSE.txt", "text/plain; charset=utf-8", "Zero-Clause BSD"},
		{"echarts.LICENSE.txt", "text/plain; charset=utf-8", "Apache License"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			disk, err := os.ReadFile("static/" + tt.name)
			if err != nil {
				t.Fatal(err)
			}
			rec := get(t, URL(tt.name), nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d", rec.Code)
			}
			if got := rec.Header().Get("Content-Type"); got != tt.contentType {
				t.Errorf("Content-Type: got %q, want %q", got, tt.contentType)
			}
			if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options: got %q", got)
			}
			if got := rec.Header().Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
				t.Errorf("Cache-Control of the versioned URL: got %q", got)
			}
			if !bytes.Equal(rec.Body.Bytes(), disk) {
				t.Errorf("body differs from static/%s (%d bytes, want %d)", tt.name, rec.Body.Len(), len(disk))
			}
			if !strings.Contains(rec.Body.String(), tt.contains) {
				t.Errorf("body lacks %q", tt.contains)
			}
		})
	}
}

func TestURL(t *testing.T) {
	u := URL(HTMX)
	if !strings.HasPrefix(u, "/assets/htmx.min.js?v=") || len(u) != len("/assets/htmx.min.js?v=")+12 {
		t.Errorf("URL(HTMX) = %q, want /assets/htmx.min.js?v= and 12 hex digits", u)
	}
	// The version is the start of the file's SHA-256, so a changed file
	// gets a new URL and two different files never share one.
	byVersion := map[string]string{}
	for _, name := range Names() {
		disk, err := os.ReadFile("static/" + name)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(disk)
		got := URL(name)
		if want := Prefix + name + "?v=" + hex.EncodeToString(sum[:])[:12]; got != want {
			t.Errorf("URL(%q) = %q, want %q", name, got, want)
		}
		version := strings.TrimPrefix(got, Prefix+name+"?v=")
		if other, ok := byVersion[version]; ok {
			t.Errorf("%s and %s share the version %s", other, name, version)
		}
		byVersion[version] = name
	}
	if got := URL("nope.js"); got != "/assets/nope.js" {
		t.Errorf("URL of an unknown file: got %q", got)
	}
}

func TestCaching(t *testing.T) {
	t.Run("unversioned or stale URLs revalidate", func(t *testing.T) {
		for _, target := range []string{"/assets/" + CSS, "/assets/" + CSS + "?v=000000000000", "/assets/" + CSS + "?v=a"} {
			if got := get(t, target, nil).Header().Get("Cache-Control"); got != "no-cache" {
				t.Errorf("%s: Cache-Control %q, want no-cache", target, got)
			}
		}
	})
	t.Run("ETag answers 304", func(t *testing.T) {
		first := get(t, "/assets/"+CSS, nil)
		etag := first.Header().Get("ETag")
		if etag == "" {
			t.Fatal("no ETag")
		}
		again := get(t, "/assets/"+CSS, map[string]string{"If-None-Match": etag})
		if again.Code != http.StatusNotModified {
			t.Errorf("If-None-Match: status %d, want 304", again.Code)
		}
		gz := get(t, "/assets/"+CSS, map[string]string{"Accept-Encoding": "gzip"})
		if gz.Header().Get("ETag") == etag {
			t.Error("the gzipped body has the same ETag as the plain one")
		}
	})
}

func TestGzip(t *testing.T) {
	rec := get(t, URL(ECharts), map[string]string{"Accept-Encoding": "br, gzip"})
	if got := rec.Header().Get("Content-Encoding"); got != "gzip" {
		t.Fatalf("Content-Encoding: got %q", got)
	}
	if got := rec.Header().Get("Vary"); got != "Accept-Encoding" {
		t.Errorf("Vary: got %q", got)
	}
	gzLen := rec.Body.Len()
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	disk, _ := os.ReadFile("static/" + ECharts)
	if !bytes.Equal(body, disk) {
		t.Errorf("gunzipped body differs from the file")
	}
	t.Logf("echarts.min.js: %d bytes, %d gzipped", len(disk), gzLen)

	for name, h := range map[string]map[string]string{
		"no Accept-Encoding": nil,
		"gzip refused":       {"Accept-Encoding": "gzip;q=0, br"},
		"a range":            {"Accept-Encoding": "gzip", "Range": "bytes=0-9"},
	} {
		rec := get(t, URL(ECharts), h)
		if got := rec.Header().Get("Content-Encoding"); got != "" {
			t.Errorf("%s: Content-Encoding %q, want none", name, got)
		}
	}
	if got := get(t, URL("htmx.LICENSE.txt"), map[string]string{"Accept-Encoding": "gzip"}).Header().Get("Content-Encoding"); got != "" {
		t.Errorf("a licence text is gzipped (%q): only scripts and CSS are", got)
	}
}

func TestAcceptsGzip(t *testing.T) {
	tests := []struct {
		header string
		want   bool
	}{
		{"", false},
		{"gzip", true},
		{"GZIP", true},
		{"deflate, gzip;q=0.8", true},
		{"gzip;q=0", false},
		{"gzip; q=0.000", false},
		{"br", false},
		{"x-gzip", false},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			if got := acceptsGzip(tt.header); got != tt.want {
				t.Errorf("acceptsGzip(%q) = %v, want %v", tt.header, got, tt.want)
			}
		})
	}
}

func TestRefused(t *testing.T) {
	for _, target := range []string{"/assets/", "/assets/nope.js", "/assets/../assets.go", "/assets/static/htmx.min.js", "/assets/assets.go"} {
		if rec := get(t, target, nil); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", target, rec.Code)
		}
	}
	req := httptest.NewRequest(http.MethodPost, "/assets/"+CSS, nil)
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: status %d, Allow %q", rec.Code, rec.Header().Get("Allow"))
	}
	head := httptest.NewRequest(http.MethodHead, "/assets/"+CSS, nil)
	rec = httptest.NewRecorder()
	Handler().ServeHTTP(rec, head)
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Errorf("HEAD: status %d, %d body bytes", rec.Code, rec.Body.Len())
	}
}

// TestStrippedPrefix: a router that strips /assets/ before the handler
// still gets the file.
func TestStrippedPrefix(t *testing.T) {
	h := http.StripPrefix("/assets", Handler())
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/assets/"+CSS, nil))
	if rec.Code != http.StatusOK {
		t.Errorf("status %d", rec.Code)
	}
}

// TestLicences: every vendored file has its licence next to it, and each
// licence text is served too.
func TestLicences(t *testing.T) {
	names := Names()
	for _, want := range []string{
		"htmx.LICENSE.txt", "echarts.LICENSE.txt", "echarts.NOTICE.txt",
		"echarts.LICENSE-zrender.txt", "echarts.LICENSE-d3.txt", "echarts.LICENSE-tslib.txt",
	} {
		if !slices.Contains(names, want) {
			t.Errorf("%s is not embedded", want)
		}
	}
}

func TestContent(t *testing.T) {
	disk, err := os.ReadFile("static/" + ECharts)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := Content(ECharts)
	if !ok || !bytes.Equal(got, disk) {
		t.Fatalf("Content(%q) = %d bytes, %v; want static/%s (%d bytes)", ECharts, len(got), ok, ECharts, len(disk))
	}
	if got, ok := Content("nope.js"); ok || got != nil {
		t.Fatalf("Content of an unknown name = %d bytes, %v; want nil, false", len(got), ok)
	}
}
