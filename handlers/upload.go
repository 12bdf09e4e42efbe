package handlers

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/picpool/picpool/gallery"
	"github.com/picpool/picpool/internal/bytesize"
)

// UploadFormOverhead is what an upload's form may add to its file (the
// key, the boundaries, the parts' headers): an upload body may be this
// much larger than the largest file.
const UploadFormOverhead = 1 << 20

// maxKeyFieldBytes bounds the key field of a form: 250 characters of
// UTF-8 are at most 1000 bytes, and a client may send them decomposed
// (NFD), which takes up to 3 times as many bytes (UAX #15); gallery.ParseKey
// composes them again.
const maxKeyFieldBytes = 3 * 4 * gallery.MaxKeyChars

// readUpload reads a multipart upload's "key" and "file" fields,
// streaming: the file is read up to maxBytes+1 bytes, so an oversize
// upload is refused without reading it whole. Other fields are skipped.
func readUpload(r *http.Request, maxBytes int64) (key string, data []byte, err error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "multipart/form-data" {
		return "", nil, gallery.Errorf(gallery.Invalid, "Send the upload as multipart/form-data with the fields key and file.")
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return "", nil, gallery.Errorf(gallery.Invalid, "The upload is not a readable multipart form.")
	}
	var gotKey, gotFile bool
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return key, nil, bodyError(err, maxBytes, "The upload form is cut short or malformed.")
		}
		switch part.FormName() {
		case "key":
			b, err := readPart(part, maxKeyFieldBytes, -1)
			if errors.Is(err, errPartTooLarge) {
				return "", nil, gallery.FieldErrorf(gallery.Invalid, "key", "The key is longer than %d characters.", gallery.MaxKeyChars)
			}
			if err != nil {
				return "", nil, bodyError(err, maxBytes, "The upload was cut short.")
			}
			key, gotKey = string(b), true
		case "file":
			b, err := readPart(part, maxBytes, r.ContentLength)
			if errors.Is(err, errPartTooLarge) {
				return key, nil, gallery.FieldErrorf(gallery.TooLarge, "file", "The file is larger than %s, the limit.", bytesize.Format(maxBytes))
			}
			if err != nil {
				return key, nil, bodyError(err, maxBytes, "The upload was cut short.")
			}
			data, gotFile = b, true
		}
		part.Close()
	}
	switch {
	case !gotKey || strings.TrimSpace(key) == "":
		return key, data, gallery.FieldErrorf(gallery.Invalid, "key", "Please give the image a key.")
	case !gotFile:
		return key, data, gallery.FieldErrorf(gallery.Invalid, "file", "Please choose an image file to upload.")
	}
	return key, data, nil
}

var errPartTooLarge = errors.New("part too large")

// bodyError turns a failure to read the body into what the user is told:
// a body over the server's limit (http.MaxBytesReader) is TooLarge about
// the file, one that came too slowly the 408 of its bodyPacer, anything
// else Invalid, saying what.
func bodyError(err error, maxBytes int64, otherwise string) error {
	var tooLarge *http.MaxBytesError
	var slow *httpError
	switch {
	case errors.As(err, &tooLarge):
		return gallery.FieldErrorf(gallery.TooLarge, "file", "The upload is larger than %s, the limit.", bytesize.Format(maxBytes))
	case errors.As(err, &slow):
		return slow
	}
	return gallery.Errorf(gallery.Invalid, "%s", otherwise)
}

// readPart reads at most max bytes of a part, and errPartTooLarge if it
// has more. sizeHint, the request body's length when known (else -1),
// sizes the buffer once: the file is then never copied as it grows, nor
// at the end (io.ReadAll builds its result from chunks), so an upload
// holds about its own size, and a failed one leaves no copy behind.
func readPart(p *multipart.Part, max, sizeHint int64) ([]byte, error) {
	size := min(max+1, 512) // a length not known: start small, grow as append does
	if sizeHint >= 0 {
		size = min(max+1, sizeHint+1) // +1: the read that finds the end
	}
	b := make([]byte, 0, size)
	for {
		if len(b) == cap(b) {
			if int64(len(b)) > max {
				return nil, errPartTooLarge
			}
			b = append(b, 0)[:len(b)] // grow as append does
		}
		n, err := p.Read(b[len(b):min(cap(b), int(max)+1)])
		b = b[:len(b)+n]
		if int64(len(b)) > max {
			return nil, errPartTooLarge
		}
		if errors.Is(err, io.EOF) {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
	}
}
