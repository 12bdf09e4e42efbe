package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/picpool/picpool/internal/testimg"
)

// hostRequest sends a request with its Host header set to host (an empty
// body; a form's content type on a POST).
func hostRequest(t *testing.T, method, target, host string, headers ...string) result {
	t.Helper()
	req := newRequest(t, method, target, strings.NewReader(""))
	req.Host = host
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return send(t, req, headers...)
}

// TestLoopbackOnlyRefusesRebinding: on a server that is open because it
// is on loopback, a request addressed to another name (a page on
// evil.example whose name now resolves to 127.0.0.1) cannot delete,
// resize or read anything, on /api (JSON) or the pages (text); nor can a
// request from another origin. Loopback names pass, with any port.
func TestLoopbackOnlyRefusesRebinding(t *testing.T) {
	for _, server := range []string{"gallery", "manager"} {
		t.Run(server, func(t *testing.T) {
			f := newFixture(t, setup{})
			prot := Protection{LoopbackOnly: true}
			srv := f.protectedGallery(t, openAPI, prot)
			if server == "manager" {
				srv = f.protectedManager(t, openAPI, nil, prot)
			}
			u, _ := url.Parse(srv.URL)
			_, port, _ := strings.Cut(u.Host, ":")
			f.put(t, "kept", testimg.PNG(t, 1, 1))
			wantHost := `This server listens only on this machine and answers only requests addressed to localhost, 127.0.0.1 or [::1], not "evil.example:5000". Open it as http://localhost:` + port + `/.`
			for _, path := range []string{"/api/delete_all", "/api/configure_cache?numNodes=3", "/api/list_keys"} {
				checkAPIError(t, hostRequest(t, http.MethodPost, srv.URL+path, "evil.example:5000"), http.StatusForbidden, wantHost)
			}
			for _, host := range []string{"evil.example:5000", "evil.example", "127.0.0.1.evil.example", "localhost.", "[::2]:1", "0.0.0.0:" + port} {
				r := hostRequest(t, http.MethodGet, srv.URL+"/healthz", host)
				if r.status != http.StatusForbidden || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
					t.Errorf("GET /healthz with Host %q: %d %s %q, want a 403 in text", host, r.status, r.header.Get("Content-Type"), r.body)
				}
			}
			page := hostRequest(t, http.MethodGet, srv.URL+"/", "evil.example:5000")
			if page.status != http.StatusForbidden || string(page.body) != wantHost+"\n" {
				t.Errorf("GET / with Host evil.example: %d %q, want 403 %q", page.status, page.body, wantHost)
			}
			checkSecurityHeaders(t, "the refusal", page)

			wantOrigin := `This server listens only on this machine and answers only its own pages; this request came from "http://evil.example:5000". Open it as http://localhost:` + port + `/.`
			checkAPIError(t, hostRequest(t, http.MethodPost, srv.URL+"/api/delete_all", u.Host, "Origin", "http://evil.example:5000"), http.StatusForbidden, wantOrigin)
			for _, origin := range []string{"null", "http://localhost:" + port, "http://" + u.Host + "/x", "file://"} {
				if r := hostRequest(t, http.MethodPost, srv.URL+"/api/list_keys", u.Host, "Origin", origin); r.status != http.StatusForbidden {
					t.Errorf("Origin %q to %s: %d, want 403", origin, u.Host, r.status)
				}
			}
			f.checkPool(t, poolWant{1, lruConfig(16), nil})
			if got := f.images.keys(); len(got) != 1 {
				t.Fatalf("keys after the refusals: %q, want [kept]", got)
			}

			// This machine's names pass, in any case and with any port.
			for _, host := range []string{"localhost:" + port, "LocalHost:" + port, "127.0.0.1:" + port, "[::1]:" + port, "localhost", "[::1]", "127.0.0.2:80"} {
				if r := hostRequest(t, http.MethodGet, srv.URL+"/healthz", host); r.status != http.StatusOK {
					t.Errorf("GET /healthz with Host %q: %d %q, want 200", host, r.status, r.body)
				}
			}
			for _, origin := range []string{"http://" + u.Host, "HTTP://" + strings.ToUpper(u.Host)} {
				if r := hostRequest(t, http.MethodPost, srv.URL+"/api/list_keys", u.Host, "Origin", origin); r.status != http.StatusOK {
					t.Errorf("Origin %q: %d %q, want 200", origin, r.status, r.body)
				}
			}
			checkJSON(t, hostRequest(t, http.MethodPost, srv.URL+"/api/delete_all", "localhost:"+port, "Origin", "http://localhost:"+port),
				http.StatusOK, `{"success":"true"}`)
		})
	}
}

// TestLoopbackOnlyOff: without the check (a server not on loopback, or
// started with --open-test-api) any Host is served.
func TestLoopbackOnlyOff(t *testing.T) {
	f := newFixture(t, setup{})
	srv := f.galleryServer(t, openAPI)
	if r := hostRequest(t, http.MethodGet, srv.URL+"/healthz", "gallery.example.com"); r.status != http.StatusOK {
		t.Errorf("GET /healthz with Host gallery.example.com: %d, want 200", r.status)
	}
}

func TestHostName(t *testing.T) {
	for in, want := range map[string]string{
		"localhost:5000": "localhost", "[::1]:5000": "::1", "[::1]": "::1", "127.0.0.1": "127.0.0.1",
		"evil.example:80": "evil.example", "": "", "a:b:c": "a:b:c",
	} {
		if got := hostName(in); got != want {
			t.Errorf("hostName(%q) = %q, want %q", in, got, want)
		}
	}
}
