package engine

import (
	"context"
	"fmt"
	"sync"

	"github.com/prosim/prosim/internal/backend"
	"github.com/prosim/prosim/internal/persona"
)

// In-memory rounds (network.store: summary) for very large populations: nothing is written
// per decision; each round's ratings live in the world's arrays only and are aggregated per
// round. Memory per agent: the persona (~0.3 KB), the world's arrays (prev/cur willingness and
// unfairness as int8, affected/treated flags, observation counters: ~30 bytes, plus 2 bytes
// per history round) and the graph's 8 bytes; per undirected edge: 16 bytes of CSR plus one
// bit of activation per round. Such runs cannot be resumed mid-run.

// memRound asks round t of world w directly of be, with workers goroutines, and records it.
// The requests read only the state after round t-1 (begin has been called), so the result
// does not depend on workers. emit, when set, receives every recorded row.
func memRound(ctx context.Context, w *netWorld, t int, agents []persona.Persona, be backend.Backend, workers int, req func(u int) (backend.Request, error), emit func(netRow)) error {
	n := w.n
	cw, cu := make([]int8, n), make([]int8, n)
	bad := make([]string, n)
	var wg sync.WaitGroup
	errs := make([]error, workers)
	chunk := (n + workers - 1) / workers
	for k := range workers {
		lo, hi := k*chunk, min(n, (k+1)*chunk)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := lo; u < hi; u++ {
				q, err := req(u)
				if err != nil {
					errs[k] = err
					return
				}
				rep, err := be.Decide(ctx, q)
				if err != nil {
					errs[k] = fmt.Errorf("agent %d round %d: %w", agents[u].ID, t, err)
					return
				}
				if rep.Valid() {
					cw[u], cu[u] = int8(rep.Values["willingness"]), int8(rep.Values["unfairness"])
				} else {
					bad[u] = rep.Invalid
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	w.end(t, func(u int) (int8, int8, bool, string) {
		if cw[u] == 0 {
			return 0, 0, false, bad[u]
		}
		return cw[u], cu[u], true, ""
	}, emit)
	return nil
}
