package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/picpool/picpool/views"
)

// TestBrowserHostileKeyLinks: for keys a browser could rewrite in a URL
// (dots, escaped dots, "?", "#", "%", backslashes, a decomposed accent),
// the real browser loads each key's own image from the Keys page, follows
// the card's link to the key's show page, and loads the image there. The
// handlers' TestLinksRoundTrip checks the same with a model of the URL
// parser over many more keys; this checks the model against Chromium.
func TestBrowserHostileKeyLinks(t *testing.T) {
	b := newBrowser(t) // first: it skips when there is no browser
	dev := startDevServers(t)
	b.page.server = dev.log
	api := newAPIClient(dev.gallery)
	keys := []struct{ sent, stored string }{
		{"...", "..."}, {".a", ".a"}, {"%2e", "%2e"}, {"%2E%2e", "%2E%2e"}, {".%2e", ".%2e"},
		{"?", "?"}, {"#", "#"}, {"%", "%"}, {"%zz", "%zz"}, {`\`, `\`}, {`..\`, `..\`}, {`\..`, `\..`},
		{"a b", "a b"}, {"+", "+"}, {`<"'>`, `<"'>`}, {"javascript:alert(1)", "javascript:alert(1)"},
		{"cafe\u0301", "caf\u00e9"}, // sent decomposed, stored composed
	}
	width := func(i int) int { return 20 + i } // each key's image has its own width
	for i, k := range keys {
		api.upload(t, k.sent, testPNG(t, width(i), 10, uint64(i)))
	}
	for i, k := range keys {
		t.Run(fmt.Sprintf("%+q", k.sent), func(t *testing.T) {
			b := b.with(t)
			b.navigate(dev.gallery + views.KeysURL(k.stored, 1))
			card := fmt.Sprintf(`[...document.querySelectorAll('[data-testid="key-item"]')].find(e => e.dataset.key === %s)`, jsString(k.stored))
			thumb := card + `?.querySelector('[data-testid="key-thumb"]')`
			b.waitJS("the key's thumbnail loads", 10*time.Second, thumb+`?.complete && `+thumb+`.naturalWidth > 0`)
			if got := eval[int](b, thumb+`.naturalWidth`); got != width(i) {
				t.Errorf("the thumbnail is %d wide, want %d: another key's image", got, width(i))
			}

			b.do("mark the card's link", chromedp.Evaluate[chromedp.Void](card+`.querySelector('[data-testid="key-link"]').id = "hostile-key-link"`))
			resp, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.CSS("#hostile-key-link")))
			if err != nil || resp.Status != 200 {
				t.Fatalf("follow the card's link: status %v, %v", resp, err)
			}
			b.waitJS("the show page's image loads", 10*time.Second, q("show-image")+`?.complete && `+q("show-image")+`.naturalWidth > 0`)
			if got := b.text("show-image-key"); got != k.stored {
				t.Errorf("the link shows key %+q, want %+q", got, k.stored)
			}
			if got := eval[int](b, q("show-image")+`.naturalWidth`); got != width(i) {
				t.Errorf("the show page's image is %d wide, want %d: another key's image", got, width(i))
			}
		})
	}
}
