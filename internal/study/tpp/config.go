package tpp

import (
	"github.com/prosim/prosim/internal/experiment"
	"github.com/prosim/prosim/internal/yamlx"
)

// Config is the study's block, `tpp:` in the experiment file (optional: every field has a
// default).
type Config struct {
	// Variant is "binary" (the original's punish/accept, default) or "graded".
	Variant string `yaml:"variant,omitempty"`
	// History shows each agent its earlier trials (stateless when false, as the original).
	History bool `yaml:"history,omitempty"`
}

func init() {
	experiment.RegisterBlock(Name, func() experiment.Block { return &Config{} })
}

// ConfigOf is the checked block of an experiment of study tpp.
func ConfigOf(e *experiment.Experiment) *Config {
	c, _ := e.Block.(*Config)
	return c
}

// Check validates the block and fills its defaults.
func (c *Config) Check(e *experiment.Experiment, doc *yamlx.Doc) error {
	l := yamlx.NewList(doc.Name())
	if len(e.Scenarios) != 0 {
		l.Add(doc.Errorf("scenarios", "not used by study: tpp (the game is the scenario)"))
	}
	switch c.Variant {
	case "":
		c.Variant = "binary"
	case "binary", "graded":
	default:
		l.Add(doc.Errorf("tpp.variant", "unknown variant %q (want binary or graded)", c.Variant))
	}
	return l.Err()
}
