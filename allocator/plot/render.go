package plot

import (
	"bufio"
	"errors"
	"fmt"
	"html"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"path/filepath"
	"strings"

	"github.com/p4qos/p4qos/allocator"
)

// ErrFormat is returned for a plot file name that is neither .svg nor .png.
var ErrFormat = errors.New("plot: unknown format (want .svg or .png)")

// FormatOf returns "svg" or "png" for a file name, or ErrFormat.
func FormatOf(name string) (string, error) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".svg":
		return "svg", nil
	case ".png":
		return "png", nil
	}
	return "", fmt.Errorf("%w: %q", ErrFormat, name)
}

// Write draws the allocation r of p in format "svg" or "png".
func Write(w io.Writer, format string, p *allocator.Problem, r *allocator.Result) error {
	switch format {
	case "svg":
		return SVG(w, p, r)
	case "png":
		return PNG(w, p, r)
	}
	return fmt.Errorf("%w: %q", ErrFormat, format)
}

func hexColor(c color.RGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

// SVG writes the plot as a standalone SVG document.
func SVG(w io.Writer, p *allocator.Problem, r *allocator.Result) error {
	s := layout(p, r)
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif">`+"\n", s.w, s.h, s.w, s.h)
	fmt.Fprintf(bw, `<rect width="100%%" height="100%%" fill="#ffffff"/>`+"\n")
	for _, sh := range s.shapes {
		switch v := sh.(type) {
		case rect:
			fill, stroke := "none", "none"
			if v.fill.A > 0 {
				fill = hexColor(v.fill)
			}
			if v.stroke.A > 0 {
				stroke = hexColor(v.stroke)
			}
			fmt.Fprintf(bw, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" stroke="%s"/>`+"\n", v.x, v.y, v.w, v.h, fill, stroke)
		case line:
			dash := ""
			if v.dashed {
				dash = ` stroke-dasharray="4 3"`
			}
			fmt.Fprintf(bw, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="%.1f"%s/>`+"\n", v.x1, v.y1, v.x2, v.y2, hexColor(v.c), v.width, dash)
		case polyline:
			var pts strings.Builder
			for i, pt := range v.pts {
				if i > 0 {
					pts.WriteByte(' ')
				}
				fmt.Fprintf(&pts, "%.1f,%.1f", pt[0], pt[1])
			}
			fmt.Fprintf(bw, `<polyline points="%s" fill="none" stroke="%s" stroke-width="%.1f"/>`+"\n", pts.String(), hexColor(v.c), v.width)
		case circle:
			fmt.Fprintf(bw, `<circle cx="%.1f" cy="%.1f" r="%.1f" fill="%s"/>`+"\n", v.x, v.y, v.r, hexColor(v.c))
		case text:
			size := 13
			if v.size == 1 {
				size = 10
			}
			anc := map[anchor]string{anchorStart: "start", anchorMiddle: "middle", anchorEnd: "end"}[v.anchor]
			fmt.Fprintf(bw, `<text x="%.1f" y="%.1f" font-size="%d" fill="%s" text-anchor="%s">%s</text>`+"\n", v.x, v.y, size, hexColor(v.c), anc, html.EscapeString(v.s))
		}
	}
	fmt.Fprintln(bw, "</svg>")
	return bw.Flush()
}

// PNG writes the plot as a PNG image.
func PNG(w io.Writer, p *allocator.Problem, r *allocator.Result) error {
	s := layout(p, r)
	img := image.NewRGBA(image.Rect(0, 0, s.w, s.h))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	c := &canvas{img: img}
	for _, sh := range s.shapes {
		switch v := sh.(type) {
		case rect:
			if v.fill.A > 0 {
				c.fillRect(v.x, v.y, v.w, v.h, v.fill)
			}
			if v.stroke.A > 0 {
				c.line(v.x, v.y, v.x+v.w, v.y, 1, v.stroke, false)
				c.line(v.x, v.y+v.h, v.x+v.w, v.y+v.h, 1, v.stroke, false)
				c.line(v.x, v.y, v.x, v.y+v.h, 1, v.stroke, false)
				c.line(v.x+v.w, v.y, v.x+v.w, v.y+v.h, 1, v.stroke, false)
			}
		case line:
			c.line(v.x1, v.y1, v.x2, v.y2, v.width, v.c, v.dashed)
		case polyline:
			for i := 1; i < len(v.pts); i++ {
				c.line(v.pts[i-1][0], v.pts[i-1][1], v.pts[i][0], v.pts[i][1], v.width, v.c, false)
			}
		case circle:
			c.disc(v.x, v.y, v.r, v.c)
		case text:
			c.text(v)
		}
	}
	if err := png.Encode(w, img); err != nil {
		return fmt.Errorf("plot: encode png: %w", err)
	}
	return nil
}

type canvas struct{ img *image.RGBA }

func (c *canvas) set(x, y int, col color.RGBA) {
	if image.Pt(x, y).In(c.img.Rect) {
		c.img.SetRGBA(x, y, col)
	}
}

func (c *canvas) fillRect(x, y, w, h float64, col color.RGBA) {
	for j := int(math.Round(y)); j < int(math.Round(y+h)); j++ {
		for i := int(math.Round(x)); i < int(math.Round(x+w)); i++ {
			c.set(i, j, col)
		}
	}
}

// line steps along the longer axis one pixel at a time and stamps a square
// of the line's width; dashes skip every other 4-pixel run.
func (c *canvas) line(x1, y1, x2, y2, width float64, col color.RGBA, dashed bool) {
	n := int(math.Ceil(math.Max(math.Abs(x2-x1), math.Abs(y2-y1))))
	if n > 100000 {
		n = 100000
	}
	half := int(math.Max(0, math.Round(width/2-0.5)))
	for k := 0; k <= n; k++ {
		if dashed && (k/4)%2 == 1 {
			continue
		}
		t := 0.0
		if n > 0 {
			t = float64(k) / float64(n)
		}
		x := int(math.Round(x1 + t*(x2-x1)))
		y := int(math.Round(y1 + t*(y2-y1)))
		for dy := -half; dy <= half; dy++ {
			for dx := -half; dx <= half; dx++ {
				c.set(x+dx, y+dy, col)
			}
		}
	}
}

func (c *canvas) disc(cx, cy, r float64, col color.RGBA) {
	for j := int(cy - r); j <= int(cy+r); j++ {
		for i := int(cx - r); i <= int(cx+r); i++ {
			if dx, dy := float64(i)-cx, float64(j)-cy; dx*dx+dy*dy <= r*r {
				c.set(i, j, col)
			}
		}
	}
}

// text draws with the 5×7 bitmap font at the text's scale; y is the
// baseline, as in SVG.
func (c *canvas) text(t text) {
	scale := t.size
	if scale < 1 {
		scale = 1
	}
	runes := []rune(t.s)
	w := float64(len(runes) * glyphAdvance * scale)
	x := t.x
	switch t.anchor {
	case anchorMiddle:
		x -= w / 2
	case anchorEnd:
		x -= w
	}
	top := int(math.Round(t.y)) - 7*scale
	for k, r := range runes {
		g := glyph(r)
		ox := int(math.Round(x)) + k*glyphAdvance*scale
		for row := 0; row < 7; row++ {
			for col := 0; col < 5; col++ {
				if g[row][col] != '#' {
					continue
				}
				for dy := 0; dy < scale; dy++ {
					for dx := 0; dx < scale; dx++ {
						c.set(ox+col*scale+dx, top+row*scale+dy, t.c)
					}
				}
			}
		}
	}
}
