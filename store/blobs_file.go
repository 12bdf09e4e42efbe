package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// fileBlobs keeps each object as a file below a folder; an object name's
// slashes are sub-folders.
type fileBlobs struct {
	dir string
}

func openFileBlobs(dir string) (*fileBlobs, error) {
	// "file:///abs/dir" and "file:rel/dir" both work.
	dir = strings.TrimPrefix(dir, "//")
	if dir == "" {
		return nil, errors.New("no folder given (want file:data/blobs)")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return &fileBlobs{dir: dir}, nil
}

// path returns the file of an object, refusing names that would leave the
// folder ("../x", "/etc/x") or that are not plain slash-separated paths.
func (b *fileBlobs) path(name string) (string, error) {
	if name == "" || strings.Contains(name, `\`) || !filepath.IsLocal(filepath.FromSlash(name)) {
		return "", fmt.Errorf("invalid object name %q", name)
	}
	return filepath.Join(b.dir, filepath.FromSlash(name)), nil
}

// Put writes the object to a temporary file, syncs it and renames it into
// place, so that a reader (or a crash) never sees half an object.
func (b *fileBlobs) Put(ctx context.Context, name, contentType string, data []byte) error {
	p, err := b.path(name)
	if err != nil {
		return fmt.Errorf("store: put blob: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: put blob %s: %w", name, err)
	}
	if err := b.write(p, data); err != nil {
		return fmt.Errorf("store: put blob %s: %w", name, err)
	}
	return nil
}

func (b *fileBlobs) write(p string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".put-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// Get reads the object's file.
func (b *fileBlobs) Get(ctx context.Context, name string) ([]byte, error) {
	p, err := b.path(name)
	if err != nil {
		return nil, fmt.Errorf("store: get blob: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("store: get blob %s: %w", name, err)
	}
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("store: get blob %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: get blob %s: %w", name, err)
	}
	return data, nil
}

// Delete removes the object's file.
func (b *fileBlobs) Delete(ctx context.Context, name string) error {
	p, err := b.path(name)
	if err != nil {
		return fmt.Errorf("store: delete blob: %w", err)
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("store: delete blob %s: %w", name, err)
	}
	return nil
}

// DeleteMany removes the named objects' files.
func (b *fileBlobs) DeleteMany(ctx context.Context, names []string) error {
	for _, n := range names {
		if err := b.Delete(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

// names lists every object, for tests and maintenance; temporary files of
// writes in progress are left out.
func (b *fileBlobs) names(ctx context.Context) ([]string, error) {
	var names []string
	err := filepath.WalkDir(b.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".put-") {
			return err
		}
		rel, err := filepath.Rel(b.dir, p)
		names = append(names, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: list blobs in %s: %w", b.dir, err)
	}
	return names, nil
}
