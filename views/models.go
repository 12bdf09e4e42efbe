package views

import "time"

// Gallery (:5000) view models.

// Home is what the gallery's home page shows.
type Home struct {
	Images int64 // images stored
	Nodes  int   // cache nodes the pool routes to now
	// ManagerURL, when set, is linked as the operator's console
	// ("http://host:5001/"); empty hides the link.
	ManagerURL string
}

// Image describes one stored image, as the show and keys pages and the
// upload result present it.
type Image struct {
	Key         string
	ContentType string // "image/png", as sniffed at upload
	Size        int64  // bytes
	Version     int64  // 1 for the first upload under the key, +1 per replacement
	Updated     time.Time
	// Hash is the content hash, the version of the image's URLs ("" if
	// not known yet: the URLs are then the plain, revalidated ones).
	Hash string
	// The pixel sizes of the original and of its renditions, upright, for
	// width and height attributes; zero when unknown.
	Original, Small, Thumb, Display Dimensions
}

// Dimensions are a picture's pixel width and height.
type Dimensions struct{ W, H int }

// Upload is the upload page: the form, its messages and the result of the
// last upload. The same model renders the full page (UploadPage) and the
// htmx answer to the form (UploadResult).
type Upload struct {
	// MaxBytes is the upload limit in bytes, shown as a hint and checked in
	// the browser before sending (the server checks again).
	MaxBytes int64
	// Key is the key field's value: what the user typed, kept when the form
	// comes back with an error.
	Key string
	// KeyError and FileError are shown next to their fields; "" for none.
	KeyError  string
	FileError string
	// Error is a failure that concerns neither field (storage unavailable);
	// it is shown in the result area.
	Error string
	// Saved says the upload succeeded; Image is then what was stored.
	Saved bool
	Image Image
}

// Show is the page that shows one image by key. Exactly one of these
// holds: Key is "" (the empty form), KeyError is set (invalid key), Error
// is set (the lookup failed), Found is true, or none of them, which means
// no image is stored under Key.
type Show struct {
	Key      string // the key asked for, "" before one is
	KeyError string // why Key is not a valid key
	Error    string // the lookup failed (not a missing key): shown as is
	Found    bool
	Image    Image         // when Found
	CacheHit bool          // the pool had the image (else it came from storage)
	Latency  time.Duration // time taken to get the image, cache or storage
}

// Keys is one page of the key list, newest first.
type Keys struct {
	Prefix  string  // the filter; "" lists every key
	Items   []Image // this page's images, newest first
	Page    int     // 1-based; values below 1 are taken as 1
	PerPage int     // page size; 0 means a single page
	Total   int     // keys matching Prefix, over all pages
	Error   string  // the listing failed: shown instead of the list
}

// Manager (:5001) view models.

// Login is the manager's sign-in page.
type Login struct {
	// Error is shown under the password field ("Wrong password.").
	Error string
	// RetryAfter > 0 says too many attempts were made: the page says to try
	// again in that many seconds (rounded up).
	RetryAfter time.Duration
}

// Flash kinds, for Flash.Kind.
const (
	FlashSuccess = "success"
	FlashError   = "error"
	FlashInfo    = "info"
)

// Flash is a one-off message at the top of the configuration page: the
// result of the last action or why it was refused. Text "" shows nothing.
type Flash struct {
	Kind string // FlashSuccess, FlashError or FlashInfo ("" is info)
	Text string
}

// Mode values, for Pool.Mode and ModeForm.Mode. They are the form values
// the mode form posts.
const (
	ModeManual = "manual"
	ModeAuto   = "auto"
)

// Option is one choice of a select: the value a form posts and the label
// people read ("lru", "Least recently used").
type Option struct {
	Value string
	Label string
}

// Node is one cache node as the configuration page lists it.
type Node struct {
	Address  string
	Healthy  bool
	Problem  string // why it is not healthy ("connection refused"); shown when !Healthy
	Items    int64
	Bytes    int64 // bytes charged in its engine
	Capacity int64 // its engine's capacity, in bytes
}

// Pool is the pool's current state, shown read-only.
type Pool struct {
	Size       int    // nodes the pool routes to
	MinNodes   int    // lower bound of the size; 0 means 1
	MaxNodes   int    // upper bound; 0 means 8
	Mode       string // ModeManual or ModeAuto
	CapacityMB int64  // per node
	Policy     string // the policy's label ("Least recently used")
	Nodes      []Node
}

// CacheForm is the capacity and policy form (POST /config/cache). Field
// values are strings so that a rejected input is shown back as typed.
type CacheForm struct {
	CapacityMB    string   // posted as capacityMB
	Policy        string   // the selected Option.Value, posted as policy
	Policies      []Option // every policy, in the order to list them
	CapacityError string
	PolicyError   string
}

// ModeForm is the sizing mode form (POST /config/mode): the mode and the
// automatic mode's thresholds, as strings (see CacheForm). Miss rates are
// fractions from 0 to 1.
type ModeForm struct {
	Mode             string // ModeManual or ModeAuto, posted as mode
	MaxMiss          string // posted as maxMiss
	MinMiss          string // posted as minMiss
	ExpRatio         string // posted as expRatio
	ShrinkRatio      string // posted as shrinkRatio
	Rule             string // RuleRatios or RuleTarget, posted as rule
	TargetMiss       string // posted as targetMiss
	ModeError        string
	MaxMissError     string
	MinMissError     string
	ExpRatioError    string
	ShrinkRatioError string
	RuleError        string
	TargetMissError  string
}

// Rule values, for ModeForm.Rule: automatic mode's rules, as the mode
// form posts them.
const (
	RuleRatios = "ratios"
	RuleTarget = "target"
)

// ResizeForm is the "resize to N" form (POST /pool/resize).
type ResizeForm struct {
	NumNodes string // posted as numNodes; "" shows the current size
	Error    string
}

// Decision is one step of the autoscaler, newest first in Config.
type Decision struct {
	Time     time.Time
	From, To int     // pool size before and after; equal when it held
	MissRate float64 // the miss rate it decided on, 0 to 1
	Note     string  // why, in words ("above 0.6"); may be ""
}

// Config is the manager's configuration page (GET /) and the answer to
// every form on it.
type Config struct {
	Flash     Flash
	Pool      Pool
	Cache     CacheForm
	Mode      ModeForm
	Resize    ResizeForm
	Decisions []Decision // recent autoscaler decisions, newest first
}

// Stats is the statistics page (GET /stats) and its live update
// (GET /stats/live).
type Stats struct {
	Charts []Chart
	// From and To bound the x axis: the window the charts cover, To
	// excluded. Zero values take the first point's time and one minute
	// past the last one.
	From, To time.Time
	// Updated is when the data was read, shown as "Updated hh:mm:ss".
	Updated time.Time
	// Refresh is how often the page polls for new data; 0 means 5 s.
	Refresh time.Duration
	// Curve is the "Miss rate by pool size" chart; nil leaves it out.
	Curve *CurveChart
}

// Chart is one line chart of the statistics page.
type Chart struct {
	// ID names the chart in the page: its element is "chart-"+ID. Letters,
	// digits and "-" only (others are replaced by "-"). The page uses
	// nodes, miss-rate, hit-rate, items, size and requests.
	ID    string
	Title string // "Miss rate"
	Unit  string // shown on the y axis: "nodes", "%", "MB", "items", "requests/min"
	// Points are the chart's values, oldest first, one per minute; a point
	// with Present false is a minute without data, drawn as a gap.
	Points []ChartPoint
}

// ChartPoint is one value of a chart. Value is in the chart's Unit (a
// rate charted in "%" is 0 to 100).
type ChartPoint struct {
	Time    time.Time
	Value   float64
	Present bool
}
