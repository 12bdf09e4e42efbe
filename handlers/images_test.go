package handlers

import (
	"bytes"
	"image"
	_ "image/jpeg"
	"net/http"
	"strconv"
	"testing"

	"github.com/picpool/picpool/gallery"
	"github.com/picpool/picpool/internal/testimg"
	"github.com/picpool/picpool/views"
)

// TestImageCaching: the versioned URL is immutable, the plain one
// revalidated; both have a strong ETag from the content and
// Last-Modified, answer HEAD, conditionals and Range; a stale version is
// redirected, never served immutable with other bytes.
func TestImageCaching(t *testing.T) {
	f := newFixture(t, setup{nodes: 2})
	srv := f.galleryServer(t, openAPI)
	data := testimg.NoisePNG(t, 64, 64, 1)
	img := f.put(t, "pic", data)
	hash := gallery.ContentHash(data)
	versioned := srv.URL + views.VersionedImageURL("pic", hash, "")
	lastModified := img.Updated.Format(http.TimeFormat)

	for _, tt := range []struct {
		name, url, cacheControl string
	}{
		{"versioned", versioned, immutable},
		{"plain", srv.URL + "/image/pic", "no-cache"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := get(t, tt.url)
			if r.status != http.StatusOK || !bytes.Equal(r.body, data) {
				t.Fatalf("GET: %d, %d bytes; want 200 and the original's %d bytes", r.status, len(r.body), len(data))
			}
			checkHeaders(t, "GET", r.header, map[string]string{
				"Cache-Control": tt.cacheControl, "ETag": `"` + hash + `"`, "Last-Modified": lastModified,
				"Content-Type": "image/png", "Accept-Ranges": "bytes",
			})

			head := send(t, newRequest(t, http.MethodHead, tt.url, nil))
			if head.status != http.StatusOK || len(head.body) != 0 || head.header.Get("Content-Length") != itoa(len(data)) {
				t.Errorf("HEAD: %d, %d bytes, Content-Length %q", head.status, len(head.body), head.header.Get("Content-Length"))
			}
			checkHeaders(t, "HEAD", head.header, map[string]string{"Cache-Control": tt.cacheControl, "ETag": `"` + hash + `"`})

			if r := get(t, tt.url, "If-None-Match", `"`+hash+`"`); r.status != http.StatusNotModified || len(r.body) != 0 {
				t.Errorf("If-None-Match: %d, %d bytes; want 304", r.status, len(r.body))
			}
			if r := get(t, tt.url, "If-Modified-Since", lastModified); r.status != http.StatusNotModified {
				t.Errorf("If-Modified-Since: %d; want 304", r.status)
			}
			if r := get(t, tt.url, "If-None-Match", `"another"`); r.status != http.StatusOK || !bytes.Equal(r.body, data) {
				t.Errorf("If-None-Match of another version: %d, %d bytes; want 200 and the bytes", r.status, len(r.body))
			}

			r = get(t, tt.url, "Range", "bytes=10-19")
			if r.status != http.StatusPartialContent || !bytes.Equal(r.body, data[10:20]) {
				t.Errorf("Range: %d, %q; want 206 and bytes 10-19", r.status, r.body)
			}
			checkHeaders(t, "Range", r.header, map[string]string{"Content-Range": "bytes 10-19/" + itoa(len(data))})
		})
	}

	// Replaced: the old version's URL is redirected to the new one's, and
	// not served immutable with the new bytes.
	data2 := testimg.NoisePNG(t, 64, 64, 2)
	f.put(t, "pic", data2)
	r := get(t, versioned)
	want := views.VersionedImageURL("pic", gallery.ContentHash(data2), "")
	if r.status != http.StatusFound || r.header.Get("Location") != want || r.header.Get("Cache-Control") != "no-cache" {
		t.Errorf("stale version: %d, Location %q, Cache-Control %q; want 302 to %q, no-cache", r.status, r.header.Get("Location"), r.header.Get("Cache-Control"), want)
	}
	if r := get(t, srv.URL+want); r.status != http.StatusOK || !bytes.Equal(r.body, data2) || r.header.Get("Cache-Control") != immutable {
		t.Errorf("new version: %d, %d bytes, Cache-Control %q", r.status, len(r.body), r.header.Get("Cache-Control"))
	}
}

func checkHeaders(t *testing.T, what string, h http.Header, want map[string]string) {
	t.Helper()
	for name, v := range want {
		if got := h.Get(name); got != v {
			t.Errorf("%s: %s %q, want %q", what, name, got, v)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestRenditionsServed: a camera JPEG turned by EXIF orientation 6 gets
// upright renditions within their sizes, made once and cached, with their
// own ETag; a new upload replaces them.
func TestRenditionsServed(t *testing.T) {
	f := newFixture(t, setup{nodes: 2, maxUpload: 1 << 20})
	srv := f.galleryServer(t, openAPI)
	camera := testimg.WithEXIF(testimg.EncodeJPEG(t, testimg.Camera(800, 600)), 6) // stored landscape, seen portrait
	f.put(t, "cam", camera)
	hash := gallery.ContentHash(camera)
	for _, tt := range []struct {
		size string
		w, h int
	}{
		{"small", 120, 160}, {"thumb", 240, 320}, {"display", 600, 800},
	} {
		t.Run(tt.size, func(t *testing.T) {
			u := srv.URL + views.VersionedImageURL("cam", hash, tt.size)
			for _, cache := range []string{"", "HIT"} {
				r := get(t, u)
				cfg, format, err := image.DecodeConfig(bytes.NewReader(r.body))
				if r.status != http.StatusOK || err != nil || format != "jpeg" || cfg.Width != tt.w || cfg.Height != tt.h {
					t.Fatalf("%s: %d, %s %dx%d %v; want 200 and a %dx%d JPEG", tt.size, r.status, format, cfg.Width, cfg.Height, err, tt.w, tt.h)
				}
				if bytes.Contains(r.body, []byte("Exif")) || bytes.Contains(r.body, []byte("GPS")) {
					t.Errorf("%s carries the original's EXIF", tt.size)
				}
				checkHeaders(t, tt.size, r.header, map[string]string{
					"Cache-Control": immutable, "ETag": `"` + hash + "." + tt.size + `"`, "Content-Type": "image/jpeg",
				})
				if cache != "" && r.header.Get("X-Cache") != cache {
					t.Errorf("%s, second GET: X-Cache %q, want %s", tt.size, r.header.Get("X-Cache"), cache)
				}
			}
		})
	}
	if r := get(t, srv.URL+"/image/cam?size=huge"); r.status != http.StatusBadRequest {
		t.Errorf("unknown size: %d, want 400", r.status)
	}

	// A new upload: the renditions are made again, from it.
	square := testimg.EncodeJPEG(t, testimg.Camera(400, 400))
	f.put(t, "cam", square)
	r := get(t, srv.URL+"/image/cam?size=thumb")
	cfg, _, err := image.DecodeConfig(bytes.NewReader(r.body))
	if err != nil || cfg.Width != 320 || cfg.Height != 320 || r.header.Get("ETag") != `"`+gallery.ContentHash(square)+`.thumb"` {
		t.Errorf("thumb after the new upload: %dx%d %v, ETag %q; want 320x320 of the new one", cfg.Width, cfg.Height, err, r.header.Get("ETag"))
	}
}
