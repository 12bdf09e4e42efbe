package handlers

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/picpool/picpool/internal/testimg"
)

// Hostile keys, through the test API and the image route: what the key
// rules refuse is refused with its message, and every valid key, however
// odd, round-trips through storage, the pool (nodekey.Of hashes keys
// longer than a node takes) and the URL.

var validOddKeys = []struct{ name, key string }{
	{"emoji", "sunrise 🌄"},
	{"emoji with a skin tone", "👍🏽"},
	{"flag", "🇨🇦"},
	{"emoji joined by ZWJ", "👩‍💻"},
	{"250 ASCII characters", strings.Repeat("k", 250)},
	{"250 × ü (500 bytes)", strings.Repeat("ü", 250)},
	{"250 × 4-byte emoji (1000 bytes)", strings.Repeat("🌄", 250)},
	{"inner space", "my photo"},
	{"percent", "100%"},
	{"escape-like text", "a%20b"},
	{"%2F as text", "%2F"},
	{"query and fragment characters", "a?b#c&d=e"},
	{"plus and semicolon", "a+b;c"},
	{"backslash", `a\b`},
	{"three dots", "..."},
	{"quotes and angle brackets", `<img src="x">`},
}

func TestAPIValidOddKeysRoundTrip(t *testing.T) {
	for _, tt := range validOddKeys {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, setup{})
			srv := f.galleryServer(t, openAPI)
			data := testimg.PNG(t, 2, 3)
			checkJSON(t, upload(t, srv.URL, "/api/upload", tt.key, data), http.StatusOK, okKey(tt.key))
			if got := f.images.keys(); !slices.Equal(got, []string{tt.key}) {
				t.Fatalf("stored keys %q, want [%q]", got, tt.key)
			}
			checkJSON(t, postForm(t, srv.URL+"/api/list_keys", nil), http.StatusOK, jsonOf(map[string]any{"success": "true", "keys": []string{tt.key}}))
			for _, want := range []string{"MISS", "HIT"} {
				r := postForm(t, srv.URL+"/api/key/"+url.PathEscape(tt.key), nil)
				checkJSON(t, r, http.StatusOK, contentJSON(tt.key, data))
				if got := r.header.Get("X-Cache"); got != want {
					t.Errorf("X-Cache: got %q, want %q", got, want)
				}
			}
			if got := f.totalItems(t); got != 1 {
				t.Errorf("the nodes hold %d items, want 1", got)
			}
			r := get(t, srv.URL+"/image/"+url.PathEscape(tt.key))
			if r.status != http.StatusOK || string(r.body) != string(data) || r.header.Get("X-Cache") != "HIT" {
				t.Errorf("GET /image/…: status %d, %d bytes, X-Cache %q; want 200, the %d bytes, HIT", r.status, len(r.body), r.header.Get("X-Cache"), len(data))
			}
		})
	}
}

func TestAPIHostileKeysRefused(t *testing.T) {
	tests := []struct{ name, key, msg string }{
		{"slash", "/", `The key cannot contain "/".`},
		{"slash inside", "a/b", `The key cannot contain "/".`},
		{"NUL", "a\x00b", "The key contains a character that cannot be printed (U+0000)."},
		{"newline", "a\nb", "The key contains a character that cannot be printed (U+000A)."},
		{"tab", "a\tb", "The key contains a character that cannot be printed (U+0009)."},
		{"DEL", "a\x7fb", "The key contains a character that cannot be printed (U+007F)."},
		{"C1 control", "a\u0085b", "The key contains a character that cannot be printed (U+0085)."},
		{"bidi override", "a\u202eb", "The key contains a character that cannot be printed (U+202E)."},
		{"leading space", " a", "The key cannot start or end with a space."},
		{"trailing space", "a ", "The key cannot start or end with a space."},
		{"251 characters", strings.Repeat("k", 251), "The key is 251 characters long; the limit is 250."},
		{"251 × ü", strings.Repeat("ü", 251), "The key is 251 characters long; the limit is 250."},
		{"251 × 4-byte emoji", strings.Repeat("🌄", 251), "The key is 251 characters long; the limit is 250."},
		{"more bytes than any spelling of 250 characters", strings.Repeat("🌄", 751), "The key is longer than 250 characters."},
		{"invalid UTF-8", "a\xffb", "The key is not valid UTF-8 text."},
		{"only spaces", "   ", "Please give the image a key."},
		{"one dot", ".", dotsRefused},
		{"two dots", "..", dotsRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, setup{})
			srv := f.galleryServer(t, openAPI)
			checkAPIError(t, upload(t, srv.URL, "/api/upload", tt.key, testimg.PNG(t, 1, 1)), 400, tt.msg)
			if keys := f.images.keys(); len(keys) != 0 {
				t.Errorf("stored %q", keys)
			}
		})
	}
}

// TestAPIHostileKeyPaths: keys in /api/key/<key> and /image/<key> that
// are not valid keys are refused with 400, never looked up.
func TestAPIHostileKeyPaths(t *testing.T) {
	tests := []struct{ name, path, msg string }{
		{"escaped slash", "%2F", `The key cannot contain "/".`},
		{"escaped slash inside", "a%2fb", `The key cannot contain "/".`},
		{"NUL", "a%00b", "The key contains a character that cannot be printed (U+0000)."},
		{"control character", "a%01b", "The key contains a character that cannot be printed (U+0001)."},
		{"invalid UTF-8", "%FF%FE", "The key is not valid UTF-8 text."},
		{"leading space", "%20a", "The key cannot start or end with a space."},
		{"trailing space", "a%20", "The key cannot start or end with a space."},
		{"251 characters", strings.Repeat("k", 251), "The key is 251 characters long; the limit is 250."},
		{"one dot", ".", dotsRefused},
		{"two dots", "..", dotsRefused},
		{"escaped dots", "%2e%2E", dotsRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, setup{})
			srv := f.galleryServer(t, openAPI)
			checkAPIError(t, postForm(t, srv.URL+"/api/key/"+tt.path, nil), 400, tt.msg)
			r := get(t, srv.URL+"/image/"+tt.path)
			if r.status != http.StatusBadRequest || string(r.body) != tt.msg+"\n" {
				t.Errorf("GET /image/%s: %d %q, want 400 %q", tt.path, r.status, r.body, tt.msg+"\n")
			}
			if n := f.images.callCount("Load"); n != 0 {
				t.Errorf("storage was asked %d times", n)
			}
		})
	}
}

// TestAPIKeyPathSlash: an unescaped "/" makes another path, which is no
// API route.
func TestAPIKeyPathSlash(t *testing.T) {
	f := newFixture(t, setup{})
	srv := f.galleryServer(t, openAPI)
	checkAPIError(t, postForm(t, srv.URL+"/api/key/a/b", nil), 404, "No such API route: /api/key/a/b.")
}

// TestAPIKeyInPathIsTheKeyUploaded: what /api/key/<escaped key> answers
// names the very key, byte for byte, for every odd valid key.
func TestAPIKeyInPathIsTheKeyUploaded(t *testing.T) {
	f := newFixture(t, setup{})
	srv := f.galleryServer(t, openAPI)
	for i, tt := range validOddKeys {
		t.Run("upload "+tt.name, func(t *testing.T) {
			if _, err := f.gallery.Upload(t.Context(), tt.key, testimg.PNG(t, 1+i, 1)); err != nil {
				t.Fatalf("upload %q: %v", tt.key, err)
			}
		})
	}
	for i, tt := range validOddKeys {
		t.Run("read "+tt.name, func(t *testing.T) {
			if _, ok := f.images.row(tt.key); !ok {
				t.Skipf("%q was refused at upload (see the subtest above)", tt.key)
			}
			checkJSON(t, postForm(t, srv.URL+"/api/key/"+url.PathEscape(tt.key), nil), http.StatusOK, contentJSON(tt.key, testimg.PNG(t, 1+i, 1)))
		})
	}
}
