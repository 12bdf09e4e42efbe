package handlers

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/picpool/picpool/internal/testimg"
)

// The test API's guard: on a server that is not on loopback and was not
// started with --open-test-api, the routes that change state need the
// manager's API token; the reading routes stay open; and no browser on
// another origin can change state.

const apiToken = "api-token-0123456789"

const unauthorizedMessage = "This server is not on loopback: send the manager API token as \"Authorization: Bearer <token>\" (or start it with --open-test-api)."

// stateRoutes are the /api routes that change state, each with a valid
// request.
func stateRoutes(t *testing.T, base string) map[string]func(headers ...string) result {
	return map[string]func(headers ...string) result{
		"upload": func(h ...string) result { return upload(t, base, "/api/upload", "guarded", testimg.PNG(t, 1, 1), h...) },
		"delete_all": func(h ...string) result {
			return postForm(t, base+"/api/delete_all", nil, h...)
		},
		"configure_cache": func(h ...string) result {
			return postForm(t, base+"/api/configure_cache?numNodes=2&cacheSize=8", nil, h...)
		},
	}
}

func TestAPIGuardClosed(t *testing.T) {
	for _, server := range []string{"gallery", "manager"} {
		t.Run(server, func(t *testing.T) {
			f := newFixture(t, setup{})
			guard := APIGuard(false, apiToken)
			srv := f.galleryServer(t, guard)
			if server == "manager" {
				srv = f.managerServer(t, guard, nil)
			}
			f.put(t, "kept", testimg.PNG(t, 1, 1))
			for name, call := range stateRoutes(t, srv.URL) {
				t.Run(name+" without a token", func(t *testing.T) {
					r := call()
					checkAPIError(t, r, http.StatusUnauthorized, unauthorizedMessage)
					if got := r.header.Get("WWW-Authenticate"); got != `Bearer realm="picpool test API"` {
						t.Errorf("WWW-Authenticate: got %q", got)
					}
				})
				t.Run(name+" with a wrong token", func(t *testing.T) {
					checkAPIError(t, call("Authorization", "Bearer wrong"), http.StatusUnauthorized, unauthorizedMessage)
					checkAPIError(t, call("Authorization", apiToken), http.StatusUnauthorized, unauthorizedMessage)
					checkAPIError(t, call("Authorization", "Basic "+apiToken), http.StatusUnauthorized, unauthorizedMessage)
				})
			}
			// Nothing changed.
			f.checkPool(t, poolWant{1, lruConfig(16), nil})
			if got := f.images.keys(); len(got) != 1 || got[0] != "kept" {
				t.Errorf("keys after the refusals: %q, want [kept]", got)
			}

			// The reading routes stay open.
			checkJSON(t, postForm(t, srv.URL+"/api/list_keys", nil), http.StatusOK, `{"success":"true","keys":["kept"]}`)
			checkJSON(t, postForm(t, srv.URL+"/api/key/kept", nil), http.StatusOK, contentJSON("kept", testimg.PNG(t, 1, 1)))
			checkJSON(t, postForm(t, srv.URL+"/api/getNumNodes", nil), http.StatusOK, `{"success":"true","numNodes":1}`)
			if r := postForm(t, srv.URL+"/api/getRate?rate=hit", nil); r.status != http.StatusOK {
				t.Errorf("getRate: %d %s", r.status, r.body)
			}

			// With the token, each works.
			bearer := []string{"Authorization", "Bearer " + apiToken}
			routes := stateRoutes(t, srv.URL)
			checkJSON(t, routes["upload"](bearer...), http.StatusOK, okKey("guarded"))
			checkJSON(t, routes["configure_cache"](bearer...), http.StatusOK, `{"success":"true","mode":"manual","numNodes":2,"cacheSize":8,"policy":"LRU"}`)
			checkJSON(t, routes["delete_all"](bearer...), http.StatusOK, `{"success":"true"}`)
			if got := f.images.keys(); len(got) != 0 {
				t.Errorf("keys after delete_all: %q", got)
			}
		})
	}
}

// TestAPIGuardWithoutToken: a closed server with no token configured
// refuses every state change, even one sending "Bearer " and nothing.
func TestAPIGuardWithoutToken(t *testing.T) {
	f := newFixture(t, setup{})
	srv := f.galleryServer(t, APIGuard(false, ""))
	for name, call := range stateRoutes(t, srv.URL) {
		t.Run(name, func(t *testing.T) {
			checkAPIError(t, call(), http.StatusUnauthorized, unauthorizedMessage)
			checkAPIError(t, call("Authorization", "Bearer "), http.StatusUnauthorized, unauthorizedMessage)
		})
	}
}

// TestAPIGuardOpen: on loopback (or with --open-test-api) the state
// changing routes need no token.
func TestAPIGuardOpen(t *testing.T) {
	f := newFixture(t, setup{})
	srv := f.galleryServer(t, APIGuard(true, apiToken))
	routes := stateRoutes(t, srv.URL)
	checkJSON(t, routes["upload"](), http.StatusOK, okKey("guarded"))
	checkJSON(t, routes["configure_cache"](), http.StatusOK, `{"success":"true","mode":"manual","numNodes":2,"cacheSize":8,"policy":"LRU"}`)
	checkJSON(t, routes["delete_all"](), http.StatusOK, `{"success":"true"}`)
}

// TestAPICrossOrigin: a browser on another origin cannot change state,
// token or not; same-origin and non-browser requests can.
func TestAPICrossOrigin(t *testing.T) {
	f := newFixture(t, setup{})
	srv := f.galleryServer(t, APIGuard(false, apiToken))
	f.put(t, "kept", testimg.PNG(t, 1, 1))
	bearer := []string{"Authorization", "Bearer " + apiToken}
	for name, call := range stateRoutes(t, srv.URL) {
		t.Run(name, func(t *testing.T) {
			for _, h := range [][]string{
				{"Sec-Fetch-Site", "cross-site"},
				{"Sec-Fetch-Site", "same-site"},
				{"Origin", "https://evil.example"},
				append([]string{"Sec-Fetch-Site", "cross-site"}, bearer...),
			} {
				checkAPIError(t, call(h...), http.StatusForbidden, "Cross-origin requests cannot change state.")
			}
		})
	}
	f.checkPool(t, poolWant{1, lruConfig(16), nil})
	if got := f.images.keys(); len(got) != 1 {
		t.Errorf("keys after the refusals: %q, want [kept]", got)
	}
	// The reading routes answer a cross-site request (a browser keeps the
	// answer from the page that asked).
	checkJSON(t, postForm(t, srv.URL+"/api/getNumNodes", nil, "Sec-Fetch-Site", "cross-site"), http.StatusOK, `{"success":"true","numNodes":1}`)
	// Same origin, as the browser says it, passes.
	checkJSON(t, stateRoutes(t, srv.URL)["configure_cache"](append([]string{"Sec-Fetch-Site", "same-origin"}, bearer...)...), http.StatusOK,
		`{"success":"true","mode":"manual","numNodes":2,"cacheSize":8,"policy":"LRU"}`)
	u, _ := url.Parse(srv.URL)
	checkJSON(t, stateRoutes(t, srv.URL)["delete_all"](append([]string{"Origin", "http://" + u.Host}, bearer...)...), http.StatusOK, `{"success":"true"}`)
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:5000": true, "[::1]:5000": true, "localhost:5000": true, "LOCALHOST:1": true, "127.1.2.3:80": true,
		":5000": false, "0.0.0.0:5000": false, "[::]:5000": false, "192.168.1.10:5000": false, "example.com:80": false, "127.0.0.1": false,
	} {
		if got := IsLoopback(addr); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}
