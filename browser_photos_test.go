package main

import (
	"bytes"
	"fmt"
	"image/jpeg"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/picpool/picpool/internal/testimg"
)

// TestBrowserPhotos uploads a camera-like 12 MP JPEG whose EXIF
// orientation turns it to portrait, and a PNG, through the upload page;
// then checks what the pages serve of them: upright thumbnails on Keys, a
// tiny fraction of the originals' bytes; the display size on Show; and
// the original, byte for byte, behind the download link.
func TestBrowserPhotos(t *testing.T) {
	b := newBrowser(t) // first: it skips when there is no browser
	dev := startDevServers(t)
	b.page.server = dev.log
	dir := t.TempDir()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, testimg.Camera(4000, 3000), &jpeg.Options{Quality: 92}); err != nil {
		t.Fatal(err)
	}
	camera := testimg.WithEXIF(buf.Bytes(), 6) // stored 4000×3000, seen 3000×4000
	noise := testPNG(t, 640, 480, 7)
	originals := map[string][]byte{"photo-camera": camera, "photo-noise": noise}
	files := map[string]string{
		"photo-camera": writeTestFile(t, dir, "IMG_0001.JPG", camera),
		"photo-noise":  writeTestFile(t, dir, "noise.png", noise),
	}
	t.Logf("originals: camera JPEG %d bytes, PNG %d bytes", len(camera), len(noise))

	b.navigate(dev.gallery + "/upload")
	for _, key := range []string{"photo-camera", "photo-noise"} {
		b.do("choose "+files[key],
			chromedp.SetValue(byTestID("upload-key"), key),
			chromedp.SetUploadFiles(byTestID("upload-file"), []string{files[key]}))
		b.click("upload-submit")
		b.waitJS("the saved result of "+key, 30*time.Second, fmt.Sprintf(`%s?.textContent.trim() === %s`, q("upload-saved-link"), jsString(key)))
	}

	t.Run("keys: upright thumbnails, few bytes", func(t *testing.T) {
		b := b.with(t)
		b.navigate(dev.gallery + "/keys?prefix=photo-")
		b.waitJS("both thumbnails load", 60*time.Second, `[...document.querySelectorAll('[data-testid="key-thumb"]')]
			.filter(i => i.complete && i.naturalWidth > 0).length === 2`)
		type thumb struct {
			Key        string `json:"key"`
			Src        string `json:"src"`
			W          int    `json:"w"`
			H          int    `json:"h"`
			AttrW      string `json:"attrW"`
			AttrH      string `json:"attrH"`
			Bytes      int    `json:"bytes"`
			LeftBlue   bool   `json:"leftBlue"`
			RightBlue  bool   `json:"rightBlue"`
			LeftGreen  bool   `json:"leftGreen"`
			RightGreen bool   `json:"rightGreen"`
		}
		thumbs := eval[[]thumb](b, `[...document.querySelectorAll('[data-testid="key-item"]')].map(li => {
			const img = li.querySelector('[data-testid="key-thumb"]');
			const c = document.createElement("canvas");
			c.width = img.naturalWidth; c.height = img.naturalHeight;
			const g = c.getContext("2d");
			g.drawImage(img, 0, 0);
			// The mean colour of a column a tenth of the way in from each side.
			const column = x => {
				const d = g.getImageData(x, 0, 1, c.height).data;
				let r = 0, gr = 0, bl = 0;
				for (let i = 0; i < d.length; i += 4) { r += d[i]; gr += d[i+1]; bl += d[i+2]; }
				return [r, gr, bl];
			};
			const l = column(Math.floor(c.width / 10)), r = column(Math.floor(c.width * 9 / 10));
			const entry = performance.getEntriesByName(img.currentSrc)[0];
			return {key: li.dataset.key, src: img.currentSrc, w: img.naturalWidth, h: img.naturalHeight,
				attrW: img.getAttribute("width"), attrH: img.getAttribute("height"),
				bytes: entry ? entry.encodedBodySize : -1,
				leftBlue: l[2] > l[1], rightBlue: r[2] > r[1], leftGreen: l[1] > l[2], rightGreen: r[1] > r[2]};
		})`)
		if len(thumbs) != 2 {
			t.Fatalf("%d thumbnails, want 2", len(thumbs))
		}
		total, thumbBytes := 0, 0
		for _, th := range thumbs {
			orig := originals[th.Key]
			total += len(orig)
			thumbBytes += th.Bytes
			t.Logf("%s: %s %dx%d (attributes %sx%s), %d bytes of the original's %d", th.Key, th.Src, th.W, th.H, th.AttrW, th.AttrH, th.Bytes, len(orig))
			// Noise does not compress: only the photo's bytes are held to 5 %.
			if th.W > 640 || th.H > 640 || th.Bytes <= 0 || th.Key == "photo-camera" && th.Bytes*20 > len(orig) {
				t.Errorf("%s: thumbnail %dx%d of %d bytes; want at most 640 a side and (a photo) 5%% of the original's %d bytes", th.Key, th.W, th.H, th.Bytes, len(orig))
			}
			if fmt.Sprint(th.W) != th.AttrW || fmt.Sprint(th.H) != th.AttrH {
				t.Errorf("%s: width/height attributes %sx%s, the image is %dx%d", th.Key, th.AttrW, th.AttrH, th.W, th.H)
			}
		}
		cam := thumbs[1] // newest first: the camera's was uploaded first
		if cam.Key != "photo-camera" {
			t.Fatalf("no camera thumbnail in %+v", thumbs)
		}
		if cam.H <= cam.W {
			t.Errorf("the camera thumbnail is %dx%d: not turned upright by its EXIF orientation 6", cam.W, cam.H)
		}
		// The camera stored its sky at the top of its pixels; orientation 6
		// says that top is the right side of the picture as seen.
		if !cam.RightBlue || !cam.LeftGreen || cam.LeftBlue || cam.RightGreen {
			t.Errorf("the camera thumbnail's sky is not on its right (right blue %v, left green %v): turned the wrong way", cam.RightBlue, cam.LeftGreen)
		}
		t.Logf("Keys page images: %d bytes for originals of %d bytes (%.2f%%)", thumbBytes, total, 100*float64(thumbBytes)/float64(total))
	})

	for _, tt := range []struct {
		key  string
		w, h int // of the display rendition
	}{
		{"photo-camera", 1200, 1600},
		{"photo-noise", 640, 480},
	} {
		t.Run("show "+tt.key, func(t *testing.T) {
			b := b.with(t)
			b.navigate(dev.gallery + "/show?key=" + url.QueryEscape(tt.key))
			b.waitJS("the image loads", 30*time.Second, q("show-image")+`?.complete && `+q("show-image")+`.naturalWidth > 0`)
			got := eval[string](b, fmt.Sprintf(`(i => i.naturalWidth + "x" + i.naturalHeight + " " + i.getAttribute("width") + "x" + i.getAttribute("height") + " " + new URL(i.currentSrc).searchParams.get("size"))(%s)`, q("show-image")))
			if want := fmt.Sprintf("%dx%d %dx%d display", tt.w, tt.h, tt.w, tt.h); got != want {
				t.Errorf("show image: got %q, want %q", got, want)
			}
			href := eval[string](b, q("show-original")+`.href`)
			if !eval[bool](b, q("show-original")+`.hasAttribute("download")`) {
				t.Error("the original's link is not a download link")
			}
			resp, err := http.Get(href)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil || resp.StatusCode != http.StatusOK || !bytes.Equal(body, originals[tt.key]) {
				t.Errorf("download %s: %d, %d bytes, %v; want the original's %d bytes", href, resp.StatusCode, len(body), err, len(originals[tt.key]))
			}
		})
	}
}

// TestBrowserUploadMany chooses three files in the many-files uploader:
// keys are proposed from their names and one is edited; all are sent
// with a progress bar each; the summary says two were stored and why the
// third (text named like a PNG) was refused; the stored ones are listed.
func TestBrowserUploadMany(t *testing.T) {
	b := newBrowser(t)
	dev := startDevServers(t)
	b.page.server = dev.log
	dir := t.TempDir()
	paths := []string{
		writeTestFile(t, dir, "beach.png", testPNG(t, 300, 200, 11)),
		writeTestFile(t, dir, "forest.jpeg", testimg.EncodeJPEG(t, testimg.Camera(600, 400))),
		writeTestFile(t, dir, "notes.png", []byte("text in a file named like a PNG\n")),
	}
	b.navigate(dev.gallery + "/upload")
	if eval[bool](b, q("upload-many")+`.hidden`) {
		t.Fatal("the many-files uploader is hidden with JavaScript on")
	}
	b.do("choose three files", chromedp.SetUploadFiles(byTestID("upload-many-files"), paths))
	b.waitJS("three rows", 5*time.Second, `document.querySelectorAll('[data-testid="upload-many-item"]').length === 3`)
	keys := eval[[]string](b, `[...document.querySelectorAll('[data-testid="upload-many-key"]')].map(e => e.value)`)
	if fmt.Sprint(keys) != "[beach forest notes]" {
		t.Errorf("proposed keys %q, want beach, forest, notes (the file names)", keys)
	}
	b.do("edit the second key", chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('[data-testid="upload-many-key"]')[1].value = "holiday forest"`))
	b.click("upload-many-start")
	b.waitJS("the summary", 30*time.Second, q("upload-many-counts")+` !== null`)
	if got, want := b.text("upload-many-counts"), "2 stored, 1 refused."; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	const why = "notes.png (notes): The file is not a PNG, JPEG, GIF or WebP image (it looks like text/plain)."
	if got := b.text("upload-many-refused"); got != why {
		t.Errorf("refused: %q, want %q", got, why)
	}
	states := eval[[]string](b, `[...document.querySelectorAll('[data-testid="upload-many-item"]')].map(li => li.dataset.state + " " + li.querySelector("progress").value)`)
	if fmt.Sprint(states) != "[stored 100 stored 100 refused 100]" { // the refused one was sent whole: the server judged it
		t.Errorf("rows (state, progress): %q, want stored 100, stored 100, refused 100", states)
	}
	b.navigate(dev.gallery + "/keys")
	got := eval[[]string](b, `[...document.querySelectorAll('[data-testid="key-item"]')].map(e => e.dataset.key).sort()`)
	if fmt.Sprint(got) != "[beach holiday forest]" {
		t.Errorf("stored keys %q, want beach and holiday forest", got)
	}
}
