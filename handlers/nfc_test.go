package handlers

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/picpool/picpool/gallery"
	"github.com/picpool/picpool/internal/testimg"

	"golang.org/x/text/unicode/norm"

	"github.com/picpool/picpool/views"
)

// Two spellings of keys that look the same: Unicode NFC (composed) and
// NFD (decomposed).
const (
	cafeNFC = "caf\u00e9"  // é as one code point
	cafeNFD = "cafe\u0301" // e and a combining acute accent
)

// TestKeySpellingsAreOneKey: a key uploaded in one spelling is stored in
// NFC and found by both spellings, at every place a key comes in (the
// test API, /image/, /show and the Keys page's prefix filter); uploading
// the other spelling replaces it rather than adding a look-alike key.
func TestKeySpellingsAreOneKey(t *testing.T) {
	tests := []struct{ name, upload, other string }{
		{"uploaded in NFD", cafeNFD, cafeNFC},
		{"uploaded in NFC", cafeNFC, cafeNFD},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, setup{})
			srv := f.galleryServer(t, openAPI)
			first := testimg.PNG(t, 3, 1)
			checkJSON(t, upload(t, srv.URL, "/api/upload", tt.upload, first), http.StatusOK, okKey(cafeNFC))
			if got := f.images.keys(); !slices.Equal(got, []string{cafeNFC}) {
				t.Fatalf("stored keys %+q, want [%+q]", got, cafeNFC)
			}
			for _, spelling := range []string{tt.upload, tt.other} {
				checkJSON(t, postForm(t, srv.URL+"/api/key/"+url.PathEscape(spelling), nil), http.StatusOK, contentJSON(cafeNFC, first))
				r := get(t, srv.URL+views.ImageURL(spelling))
				if r.status != http.StatusOK || string(r.body) != string(first) {
					t.Errorf("GET /image/%+q: %d, %d bytes; want 200 and the image", spelling, r.status, len(r.body))
				}
				doc := checkHTML(t, get(t, srv.URL+views.ShowURL(spelling)), true)
				if got := byTestID(doc, "show-image-key").Text(); got != cafeNFC {
					t.Errorf("/show?key=%+q shows key %+q, want %+q", spelling, got, cafeNFC)
				}
				doc = checkHTML(t, get(t, srv.URL+views.KeysURL(spelling, 1)), true)
				if cardOf(doc, cafeNFC) == nil {
					t.Errorf("the Keys page for the prefix %+q does not list %+q", spelling, cafeNFC)
				}
			}

			second := testimg.PNG(t, 4, 1)
			checkJSON(t, upload(t, srv.URL, "/api/upload", tt.other, second), http.StatusOK, okKey(cafeNFC))
			checkJSON(t, postForm(t, srv.URL+"/api/list_keys", nil), http.StatusOK, jsonOf(map[string]any{"success": "true", "keys": []string{cafeNFC}}))
			checkJSON(t, postForm(t, srv.URL+"/api/key/"+url.PathEscape(tt.upload), nil), http.StatusOK, contentJSON(cafeNFC, second))
		})
	}
}

// TestUploadFormKeyInNFD: the gallery's upload form stores an NFD key in
// NFC too.
func TestUploadFormKeyInNFD(t *testing.T) {
	f := newFixture(t, setup{})
	srv := f.galleryServer(t, openAPI)
	doc := checkHTML(t, postMultipart(t, srv.URL+"/upload", []formPart{keyPart(cafeNFD), filePart("c.png", testimg.PNG(t, 2, 2))}, "HX-Request", "true"), false)
	if got := byTestID(doc, "upload-saved-link").Text(); got != cafeNFC {
		t.Errorf("saved under %+q, want %+q", got, cafeNFC)
	}
	if got := f.images.keys(); !slices.Equal(got, []string{cafeNFC}) {
		t.Errorf("stored keys %+q, want [%+q]", got, cafeNFC)
	}
}

// TestLongKeyInNFD: 250 Hangul syllables sent decomposed take 2250 bytes
// (three jamo of 3 bytes each); composed they are 250 characters, a valid
// key, so the form's key field must take them.
func TestLongKeyInNFD(t *testing.T) {
	f := newFixture(t, setup{})
	srv := f.galleryServer(t, openAPI)
	nfc := strings.Repeat("한", gallery.MaxKeyChars)
	nfd := norm.NFD.String(nfc)
	if len(nfd) != 2250 {
		t.Fatalf("the decomposed key takes %d bytes, want 2250", len(nfd))
	}
	checkJSON(t, upload(t, srv.URL, "/api/upload", nfd, testimg.PNG(t, 1, 1)), http.StatusOK, okKey(nfc))
	checkAPIError(t, upload(t, srv.URL, "/api/upload", nfd+"\u1112\u1161\u11ab", testimg.PNG(t, 1, 1)), http.StatusBadRequest, "The key is 251 characters long; the limit is 250.")
}
