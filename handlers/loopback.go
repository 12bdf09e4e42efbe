package handlers

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// IsLoopback reports whether a listen address serves only this machine.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	return err == nil && isLoopbackName(host)
}

// isLoopbackName reports whether a host name (no port, no brackets) is
// this machine: "localhost" or a loopback IP address. Other names that
// resolve to loopback are not: DNS can make any name do that.
func isLoopbackName(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// hostName returns the name part of a Host header: "localhost" of
// "localhost:5000", "::1" of "[::1]:5000" or "[::1]".
func hostName(hostport string) string {
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		return host
	}
	return strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]")
}

// loopbackOnly serves only requests that a browser on this machine sent
// to this machine: the Host must be localhost, 127.0.0.1 or [::1] (any
// port), and an Origin, when there is one, must be the same origin.
//
// It guards a server on loopback against DNS rebinding: a page on
// evil.example can make its own name resolve to 127.0.0.1 and then call
// http://evil.example:5000/ as a same-origin request, which carries
// "Host: evil.example:5000". Such a server's test API is open because it
// is on loopback, and cross-origin checks cannot see the attack (Origin
// and Host agree), so only the Host name can. It applies to the whole
// server, not only to the open routes: every legitimate client of a
// loopback server is on this machine and can name it so, and a
// rebinding page has no business reading the pages (or trying passwords
// at the manager's login) either.
func loopbackOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isLoopbackName(hostName(r.Host)) {
			refuse(w, r, http.StatusForbidden, fmt.Sprintf("This server listens only on this machine and answers only "+
				"requests addressed to localhost, 127.0.0.1 or [::1], not %q. Open it as %s.", r.Host, localAddress(r)))
			return
		}
		if origin, ok := r.Header["Origin"]; ok && !sameOrigin(origin[0], r.Host) {
			refuse(w, r, http.StatusForbidden, fmt.Sprintf("This server listens only on this machine and answers "+
				"only its own pages; this request came from %q. Open it as %s.", origin[0], localAddress(r)))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// sameOrigin reports whether an Origin header names the server at host.
func sameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && strings.EqualFold(u.Host, host) && u.Path == ""
}

// localAddress is the address a person on this machine opens the server
// at: http://localhost and the port the request came in on.
func localAddress(r *http.Request) string {
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if _, port, err := net.SplitHostPort(a.String()); err == nil {
			return "http://localhost:" + port + "/"
		}
	}
	return "http://localhost/"
}
