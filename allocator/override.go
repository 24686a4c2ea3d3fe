package allocator

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/p4qos/p4qos/internal/yamlerr"
)

// ObjectiveOverride is an objective given outside the problem (the
// command line's --objective and --alpha), which wins over the problem's
// objective: and alpha:. An Alpha alone implies the alpha-fair objective.
type ObjectiveOverride struct {
	Objective, Alpha string
}

// check validates the override on its own and returns the objective it
// sets ("" for none) and α (nil for none).
func (o ObjectiveOverride) check() (Objective, *float64, error) {
	obj := Objective(o.Objective)
	var alpha *float64
	if o.Alpha != "" {
		a, err := strconv.ParseFloat(strings.TrimSpace(o.Alpha), 64)
		if err != nil || !(a >= 0 && a <= MaxAlpha) {
			return "", nil, fmt.Errorf("--alpha %s: want a number from 0 to %d", yamlerr.Quote(o.Alpha), MaxAlpha)
		}
		alpha = &a
		if obj == "" {
			obj = AlphaFairObjective
		}
	}
	switch obj {
	case "", MaxMin:
		if alpha != nil {
			return "", nil, fmt.Errorf("--alpha goes with --objective alpha-fair, not %s", obj)
		}
	case AlphaFairObjective:
	default:
		return "", nil, fmt.Errorf("--objective %s: want maxmin or alpha-fair%s", yamlerr.Quote(o.Objective), yamlerr.Suggest(o.Objective, Objectives))
	}
	return obj, alpha, nil
}

// Check reports a bad override before any input is read.
func (o ObjectiveOverride) Check() error {
	_, _, err := o.check()
	return err
}

// Apply sets the override on p: the objective, and α where it has one
// (an alpha-fair objective with no α in either place is an error).
func (o ObjectiveOverride) Apply(p *Problem) error {
	obj, alpha, err := o.check()
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
