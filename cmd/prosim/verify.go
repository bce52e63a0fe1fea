package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/prosim/prosim/internal/engine"
	"github.com/prosim/prosim/internal/manifest"
	"github.com/prosim/prosim/internal/plural"
)

func init() { extraCommands = append(extraCommands, verifyCmd) }

func verifyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "verify RUN_DIR",
		Short: "Check a run's inputs against its manifest.json (exit 0 when nothing changed)",
		Long: `verify recomputes the SHA-256 of the run's resolved config (config.yaml) and of every file
under inputs/, compares them with RUN_DIR/manifest.json, and names each file that changed, is
missing, or was added. It exits 0 when nothing changed and 1 otherwise. It also prints the
SHA-256 of manifest.json itself, by which a run can be pre-registered.`,
		Example: "  prosim verify runs/study1-20250101-120000",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			m, err := manifest.Read(dir)
			if err != nil {
				if ferr := engine.CheckRunFolder(dir); ferr != nil { // not a run at all, rather than one without a manifest
					return ferr
				}
				return err
			}
			changes, err := manifest.Verify(dir, m)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			raw, err := os.ReadFile(filepath.Join(dir, manifest.File))
			if err != nil {
				return err
			}
			sum := sha256.Sum256(raw)
			fmt.Fprintf(w, "%s: sha256 %s\n", filepath.Join(dir, manifest.File), hex.EncodeToString(sum[:]))
			fmt.Fprintf(w, "run %s (study %s, %s), written by prosim %s\n", m.Experiment, m.Study, m.Status, m.Prosim)
			if note := engine.CapStopOf(m, dir); note != "" {
				fmt.Fprintln(w, note)
			}
			for _, c := range changes {
				fmt.Fprintln(w, c)
			}
			// Built-in data lives in the binary, not the run directory: a difference is a note.
			notes, err := manifest.BuiltinNotes(m)
			if err != nil {
				return err
			}
			for _, n := range notes {
				fmt.Fprintln(w, "note: "+n)
			}
			if len(changes) > 0 {
				verb := "differ"
				if len(changes) == 1 {
					verb = "differs"
				}
				return fmt.Errorf("%s: %d of the run's files %s from its manifest", dir, len(changes), verb)
			}
			fmt.Fprintf(w, "ok: %s of the manifest unchanged\n", plural.Count(len(m.Files), "file"))
			return nil
		},
	}
}
