package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/prosim/prosim/internal/engine"
	"github.com/prosim/prosim/internal/report"
)

func init() { extraCommands = append(extraCommands, reportCmd) }

func reportCmd() *cobra.Command {
	var out, figures string
	c := &cobra.Command{
		Use:   "report RUN_DIR [RUN_DIR...]",
		Short: "Write the HTML report of one run, or compare several runs in one report",
		Long: `report writes one self-contained HTML file (inline charts, no scripts, nothing fetched):
the design, validity and cost, and each study's charts. With one run directory the default
output is RUN_DIR/report.html; several run directories (e.g. two backends) are compared in one
report, written to --out (default: report.html in the current directory).
Every figure has a "Download SVG" link in the page; --figures DIR also writes each figure as
DIR/figure-NN.svg and DIR/figure-NN.pdf (NN: its number in the report; the PDF is the same
vector drawing, one page the size of the figure), for papers.`,
		Example:     "  prosim report runs/study1-20250101-120000\n  prosim report runs/a runs/b --out cmp.html\n  prosim report runs/a --figures figs",
		Args:        cobra.MinimumNArgs(1),
		Annotations: doneOnSuccessAnnotation,
		RunE: func(cmd *cobra.Command, args []string) error {
			path := out
			if path == "" {
				path = "report.html"
				if len(args) == 1 {
					path = filepath.Join(args[0], report.ReportFile)
				}
			}
			// The replay and the page (one file, written whole then renamed) are abandoned at
			// Ctrl-C, as a run's analysis is: a page half-written is never in place.
			end := engine.CommandStage(engine.Stage{Name: "writing the report of " + strings.Join(args, ", "), Abandon: true})
			defer end()
			if figures == "" {
				if err := engine.WriteReport(path, args...); err != nil {
					return err
				}
				end()
				fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", path)
				return nil
			}
			files, err := engine.WriteFigures(path, figures, args...)
			if err != nil {
				return err
			}
			end()
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s and %d figure(s) (SVG and PDF) in %s\n", path, len(files)/2, figures)
			return nil
		},
	}
	c.Flags().StringVar(&figures, "figures", "", "also write each figure as SVG and PDF files in this directory (figure-NN.svg, figure-NN.pdf)")
	c.Flags().StringVarP(&out, "out", "o", "", "output file (default RUN_DIR/report.html, or ./report.html for several runs)")
	return c
}
