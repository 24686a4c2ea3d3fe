// Package assets makes the files embedded in the binary (package p4qos:
// the compiled pipeline and the example topologies and policy) usable
// wherever a path is expected, so that `go install`ed p4qos works from any
// directory. A file on disk always wins over the embedded copy.
package assets

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/p4qos/p4qos"
)

// Path returns rel itself when it names a file on disk; otherwise, when
// the binary carries a file of that repository path, the path of a copy in
// the user's cache directory (written once, named by its content's hash so
// that copies of different builds never mix). Other paths come back as
// they are, for the caller's usual "no such file" error.
func Path(rel string) (string, error) {
	if _, err := os.Stat(rel); err == nil || filepath.IsAbs(rel) {
		return rel, nil
	}
	data, err := fs.ReadFile(p4qos.Files, path.Clean(filepath.ToSlash(rel)))
	if err != nil {
		return rel, nil
	}
	sum := sha256.Sum256(data)
	dir, err := cacheDir()
	if err != nil {
		return "", err
	}
	dst := filepath.Join(dir, hex.EncodeToString(sum[:8]), filepath.FromSlash(path.Clean(filepath.ToSlash(rel))))
	if existing, err := os.ReadFile(dst); err == nil && sha256.Sum256(existing) == sum {
		return dst, nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", fmt.Errorf("embedded %s: %w", rel, err)
	}
	// Write then rename: a concurrent p4qos never reads a half-written copy.
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".tmp-*")
	if err != nil {
		return "", fmt.Errorf("embedded %s: %w", rel, err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("embedded %s: %w", rel, err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("embedded %s: %w", rel, err)
	}
	return dst, nil
}

// Embedded reports whether the binary carries rel.
func Embedded(rel string) bool {
	_, err := fs.Stat(p4qos.Files, path.Clean(filepath.ToSlash(rel)))
	return err == nil
}

func cacheDir() (string, error) {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "p4qos", "embedded"), nil
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("p4qos-embedded-%d", os.Getuid())), nil
}

// Resolve replaces each path by Path's answer.
func Resolve(paths ...*string) error {
	for _, p := range paths {
		if *p == "" {
			continue
		}
		r, err := Path(*p)
		if err != nil {
			return err
		}
		*p = r
	}
	return nil
}
