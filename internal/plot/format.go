package plot

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"io"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgpdf"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Formats are the output formats, chosen by the file name's extension.
var Formats = []string{"svg", "png", "pdf"}

// ErrFormat is returned for a file name whose extension is not one of
// Formats.
var ErrFormat = errors.New("the file name must end in .svg, .png or .pdf")

// FormatOf returns the format for a file name ("svg", "png" or "pdf"), or
// ErrFormat.
func FormatOf(name string) (string, error) {
	ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(name), "."))
	for _, f := range Formats {
		if ext == f {
			return f, nil
		}
	}
	return "", ErrFormat
}

// pngDPI gives a PNG sharp enough for a report at the figure's size.
const pngDPI = 150

// render draws with draw onto a canvas of w×h in format and writes it.
func render(w io.Writer, format string, width, height vg.Length, drawFn func(draw.Canvas)) error {
	var c vg.CanvasWriterTo
	switch format {
	case "svg":
		c = vgsvg.New(width, height)
	case "png":
		c = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(pngDPI))}
	case "pdf":
		c = vgpdf.New(width, height)
	default:
		return fmt.Errorf("plot: format %q: %w", format, ErrFormat)
	}
	dc := draw.New(c)
	dc.FillPolygon(color.White, []vg.Point{dc.Min, {X: dc.Max.X, Y: dc.Min.Y}, dc.Max, {X: dc.Min.X, Y: dc.Max.Y}})
	drawFn(dc)
	if format != "svg" {
		_, err := c.WriteTo(w)
		return err
	}
	// The SVG names the font without a fallback; Arial has the same metrics
	// as Liberation Sans, so the layout holds where Liberation is missing.
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return err
	}
	_, err := w.Write(bytes.ReplaceAll(buf.Bytes(), []byte("font-family:Liberation Sans;"), []byte("font-family:'Liberation Sans',Arial,Helvetica,sans-serif;")))
	return err
}

// writeFile renders fully before creating the file, so that a failure
// leaves no half-written figure behind.
func writeFile(path string, fn func(io.Writer, string) error) error {
	format, err := FormatOf(path)
	if err != nil {
		return &InputError{Err: fmt.Errorf("%s: %w", path, err)}
	}
	var buf bytes.Buffer
	if err := fn(&buf, format); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// InputError is a problem with what the caller asked for (a file name or an
// input file), as opposed to a failure to render or write.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }
