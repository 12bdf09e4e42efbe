package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/picpool/picpool/handlers"
	"github.com/picpool/picpool/internal/cli"
)

func TestHTTPSettings(t *testing.T) {
	limits := func(readHeader, read, write, idle, stall time.Duration, rateKB, upload int64) handlers.Limits {
		return handlers.Limits{ReadHeader: readHeader, Read: read, Write: write, Idle: idle, Stall: stall, MinRate: rateKB << 10, MaxUpload: upload}
	}
	tests := []struct {
		name        string
		args        []string
		env         func(string) string
		want        handlers.Limits
		wantUploads int
		wantErr     string
	}{
		{
			name: "defaults",
			// 11 MiB at 16 KiB/s is 704 s; the base64 of 10 MiB and 1 KiB is 853 s.
			want: limits(10*time.Second, 729*time.Second, 868*time.Second, time.Minute, 15*time.Second, 16, 10<<20), wantUploads: 8,
		},
		{
			name: "a faster minimum and a smaller limit",
			args: []string{"--min-transfer-rate-kb", "64", "--stall-timeout", "5s", "--read-header-timeout", "2s", "--idle-timeout", "30s", "--concurrent-uploads", "2", "--max-upload-mb", "1"},
			// 2 MiB at 64 KiB/s is 32 s; the base64 of 1 MiB and 1 KiB is 21 s.
			want: limits(2*time.Second, 39*time.Second, 26*time.Second, 30*time.Second, 5*time.Second, 64, 1<<20), wantUploads: 2,
		},
		{
			name: "timeouts given, from the environment",
			env:  env("PICPOOL_READ_TIMEOUT", "5m", "PICPOOL_WRITE_TIMEOUT", "6m", "PICPOOL_IDLE_TIMEOUT", "2s", "PICPOOL_CONCURRENT_UPLOADS", "3"),
			want: limits(10*time.Second, 5*time.Minute, 6*time.Minute, 2*time.Second, 15*time.Second, 16, 10<<20), wantUploads: 3,
		},
		{name: "no rate", args: []string{"--min-transfer-rate-kb", "0"}, wantErr: "gallery: --min-transfer-rate-kb must be at least 1; got 0"},
		{name: "no uploads", args: []string{"--concurrent-uploads", "0"}, wantErr: "gallery: --concurrent-uploads must be at least 1; got 0"},
		{name: "no stall", args: []string{"--stall-timeout", "0s"}, wantErr: "gallery: --stall-timeout must be at least 1ms; got 0s"},
		{name: "no idle", args: []string{"--idle-timeout", "0s"}, wantErr: "gallery: --idle-timeout must be at least 1ms; got 0s"},
		{name: "negative", args: []string{"--read-timeout", "-1s"}, wantErr: "gallery: --read-timeout must be at least 0s; got -1s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := tt.env
			if getenv == nil {
				getenv = env()
			}
			var c Config
			s := cli.NewSet("gallery", "", getenv, io.Discard)
			s.Add(c.table(), galleryCmd)
			err := s.Parse(tt.args)
			var got handlers.Limits
			if err == nil {
				got, err = c.limits()
			}
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Uploads.Size() != tt.wantUploads {
				t.Errorf("uploads at once: %d, want %d", got.Uploads.Size(), tt.wantUploads)
			}
			got.Uploads = nil
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("limits (-want +got):\n%s", diff)
			}
		})
	}
}

// TestIdleConnectionClosed: a keep-alive connection that sends nothing
// after its request is closed after --idle-timeout, on the gallery and the
// manager; today's server kept it for ever, and enough of them used up
// the file descriptors.
func TestIdleConnectionClosed(t *testing.T) {
	dev := startDevServers(t, "--idle-timeout", "300ms")
	for _, base := range []string{dev.gallery, dev.manager} {
		u, _ := url.Parse(base)
		conn, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", u.Host)
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Close {
			t.Fatalf("%s: %d, close %v: want 200 on a kept connection", base, resp.StatusCode, resp.Close)
		}
		idle := time.Now()
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err = br.ReadByte()
		waited := time.Since(idle)
		if !errors.Is(err, io.EOF) {
			t.Fatalf("%s: the idle connection gave %v after %s, want it closed (EOF)", base, err, waited)
		}
		if waited < 250*time.Millisecond || waited > 5*time.Second {
			t.Errorf("%s: the idle connection was closed after %s, want about 300 ms", base, waited)
		}
	}
}

// startStalledUpload sends the headers and half the body of an upload of
// a w×w noise PNG to base's /api/upload over its own connection, then
// nothing: the connection stays open until the test or the server closes
// it.
func startStalledUpload(t *testing.T, base string, w int) net.Conn {
	t.Helper()
	u, _ := url.Parse(base)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("key", "stalled")
	fw, _ := mw.CreateFormFile("file", "photo.png")
	fw.Write(pngOf(t, w, w))
	mw.Close()
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST /api/upload HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
		u.Host, mw.FormDataContentType(), body.Len())
	conn.Write(body.Bytes()[:body.Len()/2])
	return conn
}

// TestDevCutsOffStalledUpload: `picpool dev` passes its body limits to
// both servers: an upload that stalls is answered 408 with the test API's
// JSON error soon after --stall-timeout, and its connection closed.
func TestDevCutsOffStalledUpload(t *testing.T) {
	dev := startDevServers(t, "--stall-timeout", "500ms", "--min-transfer-rate-kb", "16")
	for _, base := range []string{dev.gallery, dev.manager} {
		conn := startStalledUpload(t, base, 300)
		sent := time.Now()
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("%s: no answer to a stalled upload: %v", base, err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var got struct {
			Success string
			Error   struct {
				Code    int
				Message string
			}
		}
		json.Unmarshal(raw, &got)
		if resp.StatusCode != http.StatusRequestTimeout || got.Error.Code != http.StatusRequestTimeout ||
			!strings.HasPrefix(got.Error.Message, "The upload arrived too slowly (under 16 KiB/s for more than 500ms)") {
			t.Errorf("%s: %d %s, want a 408 JSON error", base, resp.StatusCode, raw)
		}
		if took := time.Since(sent); took > 5*time.Second {
			t.Errorf("%s: answered %s after the last byte, want about 500 ms", base, took)
		}
		if _, err := br.ReadByte(); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("%s: the connection stayed open: %v", base, err)
		}
	}
	if r := apiCall(t, dev.gallery, "/api/list_keys", nil, nil); r.raw != `{"success":"true","keys":[]}`+"\n" {
		t.Errorf("keys: %s, want none", r)
	}
}
