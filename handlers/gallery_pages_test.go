package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/picpool/picpool/gallery"
	"github.com/picpool/picpool/internal/testimg"

	"github.com/PuerkitoBio/goquery"
)

// Tests of the gallery's pages: every outcome of the upload form, with
// and without htmx; the show page; the key list; and the image route.

func TestGalleryHome(t *testing.T) {
	f := newFixture(t, setup{nodes: 3})
	srv := f.galleryServer(t, openAPI)
	for i := range 4 {
		f.put(t, fmt.Sprint("k", i), testimg.PNG(t, 1, 1))
	}
	doc := checkHTML(t, get(t, srv.URL+"/"), true)
	checkTexts(t, doc, map[string]string{"home-images": "4", "home-nodes": "3"})
	if got := testIDAttr(t, doc, "home-manager", "href"); got != "http://manager.test/" {
		t.Errorf("manager link: got %q", got)
	}
	r := get(t, srv.URL+"/healthz")
	if r.status != http.StatusOK || string(r.body) != "ok\n" {
		t.Errorf("/healthz: %d %q", r.status, r.body)
	}
}

func TestGalleryUploadForm(t *testing.T) {
	f := newFixture(t, setup{})
	srv := f.galleryServer(t, openAPI)
	doc := checkHTML(t, get(t, srv.URL+"/upload"), true)
	checkTexts(t, doc, map[string]string{
		"upload-file-hint": "PNG, JPEG, GIF or WebP, up to 64 KiB.", "upload-key-error": "", "upload-file-error": "", "upload-result": "",
	})
	if got := testIDAttr(t, doc, "upload-file", "data-max-bytes"); got != "65536" {
		t.Errorf("data-max-bytes: got %q", got)
	}
}

// uploadWant is what an upload page or fragment must show.
type uploadWant struct {
	keyError, fileError, errorMsg string
	saved                         bool
	savedMeta                     string // the line under "Saved under …"
	version                       string // of the saved image; "" is 1
	hash                          string // of the saved image; "" is any
}

func TestGalleryUploadOutcomes(t *testing.T) {
	pngData := testimg.PNG(t, 3, 2)
	tests := []struct {
		name    string
		parts   []formPart
		down    bool
		want    uploadWant
		wantKey string // the key field's value on the whole page
	}{
		{"saved", []formPart{keyPart("cat"), filePart("cat.png", pngData)}, false,
			uploadWant{saved: true, savedMeta: fmt.Sprintf("image/png · %d bytes · version 1", len(pngData))}, "cat"},
		{"saved gif named png", []formPart{keyPart("dog"), filePart("dog.png", testimg.GIF(t))}, false,
			uploadWant{saved: true, savedMeta: fmt.Sprintf("image/gif · %d bytes · version 1", len(testimg.GIF(t)))}, "dog"},
		{"missing key", []formPart{filePart("a.png", pngData)}, false,
			uploadWant{keyError: "Please give the image a key."}, ""},
		{"key with a slash", []formPart{keyPart("a/b"), filePart("a.png", pngData)}, false,
			uploadWant{keyError: `The key cannot contain "/".`}, "a/b"},
		{"key too long", []formPart{keyPart(strings.Repeat("x", 251)), filePart("a.png", pngData)}, false,
			uploadWant{keyError: "The key is 251 characters long; the limit is 250."}, strings.Repeat("x", 251)},
		{"key with a control character", []formPart{keyPart("a\x01b"), filePart("a.png", pngData)}, false,
			uploadWant{keyError: "The key contains a character that cannot be printed (U+0001)."}, "a\x01b"},
		{"missing file", []formPart{keyPart("cat")}, false,
			uploadWant{fileError: "Please choose an image file to upload."}, "cat"},
		{"empty file", []formPart{keyPart("cat"), filePart("a.png", nil)}, false,
			uploadWant{fileError: "The file is empty."}, "cat"},
		{"not an image", []formPart{keyPart("cat"), filePart("a.png", []byte("plain words"))}, false,
			uploadWant{fileError: "The file is not a PNG, JPEG, GIF or WebP image (it looks like text/plain)."}, "cat"},
		{"damaged header", []formPart{keyPart("cat"), filePart("a.png", pngData[:20])}, false,
			uploadWant{fileError: "The PNG image is damaged: the image data is cut short."}, "cat"},
		{"too large", []formPart{keyPart("cat"), filePart("a.png", testimg.PaddedPNG(t, 64<<10+1))}, false,
			uploadWant{fileError: "The file is larger than 64 KiB, the limit."}, "cat"},
		{"storage down", []formPart{keyPart("cat"), filePart("a.png", pngData)}, true,
			uploadWant{errorMsg: storageMessage}, "cat"},
	}
	for _, tt := range tests {
		for _, htmx := range []bool{false, true} {
			name := tt.name + map[bool]string{false: "/plain", true: "/htmx"}[htmx]
			t.Run(name, func(t *testing.T) {
				f := newFixture(t, setup{})
				srv := f.galleryServer(t, openAPI)
				if tt.down {
					f.images.setFail(errStorageDown)
				}
				var headers []string
				if htmx {
					headers = []string{"HX-Request", "true"}
				}
				r := postMultipart(t, srv.URL+"/upload", tt.parts, headers...)
				doc := checkHTML(t, r, !htmx)
				if got := r.header.Get("Vary"); got != "HX-Request" {
					t.Errorf("Vary: got %q", got)
				}
				checkUploadAnswer(t, doc, tt.want)
				if htmx {
					for _, id := range []string{"upload-key-error", "upload-file-error"} {
						if got := testIDAttr(t, doc, id, "hx-swap-oob"); got != "true" {
							t.Errorf("%s is not swapped out of band: %q", id, got)
						}
					}
					checkAbsent(t, doc, "upload-form")
				} else {
					if got := testIDAttr(t, doc, "upload-key", "value"); got != tt.wantKey {
						t.Errorf("key field value: got %q, want %q", got, tt.wantKey)
					}
					invalid := byTestID(doc, "upload-key").AttrOr("aria-invalid", "")
					if want := map[bool]string{true: "true", false: ""}[tt.want.keyError != ""]; invalid != want {
						t.Errorf("key field aria-invalid: got %q, want %q", invalid, want)
					}
				}
				f.images.setFail(nil)
				stored := f.images.keys()
				if tt.want.saved != (len(stored) == 1) {
					t.Errorf("stored keys %q; saved %v", stored, tt.want.saved)
				}
			})
		}
	}
}

// checkParagraphs asserts the texts of the <p> elements inside the one
// element with data-testid id.
func checkParagraphs(t *testing.T, doc *goquery.Document, id string, want ...string) {
	t.Helper()
	s := byTestID(doc, id)
	if s.Length() != 1 {
		t.Fatalf("want one %q, found %d", id, s.Length())
	}
	var got []string
	s.Find("p").Each(func(_ int, p *goquery.Selection) { got = append(got, textOf(p)) })
	if !slices.Equal(got, want) {
		t.Errorf("%s: got %q, want %q", id, got, want)
	}
}

func checkUploadAnswer(t *testing.T, doc *goquery.Document, want uploadWant) {
	t.Helper()
	checkTexts(t, doc, map[string]string{"upload-key-error": want.keyError, "upload-file-error": want.fileError})
	if want.errorMsg != "" {
		checkTexts(t, doc, map[string]string{"upload-error": want.errorMsg})
		if got := testIDAttr(t, doc, "upload-error", "data-kind"); got != "error" {
			t.Errorf("upload-error kind: %q", got)
		}
	} else {
		checkAbsent(t, doc, "upload-error")
	}
	if !want.saved {
		checkAbsent(t, doc, "upload-saved")
		return
	}
	if want.version == "" {
		want.version = "1"
	}
	saved := byTestID(doc, "upload-saved")
	if saved.Length() != 1 {
		t.Fatalf("want one upload-saved, found %d", saved.Length())
	}
	key := testIDText(t, doc, "upload-saved-link")
	if got := textOf(saved.Find("p.muted")); got != want.savedMeta {
		t.Errorf("saved details: got %q, want %q", got, want.savedMeta)
	}
	if got := testIDAttr(t, doc, "upload-saved-link", "href"); got != "/show?key="+url.QueryEscape(key) {
		t.Errorf("saved link: got %q", got)
	}
	src := testIDAttr(t, doc, "upload-saved-image", "src")
	prefix := "/image/" + url.PathEscape(key) + "?size=small&v="
	if hash, ok := strings.CutPrefix(src, prefix); !ok || len(hash) != len(gallery.ContentHash(nil)) || want.hash != "" && hash != want.hash {
		t.Errorf("saved image: got %q, want %s<hash %q>", src, prefix, want.hash)
	}
}

// TestGalleryUploadReplaces: the second upload under a key says version 2.
func TestGalleryUploadReplaces(t *testing.T) {
	f := newFixture(t, setup{})
	srv := f.galleryServer(t, openAPI)
	f.put(t, "cat", testimg.PNG(t, 1, 1))
	gifData := testimg.GIF(t)
	doc := checkHTML(t, postMultipart(t, srv.URL+"/upload", []formPart{keyPart("cat"), filePart("c.gif", gifData)}, "HX-Request", "true"), false)
	checkUploadAnswer(t, doc, uploadWant{saved: true, savedMeta: fmt.Sprintf("image/gif · %d bytes · version 2", len(gifData)), version: "2", hash: gallery.ContentHash(gifData)})
}

var latencyText = regexp.MustCompile(`^[0-9.]+ (ns|µs|ms|s)$`)

func TestGalleryShow(t *testing.T) {
	f := newFixture(t, setup{nodes: 2})
	srv := f.galleryServer(t, openAPI)
	data := testimg.PNG(t, 5, 5)
	img := f.put(t, "cat", data)

	t.Run("empty form", func(t *testing.T) {
		doc := checkHTML(t, get(t, srv.URL+"/show"), true)
		checkTexts(t, doc, map[string]string{"show-key-error": ""})
		checkAbsent(t, doc, "show-result", "show-not-found", "show-error")
	})
	for i, hit := range []bool{false, true, true} {
		t.Run(fmt.Sprintf("found %d", i), func(t *testing.T) {
			doc := checkHTML(t, get(t, srv.URL+"/show?key=cat"), true)
			badge := map[bool]string{false: "Cache miss", true: "Cache hit"}[hit]
			checkTexts(t, doc, map[string]string{
				"cache-badge": badge, "show-image-key": "cat", "show-type": "image/png", "show-version": "1",
				"show-size": fmt.Sprintf("%d bytes (%d bytes)", len(data), len(data)), "show-key-error": "",
			})
			if got := testIDAttr(t, doc, "cache-badge", "data-hit"); got != strconv.FormatBool(hit) {
				t.Errorf("data-hit: got %q, want %v", got, hit)
			}
			for name, want := range map[string]string{
				"src":   "/image/cat?size=display&v=" + gallery.ContentHash(data),
				"width": "5", "height": "5",
			} {
				if got := testIDAttr(t, doc, "show-image", name); got != want {
					t.Errorf("image %s: got %q, want %q", name, got, want)
				}
			}
			if got, want := testIDAttr(t, doc, "show-original", "href"), "/image/cat?v="+gallery.ContentHash(data); got != want {
				t.Errorf("original's link: got %q, want %q", got, want)
			}
			if got := testIDText(t, doc, "show-latency"); !latencyText.MatchString(got) {
				t.Errorf("latency: got %q", got)
			}
			// The page must not claim an unknown update time for an image
			// whose row says when it was stored.
			if s := byTestID(doc, "show-updated"); s.Length() > 0 {
				if got, want := textOf(s), img.Updated.Format("2006-01-02 15:04:05 MST"); got != want {
					t.Errorf("show-updated: got %q, want %q (or no such line)", got, want)
				}
			}
			checkAbsent(t, doc, "show-not-found", "show-error")
		})
	}
	t.Run("odd key", func(t *testing.T) {
		gif := testimg.GIF(t)
		f.put(t, "ü 100%", gif)
		doc := checkHTML(t, get(t, srv.URL+"/show?key="+url.QueryEscape("ü 100%")), true)
		checkTexts(t, doc, map[string]string{"show-image-key": "ü 100%", "show-type": "image/gif"})
		if got, want := testIDAttr(t, doc, "show-image", "src"), "/image/%C3%BC%20100%25?size=display&v="+gallery.ContentHash(gif); got != want {
			t.Errorf("image src: got %q, want %q", got, want)
		}
	})
	t.Run("not found", func(t *testing.T) {
		doc := checkHTML(t, get(t, srv.URL+"/show?key=nope"), true)
		checkTexts(t, doc, map[string]string{"show-key-error": ""})
		checkParagraphs(t, doc, "show-not-found", "No image is stored under the key nope.", "Upload one or browse the keys.")
		checkAbsent(t, doc, "show-result", "show-error")
		if got := testIDAttr(t, doc, "show-key", "value"); got != "nope" {
			t.Errorf("key field: got %q", got)
		}
	})
	for _, tt := range []struct{ name, key, msg string }{
		{"slash", "a/b", `The key cannot contain "/".`},
		{"too long", strings.Repeat("y", 251), "The key is 251 characters long; the limit is 250."},
		{"leading space", " cat", "The key cannot start or end with a space."},
		{"control character", "c\x7fat", "The key contains a character that cannot be printed (U+007F)."},
	} {
		t.Run("invalid key "+tt.name, func(t *testing.T) {
			doc := checkHTML(t, get(t, srv.URL+"/show?key="+url.QueryEscape(tt.key)), true)
			checkTexts(t, doc, map[string]string{"show-key-error": tt.msg})
			checkAbsent(t, doc, "show-result", "show-not-found", "show-error")
			if got := testIDAttr(t, doc, "show-key", "aria-invalid"); got != "true" {
				t.Errorf("aria-invalid: %q", got)
			}
		})
	}
	t.Run("storage down", func(t *testing.T) {
		f.put(t, "uncached", testimg.GIF(t))
		f.images.setFail(errStorageDown)
		defer f.images.setFail(nil)
		doc := checkHTML(t, get(t, srv.URL+"/show?key=uncached"), true)
		checkTexts(t, doc, map[string]string{"show-error": storageMessage, "show-key-error": ""})
		checkAbsent(t, doc, "show-result", "show-not-found")
		// A cached image is still shown.
		doc = checkHTML(t, get(t, srv.URL+"/show?key=cat"), true)
		checkTexts(t, doc, map[string]string{"cache-badge": "Cache hit"})
	})
}

func TestGalleryShowCacheOff(t *testing.T) {
	f := newFixture(t, setup{cacheOff: true})
	srv := f.galleryServer(t, openAPI)
	f.put(t, "cat", testimg.PNG(t, 1, 1))
	for range 2 {
		doc := checkHTML(t, get(t, srv.URL+"/show?key=cat"), true)
		if got := testIDAttr(t, doc, "cache-badge", "data-hit"); got != "false" {
			t.Errorf("data-hit: got %q with the cache off", got)
		}
	}
}

// keyItems returns the keys of a list's items, in order.
func keyItems(doc *goquery.Document) []string {
	var keys []string
	byTestID(doc, "key-item").Each(func(_ int, s *goquery.Selection) { keys = append(keys, s.AttrOr("data-key", "?")) })
	return keys
}

func TestGalleryKeys(t *testing.T) {
	f := newFixture(t, setup{})
	srv := f.galleryServer(t, openAPI)

	t.Run("empty", func(t *testing.T) {
		doc := checkHTML(t, get(t, srv.URL+"/keys"), true)
		checkParagraphs(t, doc, "keys-empty", "No images yet.", "Upload the first one.")
		checkAbsent(t, doc, "key-item", "keys-pager", "keys-error")
	})

	var newestFirst []string
	for i := range 30 {
		k := fmt.Sprintf("img-%02d", i)
		f.put(t, k, testimg.PNG(t, 1, 1))
		newestFirst = append([]string{k}, newestFirst...)
	}
	tests := []struct {
		name, query string
		htmx        bool
		items       []string
		count       string
		prev, next  string // hrefs, "" when absent
	}{
		{"first page", "", false, newestFirst[:24], "30 keys · page 1 of 2", "", "/keys?page=2"},
		{"second page", "?page=2", false, newestFirst[24:], "30 keys · page 2 of 2", "/keys", ""},
		{"page 1 asked", "?page=1", false, newestFirst[:24], "30 keys · page 1 of 2", "", "/keys?page=2"},
		{"page 0 is page 1", "?page=0", false, newestFirst[:24], "30 keys · page 1 of 2", "", "/keys?page=2"},
		{"negative page is page 1", "?page=-3", false, newestFirst[:24], "30 keys · page 1 of 2", "", "/keys?page=2"},
		{"garbage page is page 1", "?page=two", false, newestFirst[:24], "30 keys · page 1 of 2", "", "/keys?page=2"},
		{"htmx second page", "?page=2", true, newestFirst[24:], "30 keys · page 2 of 2", "/keys", ""},
		{"prefix", "?prefix=img-1", false, []string{"img-19", "img-18", "img-17", "img-16", "img-15", "img-14", "img-13", "img-12", "img-11", "img-10"},
			"10 keys starting with img-1", "", ""},
		{"htmx prefix", "?prefix=img-2", true, []string{"img-29", "img-28", "img-27", "img-26", "img-25", "img-24", "img-23", "img-22", "img-21", "img-20"},
			"10 keys starting with img-2", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var headers []string
			if tt.htmx {
				headers = []string{"HX-Request", "true"}
			}
			r := get(t, srv.URL+"/keys"+tt.query, headers...)
			doc := checkHTML(t, r, !tt.htmx)
			if got := r.header.Get("Vary"); got != "HX-Request" {
				t.Errorf("Vary: got %q", got)
			}
			if tt.htmx {
				checkAbsent(t, doc, "keys-filter")
				if n := byTestID(doc, "key-list").Length(); n != 1 {
					t.Errorf("want the key-list fragment, found %d", n)
				}
			}
			if got := keyItems(doc); !slices.Equal(got, tt.items) {
				t.Errorf("items: got %q, want %q", got, tt.items)
			}
			checkTexts(t, doc, map[string]string{"keys-count": tt.count})
			for id, want := range map[string]string{"keys-prev": tt.prev, "keys-next": tt.next} {
				s := byTestID(doc, id)
				if got := s.AttrOr("href", ""); got != want {
					t.Errorf("%s href: got %q, want %q", id, got, want)
				}
			}
			first := byTestID(doc, "key-item").First()
			k := first.AttrOr("data-key", "")
			row, _ := f.images.row(k)
			if got, want := first.Find(`[data-testid="key-thumb"]`).AttrOr("src", ""), fmt.Sprintf("/image/%s?size=small&v=%s", k, gallery.ContentHash(row.data)); got != want {
				t.Errorf("thumb of %s: got %q, want %q", k, got, want)
			}
			if got := first.Find(`[data-testid="key-link"]`).AttrOr("href", ""); got != "/show?key="+k {
				t.Errorf("link of %s: got %q", k, got)
			}
			checkAbsent(t, doc, "keys-empty", "keys-error")
		})
	}
	t.Run("no match", func(t *testing.T) {
		doc := checkHTML(t, get(t, srv.URL+"/keys?prefix=zzz"), true)
		checkParagraphs(t, doc, "keys-empty", "No key starts with zzz.", "Show every key or upload an image.")
		if got := testIDAttr(t, doc, "keys-prefix", "value"); got != "zzz" {
			t.Errorf("prefix field: got %q", got)
		}
	})
	t.Run("page past the end", func(t *testing.T) {
		// A stale link (images deleted since) must not say there are no
		// images, and must lead back to the list.
		doc := checkHTML(t, get(t, srv.URL+"/keys?page=5"), true)
		if s := byTestID(doc, "keys-empty"); s.Length() > 0 && strings.Contains(textOf(s), "No images yet") {
			t.Errorf("page 5 of 2 says %q while 30 images are stored", textOf(s))
		}
		if byTestID(doc, "keys-pager").Length() == 0 && len(keyItems(doc)) == 0 {
			t.Errorf("page 5 of 2 shows no images and no way back")
		}
	})
	t.Run("storage down", func(t *testing.T) {
		f.images.setFail(errStorageDown)
		defer f.images.setFail(nil)
		doc := checkHTML(t, get(t, srv.URL+"/keys"), true)
		checkTexts(t, doc, map[string]string{"keys-error": storageMessage})
		checkAbsent(t, doc, "key-item", "keys-empty")
	})
}

// TestGalleryKeysPrefixIsLiteral: % and _ in a prefix are characters, not
// patterns; the handler hands the prefix to storage as typed.
func TestGalleryKeysPrefixIsLiteral(t *testing.T) {
	f := newFixture(t, setup{})
	srv := f.galleryServer(t, openAPI)
	for _, k := range []string{"a%b", "a_b", "axb", "a%c", "ab", "a\\b"} {
		f.put(t, k, testimg.PNG(t, 1, 1))
	}
	for prefix, want := range map[string][]string{
		"a%":  {"a%c", "a%b"},
		"a_":  {"a_b"},
		"a\\": {"a\\b"},
		"a":   {"a\\b", "ab", "a%c", "axb", "a_b", "a%b"},
	} {
		t.Run(prefix, func(t *testing.T) {
			doc := checkHTML(t, get(t, srv.URL+"/keys?prefix="+url.QueryEscape(prefix), "HX-Request", "true"), false)
			if got := keyItems(doc); !slices.Equal(got, want) {
				t.Errorf("prefix %q: got %q, want %q", prefix, got, want)
			}
		})
	}
}

func TestGalleryImage(t *testing.T) {
	tests := []struct {
		name        string
		data        func(t *testing.T) []byte
		contentType string
	}{
		{"png", func(t *testing.T) []byte { return testimg.PNG(t, 4, 3) }, "image/png"},
		{"jpeg", func(t *testing.T) []byte { return testimg.JPEG(t) }, "image/jpeg"},
		{"gif", func(t *testing.T) []byte { return testimg.GIF(t) }, "image/gif"},
		{"webp", func(t *testing.T) []byte { return testimg.WebP() }, "image/webp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, setup{nodes: 2})
			srv := f.galleryServer(t, openAPI)
			data := tt.data(t)
			checkJSON(t, upload(t, srv.URL, "/api/upload", "pic", data), http.StatusOK, okKey("pic"))
			for _, cacheWant := range []string{"MISS", "HIT"} {
				r := get(t, srv.URL+"/image/pic")
				checkImage(t, r, data, tt.contentType, etagOf(data), cacheWant)
			}
		})
	}
}

// etagOf is the ETag of an original: its content hash.
func etagOf(data []byte) string { return `"` + gallery.ContentHash(data) + `"` }

func checkImage(t *testing.T, r result, data []byte, contentType, etag, xcache string) {
	t.Helper()
	if r.status != http.StatusOK || string(r.body) != string(data) {
		t.Errorf("status %d, %d bytes; want 200 and the %d bytes", r.status, len(r.body), len(data))
	}
	for name, want := range map[string]string{
		"Content-Type": contentType, "Content-Length": strconv.Itoa(len(data)), "X-Content-Type-Options": "nosniff",
		"Cache-Control": "no-cache", "ETag": etag, "X-Cache": xcache,
	} {
		if got := r.header.Get(name); got != want {
			t.Errorf("%s: got %q, want %q", name, got, want)
		}
	}
}

func TestGalleryImageRevalidation(t *testing.T) {
	f := newFixture(t, setup{})
	srv := f.galleryServer(t, openAPI)
	first := testimg.PNG(t, 1, 1)
	f.put(t, "pic", first)
	checkImage(t, get(t, srv.URL+"/image/pic"), first, "image/png", etagOf(first), "MISS")

	r := get(t, srv.URL+"/image/pic", "If-None-Match", etagOf(first))
	if r.status != http.StatusNotModified || len(r.body) != 0 || r.header.Get("ETag") != etagOf(first) {
		t.Errorf("If-None-Match current: %d, %d bytes, ETag %q; want 304, empty, %s", r.status, len(r.body), r.header.Get("ETag"), etagOf(first))
	}
	r = get(t, srv.URL+"/image/pic", "If-None-Match", `"v7"`)
	checkImage(t, r, first, "image/png", etagOf(first), "HIT")

	second := testimg.GIF(t)
	f.put(t, "pic", second)
	checkImage(t, get(t, srv.URL+"/image/pic", "If-None-Match", etagOf(first)), second, "image/gif", etagOf(second), "MISS")

	// If-None-Match is a list, compared weakly (RFC 9110 13.1.2): a proxy
	// that weakens the ETag or a client that sends several still gets 304.
	for _, inm := range []string{etagOf(first) + ", " + etagOf(second), "W/" + etagOf(second), `*`} {
		t.Run(inm, func(t *testing.T) {
			if r := get(t, srv.URL+"/image/pic", "If-None-Match", inm); r.status != http.StatusNotModified {
				t.Errorf("If-None-Match %s: got %d, want 304", inm, r.status)
			}
		})
	}
}

func TestGalleryImageCacheOff(t *testing.T) {
	f := newFixture(t, setup{cacheOff: true})
	srv := f.galleryServer(t, openAPI)
	data := testimg.PNG(t, 2, 2)
	f.put(t, "pic", data)
	for range 2 {
		checkImage(t, get(t, srv.URL+"/image/pic"), data, "image/png", etagOf(data), "OFF")
	}
	if got := f.totalItems(t); got != 0 {
		t.Errorf("the nodes hold %d items with the cache off", got)
	}
}

// TestGalleryImageCacheTurnedOff: capacity 0 set at run time turns the
// cache off for reads at once.
func TestGalleryImageCacheTurnedOff(t *testing.T) {
	f := newFixture(t, setup{})
	srv := f.galleryServer(t, openAPI)
	data := testimg.PNG(t, 2, 2)
	f.put(t, "pic", data)
	checkImage(t, get(t, srv.URL+"/image/pic"), data, "image/png", etagOf(data), "MISS")
	checkJSON(t, configure(t, srv.URL, "", url.Values{"cacheSize": {"0"}}), http.StatusOK,
		`{"success":"true","mode":"manual","numNodes":1,"cacheSize":0,"policy":"LRU"}`)
	checkImage(t, get(t, srv.URL+"/image/pic"), data, "image/png", etagOf(data), "OFF")
}

func TestGalleryImageFailures(t *testing.T) {
	f := newFixture(t, setup{})
	srv := f.galleryServer(t, openAPI)
	f.put(t, "pic", testimg.PNG(t, 1, 1))
	for _, tt := range []struct {
		name, path string
		down       bool
		code       int
		body       string
	}{
		{"unknown key", "/image/nope", false, 404, `No image is stored under the key "nope".` + "\n"},
		{"escaped slash", "/image/a%2Fb", false, 400, `The key cannot contain "/".` + "\n"},
		{"storage down", "/image/pic", true, 503, storageMessage + "\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.down {
				f.images.setFail(errStorageDown)
				defer f.images.setFail(nil)
			}
			r := get(t, srv.URL+tt.path)
			if r.status != tt.code || string(r.body) != tt.body {
				t.Errorf("got %d %q, want %d %q", r.status, r.body, tt.code, tt.body)
			}
			if got := r.header.Get("Content-Type"); got != "text/plain; charset=utf-8" {
				t.Errorf("Content-Type: %q", got)
			}
			if got := r.header.Get("ETag"); got != "" {
				t.Errorf("a failure carries ETag %q", got)
			}
		})
	}
}

// TestGalleryDeadNode: with the node that owns a key dead, the image is
// still served, from storage.
func TestGalleryDeadNode(t *testing.T) {
	f := newFixture(t, setup{})
	srv := f.galleryServer(t, openAPI)
	data := testimg.PNG(t, 3, 3)
	f.put(t, "pic", data)
	checkImage(t, get(t, srv.URL+"/image/pic"), data, "image/png", etagOf(data), "MISS")
	if err := f.local.Kill(f.pool.Table().Members[0]); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		checkImage(t, get(t, srv.URL+"/image/pic"), data, "image/png", etagOf(data), "MISS")
	}
	doc := checkHTML(t, get(t, srv.URL+"/show?key=pic"), true)
	checkTexts(t, doc, map[string]string{"cache-badge": "Cache miss", "show-version": "1"})
}

// TestImageValidatorsNeverRepeat is the regression test of review items 8
// and 18: after delete_all a re-uploaded key started again at version 1,
// so the deleted image's cache tombstone, at a higher version, refused the
// new image and every read missed; and once the key had been uploaded as
// many times again, a browser's If-None-Match for the deleted image
// matched the new one: a 304 for a different image.
func TestImageValidatorsNeverRepeat(t *testing.T) {
	f := newFixture(t, setup{})
	srv := f.galleryServer(t, openAPI)
	f.put(t, "pic", testimg.PNG(t, 1, 1))
	f.put(t, "pic", testimg.PNG(t, 2, 1)) // its tombstone is at the second version
	etag := get(t, srv.URL+"/image/pic").header.Get("ETag")
	checkJSON(t, postForm(t, srv.URL+"/api/delete_all", nil), http.StatusOK, `{"success":"true"}`)

	f.put(t, "pic", testimg.PNG(t, 3, 1))
	get(t, srv.URL+"/image/pic")
	if got := get(t, srv.URL+"/image/pic").header.Get("X-Cache"); got != "HIT" {
		t.Errorf("the re-uploaded image after a read: X-Cache %s, want HIT (the cache must keep it)", got)
	}
	again := testimg.GIF(t)
	f.put(t, "pic", again)
	if r := get(t, srv.URL+"/image/pic", "If-None-Match", etag); r.status != http.StatusOK || string(r.body) != string(again) {
		t.Errorf("If-None-Match of the deleted image: %d, %d bytes; want 200 and the new image", r.status, len(r.body))
	}
}
