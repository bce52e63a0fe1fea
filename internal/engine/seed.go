package engine

import (
	"math"
	"strconv"

	"github.com/prosim/prosim/internal/seed"
)

func derive(parent uint64, parts ...any) uint64 { return seed.Derive(parent, parts...) }

func decisionSeed(expSeed uint64, replicate, agent, round, trial int, scenario string) uint64 {
	return seed.Decision(expSeed, replicate, agent, round, trial, scenario)
}

func formatNum(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}
