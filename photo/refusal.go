package photo

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/picpool/picpool/internal/bytesize"
)

// Kind is why an upload is refused.
type Kind int

// The reasons to refuse an upload.
const (
	Empty    Kind = iota + 1 // no bytes at all
	TooLarge                 // too many bytes, pixels, frames or scans
	NotImage                 // not a PNG, JPEG, GIF or WebP
	Damaged                  // starts like an image but does not decode whole
	Busy                     // the request ended while it waited its turn to decode
)

// Refusal is why an upload is not an acceptable image, in words for the
// person who sent it.
type Refusal struct {
	Kind    Kind
	Message string
}

func (r *Refusal) Error() string { return r.Message }

func refuse(kind Kind, format string, args ...any) *Refusal {
	return &Refusal{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// sniffImage returns the format of an image file judged by its content,
// not its name: it must be 1 byte to maxBytes long and sniff as PNG,
// JPEG, GIF or WebP.
func sniffImage(data []byte, maxBytes int64) (*imageFormat, error) {
	if len(data) == 0 {
		return nil, refuse(Empty, "The file is empty.")
	}
	if int64(len(data)) > maxBytes {
		return nil, refuse(TooLarge, "The file is larger than %s, the limit.", bytesize.Format(maxBytes))
	}
	sniffed := http.DetectContentType(data)
	for _, f := range imageFormats {
		if sniffed == f.contentType {
			return f, nil
		}
	}
	return nil, refuse(NotImage, "The file is not a PNG, JPEG, GIF or WebP image (it looks like %s).", strings.SplitN(sniffed, ";", 2)[0])
}

// ContentType is the content type of an image's bytes, judged by their
// content as at upload.
func ContentType(data []byte) string { return http.DetectContentType(data) }
