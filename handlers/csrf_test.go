package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/picpool/picpool/internal/testimg"
)

// TestGalleryUploadCrossOrigin: another site's page cannot post the
// gallery's upload form (so it cannot replace any key's image), with htmx
// or without; the gallery's own page and tools without browser headers
// can.
func TestGalleryUploadCrossOrigin(t *testing.T) {
	f := newFixture(t, setup{})
	srv := f.galleryServer(t, openAPI).URL
	original := testimg.PNG(t, 1, 1)
	f.put(t, "k", original)
	for _, h := range [][]string{
		{"Sec-Fetch-Site", "cross-site"},
		{"Sec-Fetch-Site", "same-site"},
		{"Origin", "https://evil.example"},
		{"Origin", "null"},
		{"Sec-Fetch-Site", "cross-site", "HX-Request", "true"},
	} {
		r := upload(t, srv, "/upload", "k", testimg.PNG(t, 2, 2), h...)
		want := "This form was sent from another site, so it was refused. Open the page on this site and send it from there.\n"
		if r.status != http.StatusForbidden || string(r.body) != want {
			t.Errorf("%q: %d %q, want 403 %q", h, r.status, r.body, want)
		}
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("%q: Content-Type %q, want text", h, ct)
		}
	}
	if row, _ := f.images.row("k"); row.img.Version != 1 || string(row.data) != string(original) {
		t.Fatalf("k after the refusals: version %d, want the original image", row.img.Version)
	}
	u, _ := url.Parse(srv)
	for _, h := range [][]string{
		{"Sec-Fetch-Site", "same-origin", "Origin", srv},
		{"Origin", "http://" + u.Host},
		nil, // curl, scripts
	} {
		if r := upload(t, srv, "/upload", "k", testimg.PNG(t, 2, 2), h...); r.status != http.StatusOK || !strings.Contains(string(r.body), "data-upload-ok") {
			t.Errorf("%q: %d, want the upload saved", h, r.status)
		}
	}
	if row, _ := f.images.row("k"); row.img.Version != 4 {
		t.Errorf("k: version %d, want 4 after three same-origin uploads", row.img.Version)
	}
}
