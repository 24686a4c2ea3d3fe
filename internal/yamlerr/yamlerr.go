package yamlerr

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Error is one problem in a YAML file.
type Error struct {
	File   string
	Line   int // 1-based; 0 when unknown
	Column int // 1-based; 0 when unknown
	Path   string
	Msg    string
}

// Error renders "file:line:col: path: message", leaving out unknown parts.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(Path(e.File))
		b.WriteByte(':')
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d:", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, "%d:", e.Column)
		}
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// List collects errors. Its Error method prints one error per line, sorted
// by file and position.
type List []*Error

// MaxErrors bounds a List: Add keeps the first MaxErrors errors and then
// one that says more were found. A hostile file can have an error per
// byte; listing them all would cost memory and time in proportion
// (positions, sorting) and print megabytes nobody reads.
const MaxErrors = 200

// Add appends e (nil is ignored), up to MaxErrors errors.
func (l *List) Add(e *Error) {
	switch {
	case e == nil:
	case len(*l) < MaxErrors:
		*l = append(*l, e)
	case len(*l) == MaxErrors:
		*l = append(*l, &Error{File: e.File, Msg: fmt.Sprintf("more than %d problems: only the first %d are listed", MaxErrors, MaxErrors)})
	}
}

// Append appends every error of other. A non-List error is added without a
// position.
func (l *List) Append(err error) {
	if err == nil {
		return
	}
	var other List
	var one *Error
	switch {
	case errors.As(err, &other):
		for _, e := range other {
			l.Add(e)
		}
	case errors.As(err, &one):
		l.Add(one)
	default:
		l.Add(&Error{Msg: err.Error()})
	}
}

// Sort orders the errors by file, line, column, path and message.
func (l List) Sort() {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i], l[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return a.Msg < b.Msg
	})
}

// Err returns nil for an empty list and the sorted list otherwise. Use it
// to return a List as an error without the typed-nil trap.
func (l List) Err() error {
	if len(l) == 0 {
		return nil
	}
	l.Sort()
	return l
}

// Error prints one error per line.
func (l List) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Without returns the errors of l except those at a path where other has
// an error, or below it. Checks that run after a partly failed decode use
// it to drop the follow-on errors of a field that did not decode.
func (l List) Without(other List) List {
	if len(other) == 0 {
		return l
	}
	bad := make(map[string]bool, len(other))
	for _, e := range other {
		bad[e.Path] = true
	}
	var out List
	for _, e := range l {
		drop := false
		for p := e.Path; p != ""; p = parent(p) {
			if bad[p] {
				drop = true
				break
			}
		}
		if !drop {
			out = append(out, e)
		}
	}
	return out
}

// parent strips the last segment of a path: a.b[2] → a.b → a → "".
func parent(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// Counted puts a List behind a count of its problems ("3 problems:"), so
// that the list starts on a line of its own; other errors are returned as
// they are.
func Counted(err error) error {
	var list List
	if !errors.As(err, &list) {
		return err
	}
	n := "1 problem"
	if len(list) != 1 {
		n = fmt.Sprintf("%d problems", len(list))
	}
	return fmt.Errorf("%s:\n%w", n, list)
}
