package handlers

import (
	"net/http"
	"testing"

	"github.com/picpool/picpool/internal/testimg"
)

// wantSecurityHeaders are the headers every answer carries.
var wantSecurityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
		"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
	"X-Frame-Options":        "DENY",
	"X-Content-Type-Options": "nosniff",
	"Referrer-Policy":        "same-origin",
}

func checkSecurityHeaders(t *testing.T, what string, r result) {
	t.Helper()
	for name, want := range wantSecurityHeaders {
		if got := r.header.Values(name); len(got) != 1 || got[0] != want {
			t.Errorf("%s: %s = %q, want %q", what, name, got, want)
		}
	}
}

// TestSecurityHeaders: every page of the gallery and the manager, their
// fragments, images, assets, API answers and refusals carry the content
// security policy, anti-framing, nosniff and the referrer policy.
func TestSecurityHeaders(t *testing.T) {
	m := newManager(t, setup{nodes: 1})
	m.put(t, "k", testimg.PNG(t, 2, 2))
	gallery := m.galleryServer(t, openAPI).URL
	cookie := []string{"Cookie", m.cookie}
	for what, r := range map[string]result{
		"gallery home":        get(t, gallery+"/"),
		"gallery upload":      get(t, gallery+"/upload"),
		"gallery upload post": upload(t, gallery, "/upload", "k2", testimg.PNG(t, 1, 1)),
		"gallery show":        get(t, gallery+"/show?key=k"),
		"gallery keys":        get(t, gallery+"/keys"),
		"gallery keys htmx":   get(t, gallery+"/keys?prefix=k", "HX-Request", "true"),
		"gallery image":       get(t, gallery+"/image/k"),
		"gallery missing":     get(t, gallery+"/no-such-page"),
		"gallery asset":       get(t, gallery+"/assets/site.js"),
		"gallery api":         postForm(t, gallery+"/api/list_keys", nil),
		"gallery api refusal": get(t, gallery+"/api/list_keys"),
		"manager login":       get(t, m.srv+"/login"),
		"manager login wrong": postForm(t, m.srv+"/login", map[string][]string{"password": {"wrong"}}),
		"manager config":      get(t, m.srv+"/", cookie...),
		"manager form":        postForm(t, m.srv+"/pool/grow", nil, append(cookie, "HX-Request", "true")...),
		"manager stats":       get(t, m.srv+"/stats", cookie...),
		"manager stats live":  get(t, m.srv+"/stats/live", cookie...),
		"manager redirect":    get(t, m.srv+"/"),
		"manager api":         postForm(t, m.srv+"/api/getNumNodes", nil),
	} {
		if r.status == 0 {
			t.Errorf("%s: no answer", what)
		}
		checkSecurityHeaders(t, what, r)
	}
	// The pages did what they do with the headers on.
	if got := m.images.keys(); len(got) != 2 {
		t.Errorf("keys %q: want the page's upload stored", got)
	}
	if n := m.pool.Nodes(); n != 2 {
		t.Errorf("nodes %d: want the manager's form to have grown the pool to 2", n)
	}
	if r := get(t, m.srv+"/", "Cookie", m.cookie); r.status != http.StatusOK {
		t.Errorf("config page: %d", r.status)
	}
}
