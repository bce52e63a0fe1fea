package games

// SetStepWindow sets the bound on a step's decisions for a test; it returns the bound before.
func SetStepWindow(n int) int { old := stepWindow; stepWindow = n; return old }

// OnLive sets the function told the number of live machines whenever it changes (nil: none).
func OnLive(f func(live int)) { liveHook = f }
