package main

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// postWithHost posts an empty form to base+route with the Host header set
// to host, as a page on that name resolving to 127.0.0.1 would.
func postWithHost(t *testing.T, base, route, host string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, base+route, strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", route, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestDevRefusesDNSRebinding: the review's attack on a loopback `dev`, a
// request with "Host: evil.example:5000" running delete_all and resizing
// the pool, is refused on both servers; nothing is deleted or resized.
// Started with --open-test-api, the operator lifted the check on purpose.
func TestDevRefusesDNSRebinding(t *testing.T) {
	dev := startDevServers(t)
	if r := apiCall(t, dev.gallery, "/api/upload", map[string]string{"key": "kept"}, pngOf(t, 3, 3)); r.status != http.StatusOK {
		t.Fatalf("upload: %s", r)
	}
	for _, base := range []string{dev.gallery, dev.manager} {
		for _, route := range []string{"/api/delete_all", "/api/configure_cache?numNodes=5", "/api/list_keys"} {
			status, body := postWithHost(t, base, route, "evil.example:5000")
			var got struct {
				Success string `json:"success"`
				Error   struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			json.Unmarshal([]byte(body), &got)
			if status != http.StatusForbidden || got.Success != "false" || got.Error.Code != http.StatusForbidden ||
				!strings.Contains(got.Error.Message, `addressed to localhost, 127.0.0.1 or [::1], not "evil.example:5000"`) {
				t.Errorf("%s%s with Host evil.example: %d %s, want a 403 JSON error naming the host", base, route, status, body)
			}
		}
	}
	if r := apiCall(t, dev.gallery, "/api/getNumNodes", nil, nil); r.body["numNodes"] != 2.0 {
		t.Errorf("nodes after the refusals: %s, want 2", r)
	}
	if r := apiCall(t, dev.gallery, "/api/list_keys", nil, nil); r.raw != `{"success":"true","keys":["kept"]}`+"\n" {
		t.Errorf("keys after the refusals: %s, want [kept]", r)
	}

	open := startDevServers(t, "--open-test-api")
	if status, body := postWithHost(t, open.gallery, "/api/list_keys", "picpool.example:443"); status != http.StatusOK {
		t.Errorf("--open-test-api, Host picpool.example: %d %s, want 200", status, body)
	}
}

// TestDevOffLoopbackPrintsToken: `dev` on an address other than loopback
// generates the test API's token and prints it, as the manager does, and
// the state-changing routes take it.
func TestDevOffLoopbackPrintsToken(t *testing.T) {
	dev := startDevServers(t, "--gallery-addr", "0.0.0.0:0")
	m := regexp.MustCompile(`need "Authorization: Bearer ([A-Z2-7]{26})"`).FindStringSubmatch(dev.log.String())
	if m == nil {
		t.Fatalf("dev printed no token:\n%s", dev.log.String())
	}
	if strings.Count(dev.log.String(), "Authorization: Bearer") != 1 {
		t.Errorf("the token was printed more than once:\n%s", dev.log.String())
	}
	post := func(token string) int {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, dev.gallery+"/api/delete_all", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post(""); got != http.StatusUnauthorized {
		t.Errorf("delete_all without the token: %d, want 401", got)
	}
	if got := post(m[1]); got != http.StatusOK {
		t.Errorf("delete_all with the printed token: %d, want 200", got)
	}
}
