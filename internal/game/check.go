package game

import (
	"fmt"
	"math"
)

// finite reports an error when v is NaN or infinite.
func finite(name string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("%s: %g is not a finite number", name, v)
	}
	return nil
}

// inRange checks lo <= v <= hi for a finite v.
func inRange(name string, v, lo, hi float64) error {
	if err := finite(name, v); err != nil {
		return err
	}
	if v < lo || v > hi {
		return fmt.Errorf("%s: %g is outside %g..%g", name, v, lo, hi)
	}
	return nil
}

// positive checks v > 0 for a finite v.
func positive(name string, v float64) error {
	if err := finite(name, v); err != nil {
		return err
	}
	if v <= 0 {
		return fmt.Errorf("%s: %g must be positive", name, v)
	}
	return nil
}
