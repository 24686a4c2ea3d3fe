package allocator

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/p4qos/p4qos/internal/yamlerr"
)

// ObjectiveOverride is an objective given outside the problem (the
// command line's --objective and --alpha), which wins over the problem's
// objective: and alpha:. An Alpha alone implies the alpha-fair objective.
//
// Alpha may be a comma-separated list (0,1,2,inf; inf is max-min, the
// α → ∞ limit) when Plot is set: the first value is the objective applied
// to the problem, and Alphas returns them all for a side-by-side plot.
type ObjectiveOverride struct {
	Objective, Alpha string
	Plot             bool
}

// check validates the override on its own and returns the objective it
// sets ("" for none), α (nil for none) and the whole list of α (+Inf for
// max-min).
func (o ObjectiveOverride) check() (Objective, *float64, []float64, error) {
	obj := Objective(o.Objective)
	var alpha *float64
	var list []float64
	if o.Alpha != "" {
		for _, f := range strings.Split(o.Alpha, ",") {
			f = strings.TrimSpace(f)
			if f == "inf" || f == "∞" {
				list = append(list, math.Inf(1))
				continue
			}
			a, err := strconv.ParseFloat(f, 64)
			if err != nil || !(a >= 0 && a <= MaxAlpha) {
				return "", nil, nil, fmt.Errorf("--alpha %s: want a number from 0 to %d (or with --plot a list such as 0,1,2,inf)", yamlerr.Quote(o.Alpha), MaxAlpha)
			}
			list = append(list, a)
		}
		if len(list) > 1 && !o.Plot {
			return "", nil, nil, fmt.Errorf("--alpha %s: several values need --plot (they are drawn side by side)", yamlerr.Quote(o.Alpha))
		}
		if math.IsInf(list[0], 1) {
			if len(list) == 1 {
				return "", nil, nil, fmt.Errorf("--alpha inf: use --objective maxmin")
			}
			if obj == "" {
				obj = MaxMin
			}
		} else {
			alpha = &list[0]
			if obj == "" {
				obj = AlphaFairObjective
			}
		}
	}
	switch obj {
	case "", MaxMin:
		if alpha != nil {
			return "", nil, nil, fmt.Errorf("--alpha goes with --objective alpha-fair, not %s", obj)
		}
	case AlphaFairObjective:
		if len(list) > 0 && alpha == nil {
			return "", nil, nil, fmt.Errorf("--objective alpha-fair: the first --alpha must be a number, not inf")
		}
	default:
		return "", nil, nil, fmt.Errorf("--objective %s: want maxmin or alpha-fair%s", yamlerr.Quote(o.Objective), yamlerr.Suggest(o.Objective, Objectives))
	}
	return obj, alpha, list, nil
}

// Alphas returns the list of α given (+Inf for max-min), nil for none or
// for an invalid override.
func (o ObjectiveOverride) Alphas() []float64 {
	_, _, list, err := o.check()
	if err != nil {
		return nil
	}
	return list
}

// Check reports a bad override before any input is read.
func (o ObjectiveOverride) Check() error {
	_, _, _, err := o.check()
	return err
}

// Apply sets the override on p: the objective, and α where it has one
// (an alpha-fair objective with no α in either place is an error).
func (o ObjectiveOverride) Apply(p *Problem) error {
	obj, alpha, _, err := o.check()
	if err != nil || obj == "" {
		return err
	}
	p.Objective = obj
	switch {
	case obj == MaxMin:
		p.Alpha = nil
	case alpha != nil:
		p.Alpha = alpha
	case p.Alpha == nil:
		return fmt.Errorf("--objective alpha-fair needs --alpha (or alpha: in the problem)")
	}
	return nil
}
