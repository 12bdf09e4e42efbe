// Package views renders PicPool's pages with templ: the gallery (:5000)
// and the manager (:5001). Each page takes one view model of plain data
// (strings, numbers, bools, times, slices) that a handler fills; views
// imports no handler, store, cache or scaling code. Form values are
// strings so that a refused input is shown back as typed; an error
// message is a string beside its field, "" meaning none.
//
// # Pages, fragments and routes
//
//	route                         no HX-Request            HX-Request: true
//	GET  /                        HomePage(Home)           (same)
//	GET  /upload                  UploadPage(Upload)       (same)
//	POST /upload (key, file)      UploadPage(Upload)       UploadResult(Upload)
//	GET  /show?key=K              ShowPage(Show)           (same)
//	GET  /keys?prefix=P&page=N    KeysPage(Keys)           KeyList(Keys)
//	GET  /login, POST /login      LoginPage(Login)         (same; a plain form)
//	GET  / (manager)              ConfigPage(Config)       (same)
//	POST /config/cache, /config/mode, /pool/grow, /pool/shrink,
//	     /pool/resize, /cache/clear, /data/delete
//	                              ConfigPage(Config)       ConfigPanel(Config)
//	GET  /stats                   StatsPage(Stats)         (same)
//	GET  /stats/live              StatsLive(Stats)         StatsLive(Stats)
//
// A fragment is the part of its page that the htmx request swaps, rendered
// by the very component the full page uses, so the two cannot drift. Tell
// them apart by the HX-Request header ("true") and set Vary: HX-Request on
// those answers. The images are at ImageURL(key) (/image/{key}, the key
// path-escaped: recover it with url.PathUnescape of the raw segment); links
// use ShowURL and KeysURL.
//
// # Status codes and htmx
//
// htmx 2 does not swap 4xx and 5xx answers. So a form that is refused
// (invalid field, pool already at 8 nodes, confirmation box not ticked) is
// answered with status 200 and the message in the model: the field's
// error string, Upload.Error, or Config.Flash. Keep 4xx/5xx for real
// failures; site.js then shows a generic message in the page
// (#htmx-error), which is all a user can be told. The pages set no
// responseHandling of their own; they set refreshOnHistoryMiss, so htmx
// never asks for a whole page with HX-Request (back/forward to a page it
// holds no snapshot of reloads it).
//
// Without JavaScript every form still works: they are ordinary forms
// (method, action, multipart for the upload) that htmx enhances. Answer a
// plain POST with the full page (status 200), or redirect (303) where a
// reload should not post again.
//
// An htmx request from a user whose session has ended must not be
// redirected with 303: the browser follows it inside the XHR and the login
// page would be swapped into the panel. Answer it with the header
// "HX-Redirect: /login" (htmx follows that whatever the status, e.g. 401)
// and a plain request with 303 to /login.
//
// The manager's forms carry no CSRF token: cross-origin protection is
// expected from http.CrossOriginProtection (Sec-Fetch-Site and Origin),
// which htmx's same-origin requests pass.
//
// # Forms
//
// Upload: multipart key and file. htmx posts it with hx-target
// #upload-result; UploadResult carries the result area and both field
// messages out of band, so a refused upload keeps the chosen file and a
// saved one resets the form (upload.js). MaxBytes feeds the hint and a
// check in the browser; the server must check again (and turn a body that
// is too large into Upload.FileError, status 200).
//
// Configuration: every form posts to its route and swaps #config with
// ConfigPanel, so the state, the forms and the flash all come back
// current. The mode form posts mode=manual|auto and the four thresholds;
// the automatic fields are always enabled (dimmed by CSS while Manual is
// checked) so that switching to Automatic works in one step without
// JavaScript. The manual controls are disabled while Pool.Mode is auto.
// /cache/clear and /data/delete carry confirm=yes from a required
// checkbox (and htmx asks with hx-confirm too): do nothing without it.
// Grow and shrink stay enabled at the limits on purpose: the server's
// refusal ("The pool already has 8 nodes, the maximum.") goes in Flash.
//
// # Charts
//
// Each Chart is built with go-echarts as a line chart on a time axis with
// dataZoom (wheel, drag and a slider); its ECharts option is embedded as a
// JSON block that assets/stats.js draws. A ChartPoint with Present false is
// emitted as [time, null], which ECharts draws as a gap, never as 0. The
// x axis spans Stats.From to Stats.To. The page polls GET /stats/live every
// Stats.Refresh (5 s by default) and swaps StatsLive into #stats-live;
// stats.js merges its data into the charts with setOption, which leaves
// each chart's zoom as the user set it. Fill the live answer from the same
// Stats as the page, with the same chart IDs. LiveJSON gives the same
// update as JSON for other clients.
//
// # Test hooks
//
// Everything a test looks for has a data-testid: forms (upload-form,
// show-form, keys-filter, login-form, cache-form, mode-form, grow-form,
// shrink-form, resize-form, clear-form, delete-form), fields (upload-key,
// upload-file, show-key, keys-prefix, login-password, cache-capacity,
// cache-policy, mode-manual, mode-auto, mode-max-miss, mode-min-miss,
// mode-exp-ratio, mode-shrink-ratio, resize-num, clear-confirm,
// delete-confirm) and their submit buttons (…-submit), error slots (the
// field's id + "-error", e.g. upload-key-error, mode-min-miss-error,
// resize-error, login-error), results (upload-result, upload-saved,
// upload-error, show-image, cache-badge with data-hit, show-latency,
// show-not-found, key-item with data-key, key-thumb, keys-empty,
// keys-pager, keys-next, keys-prev), state (pool-size, pool-mode,
// node-row with data-address and data-healthy, decision), the flash
// (flash, with data-kind), login-throttled, and the charts (chart-{ID},
// chart-{ID}-option, stats-live, stats-live-data, stats-updated).
package views
