package views

import (
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"
)

func TestLoginPage(t *testing.T) {
	tests := []struct {
		name      string
		m         Login
		err       string
		throttled string // "" for no throttle message
	}{
		{name: "first visit", m: Login{}},
		{name: "wrong password", m: Login{Error: "Wrong password."}, err: "Wrong password."},
		{name: "throttled", m: Login{RetryAfter: 28500 * time.Millisecond}, throttled: "Too many attempts. Try again in 29 s."},
		{name: "throttled under a second", m: Login{RetryAfter: time.Millisecond}, throttled: "Too many attempts. Try again in 1 s."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, _ := render(t, LoginPage(tt.m))
			form := one(t, doc, "login-form")
			if attr(t, form, "method") != "post" || attr(t, form, "action") != "/login" {
				t.Errorf("login form: method %q action %q", attr(t, form, "method"), attr(t, form, "action"))
			}
			pw := one(t, doc, "login-password")
			if attr(t, pw, "type") != "password" || attr(t, pw, "name") != "password" || !hasAttr(pw, "required") {
				t.Errorf("password field: type %q name %q required %v", attr(t, pw, "type"), attr(t, pw, "name"), hasAttr(pw, "required"))
			}
			if got := text(one(t, doc, "login-error")); got != tt.err {
				t.Errorf("error: got %q, want %q", got, tt.err)
			}
			if got := text(byID(doc, "login-throttled")); got != tt.throttled {
				t.Errorf("throttle message: got %q, want %q", got, tt.throttled)
			}
			// Signed out: no navigation into the manager, no log-out.
			none(t, doc, "nav")
			none(t, doc, "logout-form")
		})
	}
}

// sampleConfig is a configuration page in manual mode with three nodes.
func sampleConfig() Config {
	return Config{
		Pool: Pool{Size: 3, Mode: ModeManual, CapacityMB: 64, Policy: "Least recently used", Nodes: []Node{
			{Address: "127.0.0.1:4001", Healthy: true, Items: 1234, Bytes: 40 << 20, Capacity: 64 << 20},
			{Address: "127.0.0.1:4002", Healthy: true, Items: 7, Bytes: 700, Capacity: 64 << 20},
			{Address: "127.0.0.1:4003", Healthy: false, Problem: "connection refused", Capacity: 64 << 20},
		}},
		Cache: CacheForm{CapacityMB: "64", Policy: "random", Policies: []Option{{"lru", "Least recently used"}, {"random", "Random replacement"}}},
		Mode:  ModeForm{Mode: ModeManual, MaxMiss: "0.6", MinMiss: "0.2", ExpRatio: "2", ShrinkRatio: "0.5"},
		Decisions: []Decision{
			{Time: t0, From: 2, To: 4, MissRate: 0.725, Note: "above 0.6"},
			{Time: t0.Add(-time.Minute), From: 2, To: 2, MissRate: 0.4},
		},
	}
}

func TestConfigPage(t *testing.T) {
	t.Run("state", func(t *testing.T) {
		doc, _ := render(t, ConfigPage(sampleConfig()))
		for id, want := range map[string]string{
			"pool-size": "3", "pool-mode": "Manual", "pool-capacity": "64 MB", "pool-policy": "Least recently used",
		} {
			if got := text(one(t, doc, id)); got != want {
				t.Errorf("%s: got %q, want %q", id, got, want)
			}
		}
		type row struct{ Address, Healthy, Health, Items, Bytes, Capacity string }
		var rows []row
		byID(doc, "node-row").Each(func(_ int, s *goquery.Selection) {
			f := func(id string) string { return text(s.Find(`[data-testid="` + id + `"]`)) }
			rows = append(rows, row{attr(t, s, "data-address"), attr(t, s, "data-healthy"), f("node-health"), f("node-items"), f("node-bytes"), f("node-capacity")})
		})
		want := []row{
			{"127.0.0.1:4001", "true", "Healthy", "1\u202f234", "40 MiB", "64 MiB"},
			{"127.0.0.1:4002", "true", "Healthy", "7", "700 bytes", "64 MiB"},
			{"127.0.0.1:4003", "false", "Down connection refused", "0", "0 bytes", "64 MiB"},
		}
		if diff := cmp.Diff(want, rows); diff != "" {
			t.Errorf("node rows (-want +got):\n%s", diff)
		}
		none(t, doc, "nodes-empty")
		none(t, doc, "flash")
		var ds []string
		byID(doc, "decision").Each(func(_ int, s *goquery.Selection) { ds = append(ds, text(s)) })
		wantDs := []string{"14:03:07 2 → 4 nodes miss rate 72.5 % · above 0.6", "14:02:07 held at 2 nodes miss rate 40.0 %"}
		if diff := cmp.Diff(wantDs, ds); diff != "" {
			t.Errorf("decisions (-want +got):\n%s", diff)
		}
	})

	t.Run("forms post to their routes", func(t *testing.T) {
		doc, _ := render(t, ConfigPage(sampleConfig()))
		for id, action := range map[string]string{
			"cache-form": "/config/cache", "mode-form": "/config/mode", "grow-form": "/pool/grow",
			"shrink-form": "/pool/shrink", "resize-form": "/pool/resize", "clear-form": "/cache/clear",
			"delete-form": "/data/delete",
		} {
			f := one(t, doc, id)
			got := [4]string{attr(t, f, "method"), attr(t, f, "action"), attr(t, f, "hx-post"), attr(t, f, "hx-target")}
			if want := [4]string{"post", action, action, "#config"}; got != want {
				t.Errorf("%s: got method, action, hx-post, hx-target %q, want %q", id, got, want)
			}
		}
		// Every form field the handlers read, by its posted name.
		for id, name := range map[string]string{
			"cache-capacity": "capacityMB", "cache-policy": "policy", "mode-max-miss": "maxMiss",
			"mode-min-miss": "minMiss", "mode-exp-ratio": "expRatio", "mode-shrink-ratio": "shrinkRatio",
			"resize-num": "numNodes", "mode-manual": "mode", "mode-auto": "mode",
		} {
			if got := attr(t, one(t, doc, id), "name"); got != name {
				t.Errorf("%s name: got %q, want %q", id, got, name)
			}
		}
	})

	t.Run("cache form", func(t *testing.T) {
		m := sampleConfig()
		m.Cache.CapacityMB, m.Cache.CapacityError = "-3", "The capacity must be a whole number of MB, at least 1."
		doc, _ := render(t, ConfigPage(m))
		if got := attr(t, one(t, doc, "cache-capacity"), "value"); got != "-3" {
			t.Errorf("capacity value: got %q", got)
		}
		if got := text(one(t, doc, "cache-capacity-error")); got != m.Cache.CapacityError {
			t.Errorf("capacity error: got %q", got)
		}
		type opt struct {
			Value, Label string
			Selected     bool
		}
		var opts []opt
		one(t, doc, "cache-policy").Find("option").Each(func(_ int, s *goquery.Selection) {
			opts = append(opts, opt{attr(t, s, "value"), text(s), hasAttr(s, "selected")})
		})
		want := []opt{{"lru", "Least recently used", false}, {"random", "Random replacement", true}}
		if diff := cmp.Diff(want, opts); diff != "" {
			t.Errorf("policy options (-want +got):\n%s", diff)
		}
	})

	t.Run("manual mode", func(t *testing.T) {
		doc, _ := render(t, ConfigPage(sampleConfig()))
		if !hasAttr(one(t, doc, "mode-manual"), "checked") || hasAttr(one(t, doc, "mode-auto"), "checked") {
			t.Error("manual mode: the Manual radio is not the checked one")
		}
		if hasAttr(one(t, doc, "manual-fields"), "disabled") {
			t.Error("manual mode: the manual controls are disabled")
		}
		none(t, doc, "manual-disabled")
		// The automatic fields stay enabled: they are sent with mode=auto.
		if hasAttr(one(t, doc, "auto-fields"), "disabled") {
			t.Error("the automatic fields are disabled; without JavaScript they could not be filled in when switching")
		}
		num := one(t, doc, "resize-num")
		got := [4]string{attr(t, num, "type"), attr(t, num, "min"), attr(t, num, "max"), attr(t, num, "value")}
		if want := [4]string{"number", "1", "8", "3"}; got != want {
			t.Errorf("resize input type, min, max, value: got %q, want %q", got, want)
		}
	})

	t.Run("automatic mode with field errors", func(t *testing.T) {
		m := sampleConfig()
		m.Pool.Mode = ModeAuto
		m.Mode = ModeForm{Mode: ModeAuto, MaxMiss: "0.3", MinMiss: "0.5", ExpRatio: "1", ShrinkRatio: "1.5",
			MinMissError:     "The min miss rate must be below the max miss rate (0.3).",
			ExpRatioError:    "The expand ratio must be above 1.",
			ShrinkRatioError: "The shrink ratio must be between 0 and 1.",
		}
		doc, _ := render(t, ConfigPage(m))
		if !hasAttr(one(t, doc, "mode-auto"), "checked") || hasAttr(one(t, doc, "mode-manual"), "checked") {
			t.Error("auto mode: the Automatic radio is not the checked one")
		}
		if !hasAttr(one(t, doc, "manual-fields"), "disabled") {
			t.Error("auto mode: the manual controls are enabled")
		}
		one(t, doc, "manual-disabled")
		if got := text(one(t, doc, "pool-mode")); got != "Automatic" {
			t.Errorf("mode shown: got %q", got)
		}
		for id, want := range map[string]string{
			"mode-max-miss-error": "", "mode-min-miss-error": m.Mode.MinMissError,
			"mode-exp-ratio-error": m.Mode.ExpRatioError, "mode-shrink-ratio-error": m.Mode.ShrinkRatioError,
		} {
			if got := text(one(t, doc, id)); got != want {
				t.Errorf("%s: got %q, want %q", id, got, want)
			}
		}
		for id, want := range map[string]string{"mode-max-miss": "0.3", "mode-min-miss": "0.5", "mode-exp-ratio": "1", "mode-shrink-ratio": "1.5"} {
			if got := attr(t, one(t, doc, id), "value"); got != want {
				t.Errorf("%s value: got %q, want %q", id, got, want)
			}
		}
		if hasAttr(one(t, doc, "mode-max-miss"), "aria-invalid") || attr(t, one(t, doc, "mode-min-miss"), "aria-invalid") != "true" {
			t.Error("aria-invalid is not set on exactly the fields with errors")
		}
	})

	t.Run("destructive forms need a confirmation", func(t *testing.T) {
		doc, _ := render(t, ConfigPage(sampleConfig()))
		for _, id := range []string{"clear", "delete"} {
			f := one(t, doc, id+"-form")
			if attr(t, f, "hx-confirm") == "" {
				t.Errorf("%s form has no hx-confirm", id)
			}
			box := one(t, doc, id+"-confirm")
			got := [4]string{attr(t, box, "type"), attr(t, box, "name"), attr(t, box, "value"), "required=" + boolText(hasAttr(box, "required"))}
			if want := [4]string{"checkbox", "confirm", "yes", "required=true"}; got != want {
				t.Errorf("%s confirmation: got %q, want %q", id, got, want)
			}
		}
	})

	t.Run("flash", func(t *testing.T) {
		for _, tt := range []struct{ kind, wantKind, role string }{
			{FlashError, "error", "alert"}, {FlashSuccess, "success", "status"}, {"", "info", "status"}, {"bogus", "info", "status"},
		} {
			m := sampleConfig()
			m.Flash = Flash{Kind: tt.kind, Text: "The pool already has 8 nodes, the maximum."}
			doc, _ := render(t, ConfigPage(m))
			f := one(t, doc, "flash")
			if got := text(f); got != m.Flash.Text {
				t.Errorf("flash text: got %q", got)
			}
			if got := [2]string{attr(t, f, "data-kind"), attr(t, f, "role")}; got != [2]string{tt.wantKind, tt.role} {
				t.Errorf("kind %q: got data-kind, role %q, want %q", tt.kind, got, [2]string{tt.wantKind, tt.role})
			}
		}
	})

	t.Run("no nodes, no decisions, default limits", func(t *testing.T) {
		doc, _ := render(t, ConfigPage(Config{Pool: Pool{Mode: ModeManual}}))
		one(t, doc, "nodes-empty")
		one(t, doc, "decisions-empty")
		num := one(t, doc, "resize-num")
		if attr(t, num, "min") != "1" || attr(t, num, "max") != "8" {
			t.Errorf("default limits: min %q max %q, want 1 and 8", attr(t, num, "min"), attr(t, num, "max"))
		}
	})

	t.Run("panel fragment", func(t *testing.T) {
		doc, html := render(t, ConfigPanel(sampleConfig()))
		isFragment(t, html)
		if got := attr(t, one(t, doc, "config"), "id"); got != "config" {
			t.Errorf("panel id: got %q (the forms target #config)", got)
		}
	})
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
