package views

import (
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"
)

func TestHomePage(t *testing.T) {
	t.Run("counts and links", func(t *testing.T) {
		doc, _ := render(t, HomePage(Home{Images: 12345, Nodes: 3, ManagerURL: "http://localhost:5001/"}))
		if got, want := text(one(t, doc, "home-images")), "12\u202f345"; got != want {
			t.Errorf("images: got %q, want %q", got, want)
		}
		if got, want := text(one(t, doc, "home-nodes")), "3"; got != want {
			t.Errorf("nodes: got %q, want %q", got, want)
		}
		for id, want := range map[string]string{"home-upload": "/upload", "home-keys": "/keys", "home-show": "/show", "home-manager": "http://localhost:5001/"} {
			if got := attr(t, one(t, doc, id), "href"); got != want {
				t.Errorf("%s href: got %q, want %q", id, got, want)
			}
		}
		if got := attr(t, doc.Find(`nav a[aria-current="page"]`), "href"); got != "/" {
			t.Errorf("current nav link: got %q, want /", got)
		}
	})
	t.Run("no manager link", func(t *testing.T) {
		doc, _ := render(t, HomePage(Home{}))
		none(t, doc, "home-manager")
		if got := text(one(t, doc, "home-images")); got != "0" {
			t.Errorf("images: got %q, want 0", got)
		}
	})
}

func TestUploadPage(t *testing.T) {
	t.Run("empty form", func(t *testing.T) {
		doc, _ := render(t, UploadPage(Upload{MaxBytes: 10 << 20}))
		form := one(t, doc, "upload-form")
		want := map[string]string{
			"method": "post", "action": "/upload", "enctype": "multipart/form-data",
			"hx-post": "/upload", "hx-target": "#upload-result", "hx-swap": "outerHTML",
		}
		for name, w := range want {
			if got := attr(t, form, name); got != w {
				t.Errorf("form %s: got %q, want %q", name, got, w)
			}
		}
		key := one(t, doc, "upload-key")
		if attr(t, key, "name") != "key" || !hasAttr(key, "required") || hasAttr(key, "aria-invalid") {
			h, _ := key.Attr("name")
			t.Errorf("key field: name %q, required %v, aria-invalid %v", h, hasAttr(key, "required"), hasAttr(key, "aria-invalid"))
		}
		file := one(t, doc, "upload-file")
		if got := attr(t, file, "name"); got != "file" {
			t.Errorf("file field name: got %q", got)
		}
		if got := attr(t, file, "accept"); got != "image/png,image/jpeg,image/gif,image/webp" {
			t.Errorf("accept: got %q", got)
		}
		if got := attr(t, file, "data-max-bytes"); got != "10485760" {
			t.Errorf("data-max-bytes: got %q", got)
		}
		if got, want := text(one(t, doc, "upload-file-hint")), "PNG, JPEG, GIF or WebP, up to 10 MiB."; got != want {
			t.Errorf("hint: got %q, want %q", got, want)
		}
		// The drop zone holds the input, so a drop lands on the form field.
		if one(t, doc, "upload-dropzone").Find(`[data-testid="upload-file"]`).Length() != 1 {
			t.Error("the file input is not inside the drop zone")
		}
		if !hasAttr(one(t, doc, "upload-progress"), "hidden") {
			t.Error("the progress bar shows before any upload")
		}
		for _, id := range []string{"upload-key-error", "upload-file-error"} {
			if got := text(one(t, doc, id)); got != "" {
				t.Errorf("%s: got %q, want empty", id, got)
			}
		}
		if got := text(one(t, doc, "upload-result")); got != "" {
			t.Errorf("result area: got %q, want empty", got)
		}
		if doc.Find(`script[src^="/assets/upload.js?v="]`).Length() != 1 {
			t.Error("upload.js is not loaded")
		}
	})
	t.Run("field errors keep the key", func(t *testing.T) {
		doc, _ := render(t, UploadPage(Upload{Key: "a/b", KeyError: "A key cannot contain “/”.", FileError: "The file is empty."}))
		key := one(t, doc, "upload-key")
		if got := attr(t, key, "value"); got != "a/b" {
			t.Errorf("key value: got %q", got)
		}
		if got := attr(t, key, "aria-invalid"); got != "true" {
			t.Errorf("key aria-invalid: got %q", got)
		}
		if got := text(one(t, doc, "upload-key-error")); got != "A key cannot contain “/”." {
			t.Errorf("key error: got %q", got)
		}
		if got := text(one(t, doc, "upload-file-error")); got != "The file is empty." {
			t.Errorf("file error: got %q", got)
		}
		if got := attr(t, one(t, doc, "upload-file"), "aria-invalid"); got != "true" {
			t.Errorf("file aria-invalid: got %q", got)
		}
		none(t, doc, "upload-saved")
	})
	t.Run("no limit given", func(t *testing.T) {
		doc, _ := render(t, UploadPage(Upload{}))
		if got, want := text(one(t, doc, "upload-file-hint")), "PNG, JPEG, GIF or WebP."; got != want {
			t.Errorf("hint: got %q, want %q", got, want)
		}
	})
}

func TestUploadResult(t *testing.T) {
	im := Image{Key: "cat", ContentType: "image/png", Size: 2048, Version: 3, Updated: t0, Hash: "h3"}
	tests := []struct {
		name                 string
		m                    Upload
		saved                bool
		errText              string
		keyError, fileError  string
		savedText, savedLink string
	}{
		{name: "saved", m: Upload{Saved: true, Image: im}, saved: true,
			savedText: "Saved under catimage/png · 2 KiB · version 3", savedLink: "/show?key=cat"},
		{name: "key refused", m: Upload{Key: "", KeyError: "Give the image a key."}, keyError: "Give the image a key."},
		{name: "file refused", m: Upload{Key: "cat", FileError: "The file is 12 MiB; the limit is 10 MiB."}, fileError: "The file is 12 MiB; the limit is 10 MiB."},
		{name: "storage failed", m: Upload{Key: "cat", Error: "The image could not be stored. Try again."}, errText: "The image could not be stored. Try again."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, html := render(t, UploadResult(tt.m))
			isFragment(t, html)
			area := one(t, doc, "upload-result")
			if got := attr(t, area, "id"); got != "upload-result" {
				t.Errorf("result area id: got %q (the form targets #upload-result)", got)
			}
			if got := byID(doc, "upload-saved").Length() == 1; got != tt.saved {
				t.Errorf("saved shown: got %v, want %v", got, tt.saved)
			}
			if tt.saved {
				if got := text(one(t, doc, "upload-saved")); got != tt.savedText {
					t.Errorf("saved text: got %q, want %q", got, tt.savedText)
				}
				if got := attr(t, one(t, doc, "upload-saved-link"), "href"); got != tt.savedLink {
					t.Errorf("saved link: got %q, want %q", got, tt.savedLink)
				}
				saved := one(t, doc, "upload-saved-image")
				if got := attr(t, saved, "src"); got != "/image/cat?size=small&v=h3" {
					t.Errorf("saved image: got %q", got)
				}
				if got, want := attr(t, saved, "srcset"), "/image/cat?size=small&v=h3 1x, /image/cat?size=thumb&v=h3 2x"; got != want {
					t.Errorf("saved image srcset: got %q, want %q", got, want)
				}
				if !hasAttr(one(t, doc, "upload-saved"), "data-upload-ok") {
					t.Error("a saved upload lacks data-upload-ok, which tells upload.js to reset the form")
				}
			}
			if got := text(byID(doc, "upload-error")); got != tt.errText {
				t.Errorf("error: got %q, want %q", got, tt.errText)
			}
			// Both field slots come along out of band, so a fixed field's old
			// message goes away.
			for id, want := range map[string]string{"upload-key-error": tt.keyError, "upload-file-error": tt.fileError} {
				slot := one(t, doc, id)
				if got := attr(t, slot, "hx-swap-oob"); got != "true" {
					t.Errorf("%s hx-swap-oob: got %q", id, got)
				}
				if got := attr(t, slot, "id"); got != id {
					t.Errorf("%s id: got %q", id, got)
				}
				if got := text(slot); got != want {
					t.Errorf("%s: got %q, want %q", id, got, want)
				}
			}
		})
	}
}

func TestShowPage(t *testing.T) {
	im := Image{
		Key: "holiday/beach", ContentType: "image/jpeg", Size: 100_000, Version: 2, Updated: t0, Hash: "h2",
		Original: Dimensions{3000, 4000}, Display: Dimensions{1200, 1600},
	}
	tests := []struct {
		name     string
		m        Show
		present  []string // data-testids that must exist
		absent   []string
		texts    map[string]string
		badgeHit string // data-hit of the badge, "" for no badge
	}{
		{name: "empty form", m: Show{},
			absent: []string{"show-result", "show-not-found", "show-error", "cache-badge"}},
		{name: "invalid key", m: Show{Key: "\x01", KeyError: "A key cannot contain control characters."},
			absent: []string{"show-result", "show-not-found", "show-error"},
			texts:  map[string]string{"show-key-error": "A key cannot contain control characters."}},
		{name: "lookup failed", m: Show{Key: "x", Error: "The image could not be loaded. Try again."},
			present: []string{"show-error"}, absent: []string{"show-result", "show-not-found"},
			texts: map[string]string{"show-error": "The image could not be loaded. Try again."}},
		{name: "not found", m: Show{Key: "nope"},
			present: []string{"show-not-found"}, absent: []string{"show-result", "show-image", "cache-badge"},
			texts: map[string]string{"show-not-found": "No image is stored under the key nope.Upload one or browse the keys."}},
		{name: "hit", m: Show{Key: im.Key, Found: true, Image: im, CacheHit: true, Latency: 840 * time.Microsecond},
			present: []string{"show-result", "show-image"}, absent: []string{"show-not-found"}, badgeHit: "true",
			texts: map[string]string{
				"cache-badge": "Cache hit", "show-latency": "840 µs", "show-size": "97.7 KiB (100\u202f000 bytes)",
				"show-type": "image/jpeg", "show-version": "2", "show-updated": "2025-11-22 14:03:07 UTC",
			}},
		{name: "miss", m: Show{Key: im.Key, Found: true, Image: im, Latency: 12345 * time.Microsecond},
			present: []string{"show-result", "show-image"}, badgeHit: "false",
			texts: map[string]string{"cache-badge": "Cache miss", "show-latency": "12.3 ms"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, _ := render(t, ShowPage(tt.m))
			form := one(t, doc, "show-form")
			if attr(t, form, "method") != "get" || attr(t, form, "action") != "/show" {
				t.Errorf("show form: method %q action %q", attr(t, form, "method"), attr(t, form, "action"))
			}
			if got := attr(t, one(t, doc, "show-key"), "value"); got != tt.m.Key {
				t.Errorf("key field: got %q, want %q", got, tt.m.Key)
			}
			for _, id := range tt.present {
				one(t, doc, id)
			}
			for _, id := range tt.absent {
				none(t, doc, id)
			}
			for id, want := range tt.texts {
				if got := text(one(t, doc, id)); got != want {
					t.Errorf("%s: got %q, want %q", id, got, want)
				}
			}
			if tt.badgeHit != "" {
				if got := attr(t, one(t, doc, "cache-badge"), "data-hit"); got != tt.badgeHit {
					t.Errorf("badge data-hit: got %q, want %q", got, tt.badgeHit)
				}
				img := one(t, doc, "show-image")
				for name, want := range map[string]string{"src": "/image/holiday%2Fbeach?size=display&v=h2", "width": "1200", "height": "1600"} {
					if got := attr(t, img, name); got != want {
						t.Errorf("image %s: got %q, want %q", name, got, want)
					}
				}
				orig := one(t, doc, "show-original")
				if got, want := attr(t, orig, "href"), "/image/holiday%2Fbeach?v=h2"; got != want || !hasAttr(orig, "download") {
					t.Errorf("original link: href %q (want %q), download %v", got, want, hasAttr(orig, "download"))
				}
				if got, want := text(one(t, doc, "show-original-size")), "(3000×4000)"; got != want {
					t.Errorf("original size: got %q, want %q", got, want)
				}
			}
		})
	}
}

func TestKeysPage(t *testing.T) {
	items := []Image{
		{Key: "cat", Size: 1000, Version: 1, Updated: t0, Hash: "h1", Small: Dimensions{120, 160}},
		{Key: "cab", Size: 2000, Version: 4, Updated: t0.Add(-time.Hour)}, // before hashes and sizes were kept
	}
	t.Run("list with pager", func(t *testing.T) {
		doc, _ := render(t, KeysPage(Keys{Prefix: "ca", Items: items, Page: 3, PerPage: 2, Total: 20}))
		form := one(t, doc, "keys-filter")
		for name, want := range map[string]string{"method": "get", "action": "/keys", "hx-get": "/keys", "hx-target": "#key-list", "hx-push-url": "true"} {
			if got := attr(t, form, name); got != want {
				t.Errorf("filter form %s: got %q, want %q", name, got, want)
			}
		}
		prefix := one(t, doc, "keys-prefix")
		if attr(t, prefix, "name") != "prefix" || attr(t, prefix, "value") != "ca" {
			t.Errorf("prefix field: name %q value %q", attr(t, prefix, "name"), attr(t, prefix, "value"))
		}
		if got := attr(t, prefix, "hx-trigger"); !strings.Contains(got, "input changed delay:") {
			t.Errorf("prefix hx-trigger: got %q, want typing to filter", got)
		}
		if got, want := text(one(t, doc, "keys-count")), "20 keys starting with ca · page 3 of 10"; got != want {
			t.Errorf("count: got %q, want %q", got, want)
		}
		var keys, srcs, links []string
		byID(doc, "key-item").Each(func(_ int, s *goquery.Selection) {
			keys = append(keys, attr(t, s, "data-key"))
			img := s.Find(`[data-testid="key-thumb"]`)
			srcs = append(srcs, attr(t, img, "src"), attr(t, img, "srcset"), img.AttrOr("width", "-")+"×"+img.AttrOr("height", "-"))
			if attr(t, img, "loading") != "lazy" {
				t.Errorf("thumbnail of %s is not lazy", attr(t, s, "data-key"))
			}
			links = append(links, attr(t, s.Find(`[data-testid="key-link"]`), "href"))
		})
		if diff := cmp.Diff([]string{"cat", "cab"}, keys); diff != "" {
			t.Errorf("keys (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{
			"/image/cat?size=small&v=h1", "/image/cat?size=small&v=h1 1x, /image/cat?size=thumb&v=h1 2x", "120×160",
			"/image/cab?size=small", "/image/cab?size=small 1x, /image/cab?size=thumb 2x", "-×-",
		}, srcs); diff != "" {
			t.Errorf("thumbnails (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"/show?key=cat", "/show?key=cab"}, links); diff != "" {
			t.Errorf("links (-want +got):\n%s", diff)
		}
		// Pages 1, 2, 3 (current), 4, 5, …, 10, with previous and next;
		// every link keeps the prefix.
		var pageHrefs []string
		byID(doc, "keys-page").Each(func(_ int, s *goquery.Selection) {
			pageHrefs = append(pageHrefs, attr(t, s, "href"))
			if attr(t, s, "hx-get") != attr(t, s, "href") || attr(t, s, "hx-target") != "#key-list" {
				t.Errorf("page link %s: hx-get %q hx-target %q", attr(t, s, "href"), attr(t, s, "hx-get"), attr(t, s, "hx-target"))
			}
		})
		wantHrefs := []string{"/keys?prefix=ca", "/keys?page=2&prefix=ca", "/keys?page=3&prefix=ca", "/keys?page=4&prefix=ca", "/keys?page=5&prefix=ca", "/keys?page=10&prefix=ca"}
		if diff := cmp.Diff(wantHrefs, pageHrefs); diff != "" {
			t.Errorf("page links (-want +got):\n%s", diff)
		}
		if got := attr(t, doc.Find(`[data-testid="keys-page"][aria-current="page"]`), "data-page"); got != "3" {
			t.Errorf("current page: got %q", got)
		}
		if got := attr(t, one(t, doc, "keys-prev"), "href"); got != "/keys?page=2&prefix=ca" {
			t.Errorf("prev: got %q", got)
		}
		if got := attr(t, one(t, doc, "keys-next"), "href"); got != "/keys?page=4&prefix=ca" {
			t.Errorf("next: got %q", got)
		}
		none(t, doc, "keys-empty")
	})
	t.Run("one page", func(t *testing.T) {
		doc, _ := render(t, KeysPage(Keys{Items: items, Page: 1, PerPage: 24, Total: 2}))
		none(t, doc, "keys-pager")
		if got := text(one(t, doc, "keys-count")); got != "2 keys" {
			t.Errorf("count: got %q", got)
		}
	})
	t.Run("total left unset", func(t *testing.T) {
		doc, _ := render(t, KeysPage(Keys{Items: items, Page: 2, PerPage: 2}))
		if got := text(one(t, doc, "keys-count")); got != "4 keys · page 2 of 2" {
			t.Errorf("count: got %q", got)
		}
	})
	t.Run("empty with prefix", func(t *testing.T) {
		doc, _ := render(t, KeysPage(Keys{Prefix: "zz", Page: 1, PerPage: 24}))
		if got, want := text(one(t, doc, "keys-empty")), "No key starts with zz.Show every key or upload an image."; got != want {
			t.Errorf("empty state: got %q, want %q", got, want)
		}
		none(t, doc, "key-item")
		none(t, doc, "keys-pager")
	})
	t.Run("empty", func(t *testing.T) {
		doc, _ := render(t, KeysPage(Keys{}))
		if got, want := text(one(t, doc, "keys-empty")), "No images yet.Upload the first one."; got != want {
			t.Errorf("empty state: got %q, want %q", got, want)
		}
	})
	t.Run("listing failed", func(t *testing.T) {
		doc, _ := render(t, KeysPage(Keys{Prefix: "a", Error: "The keys could not be listed."}))
		if got := text(one(t, doc, "keys-error")); got != "The keys could not be listed." {
			t.Errorf("error: got %q", got)
		}
		none(t, doc, "keys-empty")
	})
	t.Run("fragment", func(t *testing.T) {
		doc, html := render(t, KeyList(Keys{Items: items, Total: 2}))
		isFragment(t, html)
		if got := attr(t, one(t, doc, "key-list"), "id"); got != "key-list" {
			t.Errorf("list id: got %q (the filter targets #key-list)", got)
		}
		if got := byID(doc, "key-item").Length(); got != 2 {
			t.Errorf("items: got %d, want 2", got)
		}
	})
}

func TestPages(t *testing.T) {
	tests := []struct {
		name string
		m    Keys
		want pageSet
	}{
		{"no page size", Keys{Total: 100}, pageSet{1, 1, []int{1}}},
		{"exact fit", Keys{Page: 1, PerPage: 10, Total: 10}, pageSet{1, 1, []int{1}}},
		{"one over", Keys{Page: 2, PerPage: 10, Total: 11}, pageSet{2, 2, []int{1, 2}}},
		{"page 0 is 1", Keys{Page: 0, PerPage: 10, Total: 30}, pageSet{1, 3, []int{1, 2, 3}}},
		{"middle of many", Keys{Page: 10, PerPage: 1, Total: 20}, pageSet{10, 20, []int{1, 0, 8, 9, 10, 11, 12, 0, 20}}},
		{"gap of one page at the start", Keys{Page: 5, PerPage: 1, Total: 20}, pageSet{5, 20, []int{1, 2, 3, 4, 5, 6, 7, 0, 20}}},
		{"near the start", Keys{Page: 3, PerPage: 1, Total: 20}, pageSet{3, 20, []int{1, 2, 3, 4, 5, 0, 20}}},
		{"no gap of one", Keys{Page: 4, PerPage: 1, Total: 7}, pageSet{4, 7, []int{1, 2, 3, 4, 5, 6, 7}}},
		{"gap of one page at the end", Keys{Page: 14, PerPage: 1, Total: 18}, pageSet{14, 18, []int{1, 0, 12, 13, 14, 15, 16, 17, 18}}},
		{"past the end", Keys{Page: 5, PerPage: 10, Total: 20}, pageSet{5, 5, []int{1, 2, 3, 4, 5}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, pages(tt.m)); diff != "" {
				t.Errorf("pages (-want +got):\n%s", diff)
			}
		})
	}
}

// TestUploadManyNeedsScript: the many-files uploader is hidden in the
// page as served (it needs upload.js, which shows it), so without
// JavaScript only the single-file form, which works without, is offered.
func TestUploadManyNeedsScript(t *testing.T) {
	doc, _ := render(t, UploadPage(Upload{MaxBytes: 10 << 20}))
	box := one(t, doc, "upload-many")
	if !hasAttr(box, "hidden") || !hasAttr(box, "data-upload-many") || attr(t, box, "data-max-bytes") != "10485760" {
		t.Errorf("many-files uploader: hidden %v, data-upload-many %v, data-max-bytes %q", hasAttr(box, "hidden"), hasAttr(box, "data-upload-many"), attr(t, box, "data-max-bytes"))
	}
	if !hasAttr(one(t, doc, "upload-many-files"), "multiple") {
		t.Error("the many-files input does not take multiple files")
	}
	one(t, doc, "upload-form")
}
