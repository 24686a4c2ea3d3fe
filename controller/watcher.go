package controller

import (
	"bytes"
	"context"
	"crypto/sha256"
	"sync"
	"time"

	"github.com/p4qos/p4qos/internal/inputfile"
)

// Watcher polls the policy and topology files and hands a changed, settled
// content to a callback. A new content is taken only once two polls in a
// row saw it, and an empty file never is: editors and scripts rewrite files
// in place, so a read can catch a file empty or half-written.
type Watcher struct {
	mu       sync.Mutex // guards files' sums between Run and Accept
	interval time.Duration
	files    []*watchedFile
	onChange func(ctx context.Context, changed map[string][]byte)
	onError  func(path string, err error)
}

type watchedFile struct {
	path    string
	kind    inputfile.Kind
	sum     [sha256.Size]byte // the content in use
	pending [sha256.Size]byte // a new content seen once, not yet taken
}

// WatchedInput is one file to watch: its kind (which sets its size cap)
// and the content in use.
type WatchedInput struct {
	Path    string
	Kind    inputfile.Kind
	Current []byte
}

// NewWatcher watches the files every interval.
func NewWatcher(interval time.Duration, files []WatchedInput,
	onChange func(ctx context.Context, changed map[string][]byte), onError func(path string, err error)) *Watcher {
	w := &Watcher{interval: interval, onChange: onChange, onError: onError}
	for _, in := range files {
		w.files = append(w.files, &watchedFile{path: in.Path, kind: in.Kind, sum: sha256.Sum256(in.Current)})
	}
	return w
}

// Run polls until ctx ends.
func (w *Watcher) Run(ctx context.Context) {
	if w.interval <= 0 {
		return
	}
	t := time.NewTicker(w.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		changed := map[string][]byte{}
		w.mu.Lock()
		for _, f := range w.files {
			if data, ok := w.poll(f); ok {
				changed[f.path] = data
			}
		}
		w.mu.Unlock()
		if len(changed) > 0 {
			w.onChange(ctx, changed)
		}
	}
}

// Seen records the file's present content as handled: after a change was
// applied through another route (a reload by API), the file takes over
// again only when it changes next.
func (w *Watcher) Seen(path string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, f := range w.files {
		if f.path != path {
			continue
		}
		if data, err := inputfile.Read(path, f.kind); err == nil {
			f.sum, f.pending = sha256.Sum256(data), [sha256.Size]byte{}
		}
	}
}

func (w *Watcher) poll(f *watchedFile) ([]byte, bool) {
	data, err := inputfile.Read(f.path, f.kind)
	if err != nil {
		if w.onError != nil {
			w.onError(f.path, err)
		}
		return nil, false
	}
	s := sha256.Sum256(data)
	if s == f.sum {
		f.pending = [sha256.Size]byte{}
		return nil, false
	}
	if s != f.pending || len(bytes.TrimSpace(data)) == 0 {
		f.pending = s
		return nil, false
	}
	f.sum = s
	return data, true
}
