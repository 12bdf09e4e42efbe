package handlers

import (
	"net/http"
	"strings"
)

// ContentSecurityPolicy is sent with every answer of the gallery and the
// manager. The pages load scripts, the stylesheet and the icon only from
// /assets (vendored, no CDN) and run no inline code: no <script> without
// src (the JSON data blocks are not run), no on* attributes, no style
// attributes, and the charts' tooltips are drawn in the canvas (ECharts'
// richText mode) rather than as HTML with inline styles. So scripts and
// styles need neither 'unsafe-inline' nor nonces, and 'unsafe-eval' is off
// too (htmx evaluates only hx-on and js: values, which no page uses).
// frame-ancestors 'none' keeps every page out of other sites' frames.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// SecurityHeaders adds to every answer: the content security policy,
// X-Frame-Options DENY (frame-ancestors for older browsers), nosniff (the
// assets and images carry their exact types) and a Referrer-Policy that
// keeps the page's address, which may hold a key, on this site.
func SecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// crossOrigin refuses requests that change state (every method but GET,
// HEAD and OPTIONS) when a browser says they come from another origin:
// Sec-Fetch-Site, else Origin against Host (net/http's
// CrossOriginProtection). Requests without those headers, from tools
// rather than browsers, pass. Every form and state-changing route of
// both servers goes through it, so no other site's page can post to them.
func crossOrigin(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		msg := "This form was sent from another site, so it was refused. Open the page on this site and send it from there."
		if isAPI(r) {
			msg = "Cross-origin requests cannot change state."
		}
		refuse(w, r, http.StatusForbidden, msg)
	}))
	return cop.Handler(next)
}

// isAPI reports whether the request is for the JSON test API, whose
// refusals are JSON; every other refusal is plain text for people.
func isAPI(r *http.Request) bool {
	return r.URL.Path == "/api" || strings.HasPrefix(r.URL.Path, "/api/")
}

// refuse answers a request the server will not serve, before reading its
// body: the test API's JSON error on /api, the message as plain text
// anywhere else. The connection closes after the answer (see
// leaveBodyUnread).
func refuse(w http.ResponseWriter, r *http.Request, code int, message string) {
	leaveBodyUnread(w)
	if isAPI(r) {
		writeAPIError(w, code, message)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, message, code)
}
