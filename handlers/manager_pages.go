package handlers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/picpool/picpool/cache"
	"github.com/picpool/picpool/gallery"
	"github.com/picpool/picpool/internal/bytesize"
	"github.com/picpool/picpool/scaling"
	"github.com/picpool/picpool/views"
)

// StatsSource is where the charts read the pool's aggregates.
type StatsSource interface {
	Series(ctx context.Context, from, to time.Time, step time.Duration) ([]scaling.Point, error)
}

// DecisionLog lists the autoscaler's recent decisions, oldest first.
type DecisionLog interface {
	History() []scaling.Decision
}

// ManagerPages serves the manager's pages: login, configuration and
// statistics.
type ManagerPages struct {
	auth      *Auth
	control   *gallery.Control
	pool      gallery.PoolAdmin
	gallery   *gallery.Service
	stats     StatsSource
	decisions DecisionLog // nil when no autoscaler runs in this process
	log       *slog.Logger
	now       func() time.Time
}

// ManagerDeps are what the manager's pages need.
type ManagerDeps struct {
	Auth      *Auth
	Control   *gallery.Control
	Pool      gallery.PoolAdmin
	Gallery   *gallery.Service
	Stats     StatsSource
	Decisions DecisionLog      // optional
	Log       *slog.Logger     // required
	Now       func() time.Time // default time.Now
}

// NewManagerPages returns the manager's page handlers.
func NewManagerPages(d ManagerDeps) *ManagerPages {
	if d.Now == nil {
		d.Now = time.Now
	}
	return &ManagerPages{auth: d.Auth, control: d.Control, pool: d.Pool, gallery: d.Gallery,
		stats: d.Stats, decisions: d.Decisions, log: d.Log, now: d.Now}
}

// Routes mounts the pages on r: the login page open, the rest behind the
// session, every form behind cross-origin protection.
func (m *ManagerPages) Routes(r chi.Router) {
	r.Group(func(r chi.Router) {
		r.Use(crossOrigin)
		r.Get("/login", m.loginForm)
		r.Post("/login", m.login)
		r.Post("/logout", m.logout)
	})
	r.Group(func(r chi.Router) {
		r.Use(crossOrigin, m.auth.Require)
		r.Get("/", m.config)
		r.Post("/config/cache", m.setCache)
		r.Post("/config/mode", m.setMode)
		r.Post("/pool/grow", m.step(+1))
		r.Post("/pool/shrink", m.step(-1))
		r.Post("/pool/resize", m.step(0))
		r.Post("/cache/clear", m.clearCache)
		r.Post("/data/delete", m.deleteData)
		r.Get("/stats", m.statsPage)
		r.Get("/stats/live", m.statsLive)
	})
}

func (m *ManagerPages) loginForm(w http.ResponseWriter, r *http.Request) {
	if m.auth.Valid(r) {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	render(w, r, m.log, views.LoginPage(views.Login{}), nil)
}

func (m *ManagerPages) login(w http.ResponseWriter, r *http.Request) {
	err := m.auth.Login(w, r, r.PostFormValue("password"))
	if err == nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	var e *httpError
	errors.As(err, &e)
	model := views.Login{Error: e.Message}
	if e.Status == http.StatusTooManyRequests {
		model = views.Login{RetryAfter: m.auth.limiter.blocked(clientIP(r), m.now())}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(e.Status)
	views.LoginPage(model).Render(r.Context(), w)
}

func (m *ManagerPages) logout(w http.ResponseWriter, r *http.Request) {
	m.auth.Logout(w, r)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// configModel reads the pool's state into the configuration page's model.
func (m *ManagerPages) configModel(ctx context.Context, flash views.Flash) views.Config {
	c := views.Config{Flash: flash}
	st, err := m.control.State(ctx)
	if err != nil {
		_, msg := errorStatus(m.log, err)
		c.Flash = views.Flash{Kind: views.FlashError, Text: msg}
		st = gallery.PoolState{Settings: scaling.DefaultSettings(), Nodes: m.pool.Nodes(), Config: m.pool.Table().Config}
	}
	c.Pool = views.Pool{
		Size: st.Nodes, MinNodes: scaling.MinNodes, MaxNodes: scaling.MaxNodes,
		Mode: string(st.Settings.Mode), CapacityMB: st.Config.Capacity / bytesize.MiB, Policy: cache.PolicyLabel(st.Config.Policy),
	}
	for _, h := range m.pool.Health(ctx) {
		c.Pool.Nodes = append(c.Pool.Nodes, views.Node{Address: h.Addr, Healthy: h.Healthy, Problem: h.Error,
			Items: h.Status.Items, Bytes: h.Status.Bytes, Capacity: h.Status.Config.Capacity})
	}
	c.Cache = views.CacheForm{CapacityMB: strconv.FormatInt(st.Config.Capacity/bytesize.MiB, 10), Policy: st.Config.Policy, Policies: policyOptions()}
	p := st.Settings.Policy
	c.Mode = views.ModeForm{Mode: string(st.Settings.Mode), MaxMiss: formatFloat(p.MaxMissRate), MinMiss: formatFloat(p.MinMissRate),
		ExpRatio: formatFloat(p.ExpandRatio), ShrinkRatio: formatFloat(p.ShrinkRatio),
		Rule: string(st.Settings.WithDefaults().Rule), TargetMiss: formatFloat(st.Settings.WithDefaults().Target.MissRate)}
	if m.decisions != nil {
		h := m.decisions.History()
		for i := len(h) - 1; i >= 0 && len(c.Decisions) < 10; i-- {
			d := h[i]
			c.Decisions = append(c.Decisions, views.Decision{Time: d.Time, From: d.Current, To: d.Target, MissRate: d.MissRate, Note: d.Reason})
		}
	}
	return c
}

func policyOptions() []views.Option {
	var opts []views.Option
	for _, p := range cache.Policies() {
		opts = append(opts, views.Option{Value: p, Label: cache.PolicyLabel(p)})
	}
	return opts
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// answer renders the configuration page (or its panel, for htmx) with
// status 200: a refusal is a message in the page, not an HTTP error.
func (m *ManagerPages) answer(w http.ResponseWriter, r *http.Request, c views.Config) {
	render(w, r, m.log, views.ConfigPage(c), views.ConfigPanel(c))
}

func (m *ManagerPages) config(w http.ResponseWriter, r *http.Request) {
	m.answer(w, r, m.configModel(r.Context(), views.Flash{}))
}

func success(format string, args ...any) views.Flash {
	return views.Flash{Kind: views.FlashSuccess, Text: fmt.Sprintf(format, args...)}
}

func failure(log *slog.Logger, err error) views.Flash {
	_, msg := errorStatus(log, err)
	return views.Flash{Kind: views.FlashError, Text: msg}
}

func (m *ManagerPages) setCache(w http.ResponseWriter, r *http.Request) {
	capacity, policy := r.PostFormValue("capacityMB"), r.PostFormValue("policy")
	ch, err := gallery.ParseChange(url.Values{"cacheSize": {capacity}, "policy": {policy}})
	if err == nil && (ch.CapacityMB == nil || ch.CachePolicy == nil) {
		var missing gallery.FieldErrors
		if ch.CapacityMB == nil {
			missing = append(missing, gallery.FieldErrorf(gallery.Invalid, "cacheSize", "Give each node's capacity in MB."))
		}
		if ch.CachePolicy == nil {
			missing = append(missing, gallery.FieldErrorf(gallery.Invalid, "policy", "Choose a replacement policy."))
		}
		err = missing
	}
	var st gallery.PoolState
	if err == nil {
		st, err = m.control.Apply(r.Context(), ch)
	}
	if err != nil {
		c := m.configModel(r.Context(), views.Flash{})
		c.Cache.CapacityMB, c.Cache.Policy = capacity, policy
		var fe gallery.FieldErrors
		if errors.As(err, &fe) {
			for _, e := range fe {
				if e.Field == "policy" {
					c.Cache.PolicyError = e.Message
				} else {
					c.Cache.CapacityError = e.Message
				}
			}
		} else {
			c.Flash = failure(m.log, err)
		}
		m.answer(w, r, c)
		return
	}
	m.answer(w, r, m.configModel(r.Context(), success("Every node now has %d MB with %s.", st.Config.Capacity/bytesize.MiB, cache.PolicyLabel(st.Config.Policy))))
}

func (m *ManagerPages) setMode(w http.ResponseWriter, r *http.Request) {
	form := url.Values{}
	for _, k := range []string{"mode", "maxMiss", "minMiss", "expRatio", "shrinkRatio", "rule", "targetMiss"} {
		form.Set(k, r.PostFormValue(k))
	}
	ch, err := gallery.ParseChange(form)
	if err == nil && ch.Mode == nil {
		err = gallery.FieldErrors{gallery.FieldErrorf(gallery.Invalid, "mode", "Choose Manual or Automatic.")}
	}
	var st gallery.PoolState
	if err == nil {
		st, err = m.control.Apply(r.Context(), ch)
	}
	if err != nil {
		c := m.configModel(r.Context(), views.Flash{})
		f := &c.Mode
		f.Mode, f.MaxMiss, f.MinMiss, f.ExpRatio, f.ShrinkRatio = form.Get("mode"), form.Get("maxMiss"), form.Get("minMiss"), form.Get("expRatio"), form.Get("shrinkRatio")
		f.Rule, f.TargetMiss = form.Get("rule"), form.Get("targetMiss")
		var fe gallery.FieldErrors
		if errors.As(err, &fe) {
			for _, e := range fe {
				switch e.Field {
				case "mode":
					f.ModeError = e.Message
				case "maxMiss":
					f.MaxMissError = e.Message
				case "minMiss":
					f.MinMissError = e.Message
				case "expRatio":
					f.ExpRatioError = e.Message
				case "shrinkRatio":
					f.ShrinkRatioError = e.Message
				case "rule":
					f.RuleError = e.Message
				case "targetMiss":
					f.TargetMissError = e.Message
				default:
					c.Flash = views.Flash{Kind: views.FlashError, Text: e.Message}
				}
			}
		} else {
			c.Flash = failure(m.log, err)
		}
		m.answer(w, r, c)
		return
	}
	msg := "Manual mode: resize the pool by hand."
	switch s := st.Settings; {
	case s.Mode == scaling.Auto && s.Rule == scaling.RuleTarget:
		msg = fmt.Sprintf("Automatic mode: the pool takes the fewest nodes its miss-ratio curve predicts at or under a %g miss rate.", s.Target.MissRate)
	case s.Mode == scaling.Auto:
		p := s.Policy
		msg = fmt.Sprintf("Automatic mode: the pool grows ×%g above a %g miss rate and shrinks ×%g below %g.", p.ExpandRatio, p.MaxMissRate, p.ShrinkRatio, p.MinMissRate)
	}
	m.answer(w, r, m.configModel(r.Context(), success("%s", msg)))
}

// step returns the handler of grow (+1), shrink (-1) and resize to N (0).
func (m *ManagerPages) step(step int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n, typed := 0, r.PostFormValue("numNodes")
		if step == 0 {
			var err error
			if n, err = strconv.Atoi(typed); err != nil {
				c := m.configModel(r.Context(), views.Flash{})
				c.Resize = views.ResizeForm{NumNodes: typed, Error: fmt.Sprintf("Give the number of nodes, from %d to %d.", scaling.MinNodes, scaling.MaxNodes)}
				m.answer(w, r, c)
				return
			}
		}
		before := m.pool.Nodes()
		if err := m.control.Step(r.Context(), step, n); err != nil {
			c := m.configModel(r.Context(), views.Flash{})
			var e *gallery.Error
			if errors.As(err, &e) && e.Field == "numNodes" {
				c.Resize = views.ResizeForm{NumNodes: typed, Error: e.Message}
			} else {
				c.Flash = failure(m.log, err)
			}
			m.answer(w, r, c)
			return
		}
		after := m.pool.Nodes()
		flash := success("The pool went from %s to %s; cached entries moved with their partitions.", gallery.NodesWord(before), gallery.NodesWord(after))
		if before == after {
			flash = views.Flash{Kind: views.FlashInfo, Text: fmt.Sprintf("The pool already has %s.", gallery.NodesWord(after))}
		}
		m.answer(w, r, m.configModel(r.Context(), flash))
	}
}

// confirmed reports whether a dangerous form's confirmation box was ticked.
func confirmed(r *http.Request) bool { return r.PostFormValue("confirm") == "yes" }

func (m *ManagerPages) clearCache(w http.ResponseWriter, r *http.Request) {
	flash := views.Flash{Kind: views.FlashError, Text: "Tick the confirmation box to clear the cache."}
	if confirmed(r) {
		if err := m.pool.Clear(r.Context()); err != nil {
			flash = failure(m.log, gallery.Errorf(gallery.Unavailable, "Some nodes could not be cleared: %v", err))
		} else {
			flash = success("Every node's cache is empty. Images are still stored; the next reads load them again.")
		}
	}
	m.answer(w, r, m.configModel(r.Context(), flash))
}

func (m *ManagerPages) deleteData(w http.ResponseWriter, r *http.Request) {
	flash := views.Flash{Kind: views.FlashError, Text: "Tick the confirmation box to delete every image."}
	if confirmed(r) {
		if err := m.gallery.DeleteAll(r.Context()); err != nil {
			flash = failure(m.log, err)
		} else {
			flash = success("Every image, its record and every cached copy are deleted.")
		}
	}
	m.answer(w, r, m.configModel(r.Context(), flash))
}

// statsWindow is what the statistics page charts: the last 30 minutes, one
// point a minute, the current (partial) minute last.
const statsWindow = 30

// statsModel reads the last 30 minutes into the six charts.
func (m *ManagerPages) statsModel(ctx context.Context) (views.Stats, error) {
	now := m.now()
	to := now.Truncate(time.Minute).Add(time.Minute)
	from := to.Add(-statsWindow * time.Minute)
	points, err := m.stats.Series(ctx, from, to, time.Minute)
	err = gallery.BackendError(err)
	if err != nil {
		return views.Stats{}, fmt.Errorf("read the pool's statistics: %w", err)
	}
	return views.Stats{Charts: Charts(points), From: from, To: to, Updated: now, Curve: m.curveModel(ctx)}, nil
}

// Charts turns per-minute points into the statistics page's six charts. A
// minute without samples is a gap in every chart; a minute without
// lookups is a gap in the two rate charts.
func Charts(points []scaling.Point) []views.Chart {
	charts := []views.Chart{
		{ID: "nodes", Title: "Nodes", Unit: "nodes"},
		{ID: "miss-rate", Title: "Miss rate", Unit: "%"},
		{ID: "hit-rate", Title: "Hit rate", Unit: "%"},
		{ID: "items", Title: "Items", Unit: "items"},
		{ID: "size", Title: "Total size", Unit: "MB"},
		{ID: "requests", Title: "Requests per minute", Unit: "requests/min"},
	}
	for _, p := range points {
		miss, lookups := p.MissRate()
		values := []struct {
			v  float64
			ok bool
		}{
			{float64(p.Nodes), p.Reported},
			{100 * miss, p.Reported && lookups},
			{100 * (1 - miss), p.Reported && lookups},
			{float64(p.Items), p.Reported},
			{float64(p.Bytes) / bytesize.MiB, p.Reported},
			{float64(p.Requests), p.Reported},
		}
		for i, v := range values {
			charts[i].Points = append(charts[i].Points, views.ChartPoint{Time: p.Start, Value: v.v, Present: v.ok})
		}
	}
	return charts
}

func (m *ManagerPages) statsPage(w http.ResponseWriter, r *http.Request) {
	s, err := m.statsModel(r.Context())
	if err != nil {
		code, msg := errorStatus(m.log, err)
		http.Error(w, msg, code)
		return
	}
	render(w, r, m.log, views.StatsPage(s), nil)
}

func (m *ManagerPages) statsLive(w http.ResponseWriter, r *http.Request) {
	s, err := m.statsModel(r.Context())
	if err != nil {
		code, msg := errorStatus(m.log, err)
		http.Error(w, msg, code)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	render(w, r, m.log, views.StatsLive(s), nil)
}
