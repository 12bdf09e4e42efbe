package main

import (
	"encoding/base64"
	"fmt"
	"time"

	"github.com/picpool/picpool/handlers"
)

// The gallery's and the manager's connection limits. Idle keep-alive
// connections are closed; request bodies must keep up a minimum rate
// rather than meet a fixed deadline, so that the largest upload still
// works on a slow link while a stalled one is cut off in seconds; and
// only so many uploads are read at once, which bounds the memory they
// hold.

// uploadQueueWait is how long an upload waits for a slot before a 503.
const uploadQueueWait = 5 * time.Second

// httpFlags are the flags of the connection limits.
type httpFlags struct {
	readHeader, idle, read, write, stall *time.Duration
	minRateKB, uploads                   *int
}

// defaultMaxUploadMB is --max-upload-mb's default, which --help's derived
// timeouts are given for.
const defaultMaxUploadMB = 10

func addHTTPFlags(f *flags) httpFlags {
	def := httpSettingsFor(10*time.Second, 15*time.Second, 16, defaultMaxUploadMB*mebibyte)
	return httpFlags{
		readHeader: f.duration("read-header-timeout", "PICPOOL_READ_HEADER_TIMEOUT", 10*time.Second, "how long a request's headers may take to arrive"),
		idle:       f.duration("idle-timeout", "PICPOOL_IDLE_TIMEOUT", 60*time.Second, "how long a keep-alive connection may wait for its next request before the server closes it"),
		minRateKB: f.int("min-transfer-rate-kb", "PICPOOL_MIN_TRANSFER_RATE_KB", 16,
			"slowest a request body (an upload) may arrive, in KiB/s: one that falls --stall-timeout behind this rate is answered 408. The read and write timeouts are derived from it"),
		stall: f.duration("stall-timeout", "PICPOOL_STALL_TIMEOUT", 15*time.Second,
			"how far a request body may fall behind --min-transfer-rate-kb, so its longest pause, before it is answered 408"),
		read: f.duration("read-timeout", "PICPOOL_READ_TIMEOUT", 0,
			fmt.Sprintf("the longest a request may take to arrive, headers and body; 0 derives it: --read-header-timeout + --stall-timeout + the largest upload at --min-transfer-rate-kb (%s with the defaults)", def.timeouts.Read)),
		write: f.duration("write-timeout", "PICPOOL_WRITE_TIMEOUT", 0,
			fmt.Sprintf("the longest an answer may take to send, from the end of its request; 0 derives it: --stall-timeout + the largest answer (an image in base64) at --min-transfer-rate-kb (%s with the defaults)", def.timeouts.Write)),
		uploads: f.int("concurrent-uploads", "PICPOOL_CONCURRENT_UPLOADS", 8,
			fmt.Sprintf("uploads (bodies over 64 KiB) read at once, each holding up to --max-upload-mb of memory until it is stored; more wait up to %s for their turn, then get 503 with Retry-After", uploadQueueWait)),
	}
}

// httpSettings are a server's timeouts and the guards of its bodies.
type httpSettings struct {
	timeouts httpTimeouts
	pace     handlers.BodyPace
	uploads  int
}

// httpSettingsFor derives the read and write timeouts: the largest
// request (the largest upload and its form) and the largest answer (that
// image in base64, as /api/key sends it) at the minimum rate, plus one
// stall and, for the request, its headers.
func httpSettingsFor(readHeader, stall time.Duration, minRateKB int, maxUpload int64) httpSettings {
	rate := int64(minRateKB) << 10
	at := func(bytes int64) time.Duration {
		return (time.Duration(bytes) * time.Second / time.Duration(rate)).Round(time.Second)
	}
	read := readHeader + stall + at(maxUpload+handlers.UploadFormOverhead)
	write := stall + at(int64(base64.StdEncoding.EncodedLen(int(maxUpload)))+1<<10)
	return httpSettings{
		timeouts: httpTimeouts{ReadHeader: readHeader, Read: read, Write: write},
		pace:     handlers.BodyPace{MinRate: rate, Stall: stall, ReadTimeout: read, WriteTimeout: write},
	}
}

// settings checks the flags and derives what they leave to derive, for
// uploads of at most maxUpload bytes.
func (hf httpFlags) settings(maxUpload int64) (httpSettings, error) {
	switch {
	case *hf.minRateKB <= 0:
		return httpSettings{}, fmt.Errorf("--min-transfer-rate-kb must be more than 0; got %d", *hf.minRateKB)
	case *hf.stall <= 0:
		return httpSettings{}, fmt.Errorf("--stall-timeout must be more than 0; got %s", *hf.stall)
	case *hf.uploads <= 0:
		return httpSettings{}, fmt.Errorf("--concurrent-uploads must be more than 0; got %d", *hf.uploads)
	case *hf.readHeader <= 0 || *hf.idle <= 0:
		return httpSettings{}, fmt.Errorf("--read-header-timeout and --idle-timeout must be more than 0; got %s and %s", *hf.readHeader, *hf.idle)
	case *hf.read < 0 || *hf.write < 0:
		return httpSettings{}, fmt.Errorf("--read-timeout and --write-timeout must be 0 (derived) or more; got %s and %s", *hf.read, *hf.write)
	}
	s := httpSettingsFor(*hf.readHeader, *hf.stall, *hf.minRateKB, maxUpload)
	if *hf.read > 0 {
		s.timeouts.Read, s.pace.ReadTimeout = *hf.read, *hf.read
	}
	if *hf.write > 0 {
		s.timeouts.Write, s.pace.WriteTimeout = *hf.write, *hf.write
	}
	s.timeouts.Idle, s.uploads = *hf.idle, *hf.uploads
	return s, nil
}
